"""What the app and its screens know of each other, without importing each other.

`Host` is what a screen or widget may read of the running app: words, the model of rows, the
clock, the signals, the directory's names, the saved queues, who is signed in where. Anything
that reads or writes the cache, the server or a file is asked for with a `tui.ui.asks` message.
`HasRequest` and `HasMarks` are what the app asks of the screen on top.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol, runtime_checkable

from textual.signal import Signal

from api_client.models import Community, Identity
from local_cache.directory import Directory
from local_cache.sync import SyncStatus
from tui.core.i18n import Strings
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names
from tui.core.saved_queues import SavedQueue

__all__ = ["HasMarks", "HasRequest", "Host"]


@runtime_checkable
class Host(Protocol):
    """The running app as its screens and widgets see it (read only)."""

    @property
    def strings(self) -> Strings: ...

    @property
    def model(self) -> QueueModel: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def rows_signal(self) -> Signal[Collection[str]]:
        """Published with the ids of changed requests (empty: everything was rebuilt)."""

    @property
    def status_signal(self) -> Signal[SyncStatus]: ...

    @property
    def last_status(self) -> SyncStatus | None: ...

    @property
    def names(self) -> Names: ...

    @property
    def communities(self) -> Sequence[Community]:
        """The directory's communities (with their centres when the server gave them)."""

    @property
    def saved_queues(self) -> Sequence[SavedQueue]: ...

    @property
    def keymap(self) -> Mapping[str, str]:
        """Binding ids to the keys the dispatcher chose (the config file's `[keys]`)."""

    @property
    def server_url(self) -> str: ...

    @property
    def dispatcher(self) -> str: ...

    @property
    def can_sync(self) -> bool: ...

    @property
    def own_unit(self) -> str | None:
        """The unit of a unit's login (it sees that unit's queues); None: the centre's."""

    @property
    def identity_signal(self) -> Signal[Identity]:
        """Published when the server tells anew who the token belongs to."""

    @property
    def directory_signal(self) -> Signal[Directory]:
        """Published with the directory each time a newer one is kept."""


@runtime_checkable
class HasRequest(Protocol):
    """A screen that shows one request at a time (the transition keys act on it)."""

    def current_request_id(self) -> str | None: ...


@runtime_checkable
class HasMarks(Protocol):
    """A screen where requests can be marked for a bulk action (the queues)."""

    def bulk_request_ids(self) -> list[str]: ...

    def clear_marks(self) -> None: ...
