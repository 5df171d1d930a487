"""The dialogs whose workflow rules ask for more than one text: 退单 (a reason code and the
reason), 办结 (the reply to the citizen), 结案 (a reason code), 延期 (a reason and a new due
time, within the limits) and 回访 (the answers, and what they will do to the request).

Each shows its rule — the required fields, the codes as a list chosen by number, the limits,
what a callback will do — and refuses inline, in the dispatcher's words, what the shared state
machine (`api_client.domain.lifecycle`) would refuse on the request shown, before anything is
recorded (for many marked requests at once: what the body lacks). Built on the pieces of
`tui.ui.screens.transitions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any, ClassVar, Final

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from api_client.actions import Close, CloseCode, Extend, LogCallback, Resolve, Return, ReturnCode
from api_client.domain import bounds
from api_client.domain.lifecycle import (
    ActionIncomplete,
    TransitionRefused,
    apply_action,
    check_extension,
    extensions_this_round,
    unreached_since_resolved,
)
from api_client.models import Request, Satisfaction, State
from tui.core.due_input import DueInputError, parse_due, to_local
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.core.table_words import duration
from tui.ui.screens.transitions import BulkScope, _ActionDialog, _quiet_input, _Refusal, _TextDialog

__all__ = ["CallbackDialog", "CloseDialog", "ExtendDialog", "ResolveDialog", "ReturnDialog"]

#: How a due time is shown.
DUE_FORMAT: Final = "%Y-%m-%d %H:%M"


def check_rules(dialog: _ActionDialog[Any], action: Any) -> None:
    """Raise `_Refusal`, in the dispatcher's words, when the state machine would refuse `action`
    on the dialog's request, or when it is an extension longer than a dispatcher may grant (the
    app offers what a dispatcher's token may do). A dialog for many requests refuses only what
    the body lacks: the rest is judged request by request when they are recorded."""
    try:
        apply_action(dialog.request, action, actor="", now=datetime.now(UTC))
        if isinstance(action, Extend) and dialog.scope is None:
            check_extension(dialog.request, action)
    except TransitionRefused as refusal:
        if dialog.scope is None or isinstance(refusal, ActionIncomplete):
            raise _Refusal(describe(refusal.code, refusal.params, dialog.strings, str(refusal))) from None


class _CodedDialog(_ActionDialog[Any]):
    """A reason code, chosen by its number from a list, and the reason in words."""

    DEFAULT_CSS = """
    _CodedDialog #rule { height: auto; margin-bottom: 1; }
    """

    #: The action's name: the words are `transition.{NAME}.title`, `.code`, `.field`.
    NAME: ClassVar[str] = ""
    #: The codes in the order listed, and the message prefix of their words.
    CODES: ClassVar[tuple[StrEnum, ...]] = ()
    CODE_WORDS: ClassVar[str] = ""
    #: The text field's placeholder.
    TEXT_HELP: ClassVar[str] = "transition.required"

    def heading(self) -> str:
        return self.strings(f"transition.{self.NAME}.title")

    def compose_fields(self) -> ComposeResult:
        label = self.strings("transition.code.label", field=self.labels()["code"])
        yield Label(label, classes="label")
        words = [
            (str(n), f"{n} {self.strings(f'{self.CODE_WORDS}.{code}')}")
            for n, code in enumerate(self.CODES, 1)
        ]
        yield _Choice(words, id="code", vertical=True)
        rule = self.rule()
        if rule:
            yield Static(Text(rule), id="rule", markup=False)
        yield Label(self.labels()["reason"], classes="label")
        yield _quiet_input(self.strings(self.TEXT_HELP), id="text")

    def rule(self) -> str:
        """What the dialog says of its rule, above the reason ("" for nothing)."""
        return ""

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#code", _Choice).focus()

    def labels(self) -> Mapping[str, str]:
        return {
            "code": self.strings(f"transition.{self.NAME}.code"),
            "reason": self.strings(f"transition.{self.NAME}.field"),
        }

    def code(self) -> Any:
        """The chosen code; `_Refusal` when none is."""
        index = self.query_one("#code", _Choice).chosen
        if index is None:
            raise _Refusal(self.strings("transition.code.required", field=self.labels()["code"]))
        return self.CODES[index]

    @on(RadioSet.Changed, "#code")
    def _code_changed(self) -> None:
        self.show_error("")
        self.query_one("#text", Input).focus()


class ReturnDialog(_CodedDialog):
    """退单: a code and the reason, both required."""

    NAME = "return"
    CODES = tuple(ReturnCode)
    CODE_WORDS = "return_code"

    def build(self) -> Return:
        action = Return(code=self.code(), reason=self.query_one("#text", Input).value)
        check_rules(self, action)
        return action


class CloseDialog(_CodedDialog):
    """结案 by hand: a code (unreachable only after enough unreached callbacks); the reason in
    words, required with `other`. A valid callback closes or reopens the request by itself."""

    NAME = "close"
    CODES = tuple(CloseCode)
    CODE_WORDS = "close_code"
    TEXT_HELP = "transition.close.text_help"

    def rule(self) -> str:
        least = bounds.MIN_UNREACHED_CALLBACKS
        if self.scope is not None:  # many requests: each has its own count
            return self.strings("transition.close.rule", min=least)
        count = unreached_since_resolved(self.request)
        return self.strings("transition.close.unreached", count=count, min=least)

    def build(self) -> Close:
        action = Close(code=self.code(), reason=self.query_one("#text", Input).value.strip())
        check_rules(self, action)
        return action


class ResolveDialog(_TextDialog[Resolve]):
    """办结, with the reply to the citizen (required)."""

    NAME = "resolve"
    FIELD = "summary"

    def make(self, text: str) -> Resolve:
        action = Resolve(summary=text.strip())
        check_rules(self, action)
        return action


def _local_now() -> datetime:
    return datetime.now().astimezone()


class ExtendDialog(_ActionDialog[Extend]):
    """延期: a reason and a new due time (`+2h`, `+3d`, `+90m`, `2026-11-26 18:00`, `11-26 18:00`,
    `18:00`; see `tui.core.due_input`), later than the current one, within the limits it shows
    (`bounds.MAX_EXTENSIONS` a round, `bounds.MAX_EXTENSION` each). The current due time and the
    parsed new one are shown as the dispatcher types.

    `clock` gives the current time (for `18:00` alone); `tz` is the zone times are typed and
    shown in (default: the system's local zone)."""

    DEFAULT_CSS = """
    ExtendDialog #current, ExtendDialog #parsed { height: 1; }
    ExtendDialog #limits { height: auto; margin-bottom: 1; }
    ExtendDialog #parsed { margin-bottom: 1; }
    ExtendDialog #due { margin-bottom: 0; }
    """

    TITLE_KEY = "transition.extend.title"

    def __init__(
        self,
        request: Request,
        strings: Strings,
        *,
        clock: Callable[[], datetime] = _local_now,
        tz: tzinfo | None = None,
        scope: BulkScope | None = None,
    ) -> None:
        super().__init__(request, strings, scope=scope)
        self.clock = clock
        self.tz = tz

    def _show(self, moment: datetime) -> str:
        return to_local(moment, self.tz).strftime(DUE_FORMAT)

    def compose_fields(self) -> ComposeResult:
        most, days = bounds.MAX_EXTENSIONS, bounds.MAX_EXTENSION.days
        if self.scope is not None:  # many requests: each has its own count
            limits = self.strings("transition.extend.rule", max=most, days=days)
        else:
            count = extensions_this_round(self.request)
            limits = self.strings("transition.extend.limits", count=count, max=most, days=days)
        yield Static(Text(limits), id="limits", markup=False)
        yield Label(self.strings("transition.extend.reason"), classes="label")
        yield _quiet_input(self.strings("transition.required"), id="reason")
        yield Label(self.strings("transition.extend.due"), classes="label")
        yield _quiet_input(self.strings("transition.extend.due_help"), id="due")
        due = self._show(self.request.due_at)
        yield Static(Text(self.strings("transition.extend.current", due=due)), id="current", markup=False)
        yield Static("", id="parsed", markup=False)

    def labels(self) -> Mapping[str, str]:
        return {
            "reason": self.strings("transition.extend.reason"),
            "new_due_at": self.strings("transition.extend.due"),
        }

    def new_due(self) -> datetime:
        """The typed due time; raises `_Refusal` saying what is wrong with it."""
        typed = self.query_one("#due", Input).value
        try:
            return parse_due(typed, current_due=self.request.due_at, now=self.clock(), tz=self.tz)
        except DueInputError as error:
            due = self._show(error.current_due) if error.current_due else ""
            raise _Refusal(self.strings(f"transition.extend.error.{error.code}", due=due)) from None

    @on(Input.Changed, "#due")
    def _due_changed(self) -> None:
        parsed = self.query_one("#parsed", Static)
        if not self.query_one("#due", Input).value.strip():
            parsed.update("")
            return
        try:
            due = self.new_due()
        except _Refusal as refusal:
            parsed.update(Text(str(refusal), style="italic"))
        else:
            delta = duration((due - self.request.due_at).total_seconds(), self.strings.table)
            parsed.update(Text(self.strings("transition.extend.new", due=self._show(due), delta=delta)))
        self.show_error("")

    def build(self) -> Extend:
        reason = self.query_one("#reason", Input).value
        action = Extend(reason=reason, new_due_at=self.new_due())
        check_rules(self, action)
        return action


class _Answer(RadioButton):
    """A radio button whose mark tells chosen (●) from not (○) without colour (16 colours,
    NO_COLOR)."""

    BUTTON_INNER = "○"

    def render(self) -> Content:
        self.BUTTON_INNER = "●" if self.value else "○"
        return super().render()


class _Choice(RadioSet):
    """A compact `RadioSet`, one line (or one answer a line: `vertical`), whose buttons also answer
    to single keys (`y`, `n`, `1` …)."""

    DEFAULT_CSS = """
    _Choice { layout: horizontal; width: 1fr; height: 1; }
    _Choice > RadioButton { width: auto; margin-right: 2; }
    _Choice.-vertical { layout: vertical; height: auto; margin-bottom: 1; }
    """

    def __init__(self, options: Iterable[tuple[str, str]], *, id: str, vertical: bool = False) -> None:
        """`options`: (key, label) pairs."""
        pairs = list(options)
        self._keys = {key: index for index, (key, _) in enumerate(pairs)}
        self._answers = [_Answer(Text(label)) for _, label in pairs]
        super().__init__(*self._answers, id=id, compact=True, classes="-vertical" if vertical else "")

    def on_key(self, event: events.Key) -> None:
        index = self._keys.get(event.key)
        if index is not None:
            event.stop()
            event.prevent_default()
            self._answers[index].value = True

    @property
    def chosen(self) -> int | None:
        index = self.pressed_index
        return None if index < 0 else index


class CallbackDialog(_ActionDialog[LogCallback]):
    """回访: reached the citizen (y/n)? If so: solved (y/n) and satisfaction (1/2/3); a note.

    Tab moves between the answers; in each, its keys (or ←/→ and space) choose. When the citizen
    was not reached the other two answers are disabled and not sent. A line says what the answers
    will do: close the request, send it back for re-handling, or count one more unreached attempt."""

    DEFAULT_CSS = """
    CallbackDialog .row { height: 1; margin-bottom: 1; }
    CallbackDialog .row > Label { width: 14; }
    CallbackDialog #outcome { height: auto; margin-bottom: 1; text-style: bold; }
    """

    TITLE_KEY = "transition.callback.title"
    HINT_KEY = "transition.callback.hint"
    SATISFACTION: ClassVar[tuple[Satisfaction, ...]] = (
        Satisfaction.satisfied,
        Satisfaction.basically,
        Satisfaction.not_satisfied,
    )

    def _yes_no(self, id: str) -> _Choice:
        yes, no = self.strings("yes"), self.strings("no")
        return _Choice([("y", f"{yes} (y)"), ("n", f"{no} (n)")], id=id)

    def compose_fields(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label(self.strings("transition.callback.reached"), classes="label")
            yield self._yes_no("reached")
        with Horizontal(classes="row"):
            yield Label(self.strings("transition.callback.solved"), classes="label")
            yield self._yes_no("solved")
        with Horizontal(classes="row"):
            yield Label(self.strings("transition.callback.satisfaction"), classes="label")
            yield _Choice(
                [
                    (str(n), self.strings(f"transition.callback.{answer}", n=n))
                    for n, answer in enumerate(self.SATISFACTION, 1)
                ],
                id="satisfaction",
            )
        yield Static("", id="outcome", markup=False)
        yield Label(self.strings("transition.callback.note"), classes="label")
        yield _quiet_input(self.strings("transition.optional"), id="note")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#reached", _Choice).focus()

    @on(RadioSet.Changed, "#reached")
    def _reached_changed(self) -> None:
        reached = self.query_one("#reached", _Choice).chosen == 0
        for answer in ("#solved", "#satisfaction"):
            self.query_one(answer, _Choice).disabled = not reached
        self.show_error("")

    @on(RadioSet.Changed)
    def _answered(self) -> None:
        self.query_one("#outcome", Static).update(Text(self.outcome()))

    def outcome(self) -> str:
        """What the answers given so far will do to the request, as the state machine decides."""
        try:
            action = self.build()
        except (_Refusal, ValueError):
            return ""
        if not action.reached:
            count = unreached_since_resolved(self.request) + 1
            return self.strings("transition.callback.unreached", n=count, min=bounds.MIN_UNREACHED_CALLBACKS)
        try:
            after = apply_action(self.request, action, actor="", now=datetime.now(UTC))
        except TransitionRefused:
            return ""
        if after.state is State.closed:
            return self.strings("transition.callback.closes")
        return self.strings("transition.callback.reopens") if after.state is State.reopened else ""

    def labels(self) -> Mapping[str, str]:
        return {key: self.strings(f"transition.callback.{key}") for key in ("reached", "solved", "note")}

    def build(self) -> LogCallback:
        reached = self.query_one("#reached", _Choice).chosen
        note = self.query_one("#note", Input).value.strip()
        if reached is None:
            raise _Refusal(self.strings("transition.callback.error.reached"))
        if reached == 1:
            return LogCallback(reached=False, note=note)
        solved = self.query_one("#solved", _Choice).chosen
        satisfaction = self.query_one("#satisfaction", _Choice).chosen
        return LogCallback(
            reached=True,
            solved=None if solved is None else solved == 0,
            satisfaction=None if satisfaction is None else self.SATISFACTION[satisfaction],
            note=note,
        )
