"""接线受理 (key `i`): a new request taken in while the caller talks, by keys alone.

    渠道  [1电话] 2微信 3App 4网站 5来访 6接诉会        a digit or letter picks (←/→ move)
    类型  [0按类别] 1咨询 2求助 3投诉 4举报 5建议
    类别  fwly → 房屋漏雨                24小时 · 建议单位：…   type-ahead, enter picks
    地点  德胜里一区三号楼 → 德胜里社区 › 德胜里一区 › 3号楼   负责：…
    来电人 李建国      电话 13912345678     (leaving the phone looks the caller up: audited)
    特殊群体 [0否] 1是
    诉求  (several lines; a paste keeps its lines, escape sequences dropped)
    ── the panel: the field's type-ahead; on the phone, the caller's earlier requests; else the
       open requests likely the same incident (ctrl+l links to the highlighted ▶, ctrl+n next)
    ctrl+s records it; ctrl+g records and dispatches it to the suggested units; ctrl+r answers
    an enquiry from the knowledge base; escape closes.

Tab, shift+tab, enter and ↑/↓ are the form's own (priority) keys, so what is typed right after
them goes to the field they moved to. Leaving the category or place field picks its highlighted
suggestion; a place the gazetteer does not know is kept as typed, and a known one said with more
(a house number, a flat) keeps what was said. `tui.core.intake_form` holds what the fields mean,
`tui.core.intake_matches` what "the same incident" is, `intake_recording` how the call is
recorded: by the app (`asks.TakeIn`), said only when `TakenIn` comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar, Final

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from api_client.domain.untrusted_text import one_line
from api_client.models import Category, Channel, RequestType
from api_client.places import Place
from local_cache.directory import Directory, suggested_units
from tui.core.clustering.items import Item
from tui.core.intake_form import (
    CHANNEL_KEYS,
    TYPE_KEYS,
    CategoryMatcher,
    Draft,
    PlaceFinder,
    PlacePick,
    default_type,
    summary,
)
from tui.core.intake_matches import Match, candidates, draft_item, likely_same, ready
from tui.core.phone_query import phone_lookup
from tui.core.queue.rows import QueueRow
from tui.ui.asks import LookupCaller
from tui.ui.messages import CallerLookedUp
from tui.ui.screens.intake_recording import CallRecording
from tui.ui.screens.transitions import DIALOG_CSS, key_hint
from tui.ui.text import literal
from tui.ui.widgets.description_area import DescriptionArea
from tui.ui.widgets.one_of import OneOf

__all__ = ["MATCH_AFTER", "IntakeScreen"]

#: Seconds of quiet typing before the likely same requests are looked for again.
MATCH_AFTER: Final = 0.3
#: The keys of the vulnerable flag (space turns it over).
VULNERABLE_KEYS: Final[Mapping[str, object]] = {"0": False, "1": True, "n": False, "y": True}
#: Lines of the panel.
PANEL_LINES: Final = 6


class IntakeScreen(CallRecording, ModalScreen[None]):
    """The intake form. `directory` and `places` are what the cache holds of the server's
    directory and gazetteer (None and nothing when it has none yet)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Record", priority=True, id="intake.save"),
        Binding("ctrl+g", "dispatch", "Record and dispatch", priority=True, id="intake.dispatch"),
        Binding("ctrl+l", "link", "Link as a repeat call", priority=True, id="intake.link"),
        Binding("ctrl+n", "next_match", "Next likely same", priority=True, id="intake.next_match"),
        Binding("ctrl+r", "answer", "Answer directly", priority=True, id="intake.answer"),
        Binding("escape", "close", "Close", id="intake.close"),
        # Handled before the field in focus sees them (priority): keys typed on at once go to the
        # field the key moved to, in the order they were typed.
        Binding("tab", "next_field(1)", "Next field", show=False, priority=True, id="intake.next_field"),
        Binding(
            "shift+tab",
            "next_field(-1)",
            "Previous field",
            show=False,
            priority=True,
            id="intake.previous_field",
        ),
        Binding("enter", "enter", "Pick", show=False, priority=True, id="intake.pick"),
        Binding("up", "move(-1)", "Up", show=False, priority=True, id="intake.cursor_up"),
        Binding("down", "move(1)", "Down", show=False, priority=True, id="intake.cursor_down"),
    ]
    DEFAULT_CSS = f"""
    IntakeScreen {{ {DIALOG_CSS} }}
    IntakeScreen > #dialog {{ height: 100%; max-width: 100%; margin: 0; border: none; padding: 0 1; }}
    IntakeScreen .row {{ height: 1; }}
    IntakeScreen .name {{ width: 9; color: $text-muted; }}
    IntakeScreen .info {{ height: 1; padding-left: 9; color: $text-muted; text-wrap: nowrap;
                         text-overflow: ellipsis; }}
    IntakeScreen Input {{ height: 1; border: none; padding: 0 1; margin: 0; width: 1fr;
                         background: $boost; }}
    IntakeScreen Input:focus {{ border: none; background: $primary 30%; }}
    IntakeScreen OneOf {{ width: 1fr; height: 1; }}
    IntakeScreen OneOf:focus {{ background: $primary 30%; }}
    IntakeScreen #phone-name {{ width: 6; padding-left: 1; color: $text-muted; }}
    IntakeScreen DescriptionArea {{ height: 3; border: none; padding: 0 1; width: 1fr; background: $boost; }}
    IntakeScreen DescriptionArea:focus {{ border: none; background: $primary 30%; }}
    IntakeScreen #description-row {{ height: 3; }}
    IntakeScreen #panel-title {{ height: 1; text-style: bold; margin-top: 0; text-wrap: nowrap;
                                text-overflow: ellipsis; }}
    IntakeScreen #panel {{ height: {PANEL_LINES}; border: none; padding: 0; text-wrap: nowrap;
                          text-overflow: ellipsis; }}
    IntakeScreen #summary {{ height: 1; text-wrap: nowrap; text-overflow: ellipsis; }}
    IntakeScreen #error {{ height: auto; max-height: 3; }}
    """

    class Found(Message):
        """The likely same requests, for the draft they were found for."""

        def __init__(self, matches: list[Match], generation: int) -> None:
            super().__init__()
            self.matches = matches
            self.generation = generation

    def __init__(self, directory: Directory | None, places: Sequence[Place] = ()) -> None:
        super().__init__()
        self.draft = Draft()
        self.use_directory(directory, places)
        self.category_hits: list[Category] = []
        self.place_hits: list[PlacePick] = []
        self.place: PlacePick | None = None
        #: The open requests likely the same incident, best first, and the highlighted one.
        self.matches: list[Match] = []
        self.match_at = 0
        #: The caller's earlier requests (None: not looked up), as the lookup showed the number.
        self.earlier: list[str] | None = None
        self.looked_up = ""
        self.lookup_note = ""
        #: The field the panel serves.
        self.mode = "same"
        self._generation = 0
        #: What the likely same requests shown were found for: (category, address, description).
        self.compared: tuple[str, str, str] | None = None
        self._again: Timer | None = None
        self._focused: Widget | None = None
        self.init_recording()
        self._comparing: tuple[str, str, str] | None = None

    # ----- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        t = self.host.strings
        channels = [(c, t.channel(c), str(i + 1)) for i, c in enumerate(Channel)]
        types: list[tuple[object, str, str]] = [(None, t("intake.type.by_category"), "0")]
        types += [(r, t(f"intake.type.{r.value}"), str(i + 1)) for i, r in enumerate(RequestType)]
        flags: list[tuple[object, str, str]] = [(False, t("no"), "0"), (True, t("yes"), "1")]
        with Vertical(id="dialog"):
            yield Label(t("intake.title"), id="title")
            with Horizontal(classes="row"):
                yield Label(t("intake.field.channel"), classes="name")
                yield OneOf(channels, Channel.phone, CHANNEL_KEYS, id="channel")
            with Horizontal(classes="row"):
                yield Label(t("intake.field.type"), classes="name")
                yield OneOf(types, None, TYPE_KEYS, id="type")
            with Horizontal(classes="row"):
                yield Label(t("intake.field.category"), classes="name")
                yield self._field("category", t("intake.category.search"))
            yield Static("", id="category-info", classes="info", markup=False)
            with Horizontal(classes="row"):
                yield Label(t("intake.field.place"), classes="name")
                yield self._field("place", t("intake.place.search"))
            yield Static("", id="place-info", classes="info", markup=False)
            with Horizontal(classes="row"):
                yield Label(t("intake.field.name"), classes="name")
                yield self._field("name", t("intake.name.placeholder"), 200)
                yield Label(t("intake.field.phone"), id="phone-name")
                yield self._field("phone", t("intake.phone.placeholder"), 40)
            with Horizontal(classes="row"):
                yield Label(t("intake.field.vulnerable"), classes="name")
                yield OneOf(flags, False, VULNERABLE_KEYS, id="vulnerable")
            with Horizontal(id="description-row"):
                yield Label(t("intake.field.description"), classes="name")
                yield DescriptionArea(id="description", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="panel-title", markup=False)
            panel = OptionList(id="panel", markup=False)
            panel.can_focus = False
            yield panel
            yield Static("", id="summary", markup=False)
            yield Static("", id="error", classes="error", markup=False)
            yield Static("", id="hint", classes="hint", markup=False)

    @staticmethod
    def _field(name: str, placeholder: str, max_length: int = 200) -> Input:
        from tui.ui.widgets.text_field import TextField

        return TextField(placeholder=placeholder, id=name, max_length=max_length, select_on_focus=False)

    def use_directory(self, directory: Directory | None, places: Sequence[Place] = ()) -> None:
        self.directory = directory
        categories: list[Category] = list(directory.categories) if directory is not None else []
        self.category_names = {c.code: c.name for c in categories}
        self.categories = {c.code: c for c in categories}
        self.category_matcher = CategoryMatcher(categories)
        self.finder = PlaceFinder(places)

    def _directory_kept(self, directory: Directory) -> None:  # a newer one, while the form is open
        self.use_directory(directory, directory.places)
        if self.mode == "category":  # what was typed meanwhile finds its categories now
            self._search_categories(self.query_one("#category", Input).value)
            self._show_panel()

    def on_mount(self) -> None:
        self.host.directory_signal.subscribe(self, self._directory_kept)
        self.query_one("#category", Input).focus()
        self.refresh_hint()
        self._show_summary()

    def refresh_hint(self) -> None:
        keys = {
            "save": key_hint(self, "intake.save"),
            "dispatch": key_hint(self, "intake.dispatch"),
            "answer": key_hint(self, "intake.answer"),
            "cancel": key_hint(self, "intake.close"),
        }
        if self.saved_id is None:
            hint = self.host.strings("intake.hint", **keys)
        else:
            hint = self.host.strings("intake.hint_saved", dispatch=keys["dispatch"], cancel=keys["cancel"])
        self.query_one("#hint", Static).update(Text(hint))

    # ----- which field is in focus -------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget = event.widget
        left, self._focused = self._focused, widget
        if left is not None and left is not widget:
            self._leave(left.id or "")
        name = widget.id or ""
        self.mode = name if name in ("category", "place") else ("earlier" if name == "phone" else "same")
        if name == "category":
            self._search_categories(self.query_one("#category", Input).value)
        elif name == "place":
            self._search_places(self.query_one("#place", Input).value)
        self._show_panel()

    def _leave(self, name: str) -> None:
        """Leaving the category or place field picks what it shows highlighted; leaving the phone
        looks the caller up."""
        if name == "category":
            typed = self.query_one("#category", Input).value
            chosen = self.categories.get(self.draft.category)
            if typed.strip() and (chosen is None or typed != chosen.name) and self.category_hits:
                self._pick_category(self.category_hits[self._panel_at()])
        elif name == "place":
            typed = self.query_one("#place", Input).value
            if typed.strip() and (self.place is None or typed != self.place.label):
                if self.place_hits:
                    self._pick_place(self.place_hits[self._panel_at()])
                else:
                    self._keep_address(typed)
        elif name == "phone":
            self._look_up()

    def _leave_focused(self) -> None:
        """What leaving the field in focus does (a key that records does not wait for tab)."""
        if self._focused is not None:
            self._leave(self._focused.id or "")

    def _focus_field(self, name: str) -> None:
        self.query_one(f"#{name}").focus()

    def _panel_at(self) -> int:
        at = self.query_one("#panel", OptionList).highlighted
        return at if at is not None else 0

    # ----- the category ------------------------------------------------------------------------

    @on(Input.Changed, "#category")
    def _category_typed(self, event: Input.Changed) -> None:
        if self.mode == "category":
            self._search_categories(event.value)
            self._show_panel()

    def _search_categories(self, typed: str) -> None:
        chosen = self.categories.get(self.draft.category)
        query = "" if chosen is not None and typed == chosen.name else typed
        self.category_hits = self.category_matcher.search(query, limit=30)

    def _pick_category(self, category: Category) -> None:
        self.draft.category = category.code
        field = self.query_one("#category", Input)
        with field.prevent(Input.Changed):
            field.value = category.name
        units = self._unit_names(self._suggested_units())
        info = self.host.strings(
            "intake.category.info", tier=self.host.strings.tier(category.tier), units=units
        )
        self.query_one("#category-info", Static).update(literal(info))
        self._draft_changed()

    def _suggested_units(self) -> list[str]:
        if self.directory is None or not self.draft.category:
            return []
        draft = self.draft
        return suggested_units(self.directory, draft.category, draft.community, draft.place_id or None)[:4]

    def _unit_names(self, unit_ids: Sequence[str]) -> str:
        directory = self.directory
        names = []
        for unit_id in unit_ids:
            unit = directory.unit(unit_id) if directory is not None else None
            names.append(unit.name if unit is not None else unit_id)
        return self.host.strings.join(names) or "-"

    # ----- the place ---------------------------------------------------------------------------

    @on(Input.Changed, "#place")
    def _place_typed(self, event: Input.Changed) -> None:
        if self.mode == "place":
            self._search_places(event.value)
            self._show_panel()

    def _search_places(self, typed: str) -> None:
        self.place_hits = (
            [] if self.place is not None and typed == self.place.label else self.finder.search(typed)
        )

    def _pick_place(self, pick: PlacePick) -> None:
        typed = self.query_one("#place", Input).value
        self.place = pick
        place = pick.place
        self.draft.address, self.draft.community = self.finder.address_for(pick, typed), place.community
        self.draft.place_id, self.draft.centre = place.id, place.centre
        field = self.query_one("#place", Input)
        with field.prevent(Input.Changed):
            field.value = pick.label
        info = self.host.strings(
            "intake.place.covered", units=self._unit_names(self.finder.covering(place.id))
        )
        if self.draft.address != pick.address:  # more than the gazetteer's: as the caller said it
            info = f"{self.draft.address} · {info}"
        self.query_one("#place-info", Static).update(literal(info))
        self._refresh_category_info()
        self._draft_changed()

    def _keep_address(self, typed: str) -> None:
        """A place the gazetteer does not know: the address as typed, the community unknown."""
        self.place = None
        self.draft.address, self.draft.community, self.draft.place_id, self.draft.centre = typed, "", "", None
        self.query_one("#place-info", Static).update(Text(self.host.strings("intake.place.unknown")))
        self._draft_changed()

    def _refresh_category_info(self) -> None:
        category = self.categories.get(self.draft.category)
        if category is not None:
            self._pick_category(category)

    # ----- the other fields --------------------------------------------------------------------

    @on(OneOf.Picked)
    def _picked(self, event: OneOf.Picked) -> None:
        value = event.row.value
        if event.row.id == "channel" and isinstance(value, Channel):
            self.draft.channel = value
        elif event.row.id == "type":
            self.draft.type = value if isinstance(value, RequestType) else None
        elif event.row.id == "vulnerable":
            self.draft.vulnerable = value is True
        self._show_summary()

    @on(Input.Changed, "#name")
    def _name_typed(self, event: Input.Changed) -> None:
        self.draft.name = event.value

    @on(Input.Changed, "#phone")
    def _phone_typed(self, event: Input.Changed) -> None:
        self.draft.phone = event.value

    @on(TextArea.Changed, "#description")
    def _described(self, event: TextArea.Changed) -> None:
        self.draft.description = event.text_area.text
        self._draft_changed()

    def action_enter(self) -> None:
        """Enter picks the highlighted suggestion (category, place) and moves on; on the phone it
        looks the caller up; in the description it starts a new line; elsewhere it moves on."""
        focused = self.focused
        if isinstance(focused, TextArea):
            focused.insert("\n")
            return
        name = focused.id if focused is not None else ""
        value = focused.value if isinstance(focused, Input) else ""
        if name == "category" and self.category_hits:
            self._pick_category(self.category_hits[self._panel_at()])
        elif name == "place":
            if self.place_hits:
                self._pick_place(self.place_hits[self._panel_at()])
            elif value.strip():
                self._keep_address(value)
        elif name == "phone":
            self._look_up()
            return
        self._focused = None  # picked: leaving the field must not pick again
        self.focus_next()

    def action_next_field(self, step: int) -> None:
        """Tab and shift+tab, handled before the field in focus sees the next key: a call-taker
        typing on at once types into the next field, not the one just left."""
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def action_move(self, step: int) -> None:
        """↑/↓: the suggestion or the likely same request highlighted; in the description, a line."""
        focused = self.focused
        if isinstance(focused, TextArea):
            focused.action_cursor_down() if step > 0 else focused.action_cursor_up()
            return
        panel = self.query_one("#panel", OptionList)
        if self.mode in ("category", "place"):
            panel.action_cursor_down() if step > 0 else panel.action_cursor_up()
        elif self.mode == "same" and self.matches:
            self.match_at = (self.match_at + step) % len(self.matches)
            self._show_panel()

    # ----- the panel ---------------------------------------------------------------------------

    def _show_panel(self) -> None:
        t = self.host.strings
        panel = self.query_one("#panel", OptionList)
        title = self.query_one("#panel-title", Static)
        options: list[Option] = []
        highlighted: int | None = 0
        if self.mode == "category":
            title.update(Text(t("intake.panel.categories")))
            for category in self.category_hits:
                line = Text.assemble(literal(category.name, "bold"), "  ", (t.tier(category.tier), "dim"))
                options.append(Option(line))
        elif self.mode == "place":
            title.update(Text(t("intake.panel.places")))
            options = [Option(literal(pick.label)) for pick in self.place_hits]
        elif self.mode == "earlier" and (self.earlier is not None or self.lookup_note):
            title.update(
                Text(
                    self.lookup_note
                    or t("intake.panel.earlier", phone=self.looked_up, n=len(self.earlier or []))
                )
            )
            options = [Option(self._request_line(request_id)) for request_id in self.earlier or []]
            highlighted = None
        else:
            self._show_same(title)
            options = [
                Option(Text.assemble("▶ " if i == self.match_at else "  ", self._request_line(m.request_id)))
                for i, m in enumerate(self.matches)
            ]
            highlighted = self.match_at if self.matches else None
        if not options and self.mode in ("category", "place"):
            options = [Option(Text(t("intake.no_match"), style="dim"), disabled=True)]
            highlighted = None
        panel.set_options(options)
        if options and highlighted is not None:
            panel.highlighted = min(highlighted, len(options) - 1)
        self._show_summary()

    def _show_same(self, title: Static) -> None:
        t = self.host.strings
        if self.matches:
            link, following = key_hint(self, "intake.link"), key_hint(self, "intake.next_match")
            said = t("intake.panel.same", n=len(self.matches), link=link, next=following)
        else:
            said = t("intake.panel.none")
        if self.earlier:
            said += "  " + t("intake.panel.earlier_count", n=len(self.earlier))
        title.update(Text(said))

    def _request_line(self, request_id: str) -> Text:
        t = self.host.strings
        row = self.host.model.get(request_id)
        if row is None:
            return literal(request_id)
        when = datetime.fromtimestamp(row.received_at).strftime("%m-%d %H:%M")
        line = t(
            "intake.match.line",
            id=row.id,
            state=t.state(row.state),
            when=when,
            place=row.address or row.community_name,
            text=row.substance,
        )
        return literal(one_line(line))

    def _show_summary(self) -> None:
        t = self.host.strings
        by_category = t("intake.type.by_category")
        if self.draft.category:  # which type the category gives
            given = t(f"intake.type.{default_type(self.draft.category).value}")
            by_category = t("intake.type.by_category_is", type=given)
        if self.is_mounted:
            self.query_one("#type", OneOf).relabel(None, by_category)
        line = summary(self.draft, t, self.category_names)
        dispatch = self._dispatch()
        if dispatch is not None and not self.dispatched:
            units = self._unit_names([dispatch.lead_unit, *dispatch.co_units])
            line += "  " + t("intake.dispatch_to", units=units)
        self.query_one("#summary", Static).update(literal(line))

    def _say(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#error", Static)
        widget.set_class(error, "error")
        widget.update(literal(text, multiline=True))

    @property
    def message_text(self) -> str:
        """What the form says now (a refusal, or that the call is recorded)."""
        return str(self.query_one("#error", Static).content)

    # ----- the likely same incident ------------------------------------------------------------

    def _draft_changed(self) -> None:
        self._show_summary()
        if self.saved_id is not None or self.saving:
            return
        if self._again is not None:
            self._again.stop()
        self._again = self.set_timer(MATCH_AFTER, self.find_same)

    def find_same(self) -> None:
        """Compare the draft with the open requests of its community (or category)."""
        if self.saved_id is not None or self.saving:
            return  # the call is recorded: it is no longer compared
        self._generation += 1
        self._comparing = (self.draft.category, self.draft.address, self.draft.description)
        if not ready(self.draft):
            self._found([], self._generation)
            return
        now = self.host.clock()
        rows = candidates(self.host.model, self.draft, now)
        self._score(draft_item(self.draft, now), rows, self._generation)

    @work(thread=True, exclusive=True, group="intake-same")
    def _score(self, item: Item, rows: list[QueueRow], generation: int) -> None:
        self.post_message(self.Found(likely_same(item, rows), generation))

    def on_intake_screen_found(self, message: Found) -> None:
        self._found(message.matches, message.generation)

    def _found(self, matches: list[Match], generation: int) -> None:
        if generation != self._generation:
            return
        self.compared = self._comparing
        at = self.matches[self.match_at].request_id if self.matches else None
        self.matches = matches
        ids = [m.request_id for m in matches]
        self.match_at = ids.index(at) if at in ids else 0
        if self.mode in ("same", "earlier") or not self.is_mounted:
            self._show_panel()

    def action_next_match(self) -> None:
        self.mode = "same"
        if self.matches:
            self.match_at = (self.match_at + 1) % len(self.matches)
        self._show_panel()

    # ----- a repeat caller ---------------------------------------------------------------------

    def _look_up(self) -> None:
        """The caller's earlier requests, through the server's audited lookup (online only)."""
        digits = phone_lookup(self.draft.phone)
        if digits is None or digits == self.looked_up:
            return
        status = self.host.last_status
        if status is None or not status.online:
            self.earlier, self.lookup_note = None, self.host.strings("intake.panel.lookup_offline")
        else:
            self.earlier, self.lookup_note = None, self.host.strings("intake.panel.looking", phone=digits)
            self.looked_up = digits
            self.post_message(LookupCaller(self, digits))
        self._show_panel()

    def on_caller_looked_up(self, message: CallerLookedUp) -> None:
        """The earlier requests show while the phone has the focus; after it, beside the likely
        same requests, how many there are."""
        self.earlier, self.lookup_note = list(message.request_ids), ""
        self.looked_up = message.shown
        self._show_panel()

    def action_close(self) -> None:
        self.dismiss(None)
