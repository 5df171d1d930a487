"""The words the queue table shows, in Chinese and English: its column headers, the short state
names that fit its state column, and the empty queue's line. `tui.core.i18n` serves them as
`Strings.table`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from api_client.models import State

__all__ = ["EN", "ZH", "TableLabels"]


@dataclass(frozen=True)
class TableLabels:
    """The words the queue table shows: column headers (by `tui.core.queue.layout` column, and
    `!` for the vulnerable mark), state names, the empty-queue line."""

    headers: Mapping[str, str]
    states: Mapping[str, str]  # by `State` value
    empty: str


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
)
