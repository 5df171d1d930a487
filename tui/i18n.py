"""Every word the app shows, in Chinese and English: the one place to translate.

    strings = Strings("en")
    strings("queue.new")                    # "New"
    strings("status.unsent", n=3)           # "3 unsent"
    strings.table                           # the queue table's `TableLabels`

A message is a key and a `(zh, en)` pair of `str.format` templates. Keys are grouped by the
part of the app that uses them (one section each, below). `tests/test_tui_i18n.py` checks that
both languages have every key with the same placeholders.

The language follows `--lang`, then `HOTLINE_LANG`, then the config file, then the locale
(`Settings.resolved_lang`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from api_client.models import Channel, Satisfaction, State, Tier

__all__ = ["EN", "MESSAGES", "ZH", "Lang", "Strings", "TableLabels"]

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class TableLabels:
    """The words the queue table shows: column headers, state names, the empty-queue line."""

    headers: tuple[str, str, str, str, str, str, str, str, str]
    states: Mapping[str, str]  # by `State` value
    empty: str


ZH: Final = TableLabels(
    headers=("编号", "期限", "时限", "!", "状态", "类别", "社区", "", "诉求"),
    states={
        State.new: "新诉求",
        State.dispatched: "已派单",
        State.accepted: "已签收",
        State.returned: "退单",
        State.extended: "延期",
        State.resolved: "已办结",
        State.callback_logged: "已回访",
        State.closed: "已结案",
        State.reopened: "重办",
        State.merged: "已并单",
    },
    empty="（没有符合条件的诉求）",
)

EN: Final = TableLabels(
    headers=("id", "due", "tier", "!", "state", "category", "community", "", "description"),
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

# ---------------------------------------------------------------------------------------------
# Vocabulary of the domain: states, tiers, channels, satisfaction (full words, for the detail
# view and dialogs; the table uses the short forms above).
_DOMAIN: dict[str, tuple[str, str]] = {
    f"state.{State.new}": ("新诉求", "new"),
    f"state.{State.dispatched}": ("已派单", "dispatched"),
    f"state.{State.accepted}": ("已签收", "accepted"),
    f"state.{State.returned}": ("已退单", "returned"),
    f"state.{State.extended}": ("已延期", "extended"),
    f"state.{State.resolved}": ("已办结", "resolved"),
    f"state.{State.callback_logged}": ("已回访", "callback logged"),
    f"state.{State.closed}": ("已结案", "closed"),
    f"state.{State.reopened}": ("重办", "reopened"),
    f"state.{State.merged}": ("已并单", "merged"),
    f"tier.{Tier.h2}": ("2小时", "2 hours"),
    f"tier.{Tier.h24}": ("24小时", "24 hours"),
    f"tier.{Tier.d7}": ("7天", "7 days"),
    f"tier.{Tier.d15}": ("15天", "15 days"),
    f"channel.{Channel.phone}": ("电话", "phone"),
    f"channel.{Channel.wechat}": ("微信", "WeChat"),
    f"channel.{Channel.app}": ("App", "app"),
    f"channel.{Channel.web}": ("网站", "web"),
    f"channel.{Channel.visit}": ("来访", "visit"),
    f"channel.{Channel.meeting}": ("接诉会", "meeting"),
    f"satisfaction.{Satisfaction.satisfied}": ("满意", "satisfied"),
    f"satisfaction.{Satisfaction.basically}": ("基本满意", "basically satisfied"),
    f"satisfaction.{Satisfaction.not_satisfied}": ("不满意", "not satisfied"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
}

# ---------------------------------------------------------------------------------------------
# The app shell: queues, status bar, notifications, the command palette, help.
_APP: dict[str, tuple[str, str]] = {}

# ---------------------------------------------------------------------------------------------
# The dispatch dialog.
_DISPATCH: dict[str, tuple[str, str]] = {}

# ---------------------------------------------------------------------------------------------
# The transition dialogs: return, extend, resolve, reopen, close, note, callback.
_TRANSITIONS: dict[str, tuple[str, str]] = {}

# ---------------------------------------------------------------------------------------------
# The detail view.
_DETAIL: dict[str, tuple[str, str]] = {}

# ---------------------------------------------------------------------------------------------
# Filters, search and named queues.
_FILTERS: dict[str, tuple[str, str]] = {}


def _merged(*sections: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for section in sections:
        for key, pair in section.items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice")
            merged[key] = pair
    return merged


MESSAGES: Final = _merged(_DOMAIN, _APP, _DISPATCH, _TRANSITIONS, _DETAIL, _FILTERS)


def placeholders(template: str) -> set[str]:
    """The `{names}` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Strings:
    """The messages of one language. Call with a key (and the template's values)."""

    def __init__(self, lang: Lang = "zh") -> None:
        self.lang: Lang = lang
        self._index = 0 if lang == "zh" else 1
        self.table: TableLabels = ZH if lang == "zh" else EN

    def __call__(self, key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        if pair is None:  # a missing key shows itself rather than crash the app
            return key
        template = pair[self._index]
        return template.format(**values) if values else template

    def state(self, state: State | str) -> str:
        return self(f"state.{state}")

    def tier(self, tier: Tier | str) -> str:
        return self(f"tier.{tier}")

    def channel(self, channel: Channel | str) -> str:
        return self(f"channel.{channel}")

    def satisfaction(self, satisfaction: Satisfaction | str) -> str:
        return self(f"satisfaction.{satisfaction}")
