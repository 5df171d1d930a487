"""Messages that workers post to the app: the only way IO results reach widgets.

Workers (threads reading and writing the local cache, the sync engine's task) never touch a
widget; they post one of these and the screen that cares handles it on the UI thread.
"""

from __future__ import annotations

from textual.message import Message

from local_cache.sync import SyncStatus
from tui.core.queue_model import Names, QueueModel
from tui.core.session import RowBatch

__all__ = [
    "ActionFailed",
    "ActionRecorded",
    "DirectoryUpdated",
    "PhoneRevealed",
    "RowsChanged",
    "RowsLoaded",
    "SyncStatusChanged",
]


class RowsLoaded(Message):
    """A model of every cached request: the first load, or a reload after a large change.
    `names` are the directory's names its rows were built with."""

    def __init__(self, model: QueueModel, names: Names) -> None:
        super().__init__()
        self.model = model
        self.names = names


class RowsChanged(Message):
    """Some requests changed (a sync, another dispatcher, an action recorded here)."""

    def __init__(self, batch: RowBatch, *, announce: bool = True) -> None:
        super().__init__()
        self.batch = batch
        self.announce = announce


class SyncStatusChanged(Message):
    def __init__(self, status: SyncStatus) -> None:
        super().__init__()
        self.status = status


class DirectoryUpdated(Message):
    """The units, categories and communities were fetched afresh."""


class ActionRecorded(Message):
    """An action is durable in the outbox (the server has not seen it yet)."""

    def __init__(self, request_id: str, action: str, batch: RowBatch) -> None:
        super().__init__()
        self.request_id = request_id
        self.action = action
        self.batch = batch


class ActionFailed(Message):
    """An action was not recorded (refused by the rules, or the cache failed): nothing changed."""

    def __init__(self, request_id: str, action: str, reason: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.action = action
        self.reason = reason


class PhoneRevealed(Message):
    """The server returned a caller's full phone number (and audited the reveal)."""

    def __init__(self, request_id: str, phone: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.phone = phone
