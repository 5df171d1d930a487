"""Messages that workers post: the only way IO results reach widgets.

Workers (threads reading and writing the local cache, the sync engine's task, calls to the
server) never touch a widget; they post one of these to the app, or to the screen that asked
(`tui.ui.asks`: the answers below the line), and it is handled on the UI thread.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from api_client.models import AuditEvent
from local_cache.outbox import ConflictRecord
from local_cache.sync import SyncStatus
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import Names
from tui.core.report.model import Report
from tui.core.session import BatchRecord, OutboxState, RequestDetail, RowBatch

__all__ = [
    "ActionFailed",
    "ActionRecorded",
    "AuditLoaded",
    "BatchRecorded",
    "CallerLookedUp",
    "ConflictResolved",
    "ConflictsListed",
    "DetailLoaded",
    "DirectoryUpdated",
    "OutboxProgress",
    "PhoneRevealed",
    "ReportBuilt",
    "ReportExported",
    "RowsChanged",
    "RowsLoaded",
    "SyncStatusChanged",
]


class RowsLoaded(Message):
    """A model of every cached request: the first load, or a reload after a large change.
    `names` are the directory's names its rows were built with, `unit` the unit of the login
    they were built for (None: the centre's)."""

    def __init__(self, model: QueueModel, names: Names, unit: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.names = names
        self.unit = unit


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


class TakenIn(Message):
    """A call taken in is durable in the outbox, with the actions that follow it: `request_id` is
    its temporary id until the server takes it in (then the cache calls it by the server's id)."""

    def __init__(self, request_id: str, batch: RowBatch) -> None:
        super().__init__()
        self.request_id = request_id
        self.batch = batch


class ActionFailed(Message):
    """An action was not recorded (refused by the rules, or the cache failed): nothing changed."""

    def __init__(self, request_id: str, action: str, reason: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.action = action
        self.reason = reason


# ----- answers to a screen's asks ------------------------------------------------------------


class PhoneRevealed(Message, bubble=False):
    """The server returned a caller's full phone number and name (and audited the reveal)."""

    def __init__(self, request_id: str, phone: str, name: str) -> None:
        super().__init__()
        self.request_id = request_id
        self.phone = phone
        self.name = name


class CallerLookedUp(Message, bubble=False):
    """The server looked a caller up by phone (and audited it): the requests it found, newest
    first, and the number as shown (`****1234`)."""

    def __init__(self, shown: str, request_ids: list[str]) -> None:
        super().__init__()
        self.shown = shown
        self.request_ids = request_ids


class DetailLoaded(Message, bubble=False):
    def __init__(self, detail: RequestDetail) -> None:
        super().__init__()
        self.detail = detail


class AuditLoaded(Message, bubble=False):
    """The audit timeline, or (None) why there is none: offline, or the server's refusal."""

    def __init__(self, events: list[AuditEvent] | None, error: str = "") -> None:
        super().__init__()
        self.events = events
        self.error = error


class BatchRecorded(Message, bubble=False):
    """A bulk write is on disk (`record`), or failed whole (`error`: nothing was recorded)."""

    def __init__(self, record: BatchRecord, error: str = "") -> None:
        super().__init__()
        self.record = record
        self.error = error


class OutboxProgress(Message, bubble=False):
    def __init__(self, state: OutboxState) -> None:
        super().__init__()
        self.state = state


class ConflictsListed(Message, bubble=False):
    def __init__(self, records: list[ConflictRecord]) -> None:
        super().__init__()
        self.records = records


class ConflictResolved(Message, bubble=False):
    """A conflict was retried or dropped (`ok`), or is still there (the app said why)."""

    def __init__(self, request_id: str, ok: bool) -> None:
        super().__init__()
        self.request_id = request_id
        self.ok = ok


class ReportBuilt(Message, bubble=False):
    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report


class ReportExported(Message, bubble=False):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
