"""What every transition dialog is made of, the dialogs of one text (reopen, escalate, note), and a
yes/no confirmation. The dialogs whose workflow rules ask for more (a reason code, a reply, limits,
a callback's answers) are `tui.ui.screens.workflow_dialogs`.

Each is a `ModalScreen` the app pushes; it dismisses with the action model (`Reopen`, `Escalate`,
`AddNote`) or None when escaped:

    app.push_screen(ReopenDialog(request, strings), on_result)

A dialog shows which request it is about (id and one-line description, always literal), builds
its result with the model from `api_client.actions` and shows a refusal inline, in the
dispatcher's language (by the error's code; a code without words shows pydantic's sentence).
Every binding has an id (`transition.confirm`, `transition.cancel`, `confirm.yes`, `confirm.no`)
so that a keymap can move it; the hint line shows the keys actually bound.

The pieces the dispatch dialog shares live here too: `RequestHeader`, `explain`, `key_hint`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypeVar

from pydantic import BaseModel, ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

from api_client.actions import AddNote, Escalate, Reopen
from api_client.models import Request, Tier
from tui.core.error_words import describe
from tui.core.i18n import Strings
from tui.ui.text import literal
from tui.ui.widgets.text_field import JOINER, TextField

__all__ = [
    "BulkScope",
    "ConfirmDialog",
    "EscalateDialog",
    "NoteDialog",
    "ReopenDialog",
    "RequestHeader",
    "explain",
    "key_hint",
]

ActionT = TypeVar("ActionT", bound=BaseModel)

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


@dataclass(frozen=True, slots=True)
class BulkScope:
    """A dialog asked once for many marked requests: how many, which first, how many the action
    does not apply to (they are skipped), and the action's name."""

    count: int
    skipped: int
    first_id: str
    action: str


class RequestHeader(Static):
    """The request a dialog is about: its id, then its description on one line, both literal;
    for a bulk action (`scope`), how many requests and how many will be skipped.

    A citizen's `[bold]`, `[@click=app.quit]` or escape sequence is shown as what it is (see
    `tui.ui.text`): the content is a `Text`, never markup."""

    DEFAULT_CSS = """
    RequestHeader { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    RequestHeader.-bulk { color: $warning; text-style: bold; }
    """

    def __init__(
        self,
        request: Request,
        *,
        id: str | None = None,
        scope: BulkScope | None = None,
        strings: Strings | None = None,
    ) -> None:
        if scope is not None and strings is not None:
            text = bulk_text(scope, strings)
        else:
            text = Text.assemble(literal(request.id, "bold"), "\n", literal(request.description), end="")
        super().__init__(text, markup=False, id=id, classes="-bulk" if scope is not None else "")


def bulk_text(scope: BulkScope, strings: Strings) -> Text:
    """Two lines: how many requests (the first named), and how many the action skips."""
    action = strings.action(scope.action)
    count = strings("bulk.scope", n=scope.count, first=scope.first_id, action=action)
    skipped = (
        strings("bulk.scope_skipped", n=scope.skipped, action=action)
        if scope.skipped
        else strings("bulk.scope_all", action=action)
    )
    return Text.assemble(literal(count), "\n", literal(skipped), end="")


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
    """A single-line field with a steady cursor, safe to paste into (`TextField`)."""
    return TextField(placeholder=placeholder, id=id, select_on_focus=False)


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

    def __init__(self, request: Request, strings: Strings, *, scope: BulkScope | None = None) -> None:
        super().__init__()
        self.request = request
        self.strings = strings
        self.scope = scope

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading(), id="title")
            yield RequestHeader(self.request, id="request", scope=self.scope, strings=self.strings)
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

    @on(TextField.LinesJoined)
    def _lines_joined(self, event: TextField.LinesJoined) -> None:
        """Say that a pasted text's lines were kept, joined into one line."""
        event.stop()
        note = self.strings("transition.pasted_lines", n=event.count, joiner=JOINER.strip())
        self.query_one("#error", Static).update(literal(note))


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
        self,
        title: str,
        body: str | Text,
        strings: Strings,
        *,
        request: Request | None = None,
        scope: BulkScope | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = body if isinstance(body, Text) else literal(body, multiline=True)
        self.strings = strings
        self.request = request
        self.scope = scope

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(literal(self.title_text), id="title", markup=False)
            if self.request is not None:
                yield RequestHeader(self.request, id="request", scope=self.scope, strings=self.strings)
            yield Static(self.body, id="body", markup=False)
            yield Static("", id="hint", classes="hint", markup=False)

    def on_mount(self) -> None:
        hint = self.strings(
            "transition.confirm.hint", yes=key_hint(self, "confirm.yes"), no=key_hint(self, "confirm.no")
        )
        self.query_one("#hint", Static).update(Text(hint))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
