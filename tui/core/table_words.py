"""The words the queue table shows, in Chinese and English: its column headers, the short state
names that fit its state column, the empty queue's line, and its countdowns (`countdown`,
`duration`). `tui.core.i18n` serves them as `Strings.table`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from api_client.models import State

__all__ = ["COUNTDOWN_CELLS", "EN", "ZH", "ClockWords", "TableLabels", "countdown", "duration"]

#: The widest countdown (`还剩45分`, `超时12天`, `45m left`, `12d over`): the due column's width.
COUNTDOWN_CELLS: Final = 8


@dataclass(frozen=True)
class ClockWords:
    """How a language says a span of time: its units (month, day, hour, minute) and a deadline
    still open (`left`) or passed (`over`), each holding `{span}`."""

    units: tuple[str, str, str, str]
    left: str
    over: str


@dataclass(frozen=True)
class TableLabels:
    """The words the queue table shows: column headers (by `tui.core.queue.layout` column, and
    `!` for the vulnerable mark), state names, the empty-queue line."""

    headers: Mapping[str, str]
    states: Mapping[str, str]  # by `State` value
    empty: str
    clock: ClockWords


ZH: Final = TableLabels(
    headers={
        "id": "编号",
        "due": "期限",
        "waited": "已等",
        "tier": "时限",
        "!": "!",
        "state": "状态",
        "unit": "主办单位",
        "category": "类别",
        "community": "社区",
        "address": "地址",
        "text": "诉求",
    },
    states={
        State.new: "新诉求",
        State.dispatched: "已派单",
        State.accepted: "已签收",
        State.returned: "已退单",
        State.extended: "已延期",
        State.resolved: "已办结",
        State.callback_logged: "已回访",
        State.closed: "已结案",
        State.reopened: "重办",
        State.merged: "已并单",
    },
    empty="（没有符合条件的诉求）",
    clock=ClockWords(units=("月", "天", "时", "分"), left="还剩{span}", over="超时{span}"),
)

EN: Final = TableLabels(
    headers={
        "id": "id",
        "due": "due",
        "waited": "waited",
        "tier": "tier",
        "!": "!",
        "state": "state",
        "unit": "lead unit",
        "category": "category",
        "community": "area",
        "address": "address",
        "text": "description",
    },
    states={
        State.new: "new",
        State.dispatched: "sent",
        State.accepted: "signed",
        State.returned: "return",
        State.extended: "extend",
        State.resolved: "solved",
        State.callback_logged: "called",
        State.closed: "closed",
        State.reopened: "reopen",
        State.merged: "merged",
    },
    empty="(no requests match)",
    clock=ClockWords(units=("mo", "d", "h", "m"), left="{span} left", over="{span} over"),
)


def countdown(remaining: float, labels: TableLabels) -> str:
    """A deadline as the due column shows it, in its largest unit: `还剩3时` / `3h left`, `超时2天` /
    `2d over` (months from 100 days on); at most `COUNTDOWN_CELLS` cells. Overdue counts any part
    of a minute past the deadline as a whole one."""
    words = labels.clock
    month, day, hour, minute = words.units
    minutes = _minutes(remaining)
    if minutes < 60:
        span = f"{minutes}{minute}"
    elif minutes < 24 * 60:
        span = f"{minutes // 60}{hour}"
    elif minutes < 100 * 24 * 60:
        span = f"{minutes // (24 * 60)}{day}"
    else:
        span = f"{minutes // (30 * 24 * 60)}{month}"
    return (words.over if remaining < 0 else words.left).format(span=span)


def duration(seconds: float, labels: TableLabels) -> str:
    """A span of time in two units (`3时05分` / `3h05m`, `2天03时` / `2d03h`; `45分`, `12天`), as
    the callback queue's `waited` column and the detail's deadline show it: at most
    `COUNTDOWN_CELLS` cells below 100 days. A negative span is shown by its size, counting any
    part of a minute as a whole one."""
    _month, day, hour, minute = labels.clock.units
    minutes = _minutes(seconds)
    if minutes < 60:
        return f"{minutes}{minute}"
    hours, minute_part = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}{hour}{minute_part:02d}{minute}"
    days, hour_part = divmod(hours, 24)
    if days < 10:
        return f"{days}{day}{hour_part:02d}{hour}"
    return f"{days}{day}"


def _minutes(seconds: float) -> int:
    """Whole minutes in a span; a passed one (negative) counts any part of a minute."""
    if seconds < 0:
        return int(-seconds // 60 + (1 if -seconds % 60 else 0))
    return int(seconds // 60)
