"""The storage interface of the central API.

Routes talk to a `Store`; `sql_store.SqlStore` implements it over SQLAlchemy Core
(SQLite by default, a PostgreSQL URL later). Every write is one transaction:
the request row, its change-feed entry (with the next sequence number), its
audit event and its idempotency record commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from api_client.actions import Action
from api_client.models import (
    AuditEvent,
    Category,
    Change,
    Community,
    Identity,
    NewRequest,
    PhoneReveal,
    Request,
    Role,
    State,
    Stats,
    Unit,
)


class StoreError(Exception):
    """Base of the errors a store raises; each carries a message for the client."""


class RequestNotFound(StoreError):
    pass


class UnitNotFound(StoreError):
    pass


class VersionMismatch(StoreError):
    """The action was based on an older version; `current` is the request now."""

    def __init__(self, message: str, current: Request) -> None:
        super().__init__(message)
        self.current = current


class IdempotencyMismatch(StoreError):
    """The idempotency key was used before with a different body."""


class InvalidInput(StoreError):
    """The input is well-formed but not acceptable (unknown category, unknown community...)."""


@dataclass(frozen=True)
class Outcome:
    """The result of a write: the request, and whether it is a replay of an earlier call."""

    request: Request
    replayed: bool = False


@dataclass(frozen=True)
class RequestFilter:
    """Filters for listing requests (Open311 `GET requests.json` and reports)."""

    ids: Sequence[str] = ()
    categories: Sequence[str] = ()
    states: Sequence[State] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    offset: int = 0
    limit: int = 1000


class Store(Protocol):
    #: The time source for every write; seeding and tests may replace it.
    clock: Callable[[], datetime]

    def batch(self) -> AbstractContextManager[None]:
        """Many writes in one transaction: all commit together or none (seeding, imports)."""
        ...

    # --- requests -------------------------------------------------------
    def create_request(self, new: NewRequest, *, actor: str, idempotency_key: str | None) -> Outcome:
        """Store a new request. The same key with the same body returns the first result
        (replayed=True); the same key with another body raises IdempotencyMismatch."""
        ...

    def get_request(self, request_id: str) -> Request:
        """Raises RequestNotFound."""
        ...

    def apply(
        self,
        request_id: str,
        action: Action,
        *,
        actor: str,
        if_match: int,
        idempotency_key: str | None,
    ) -> Outcome:
        """Apply a dispatcher action. Raises RequestNotFound, VersionMismatch,
        api_client.lifecycle.TransitionRefused, IdempotencyMismatch. A replayed key returns
        the first outcome (replayed=True) before any version check."""
        ...

    def list_requests(self, flt: RequestFilter) -> list[Request]: ...

    def audit(self, request_id: str) -> list[AuditEvent]:
        """Raises RequestNotFound."""
        ...

    def reveal_phone(self, request_id: str, *, actor: str, reason: str = "") -> PhoneReveal:
        """The caller's full phone, recorded as a `reveal_phone` audit event (detail `{"reason"}`
        when one is given). The request's version and change_seq stay as they are and the change
        feed gets no entry: a reveal makes nobody's pending action stale. Raises RequestNotFound."""
        ...

    # --- change feed ----------------------------------------------------
    def changes(self, since: int, limit: int) -> tuple[list[Change], int]:
        """Changes with seq > since, oldest first, at most `limit`; and the current head."""
        ...

    def head(self) -> int:
        """The newest change sequence number (0 when there is none)."""
        ...

    # --- directory ------------------------------------------------------
    def units(self) -> list[Unit]: ...

    def set_unit_on_duty(self, unit_id: str, on_duty: bool, *, actor: str) -> Unit:
        """Raises UnitNotFound."""
        ...

    def categories(self) -> list[Category]: ...

    def communities(self) -> list[Community]: ...

    # --- numbers --------------------------------------------------------
    def stats(self, *, since: datetime | None, until: datetime | None, unit: str | None) -> Stats: ...

    def unit_stats(self, *, since: datetime | None, until: datetime | None) -> list[Stats]:
        """`stats` for every unit of the directory (in its order), read in one transaction."""
        ...

    # --- tokens ---------------------------------------------------------
    def create_token(self, name: str, role: Role) -> str:
        """Store a new token (hashed) and return it; it is never shown again."""
        ...

    def identify(self, token: str) -> Identity | None:
        """Who holds this token, or None."""
        ...
