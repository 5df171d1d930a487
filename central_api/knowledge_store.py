"""What a store offers of the knowledge base (知识库), and its refusals.

`central_api.sql.knowledge` implements `KnowledgeStore` (and `SqlStore` offers it); every edit is
one transaction with its `KnowledgeEvent`. Its refusals carry their HTTP status: the routes answer
them (`central_api.routes.knowledge`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn, KnowledgeEvent
from central_api.catalogue import TIMEZONE

_CENTRE_ZONE = ZoneInfo(TIMEZONE)


def centre_day(now: datetime) -> date:
    """The day at the centre at `now`: the day an entry must be in force on to be cited."""
    return now.astimezone(_CENTRE_ZONE).date()


class KnowledgeError(Exception):
    """A refusal of the knowledge base: an English sentence, a stable `code`, `params` and the
    HTTP `status` it is answered with."""

    code = "knowledge_invalid"
    status = 422

    def __init__(self, message: str, *, params: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.params: dict[str, object] = dict(params or {})


class KnowledgeEntryNotFound(KnowledgeError):
    code = "knowledge_entry_not_found"
    status = 404

    def __init__(self, entry_id: str) -> None:
        super().__init__(f"No knowledge-base entry {entry_id!r}.", params={"entry_id": entry_id})


class KnowledgeVersionRequired(KnowledgeError):
    """Replacing an entry needs the version it was read at."""

    code = "knowledge_version_required"
    status = 428

    def __init__(self, current: KnowledgeEntry) -> None:
        super().__init__(
            f'Knowledge-base entry {current.id} is at version {current.version}: send If-Match: "<version>"'
            " to change it.",
            params={"entry_id": current.id, "version": current.version},
        )


class KnowledgeVersionMismatch(KnowledgeError):
    """The entry changed since the version an edit was based on; `current` is the entry now."""

    code = "knowledge_version_mismatch"
    status = 412

    def __init__(self, current: KnowledgeEntry, if_match: int) -> None:
        super().__init__(
            f"Knowledge-base entry {current.id} is at version {current.version}, not {if_match}: it"
            " changed since you read it.",
            params={"entry_id": current.id, "version": current.version, "if_match": if_match},
        )
        self.current = current


@runtime_checkable
class KnowledgeStore(Protocol):
    def knowledge_entries(self) -> list[KnowledgeEntry]:
        """Every entry, withdrawn ones too, in the order they were made."""
        ...

    def knowledge_entry(self, entry_id: str) -> KnowledgeEntry:
        """Raises KnowledgeEntryNotFound."""
        ...

    def create_knowledge_entry(
        self, entry: KnowledgeEntryIn, *, actor: str, entry_id: str | None = None
    ) -> KnowledgeEntry:
        """A new entry (version 1; `entry_id`, or the next `KB-<n>`). Audited. Raises InvalidInput
        (an unknown category, dates reversed, an id taken)."""
        ...

    def replace_knowledge_entry(
        self, entry_id: str, entry: KnowledgeEntryIn, *, actor: str, if_match: int | None
    ) -> KnowledgeEntry:
        """Replace an entry (in force again if it was withdrawn), at version `if_match`. Audited.
        Raises KnowledgeEntryNotFound, KnowledgeVersionRequired, KnowledgeVersionMismatch,
        InvalidInput."""
        ...

    def withdraw_knowledge_entry(self, entry_id: str, *, actor: str, if_match: int | None) -> KnowledgeEntry:
        """Withdraw an entry (it stays, marked `withdrawn`; checked against `if_match` when given).
        Audited; withdrawing it again changes nothing. Raises KnowledgeEntryNotFound,
        KnowledgeVersionMismatch."""
        ...

    def knowledge_audit(self, entry_id: str | None = None) -> list[KnowledgeEvent]:
        """Every edit (of one entry when `entry_id` is given), oldest first."""
        ...
