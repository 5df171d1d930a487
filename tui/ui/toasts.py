"""Which notifications stay on screen: at most `MAX_SHOWN` at once, so that a burst (the notices
held while a dialog was open, a reconnection's) never stacks up over the screen's content.

When one more would exceed it, the least severe and oldest give way (an error outlasts
information); what gives way was said already, and what matters stays in the status bar
(unsent actions, conflicts, offline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from textual.notifications import SeverityLevel

__all__ = ["MAX_SHOWN", "Shown", "kept"]

#: Notifications on screen at once.
MAX_SHOWN: Final = 2
_RANK: Final[dict[str, int]] = {"information": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Shown:
    """A notification on screen until `until` (monotonic seconds)."""

    until: float
    text: str
    severity: SeverityLevel


def kept(shown: list[Shown], now: float, limit: int = MAX_SHOWN) -> list[Shown]:
    """The notifications of `shown` (oldest first) that stay at `now`: those not yet expired, at
    most `limit`, the least severe and then the oldest giving way first."""
    live = [item for item in shown if item.until > now]
    if len(live) <= limit:
        return live
    order = sorted(range(len(live)), key=lambda i: (_RANK.get(live[i].severity, 0), i))
    dropped = set(order[: len(live) - limit])
    return [item for index, item in enumerate(live) if index not in dropped]
