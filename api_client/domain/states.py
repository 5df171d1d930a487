"""A request's states, and the groups of states every rule is written in."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class State(StrEnum):
    new = "new"
    dispatched = "dispatched"
    accepted = "accepted"  # 签收
    returned = "returned"  # 退单
    extended = "extended"  # 延期
    resolved = "resolved"  # 办结
    callback_logged = "callback_logged"  # 回访已记录, awaiting close or reopen
    closed = "closed"
    reopened = "reopened"
    merged = "merged"


#: Waiting to be dispatched (again).
NEW_STATES: Final = frozenset({State.new, State.returned, State.reopened})
#: In a unit's hands.
IN_PROGRESS_STATES: Final = frozenset({State.dispatched, State.accepted, State.extended})
#: Handled, waiting for the citizen's callback (回访) or its outcome.
CALLBACK_STATES: Final = frozenset({State.resolved, State.callback_logged})
#: A unit still has to act: the handling deadline runs, and only here can a request be overdue.
HANDLING_STATES: Final = NEW_STATES | IN_PROGRESS_STATES
#: Not finished: everything but closed and merged (Open311's `open` status).
OPEN_STATES: Final = frozenset(State) - {State.closed, State.merged}
