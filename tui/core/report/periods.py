"""The report's spans of time: the three rate periods, where they begin, and when a shift began."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Final, Literal

__all__ = ["PERIODS", "Period", "parse_since", "period_starts"]

Period = Literal["today", "week", "month"]
PERIODS: Final[tuple[Period, ...]] = ("today", "week", "month")


def period_starts(now: datetime) -> dict[Period, datetime]:
    """Local midnight today, on Monday and on the 1st of the month (the machine's timezone)."""
    today = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "today": today,
        "week": today - timedelta(days=today.weekday()),
        "month": today.replace(day=1),
    }


_RELATIVE: Final = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*([mhd])$")
_UNITS_OF_TIME: Final = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """When a shift began: `-8h` / `-90m` / `-1d` (before now), `08:00` (today, or yesterday when
    that is still to come), `2026-11-25 08:00`, `2026-11-25`, or ISO 8601 with an offset. Times
    without an offset are local. ValueError says what is accepted."""
    text = text.strip()
    local_now = now.astimezone()
    relative = _RELATIVE.match(text)
    if relative:
        amount = float(relative.group(1))
        return local_now - timedelta(**{_UNITS_OF_TIME[relative.group(2)]: amount})
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"not a time of day: {text!r}")
        at = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at - timedelta(days=1) if at > local_now else at
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r}: use -8h, 08:00, '2026-11-25 08:00' or an ISO 8601 time"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()
