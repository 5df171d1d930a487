"""The dispatcher's queues (`QueueKind`) and the bits a row carries for them."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from api_client.domain.deadlines import DUE_WINDOW
from api_client.domain.states import CALLBACK_STATES, IN_PROGRESS_STATES, NEW_STATES, State

__all__ = [
    "ATTENTION_BIT",
    "CALLBACK_BIT",
    "DUE_WINDOW_S",
    "HANDLING_BIT",
    "IN_PROGRESS_BIT",
    "KIND_BITS",
    "NEW_BIT",
    "QueueKind",
    "kinds_of",
]

#: `DUE_WINDOW` in seconds, as rows hold their times.
DUE_WINDOW_S: Final = DUE_WINDOW.total_seconds()


class QueueKind(StrEnum):
    """The dispatcher's queues: `new` (not yet dispatched: `NEW_STATES`), `due` (handling
    deadline passed or within the due window), `in_progress` (`IN_PROGRESS_STATES`), `callback`
    (`CALLBACK_STATES`), `attention` (a conflict or actions not yet sent) and `all`."""

    new = "new"
    due = "due"
    in_progress = "in_progress"
    callback = "callback"
    attention = "attention"
    all = "all"


# Bits of `QueueRow.kinds`.
NEW_BIT: Final = 1
IN_PROGRESS_BIT: Final = 2
CALLBACK_BIT: Final = 4
ATTENTION_BIT: Final = 8
HANDLING_BIT: Final = 16  # the handling deadline runs (`due` moves with time, so it has no bit)
#: The queues a row's bits decide on their own.
KIND_BITS: Final[dict[QueueKind, int]] = {
    QueueKind.new: NEW_BIT,
    QueueKind.in_progress: IN_PROGRESS_BIT,
    QueueKind.callback: CALLBACK_BIT,
    QueueKind.attention: ATTENTION_BIT,
}


def kinds_of(state: State, unsent: bool, conflict: bool) -> int:
    """The bits of a row in `state` with these outbox flags."""
    bits = 0
    if state in NEW_STATES:
        bits = NEW_BIT | HANDLING_BIT
    elif state in IN_PROGRESS_STATES:
        bits = IN_PROGRESS_BIT | HANDLING_BIT
    elif state in CALLBACK_STATES:
        bits = CALLBACK_BIT
    if unsent or conflict:
        bits |= ATTENTION_BIT
    return bits
