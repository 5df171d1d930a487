"""What a screen asks the app to do: anything that reads or writes the cache, the outbox, the
server or a file.

A screen posts an ask to itself; it bubbles to the app, whose workers do the IO and post the
result (a `tui.ui.messages` message) back to `reply_to`, the screen that asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from textual.message import Message
from textual.message_pump import MessagePump

from api_client.actions import Action
from api_client.models import NewRequest
from tui.core.report.model import Report
from tui.core.saved_queues import SavedQueue

__all__ = [
    "ActOnMany",
    "Ask",
    "BuildReport",
    "DropConflict",
    "ExportReport",
    "FollowOutbox",
    "ListConflicts",
    "LoadAudit",
    "LoadDetail",
    "LookupCaller",
    "MergeClusters",
    "MergeInto",
    "OpenDetail",
    "RecordBatch",
    "ResolveConflict",
    "RetryConflict",
    "RevealPhone",
    "SaveQueue",
    "TakeIn",
]


class Ask(Message):
    """Something for the app to do; the answer, if any, goes to `reply_to`."""

    def __init__(self, reply_to: MessagePump | None = None) -> None:
        super().__init__()
        self.reply_to = reply_to

    def answer(self, message: Message) -> None:
        """Post `message` to the asker (from any thread)."""
        if self.reply_to is not None:
            self.reply_to.post_message(message)


# ----- one request ---------------------------------------------------------------------------


class TakeIn(Ask):
    """Take a call in: record the new request in the outbox (a temporary id until the server takes
    it in), then `then`, the actions that follow it on the new request (a dispatch, a merge into
    the request it repeats, a direct answer), and `elsewhere`, actions on other requests (the chase
    of the request a repeat call is about), all durable before the answer: `TakenIn`, or
    `ActionFailed` with nothing recorded."""

    def __init__(
        self,
        reply_to: MessagePump,
        new: NewRequest,
        then: Sequence[Action] = (),
        elsewhere: Sequence[tuple[str, Action]] = (),
    ) -> None:
        super().__init__(reply_to)
        self.new = new
        self.then = tuple(then)
        self.elsewhere = tuple(elsewhere)


class OpenDetail(Ask):
    """Show this request in full (`DetailScreen`)."""

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id


class LoadDetail(Ask):
    """The request as cached, its unsent actions and its conflicts: answered by `DetailLoaded`."""

    def __init__(self, reply_to: MessagePump, request_id: str) -> None:
        super().__init__(reply_to)
        self.request_id = request_id


class LoadAudit(Ask):
    """The request's audit timeline from the server: answered by `AuditLoaded`."""

    def __init__(self, reply_to: MessagePump, request_id: str) -> None:
        super().__init__(reply_to)
        self.request_id = request_id


class RevealPhone(Ask):
    """The caller's full phone and name from the server (which records the reveal):
    `PhoneRevealed`."""

    def __init__(self, reply_to: MessagePump, request_id: str) -> None:
        super().__init__(reply_to)
        self.request_id = request_id


# ----- many requests -------------------------------------------------------------------------


class LookupCaller(Ask):
    """The requests of the caller with this phone (or its last digits), looked up on the server
    (which records the lookup): answered by `CallerLookedUp`."""

    def __init__(self, reply_to: MessagePump, phone: str) -> None:
        super().__init__(reply_to)
        self.phone = phone


class RecordBatch(Ask):
    """Record these actions in one durable write: answered by `BatchRecorded`."""

    def __init__(self, reply_to: MessagePump, items: Sequence[tuple[str, Action]]) -> None:
        super().__init__(reply_to)
        self.items = list(items)


class FollowOutbox(Ask):
    """Which actions still wait to be sent and which met a conflict: `OutboxProgress`."""


class MergeInto(Ask):
    """并单: merge `children` into `parent`, after the dispatcher confirms."""

    def __init__(self, parent: str, children: Sequence[str]) -> None:
        super().__init__()
        self.parent = parent
        self.children = list(children)


class MergeClusters(Ask):
    """Merge many clusters at once: (parent, child) pairs, after one confirmation."""

    def __init__(self, pairs: Sequence[tuple[str, str]], clusters: int) -> None:
        super().__init__()
        self.pairs = list(pairs)
        self.clusters = clusters


class ActOnMany(Ask):
    """The transition `name` on each of these requests it applies to (one dialog)."""

    def __init__(self, request_ids: Sequence[str], name: str) -> None:
        super().__init__()
        self.request_ids = list(request_ids)
        self.name = name


# ----- conflicts -----------------------------------------------------------------------------


class ListConflicts(Ask):
    """Every conflict waiting for the dispatcher: answered by `ConflictsListed`."""


class ResolveConflict(Ask):
    """Retry or drop a conflict (on request `request_id`): answered by `ConflictResolved`."""

    def __init__(self, reply_to: MessagePump, conflict_id: str, request_id: str) -> None:
        super().__init__(reply_to)
        self.conflict_id = conflict_id
        self.request_id = request_id


class RetryConflict(ResolveConflict):
    """Queue a conflict's action again on the request as the server has it now."""


class DropConflict(ResolveConflict):
    """Forget a conflict's action (the server's version stays)."""


# ----- files ---------------------------------------------------------------------------------


class SaveQueue(Ask):
    """Save a named queue (the filter, the queue and the sort)."""

    def __init__(self, queue: SavedQueue) -> None:
        super().__init__()
        self.queue = queue


class BuildReport(Ask):
    """The supervisor's report for the last `shift`: answered by `ReportBuilt`."""

    def __init__(self, reply_to: MessagePump, shift: timedelta) -> None:
        super().__init__(reply_to)
        self.shift = shift


class ExportReport(Ask):
    """Write `report` as the shift report (Markdown): answered by `ReportExported`."""

    def __init__(self, reply_to: MessagePump, report: Report) -> None:
        super().__init__(reply_to)
        self.report = report
