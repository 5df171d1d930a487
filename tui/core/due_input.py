"""A new due time as a dispatcher types it, for an extension (延期).

    parse_due("+2h", current_due=due, now=now)           # due + 2 hours
    parse_due("+1d12h", current_due=due, now=now)        # due + 1 day 12 hours
    parse_due("2026-11-26 18:00", current_due=due, now=now)
    parse_due("11-26 18:00", current_due=due, now=now)   # this year, or next year if already past
    parse_due("18:00", current_due=due, now=now)         # today, or tomorrow if already past

A relative time (`+N` with `d`/`h`/`m`, or 天/小时/分钟, combinable) counts from the *current due
time*, not from now. An absolute time is local: in `tz` when given, otherwise in the system's
local time zone (with its daylight-saving rules). Full-width digits, `＋` and `：` (as a Chinese
input method types them) are accepted. The result is an aware datetime and always later than
`current_due`; anything else raises `DueInputError`, a `ValueError` whose `code` names the
problem so that the app can say it in the dispatcher's language.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, tzinfo
from typing import Final

__all__ = ["ERROR_CODES", "DueInputError", "format_delta", "parse_due", "to_local"]

#: Every `DueInputError.code`.
ERROR_CODES: Final = ("empty", "format", "date", "too_far", "not_later")

_UNITS: Final = {"d": "days", "天": "days", "h": "hours", "小时": "hours", "m": "minutes", "分钟": "minutes"}
_PART: Final = r"(\d{1,9})\s*(d|h|m|天|小时|分钟)"
_RELATIVE: Final = re.compile(rf"\+\s*(?:{_PART}\s*)+")
_PARTS: Final = re.compile(_PART)
_ABSOLUTE: Final = re.compile(
    r"(?:(?:(?P<year>\d{4})[-/.])?(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})\s+)?"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
)


class DueInputError(ValueError):
    """The text is not a usable due time. `code` is one of `ERROR_CODES`; `current_due` is set
    for `not_later`."""

    def __init__(self, code: str, message: str, *, current_due: datetime | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.current_due = current_due


def to_local(moment: datetime, tz: tzinfo | None = None) -> datetime:
    """`moment` in `tz`, or in the system's local time zone when `tz` is None."""
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def _localize(naive: datetime, tz: tzinfo | None) -> datetime:
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def parse_due(text: str, *, current_due: datetime, now: datetime, tz: tzinfo | None = None) -> datetime:
    """The due time `text` means (see the module's docstring); raises `DueInputError`."""
    typed = " ".join(unicodedata.normalize("NFKC", text).split()).lower()
    if not typed:
        raise DueInputError("empty", "enter a new due time, e.g. +2h or 18:00")
    try:
        if _RELATIVE.fullmatch(typed):
            amounts = {"days": 0, "hours": 0, "minutes": 0}
            for number, unit in _PARTS.findall(typed):
                amounts[_UNITS[unit]] += int(number)
            due = current_due + timedelta(**amounts)
        elif match := _ABSOLUTE.fullmatch(typed):
            due = _absolute(match, now=to_local(now, tz), tz=tz)
        else:
            raise DueInputError(
                "format", f"not a due time: {text.strip()!r}; type e.g. +2h, +3d, 2026-11-26 18:00 or 18:00"
            )
    except OverflowError:
        raise DueInputError("too_far", "that due time is too far away") from None
    if due <= current_due:
        raise DueInputError(
            "not_later",
            f"the new due time must be later than the current one ({current_due.isoformat()})",
            current_due=current_due,
        )
    return due


def _absolute(match: re.Match[str], *, now: datetime, tz: tzinfo | None) -> datetime:
    hour, minute = int(match["hour"]), int(match["minute"])
    try:
        if match["month"] is None:  # HH:MM: today, or tomorrow when that has passed
            day = now.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)
            due = _localize(day, tz)
            return due if due > now else _localize(day + timedelta(days=1), tz)
        year = int(match["year"]) if match["year"] else now.year
        naive = datetime(year, int(match["month"]), int(match["day"]), hour, minute)
        due = _localize(naive, tz)
        if match["year"] is None and due <= now:  # MM-DD HH:MM already past: next year's
            due = _localize(naive.replace(year=year + 1), tz)
        return due
    except ValueError as error:  # hour 25, February 30th …
        raise DueInputError("date", f"no such date or time: {match.group()!r} ({error})") from None


def format_delta(delta: timedelta) -> str:
    """`delta` as `1d 2h 30m` (whole minutes; `0m` for less than a minute)."""
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    days, rest = divmod(abs(minutes), 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value]
    return sign + (" ".join(parts) or "0m")
