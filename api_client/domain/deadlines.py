"""Deadline tiers, the response window, and when a request is due or overdue."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, TypeVar

from api_client.domain.states import HANDLING_STATES, State


class Tier(StrEnum):
    """Deadline tiers: emergencies, utilities, ordinary, complex."""

    h2 = "2h"
    h24 = "24h"
    d7 = "7d"
    d15 = "15d"

    @property
    def duration(self) -> timedelta:
        """How long a request of this tier has from intake (or a reopen) to be handled."""
        return TIER_DURATIONS[self]


TIER_DURATIONS: Final[dict[Tier, timedelta]] = {
    Tier.h2: timedelta(hours=2),
    Tier.h24: timedelta(hours=24),
    Tier.d7: timedelta(days=7),
    Tier.d15: timedelta(days=15),
}

#: How soon a handling deadline counts as due (the `due` queue, the due-soon colour).
DUE_WINDOW: Final = timedelta(hours=2)


def response_window(tier: Tier) -> timedelta:
    """How soon after dispatch a unit must sign for (签收) and contact the citizen."""
    return timedelta(minutes=30) if tier is Tier.h2 else timedelta(hours=2)


class DeadlineStatus(StrEnum):
    """Where a request stands against its handling deadline."""

    overdue = "overdue"
    due_soon = "due_soon"
    in_time = "in_time"
    none = "none"  # not being handled (resolved, closed, merged): no deadline runs


_When = TypeVar("_When", float, datetime)


def is_overdue(state: State, due_at: _When, now: _When) -> bool:
    """The handling deadline has passed while a unit still has to act (`HANDLING_STATES`).
    A resolved request waits for its callback, not for a unit: it is never overdue."""
    return state in HANDLING_STATES and due_at < now


def deadline_status(
    state: State, due_at: float, now: float, window: float = DUE_WINDOW.total_seconds()
) -> DeadlineStatus:
    """`overdue`, `due_soon` (within `window` seconds), `in_time`, or `none` when not handling.
    Times are epoch seconds."""
    if state not in HANDLING_STATES:
        return DeadlineStatus.none
    if due_at < now:
        return DeadlineStatus.overdue
    if due_at <= now + window:
        return DeadlineStatus.due_soon
    return DeadlineStatus.in_time
