"""派单: choose the lead unit and any co-units for a request, by keyboard alone.

    app.push_screen(DispatchDialog(request, units, suggested, strings), on_result)  # Dispatch | None

The dispatcher types into the search field (Chinese name, pinyin or its initials: `dsj` finds
德胜街道…; see `tui.core.unit_search`) while ↑/↓ move the highlight in the list of matches, the
suggested units first (★), those covering the request's place (its community office, property
company, utilities: `tui.core.places.coverage`) marked, and the place named above them. Enter
picks the highlighted unit: the first pick is the lead unit, later picks add or remove co-units;
the lead stays until ctrl+r clears it. After a pick the query is selected, so typing starts a new
one (`rl` Enter `adl`, not `rladl`) while ↓ Enter still picks from the matches shown. Ctrl+S
dispatches, and so does Enter once a lead is chosen and the highlight has not moved since the
last pick (so ↓ Enter on the suggestions adds a co-unit, a second Enter dispatches); Escape
cancels. Off-duty units can be picked and are shown as off duty. The result is built with
`api_client.actions.Dispatch`; a refusal is shown in the dialog.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from api_client.actions import Dispatch
from api_client.models import Request, Unit
from tui.core.i18n import Strings
from tui.core.places.coverage import Coverage
from tui.core.unit_search import UnitMatch, UnitMatcher
from tui.ui.screens.transitions import DIALOG_CSS, BulkScope, RequestHeader, explain, key_hint
from tui.ui.text import fit, literal
from tui.ui.widgets.text_field import TextField

__all__ = ["MAX_CO_UNITS", "DispatchDialog"]

#: The most co-units a dispatch may name (the `Dispatch` model's limit).
MAX_CO_UNITS: Final = 20


class DispatchDialog(ModalScreen[Dispatch | None]):
    """Dismisses with a `Dispatch` (lead unit and co-units, in the order picked) or None."""

    DEFAULT_CSS = f"""
    DispatchDialog {{ {DIALOG_CSS} }}
    DispatchDialog > #dialog {{ height: 100%; max-height: 40; }}
    DispatchDialog #matches {{ height: 1fr; min-height: 3; border: none; padding: 0; }}
    DispatchDialog #query {{ margin-bottom: 0; }}
    DispatchDialog #picked {{ height: auto; max-height: 4; margin-top: 1; }}
    DispatchDialog #place {{ height: auto; max-height: 2; }}
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "confirm", "Dispatch", id="dispatch.confirm"),
        Binding("escape", "cancel", "Cancel", id="dispatch.cancel"),
        Binding("ctrl+r", "clear_lead", "Clear the lead", show=False, id="dispatch.clear_lead"),
        Binding("up", "move('cursor_up')", "Up", show=False, id="dispatch.cursor_up"),
        Binding("down", "move('cursor_down')", "Down", show=False, id="dispatch.cursor_down"),
        Binding("pageup", "move('page_up')", "Page up", show=False, id="dispatch.page_up"),
        Binding("pagedown", "move('page_down')", "Page down", show=False, id="dispatch.page_down"),
    ]

    def __init__(
        self,
        request: Request,
        units: Sequence[Unit],
        suggested: Sequence[str],
        strings: Strings,
        *,
        scope: BulkScope | None = None,
        coverage: Coverage | None = None,
    ) -> None:
        super().__init__()
        self.request = request
        self.scope = scope
        self.coverage = coverage or Coverage()
        self.strings = strings
        self.suggested = list(suggested)
        self.units = {unit.id: unit for unit in units}
        self.matcher = UnitMatcher(units)
        self.matches: list[UnitMatch] = []
        self.lead: str | None = None
        #: The highlight moved since the last pick: enter on an empty query picks, not dispatches.
        self._browsed = False
        self.co_units: list[str] = []

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.strings("dispatch.title"), id="title")
            yield RequestHeader(self.request, id="request", scope=self.scope, strings=self.strings)
            place = Static(self._place_line(), id="place", markup=False)
            place.display = self.coverage.place is not None
            yield place
            query = TextField(placeholder=self.strings("dispatch.search"), id="query", select_on_focus=False)
            query.cursor_blink = False
            yield query
            matches = OptionList(id="matches", markup=False)
            matches.can_focus = False
            yield matches
            yield Static("", id="picked", markup=False)
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="hint", classes="hint", markup=False)

    def on_mount(self) -> None:
        self.refresh_hint()
        self._search("")
        self._show_picked()
        self.query_one("#query", Input).focus()

    def refresh_hint(self) -> None:
        """Writes the hint line with the keys bound now (call again after changing the keymap)."""
        hint = self.strings(
            "dispatch.hint",
            confirm=key_hint(self, "dispatch.confirm"),
            cancel=key_hint(self, "dispatch.cancel"),
        )
        self.query_one("#hint", Static).update(Text(hint))

    def _place_line(self) -> Text:
        if self.coverage.place is None:
            return Text("")
        return Text.assemble(
            (self.strings("place.dispatch.at"), "bold"), literal(self.coverage.label), end=""
        )

    def _prompt(self, match: UnitMatch) -> Text:
        unit = match.unit
        role = ""
        if unit.id == self.lead:
            role = self.strings("dispatch.role.lead")
        elif unit.id in self.co_units:
            role = self.strings("dispatch.role.co")
        duty = self.strings("dispatch.on_duty" if unit.on_duty else "dispatch.off_duty")
        covers = f" · {self.strings('place.dispatch.covers')}" if unit.id in self.coverage.units else ""
        return Text.assemble(
            (fit(self.strings("dispatch.suggested") if match.suggested else "", 2), "bold"),
            (fit(role, 4), "bold reverse" if role else ""),
            " ",
            literal(unit.name, "bold" if role else ""),
            "  ",
            (self.strings(f"dispatch.kind.{unit.kind}"), "dim"),
            " · ",
            (duty, "dim" if unit.on_duty else "bold red"),
            (covers, "bold"),
            end="",
        )

    def _search(self, query: str, *, keep: int | None = None) -> None:
        self.matches = self.matcher.search(query, suggested=self.suggested)
        options = self.query_one("#matches", OptionList)
        if not self.matches:
            options.set_options(
                [Option(Text(self.strings("dispatch.no_match"), style="italic"), disabled=True)]
            )
            return
        options.set_options(Option(self._prompt(match), id=match.unit.id) for match in self.matches)
        options.highlighted = min(keep or 0, len(self.matches) - 1)

    def _unit_name(self, unit_id: str) -> Text:
        unit = self.units.get(unit_id)
        return literal(unit.name if unit else unit_id)

    def _show_picked(self) -> None:
        none = self.strings("dispatch.none")
        lead = self._unit_name(self.lead) if self.lead else Text(none)
        co = Text(", ").join(self._unit_name(unit_id) for unit_id in self.co_units) if self.co_units else none
        line = Text.assemble(
            (self.strings("dispatch.lead"), "bold"),
            lead,
            "\n",
            (self.strings("dispatch.co_units", n=len(self.co_units), max=MAX_CO_UNITS), "bold"),
            co,
            end="",
        )
        self.query_one("#picked", Static).update(line)

    def _show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(literal(message, multiline=True))

    @property
    def error_text(self) -> str:
        """The refusal shown, "" when none."""
        return str(self.query_one("#error", Static).content)

    # ------------------------------------------------------------------ picking

    def pick(self, unit_id: str) -> None:
        """Enter on a unit: the lead when there is none, else add or remove it as a co-unit.
        The lead stays the lead (`dispatch.clear_lead` un-sets it). Afterwards the query is
        selected: the matches stay for ↓ Enter, and typing starts a new query."""
        self._show_error("")
        self._browsed = False
        if unit_id == self.lead:
            self._show_error(
                self.strings("dispatch.already_lead", keys=key_hint(self, "dispatch.clear_lead"))
            )
            return
        if self.lead is None:
            if unit_id in self.co_units:
                self.co_units.remove(unit_id)
            self.lead = unit_id
        elif unit_id in self.co_units:
            self.co_units.remove(unit_id)
        elif len(self.co_units) >= MAX_CO_UNITS:
            self._show_error(self.strings("dispatch.error.too_many", max=MAX_CO_UNITS))
            return
        else:
            self.co_units.append(unit_id)
        options = self.query_one("#matches", OptionList)
        query = self.query_one("#query", Input)
        self._search(query.value, keep=options.highlighted)
        query.select_all()
        self._show_picked()

    def action_clear_lead(self) -> None:
        """Un-set the lead (the co-units stay)."""
        self.lead = None
        self._show_error("")
        self._search(self.query_one("#query", Input).value)
        self._show_picked()

    @on(Input.Changed, "#query")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        highlighted = self.query_one("#matches", OptionList).highlighted
        chosen = self.matches[highlighted].unit.id if highlighted is not None and self.matches else None
        picked = chosen is not None and (chosen == self.lead or chosen in self.co_units)
        if self.lead is not None and not self._browsed and (not event.value.strip() or picked):
            self.action_confirm()  # nothing new chosen since the last pick: dispatch
            return
        if chosen is None:
            self._show_error(self.strings("dispatch.no_match"))
            return
        self.pick(chosen)

    def action_move(self, how: str) -> None:
        options = self.query_one("#matches", OptionList)
        getattr(options, f"action_{how}")()
        self._browsed = True  # enter now picks the highlighted unit (a suggestion as a co-unit)

    def action_confirm(self) -> None:
        if self.lead is None:
            self._show_error(self.strings("dispatch.error.no_lead"))
            return
        try:
            action = Dispatch(lead_unit=self.lead, co_units=list(self.co_units))
        except ValidationError as error:
            labels = {
                "lead_unit": self.strings("dispatch.role.lead"),
                "co_units": self.strings("dispatch.role.co"),
            }
            self._show_error(explain(error, self.strings, labels))
            return
        self.dismiss(action)

    def action_cancel(self) -> None:
        self.dismiss(None)
