"""`Item`: one request as clustering reads it, from the app's rows or from a `Request`."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from api_client.models import Request, State

__all__ = ["Item", "RowLike"]


class RowLike(Protocol):
    """What `Item.from_row` reads (the app's `tui.core.queue.rows.QueueRow` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> State: ...
    @property
    def category(self) -> str: ...
    @property
    def community(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def received_at(self) -> float: ...


class Item(NamedTuple):
    """One request as clustering sees it. `received_at` is epoch seconds."""

    id: str
    state: State
    category: str
    community: str
    address: str
    description: str
    received_at: float

    @classmethod
    def from_row(cls, row: RowLike) -> Item:
        return cls(
            row.id, row.state, row.category, row.community, row.address, row.description, row.received_at
        )

    @classmethod
    def from_request(cls, request: Request) -> Item:
        state = State.merged if request.merged_into else request.state
        return cls(
            request.id,
            state,
            request.category,
            request.location.community,
            request.location.address,
            request.description,
            request.received_at.timestamp(),
        )
