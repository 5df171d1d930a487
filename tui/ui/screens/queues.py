"""`QueuesScreen`: the dispatcher's main screen — the queues, their counts, the table, search.

    1 新 12  2 超时 5  3 办理中 40  4 待回访 8  5 待处理 2  6 全部 1000     (QueueBar)
    / 漏雨 · 社区：德胜里 · 排序：紧急                                      (FilterLine / search)
    编号     期限    时限 ! 状态   类别      社区    诉求                   (QueueTable)
    …
    ● 在线 http://127.0.0.1:8345  张敏  同步 17:20:03  未发送 0  冲突 0   (StatusBar)
    d 派单  c 回访  / 搜索  ? 帮助  q 退出                                 (Footer)

The rows come from the app's `QueueModel`; this screen only chooses which (queue, filter,
sort) and re-applies when the app signals that rows changed. A live update keeps the cursor
on the selected request (see `QueueTable.set_rows`).

A search that is a phone number as dispatchers type it (`tui.core.phone_query`: its last 4 to 6
digits, spaces, dashes, brackets, a label, a masked or international number) says while typing
that enter looks the caller up, and on enter asks the app to look the caller up on the server
(`LookupCaller`: the server records each lookup; the cache holds no full phone to search). The
requests found, and those the typed digits found here (a request's number), become the view
(shown in the `all` queue; the other queues narrow it) until escape: the filter line says
`电话 ****1234`. The callback queue shows how long each request has waited for its callback.

A unit's login (`Host.own_unit`) has its own queues under the same keys 1-6 (to sign for, due, in
hand, came back: `tui.core.queue.kinds.UNIT_QUEUES`); the screen switches to them when the server
says the token is a unit's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from api_client.domain.personal_data import mask_lookup
from api_client.models import Identity
from tui.core.phone_query import phone_lookup
from tui.core.queue.filters import NO_FILTER, Filter
from tui.core.queue.kinds import QueueKind, queues_for
from tui.core.queue.layout import Column
from tui.core.queue.queue_list import QueueList
from tui.core.queue.rows import QueueRow
from tui.core.queue.sorts import Sort
from tui.core.saved_queues import SavedQueue
from tui.core.surge import Surge, detect_surges
from tui.ui.asks import LookupCaller, OpenDetail, SaveQueue
from tui.ui.messages import CallerLookedUp
from tui.ui.screens.base import AppScreen
from tui.ui.widgets.fitting_footer import FittingFooter
from tui.ui.widgets.queue_bar import QUEUE_ORDER, FilterLine, QueueBar
from tui.ui.widgets.queue_table import QueueTable
from tui.ui.widgets.status_bar import StatusBar
from tui.ui.widgets.surge_banner import SurgeBanner
from tui.ui.widgets.text_field import TextField

__all__ = ["QueuesScreen"]

#: Seconds between looks for surges when no row changed.
SURGE_EVERY = 60
#: How often the queues are re-applied when nothing else happens (deadlines move with time).
TICK = 30.0


class QueuesScreen(AppScreen, Screen[None]):
    class SurgesFound(Message):
        def __init__(self, surges: list[Surge]) -> None:
            super().__init__()
            self.surges = surges

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(number), f"show_queue('{kind}')", kind, show=False, id=f"queues.{kind}")
            for number, kind in enumerate(QUEUE_ORDER, start=1)
        ),
        Binding("tab", "next_queue(1)", "Next queue", show=False, id="queues.next"),
        Binding("shift+tab", "next_queue(-1)", "Previous queue", show=False, id="queues.previous"),
        Binding("slash", "search", "Search", id="queues.search"),
        Binding("f", "filter", "Filter", id="queues.filter"),
        Binding("v", "saved_queues", "Saved queues", id="queues.saved"),
        Binding("t", "cycle_sort", "Sort", show=False, id="queues.sort"),
        Binding("escape", "clear", "Clear", show=False, id="queues.clear"),
        Binding("space", "mark", "Mark", show=False, id="queues.mark"),
        Binding("V", "mark_range", "Mark range", show=False, id="queues.mark_range"),
        Binding("asterisk", "mark_all", "Mark all", show=False, id="queues.mark_all"),
        Binding("W", "storm_map", "Storm map", show=False, id="queues.storm_map"),
    ]

    DEFAULT_CSS = """
    QueuesScreen {
        layout: vertical;
        #search { height: 1; border: none; padding: 0 1; display: none; }
        #search.-active { display: block; }
        FilterLine.-hidden { display: none; }
        ToastRack { margin-bottom: 2; }  /* notifications above the status bar, not over it */
    }
    """

    def __init__(self, columns: Sequence[Column] | None = None) -> None:
        super().__init__()
        self.columns = tuple(columns) if columns is not None else None  # None: chosen by width
        self.kind = QueueKind.new
        self.order = QUEUE_ORDER  # the queues of keys 1-6: the centre's or a unit's
        self.filter: Filter = NO_FILTER
        self.sort = Sort.urgency
        self.saved_name = ""
        self._surges_due = True
        self._surge_tick = 0
        self.marked: list[str] = []  # marked for a bulk action, in the order they were marked
        self._anchor: str | None = None  # where a range mark starts
        self._footer_for: object = None  # what the footer's keys were last worked out for
        #: A phone lookup's answer shown as the view: how the filter line names it and the requests.
        self.lookup: tuple[str, frozenset[str]] | None = None

    def compose(self) -> ComposeResult:
        host = self.host
        strings = host.strings
        yield QueueBar(strings)
        yield SurgeBanner(strings)
        yield FilterLine()
        search = TextField(placeholder=strings("queues.search_placeholder"), id="search")
        search.cursor_blink = False
        yield search
        yield QueueTable(clock=host.clock, labels=strings.table, columns=self.columns, id="queue")
        yield StatusBar()
        yield FittingFooter()

    def on_mount(self) -> None:
        self._set_order(queues_for(self.host.own_unit))
        self.host.rows_signal.subscribe(self, self._rows_changed)
        self.host.identity_signal.subscribe(self, self._identity_changed)
        self.set_interval(TICK, self.reapply)
        self.set_interval(1.0, self._look_for_surges)
        self.reapply()
        self.query_one(QueueTable).focus()

    # ----- what is shown ---------------------------------------------------------------------

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    def current_request_id(self) -> str | None:
        return self.table.cursor_id

    def bulk_request_ids(self) -> list[str]:
        """The requests a transition key acts on: the marked ones, or none (then the cursor's)."""
        return list(self.marked)

    def clear_marks(self) -> None:
        self.marked = []
        self._anchor = None
        self._show_marks()

    def _show_marks(self) -> None:
        self.table.set_marked(self.marked)
        self.query_one(FilterLine).show(self._describe())
        self._refresh_footer()

    def _refresh_footer(self) -> None:
        """Work the footer's keys out again when what they depend on changed: the state of the
        request under the cursor and of the marked ones (see `HotlineApp.check_action`).
        Rebuilding the footer is costly, and live updates reapply the queue many times a second."""
        model = self.host.model
        cursor = self.table.cursor_id
        row = model.get(cursor) if cursor is not None else None
        marked = frozenset(r.state for i in self.marked if (r := model.get(i)) is not None)
        depends_on = (row.state if row is not None else None, marked, any(i != cursor for i in self.marked))
        if depends_on != self._footer_for:
            self._footer_for = depends_on
            self.app.refresh_bindings()

    def action_mark(self) -> None:
        """Space: mark or unmark the request under the cursor, and move down."""
        request_id = self.table.cursor_id
        if request_id is None:
            return
        if request_id in self.marked:
            self.marked.remove(request_id)
        else:
            self.marked.append(request_id)
        self._anchor = request_id
        self._show_marks()
        self.table.action_cursor_down()

    def action_mark_range(self) -> None:
        """V: mark every row from the last marked one to the cursor."""
        rows = self.table.rows
        ids = [row.id for row in rows]
        cursor = self.table.cursor_row
        start = ids.index(self._anchor) if self._anchor in ids else cursor
        low, high = sorted((start, cursor))
        for request_id in ids[low : high + 1]:
            if request_id not in self.marked:
                self.marked.append(request_id)
        self._anchor = self.table.cursor_id
        self._show_marks()

    def action_mark_all(self) -> None:
        """*: mark every row of the queue as filtered now; again: unmark them all."""
        ids = [row.id for row in self.table.rows]
        if ids and set(ids) <= set(self.marked):
            self.clear_marks()
            return
        known = set(self.marked)
        self.marked.extend(request_id for request_id in ids if request_id not in known)
        self._show_marks()

    def reapply(self) -> None:
        """Show the current queue, filter and sort from the model, and every queue's count."""
        host = self.host
        now = host.clock()
        model = host.model
        rows = model.apply(self.kind, self.filter, self.sort, now=now)
        if self.lookup is not None:
            found = self.lookup[1]
            rows = QueueList([row for row in rows if row.id in found], rows.locator)
        table = self.table
        table.set_waiting(self.kind is QueueKind.callback)
        table.set_now(now)
        table.set_rows(rows)
        self.query_one(QueueBar).show(self.kind, model.counts(now), self.order)
        self.query_one(FilterLine).show(self._describe())
        self._refresh_footer()

    def _set_order(self, order: tuple[QueueKind, ...]) -> None:
        """Keys 1-6 open the queues of `order`; the current queue becomes the one in its place."""
        if order == self.order:
            return
        if self.kind not in order:
            self.kind = order[self.order.index(self.kind)] if self.kind in self.order else order[0]
        self.order = order

    def _identity_changed(self, _identity: Identity) -> None:
        self._set_order(queues_for(self.host.own_unit))
        self.reapply()

    def _rows_changed(self, _ids: object) -> None:
        self.reapply()
        self._surges_due = True

    def _look_for_surges(self) -> None:
        """Every few seconds, when rows changed (and at each tick): arrivals per 15 minutes."""
        if self._surges_due or self._surge_tick >= SURGE_EVERY:
            self._surges_due, self._surge_tick = False, 0
            self.find_surges(self.host.model.rows(), self.host.clock())
        else:
            self._surge_tick += 1

    @work(thread=True, exclusive=True, group="surges")
    def find_surges(self, rows: list[QueueRow], now: float) -> None:
        self.post_message(self.SurgesFound(detect_surges(rows, now=now)))

    def on_queues_screen_surges_found(self, message: SurgesFound) -> None:
        names = self.host.names
        self.query_one(SurgeBanner).show(message.surges, {**names.categories, **names.communities})

    def _describe(self) -> str:
        strings = self.host.strings
        parts: list[str] = []
        if self.saved_name:
            parts.append(f"「{self.saved_name}」")
        if self.lookup is not None:
            parts.append(self.lookup[0])
        if self.filter.text:
            parts.append(f"/ {self.filter.text}")
        names = self.host.names
        channels = {v: strings.channel(v) for v in self.filter.channels}
        tiers = {v: strings.tier(v) for v in self.filter.tiers}
        for key, values, lookup in (
            ("filters.categories", self.filter.categories, names.categories),
            ("filters.communities", self.filter.communities, names.communities),
            ("filters.units", self.filter.units, names.units),
            ("filters.channels", self.filter.channels, channels),
            ("filters.tiers", self.filter.tiers, tiers),
        ):
            if values:
                chosen = sorted(lookup.get(v, v) for v in values)
                if len(chosen) > 2:  # the count first, so a cut line still says how many
                    parts.append(strings("filters.many", what=strings(key), n=len(chosen), first=chosen[0]))
                else:
                    parts.append(strings("filters.some", what=strings(key), names=strings.join(chosen)))
        parts.append(strings("filters.some", what=strings("queues.sort"), names=strings(f"sort.{self.sort}")))
        if self.marked:
            parts.insert(0, strings("queues.marked", n=len(self.marked)))
        return " · ".join(parts)

    # ----- actions ---------------------------------------------------------------------------

    def action_show_queue(self, kind: str) -> None:
        """The queue of the key that names the centre's `kind` (a unit's login: the one in its place)."""
        wanted = QueueKind(kind)
        self.kind = self.order[QUEUE_ORDER.index(wanted)] if wanted in QUEUE_ORDER else wanted
        self.reapply()

    def action_next_queue(self, step: int) -> None:
        if self.kind in self.order:
            self.kind = self.order[(self.order.index(self.kind) + step) % len(self.order)]
        else:  # a saved queue of the other login's
            self.kind = self.order[0]
        self.reapply()

    def action_cycle_sort(self) -> None:
        order = list(Sort)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        self.reapply()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = self.filter.text
        search.add_class("-active")
        self.query_one(FilterLine).add_class("-hidden")
        search.focus()

    def action_clear(self) -> None:
        """Escape: unmark, then drop a phone lookup's view, then the filter and the saved
        queue's name."""
        if self.marked:
            self.clear_marks()
            return
        if self.lookup is not None:
            self.lookup = None
            self.reapply()
            return
        if self.filter.is_empty and not self.saved_name:
            return
        self.filter = NO_FILTER
        self.saved_name = ""
        self.reapply()

    def set_view(self, kind: QueueKind, filter: Filter, sort: Sort, name: str = "") -> None:
        self.kind, self.filter, self.sort, self.saved_name = kind, filter, sort, name
        self.lookup = None
        self.reapply()

    def apply_saved(self, queue: SavedQueue) -> None:
        self.set_view(queue.kind, queue.filter, queue.sort, queue.name)

    def action_storm_map(self) -> None:
        from tui.ui.screens.storm_map import StormMapScreen

        self.app.push_screen(StormMapScreen())

    def action_filter(self) -> None:
        from tui.ui.screens.filters import FilterDialog

        def done(result: tuple[Filter, str] | None) -> None:
            if result is None:
                return
            chosen, save_as = result
            if save_as:
                saved = SavedQueue.of(save_as, self.kind, chosen, self.sort)
                self.post_message(SaveQueue(saved))
                self.apply_saved(saved)
            else:
                self.set_view(self.kind, chosen, self.sort, "")

        self.app.push_screen(FilterDialog(self.filter, self.host.names, self.host.strings), done)

    def action_saved_queues(self) -> None:
        from tui.ui.screens.filters import SavedQueuesDialog

        queues = self.host.saved_queues

        def done(name: str | None) -> None:
            queue = next((q for q in queues if q.name == name), None)
            if queue is not None:
                self.apply_saved(queue)

        if not queues:
            self.notify(self.host.strings("queues.none_saved"), markup=False)
            return
        self.app.push_screen(SavedQueuesDialog(queues, self.host.strings), done)

    # ----- search ----------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.filter = _with_text(self.filter, event.value)
        digits = phone_lookup(event.value)
        hint = None if digits is None else self.host.strings("queues.phone_hint", phone=mask_lookup(digits))
        self.table.set_empty_text(hint)  # no request here has the number: enter asks the server
        self.reapply()

    @on(Input.Submitted, "#search")
    def _search_done(self, event: Input.Submitted) -> None:
        self._leave_search()
        self.table.set_empty_text(None)
        digits = phone_lookup(event.value)
        if digits is not None:  # a phone: only the server can find it
            self.post_message(LookupCaller(self, digits))

    def on_caller_looked_up(self, message: CallerLookedUp) -> None:
        """The caller's requests, and those the typed digits find here (a request's number),
        become the view, from the `all` queue; the search text goes."""
        strings = self.host.strings
        typed = self.filter.text.strip()
        here: frozenset[str] = frozenset()
        if typed:
            found_here = self.host.model.apply(QueueKind.all, self.filter, now=self.host.clock())
            here = frozenset(row.id for row in found_here)
        label = strings("queues.phone", phone=message.shown)
        if here - set(message.request_ids):
            label = strings("queues.phone_or_text", phone=message.shown, text=typed)
        self.lookup = (label, frozenset(message.request_ids) | here)
        self.kind = QueueKind.all
        self.filter = _with_text(self.filter, "")
        self.reapply()

    def _leave_search(self) -> None:
        search = self.query_one("#search", Input)
        search.remove_class("-active")
        self.query_one(FilterLine).remove_class("-hidden")
        self.table.focus()

    def on_key(self, event: object) -> None:
        from textual.events import Key

        if not isinstance(event, Key) or event.key != "escape":
            return
        search = self.query_one("#search", Input)
        if search.has_focus:
            event.stop()
            event.prevent_default()
            search.value = ""
            self.table.set_empty_text(None)
            self._leave_search()

    # ----- the table -------------------------------------------------------------------------

    @on(QueueTable.Highlighted)
    def _highlighted(self) -> None:
        self._refresh_footer()

    @on(QueueTable.Selected)
    def _selected(self, event: QueueTable.Selected) -> None:
        self.post_message(OpenDetail(event.request_id))


def _with_text(filter: Filter, text: str) -> Filter:
    return replace(filter, text=text)
