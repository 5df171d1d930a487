"""The dialogs for the transitions that need the dispatcher's input, and a yes/no confirmation.

Each is a `ModalScreen` the app pushes; it dismisses with the action model (`Return`, `Reopen`,
`AddNote`, `Resolve`, `Close`, `Extend`, `LogCallback`) or None when escaped:

    app.push_screen(ReturnDialog(request, strings), on_result)

A dialog shows which request it is about (id and one-line description, always literal), builds
its result with the model from `api_client.actions` and shows a refusal inline, in the
dispatcher's language (by the error's code; a code without words shows pydantic's sentence).
Every binding has an id (`transition.confirm`, `transition.cancel`, `confirm.yes`, `confirm.no`)
so that a keymap can move it; the hint line shows the keys actually bound.

The pieces the dispatch dialog shares live here too: `RequestHeader`, `explain`, `key_hint`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Final, TypeVar

from pydantic import BaseModel, ValidationError
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from api_client.actions import AddNote, Close, Escalate, Extend, LogCallback, Reopen, Resolve, Return
from api_client.models import Request, Satisfaction, Tier
from tui.core.due_input import DueInputError, format_delta, parse_due, to_local
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.ui.text import literal

__all__ = [
    "CallbackDialog",
    "CloseDialog",
    "ConfirmDialog",
    "ExtendDialog",
    "NoteDialog",
    "ReopenDialog",
    "RequestHeader",
    "ResolveDialog",
    "ReturnDialog",
    "explain",
    "key_hint",
]

ActionT = TypeVar("ActionT", bound=BaseModel)

#: How a due time is shown.
DUE_FORMAT: Final = "%Y-%m-%d %H:%M"

#: What every dialog looks like: a bordered box in the middle that fits 80x24.
DIALOG_CSS: Final = """
    align: center middle;
    & > #dialog {
        width: 100%;
        max-width: 90;
        height: auto;
        max-height: 100%;
        margin: 0 1;
        padding: 0 1;
        border: thick $primary;
        background: $surface;
    }
    & #title { text-style: bold; width: 1fr; }
    & RequestHeader { width: 1fr; margin-bottom: 1; }
    & .label { color: $text-muted; }
    & .error { color: $error; text-style: bold; height: auto; }
    & .hint { color: $text-muted; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    & Input { margin-bottom: 1; }
"""


class RequestHeader(Static):
    """The request a dialog is about: its id, then its description on one line, both literal.

    A citizen's `[bold]`, `[@click=app.quit]` or escape sequence is shown as what it is (see
    `tui.ui.text`): the content is a `Text`, never markup."""

    DEFAULT_CSS = """
    RequestHeader { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, request: Request, *, id: str | None = None) -> None:
        text = Text.assemble(literal(request.id, "bold"), "\n", literal(request.description), end="")
        super().__init__(text, markup=False, id=id)


def explain(error: ValidationError, strings: Strings, labels: Mapping[str, str]) -> str:
    """A model's refusal for the dispatcher, in words for its error codes (`describe`).

    `labels` names the fields (`{"reason": "退单原因"}`) as the dialog shows them."""
    lines: list[str] = []
    for detail in error.errors(include_url=False):
        field = str(detail["loc"][0]) if detail["loc"] else ""
        label = labels.get(field, field)
        context: dict[str, Any] = detail.get("ctx") or {}
        kind = detail["type"]
        if kind == "string_too_short":
            lines.append(strings("transition.error.required", field=label))
        elif kind == "string_too_long":
            lines.append(strings("transition.error.too_long", field=label, max=context.get("max_length")))
        elif kind == "too_long":
            lines.append(strings("transition.error.too_many", field=label, max=context.get("max_length")))
        elif label:
            message = describe(kind, context, strings, detail["msg"])
            lines.append(strings("transition.error.invalid", field=label, message=message))
        else:
            lines.append(describe(kind, context, strings, detail["msg"]))
    return "\n".join(dict.fromkeys(lines))


def key_hint(screen: Screen[Any], binding_id: str) -> str:
    """The key(s) bound to `binding_id` on `screen` as the app shows keys (`^s`, `esc`), after any
    keymap; `?` when nothing is bound."""
    keys = [
        screen.app.get_key_display(active.binding)
        for active in screen.active_bindings.values()
        if active.binding.id == binding_id
    ]
    return "/".join(dict.fromkeys(keys)) or "?"


def _quiet_input(placeholder: str = "", *, id: str | None = None) -> Input:
    """A single-line field with a steady cursor (nothing blinks while the dispatcher thinks)."""
    field = Input(placeholder=placeholder, max_length=4000, id=id, select_on_focus=False)
    field.cursor_blink = False
    return field


class _ActionDialog(ModalScreen[ActionT | None]):
    """What every transition dialog shares: the frame, the header, confirm and cancel, the
    inline error. A subclass yields its fields (`compose_fields`) and builds its model
    (`build`, which may raise `ValidationError` or `_Refusal`)."""

    DEFAULT_CSS = f"_ActionDialog {{ {DIALOG_CSS} }}"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "confirm", "Confirm", id="transition.confirm"),
        Binding("escape", "cancel", "Cancel", id="transition.cancel"),
    ]
    #: The i18n key of the dialog's title.
    TITLE_KEY: ClassVar[str] = ""
    #: The hint line's template (placeholders `confirm`, `cancel`).
    HINT_KEY: ClassVar[str] = "transition.hint"

    def __init__(self, request: Request, strings: Strings) -> None:
        super().__init__()
        self.request = request
        self.strings = strings

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading(), id="title")
            yield RequestHeader(self.request, id="request")
            yield from self.compose_fields()
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="hint", classes="hint", markup=False)

    def heading(self) -> str:
        """The dialog's title."""
        return self.strings(self.TITLE_KEY)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        hint = self.strings(
            self.HINT_KEY,
            confirm=key_hint(self, "transition.confirm"),
            cancel=key_hint(self, "transition.cancel"),
        )
        self.query_one("#hint", Static).update(Text(hint))

    def build(self) -> ActionT:
        raise NotImplementedError

    def labels(self) -> Mapping[str, str]:
        """The model's field names as the dialog shows them."""
        return {}

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(literal(message, multiline=True))

    @property
    def error_text(self) -> str:
        """The refusal shown, "" when none."""
        return str(self.query_one("#error", Static).content)

    def action_confirm(self) -> None:
        try:
            action = self.build()
        except ValidationError as error:
            self.show_error(explain(error, self.strings, self.labels()))
        except _Refusal as refusal:
            self.show_error(str(refusal))
        else:
            self.dismiss(action)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()


class _Refusal(Exception):
    """A dialog's own refusal, already in the dispatcher's language."""


class _TextDialog(_ActionDialog[ActionT]):
    """A dialog of one text field (a reason, a note, a summary) that builds one model."""

    #: The action's name: the title and the field's label are `transition.{NAME}.title`/`.field`.
    NAME: ClassVar[str] = ""
    #: The model field the text goes to.
    FIELD: ClassVar[str] = "reason"
    #: Whether the model requires the text (the placeholder says so; the model decides).
    REQUIRED: ClassVar[bool] = True

    def heading(self) -> str:
        return self.strings(f"transition.{self.NAME}.title")

    def compose_fields(self) -> ComposeResult:
        yield Label(self.labels()[self.FIELD], classes="label")
        placeholder = self.strings("transition.required" if self.REQUIRED else "transition.optional")
        yield _quiet_input(placeholder, id="text")

    def labels(self) -> Mapping[str, str]:
        return {self.FIELD: self.strings(f"transition.{self.NAME}.field")}

    def build(self) -> ActionT:
        return self.make(self.query_one("#text", Input).value)

    def make(self, text: str) -> ActionT:
        raise NotImplementedError


class ReturnDialog(_TextDialog[Return]):
    """退单: the reason is required."""

    NAME = "return"

    def make(self, text: str) -> Return:
        return Return(reason=text)


class EscalateDialog(_TextDialog[Escalate]):
    """提级响应: to the 2-hour tier, with a required reason (one dialog for a whole cluster)."""

    NAME = "escalate"

    def make(self, text: str) -> Escalate:
        return Escalate(tier=Tier.h2, reason=text)


class ReopenDialog(_TextDialog[Reopen]):
    """重办: the reason is required."""

    NAME = "reopen"

    def make(self, text: str) -> Reopen:
        return Reopen(reason=text)


class NoteDialog(_TextDialog[AddNote]):
    """A note on the request: the text is required."""

    NAME = "note"
    FIELD = "text"

    def make(self, text: str) -> AddNote:
        return AddNote(text=text)


class ResolveDialog(_TextDialog[Resolve]):
    """办结, with an optional summary."""

    NAME = "resolve"
    FIELD = "summary"
    REQUIRED = False

    def make(self, text: str) -> Resolve:
        return Resolve(summary=text.strip())


class CloseDialog(_TextDialog[Close]):
    """结案, with an optional reason."""

    NAME = "close"
    REQUIRED = False

    def make(self, text: str) -> Close:
        return Close(reason=text.strip())


def _local_now() -> datetime:
    return datetime.now().astimezone()


class ExtendDialog(_ActionDialog[Extend]):
    """延期: a reason and a new due time (`+2h`, `+3d`, `+90m`, `2026-11-26 18:00`, `11-26 18:00`,
    `18:00`; see `tui.core.due_input`), later than the current one. The current due time and the
    parsed new one are shown as the dispatcher types.

    `clock` gives the current time (for `18:00` alone); `tz` is the zone times are typed and
    shown in (default: the system's local zone)."""

    DEFAULT_CSS = """
    ExtendDialog #current, ExtendDialog #parsed { height: 1; }
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
    ) -> None:
        super().__init__(request, strings)
        self.clock = clock
        self.tz = tz

    def _show(self, moment: datetime) -> str:
        return to_local(moment, self.tz).strftime(DUE_FORMAT)

    def compose_fields(self) -> ComposeResult:
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
            delta = format_delta(due - self.request.due_at)
            parsed.update(Text(self.strings("transition.extend.new", due=self._show(due), delta=delta)))
        self.show_error("")

    def build(self) -> Extend:
        reason = self.query_one("#reason", Input).value
        return Extend(reason=reason, new_due_at=self.new_due())


class _Answer(RadioButton):
    """A radio button whose mark tells chosen (●) from not (○) without colour (16 colours,
    NO_COLOR)."""

    BUTTON_INNER = "○"

    def render(self) -> Content:
        self.BUTTON_INNER = "●" if self.value else "○"
        return super().render()


class _Choice(RadioSet):
    """A compact, one-line `RadioSet` whose buttons also answer to single keys (`y`, `n`, `1` …)."""

    DEFAULT_CSS = """
    _Choice { layout: horizontal; width: 1fr; height: 1; }
    _Choice > RadioButton { width: auto; margin-right: 2; }
    """

    def __init__(self, options: Iterable[tuple[str, str]], *, id: str) -> None:
        """`options`: (key, label) pairs."""
        pairs = list(options)
        self._keys = {key: index for index, (key, _) in enumerate(pairs)}
        self._answers = [_Answer(Text(label)) for _, label in pairs]
        super().__init__(*self._answers, id=id, compact=True)

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
    was not reached the other two answers are disabled and not sent."""

    DEFAULT_CSS = """
    CallbackDialog .row { height: 1; margin-bottom: 1; }
    CallbackDialog .row > Label { width: 14; }
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


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: dismisses True on `y`/enter, False on `n`/escape.

    `title` and `body` are the app's own words (`body` may be a `Text`; a `str` is shown
    literally, never as markup); `request`, when given, is shown as in the other dialogs."""

    DEFAULT_CSS = f"ConfirmDialog {{ {DIALOG_CSS} }}\nConfirmDialog #body {{ margin-bottom: 1; }}"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(
        self, title: str, body: str | Text, strings: Strings, *, request: Request | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = body if isinstance(body, Text) else literal(body, multiline=True)
        self.strings = strings
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(literal(self.title_text), id="title", markup=False)
            if self.request is not None:
                yield RequestHeader(self.request, id="request")
            yield Static(self.body, id="body", markup=False)
            yield Static("", id="hint", classes="hint", markup=False)

    def on_mount(self) -> None:
        hint = self.strings(
            "transition.confirm.hint", yes=key_hint(self, "confirm.yes"), no=key_hint(self, "confirm.no")
        )
        self.query_one("#hint", Static).update(Text(hint))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
