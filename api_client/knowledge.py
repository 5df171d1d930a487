"""The knowledge base (知识库) on the wire: policy answers a call-taker reads out to answer an
enquiry directly (直接答复).

`GET /v1/knowledge` lists the entries (every role; clients cache them for offline use);
supervisors create, replace and withdraw them (`KnowledgeEntryIn`), and every edit is kept as a
`KnowledgeEvent`. An entry is in force from `valid_from` to `valid_until` (dates, inclusive; None:
open-ended); an answer may cite only an entry in force.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

from api_client.input_types import Identifier, OptionalIdentifier, OptionalText, RequiredText
from api_client.models import Incoming, Outgoing


def _date_text(value: object) -> object:
    """A date travels as ISO 8601 text (`2026-12-07`), between the years 2000 and 2099."""
    if isinstance(value, str) and len(value) == 10:
        if not "2000" <= value[:4] <= "2099":
            raise PydanticCustomError("date_out_of_range", "Input should be a date from 2000 to 2099")
        return value
    if isinstance(value, date) and 2000 <= value.year <= 2099:
        return value
    raise PydanticCustomError("date_type", "Input should be a date as ISO 8601 text (2026-12-07)")


#: A date a client sends (in a strict model too): ISO text.
ClientDate = Annotated[date, Strict(False), BeforeValidator(_date_text)]


class KnowledgeEntryIn(Incoming):
    """An entry as a supervisor writes it."""

    title: RequiredText
    answer: RequiredText
    category: OptionalIdentifier = ""  # a catalogue code, "" for any
    keywords: list[Identifier] = Field(default_factory=list, max_length=40)
    valid_from: ClientDate | None = None
    valid_until: ClientDate | None = None
    owner: OptionalText = ""  # the department answerable for the policy


class KnowledgeEntry(Outgoing):
    id: str
    title: str
    answer: str
    category: str = ""
    keywords: list[str] = Field(default_factory=list)
    valid_from: date | None = None
    valid_until: date | None = None
    owner: str = ""
    version: int = Field(ge=1)
    updated_by: str
    updated_at: AwareDatetime
    withdrawn: bool = False

    def in_force(self, day: date) -> bool:
        """Whether an answer may cite the entry on `day`."""
        if self.withdrawn:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


class KnowledgeEvent(Outgoing):
    """One edit of the knowledge base: who, when, what (create, replace, withdraw), before and after."""

    id: int
    entry_id: str
    action: str
    actor: str
    at: AwareDatetime
    before: KnowledgeEntry | None = None
    after: KnowledgeEntry | None = None
