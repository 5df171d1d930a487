"""The queues (`QueueKind`): the dispatcher's, a unit's own login's, and the bits a row carries
for them; `queues_for` is the order of each one's keys 1-6."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from api_client.domain.deadlines import DUE_WINDOW
from api_client.domain.lifecycle import ALLOWED_FROM
from api_client.domain.states import CALLBACK_STATES, IN_PROGRESS_STATES, NEW_STATES, State

__all__ = [
    "ATTENTION_BIT",
    "BACK_BIT",
    "CALLBACK_BIT",
    "DISPATCHER_QUEUES",
    "DUE_WINDOW_S",
    "HANDLING_BIT",
    "IN_HAND_BIT",
    "IN_PROGRESS_BIT",
    "KIND_BITS",
    "NEW_BIT",
    "TO_SIGN_BIT",
    "UNIT_QUEUES",
    "QueueKind",
    "kinds_of",
    "queues_for",
]

#: `DUE_WINDOW` in seconds, as rows hold their times.
DUE_WINDOW_S: Final = DUE_WINDOW.total_seconds()


class QueueKind(StrEnum):
    """The dispatcher's queues: `new` (not yet dispatched: `NEW_STATES`), `due` (handling
    deadline passed or within the due window), `in_progress` (`IN_PROGRESS_STATES`), `callback`
    (`CALLBACK_STATES`), `attention` (a conflict or actions not yet sent) and `all`.

    A unit's own login has `to_sign` (dispatched or reopened to it as the lead: what it signs
    for), `in_hand` (signed for or extended; and what it co-handles), `back` (what the centre came
    back about: reopened after an unhappy callback, or chased while still in hand) beside `due`,
    `attention` and `all`."""

    new = "new"
    due = "due"
    in_progress = "in_progress"
    callback = "callback"
    attention = "attention"
    all = "all"
    to_sign = "to_sign"
    in_hand = "in_hand"
    back = "back"


#: The queues of keys 1-6: the dispatcher's, and a unit's (each in the place of the dispatcher's
#: queue it stands for: what arrives, what is due, what is in hand, what came back).
DISPATCHER_QUEUES: Final[tuple[QueueKind, ...]] = (
    QueueKind.new,
    QueueKind.due,
    QueueKind.in_progress,
    QueueKind.callback,
    QueueKind.attention,
    QueueKind.all,
)
UNIT_QUEUES: Final[tuple[QueueKind, ...]] = (
    QueueKind.to_sign,
    QueueKind.due,
    QueueKind.in_hand,
    QueueKind.back,
    QueueKind.attention,
    QueueKind.all,
)


def queues_for(unit: str | None) -> tuple[QueueKind, ...]:
    """The queues of a unit's login (`unit`: the unit it is bound to) or, for None, the centre's."""
    return DISPATCHER_QUEUES if unit is None else UNIT_QUEUES


# Bits of `QueueRow.kinds`.
NEW_BIT: Final = 1
IN_PROGRESS_BIT: Final = 2
CALLBACK_BIT: Final = 4
ATTENTION_BIT: Final = 8
HANDLING_BIT: Final = 16  # the handling deadline runs (`due` moves with time, so it has no bit)
TO_SIGN_BIT: Final = 32
IN_HAND_BIT: Final = 64
BACK_BIT: Final = 128  # the last of a byte: `Ordering` keeps the bits in one
#: The queues a row's bits decide on their own.
KIND_BITS: Final[dict[QueueKind, int]] = {
    QueueKind.new: NEW_BIT,
    QueueKind.in_progress: IN_PROGRESS_BIT,
    QueueKind.callback: CALLBACK_BIT,
    QueueKind.attention: ATTENTION_BIT,
    QueueKind.to_sign: TO_SIGN_BIT,
    QueueKind.in_hand: IN_HAND_BIT,
    QueueKind.back: BACK_BIT,
}

#: Where a unit signs for a request (as its lead).
_TO_SIGN: Final = ALLOWED_FROM["accept"]
#: Where a unit works on a request it has signed for.
_IN_HAND: Final = frozenset({State.accepted, State.extended})
#: Where a chase reaches the unit (a chased request in any other state has left its hands).
_CHASED: Final = ALLOWED_FROM["chase"]


def kinds_of(state: State, unsent: bool, conflict: bool, *, chases: int = 0, leads: bool = True) -> int:
    """The bits of a row in `state` with these outbox flags, chased `chases` times; `leads`:
    whether the unit whose login shows it leads it (a co-unit does not sign for it)."""
    bits = 0
    if state in NEW_STATES:
        bits = NEW_BIT | HANDLING_BIT
    elif state in IN_PROGRESS_STATES:
        bits = IN_PROGRESS_BIT | HANDLING_BIT
    elif state in CALLBACK_STATES:
        bits = CALLBACK_BIT
    if unsent or conflict:
        bits |= ATTENTION_BIT
    if state in _TO_SIGN:
        bits |= TO_SIGN_BIT if leads else IN_HAND_BIT
    elif state in _IN_HAND:
        bits |= IN_HAND_BIT
    if state is State.reopened or (chases and state in _CHASED):
        bits |= BACK_BIT
    return bits
