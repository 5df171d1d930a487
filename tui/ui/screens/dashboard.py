"""`DashboardScreen` (key `b`): the supervisor's view of the numbers, and the shift report.

    统计看板  在线：三率来自服务器 127.0.0.1:8345 · 统计时间 11-25 16:00；交班起点 08:00
    暴雨地图             the street's communities shaded by requests still to handle (its own widget)
    三率 (definitions)  今日 / 本周 / 本月 with numerators and denominators
    承办单位（本月）     each unit: received, overdue now, chased (催办), the three rates
    本地缓存统计         by state, overdue by unit, by category, by community
    热点                 category × community, the same address, the same caller
    趋势                 arrivals per hour (24 h) and per day (30 days) as sparklines

Everything comes from one `tui.core.report.Report`, the one `hotline report` prints, which the
screen asks the app to build (`BuildReport`): the local part from the cache, the rates from the
server when the app is online (offline the screen says the rates are unavailable). It is rebuilt
when rows change (at most every `REFRESH_EVERY` seconds) and on `r`; `e` asks the app to write
the shift report (Markdown) to the user's data dir (`ExportReport`), which shows the path.
Names from the server and citizens' text reach the screen only as `tui.ui.text.literal` Text,
never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Sparkline, Static

from api_client.models import Rates
from local_cache.sync import SyncStatus
from tui.core.report.model import Report
from tui.core.report.render import pending_notes, percent, rate_cells
from tui.ui.asks import BuildReport, ExportReport
from tui.ui.messages import ReportBuilt, ReportExported
from tui.ui.screens.base import AppScreen
from tui.ui.text import literal
from tui.ui.widgets.fitting_footer import FittingFooter
from tui.ui.widgets.street_map import SECTION_ROWS, StreetMapView

__all__ = ["SHIFT", "DashboardScreen"]

#: The shift the dashboard's "what changed" covers (as `hotline report`'s default `-8h`).
SHIFT = timedelta(hours=8)
#: Rows changing rebuilds the report at most this often (seconds).
REFRESH_EVERY = 10.0
#: The widest a table's first column (a unit's name, an address) gets, in cells.
FIRST_COLUMN = 18
#: ... and an address.
ADDRESS_COLUMN = 26


class DashboardScreen(AppScreen, Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="dashboard.back"),
        Binding("e", "export", "Export", id="dashboard.export"),
        Binding("r", "reload", "Refresh", id="dashboard.refresh"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="dashboard.scroll_down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="dashboard.scroll_up"),
    ]

    DEFAULT_CSS = """
    DashboardScreen {
        layout: vertical;
        #dash-head { height: auto; padding: 0 1; }
        #dash-body { height: 1fr; padding: 0 1; }
        #dash-body > Static { height: auto; margin-bottom: 1; }
        #dash-body > Sparkline { height: 2; margin-bottom: 1; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.report: Report | None = None
        self._last_load = float("-inf")
        self._load_pending = False
        #: The last shift report written by `e`.
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        strings = self.host.strings
        yield Static(Text(strings("dashboard.loading"), style="bold"), id="dash-head")
        with VerticalScroll(id="dash-body"):
            yield Static(id="dash-rates")  # the rates first: what the centre is judged on
            yield StreetMapView(rows=SECTION_ROWS, id="dash-map")
            for name in ("units", "counts", "hot"):
                yield Static(id=f"dash-{name}")
            yield Static(Text(strings("dashboard.hourly"), style="bold"))
            yield Sparkline([], id="dash-hourly")
            yield Static(Text(strings("dashboard.daily"), style="bold"))
            yield Sparkline([], id="dash-daily")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.host.rows_signal.subscribe(self, self._rows_changed)
        self.host.status_signal.subscribe(self, self._status_changed)
        self.query_one("#dash-body").focus()
        self.load()

    # ----- loading -----------------------------------------------------------------------------

    def _rows_changed(self, _ids: object) -> None:
        self._schedule()

    def _status_changed(self, status: SyncStatus) -> None:
        if self.report is not None and status.online != self.report.online:
            self._schedule()

    def _schedule(self) -> None:
        """Rebuild soon: now if the last build is old enough, else once when it is."""
        if self._load_pending:
            return
        wait = self._last_load + REFRESH_EVERY - self.host.clock()
        if wait <= 0:
            self.load()
        else:
            self._load_pending = True
            self.set_timer(wait, self.load)

    def load(self) -> None:
        self._load_pending = False
        self._last_load = self.host.clock()
        self.post_message(BuildReport(self, SHIFT))

    def on_report_built(self, message: ReportBuilt) -> None:
        self.report = message.report
        self._show(message.report)

    # ----- showing -----------------------------------------------------------------------------

    def _show(self, report: Report) -> None:
        s = self.host.strings
        head = Text(end="")
        head.append(s("dashboard.title"), "bold")
        head.append("  ")
        if report.online:
            head.append(s("dashboard.online", server=_host(report.server)), "green")
        else:
            head.append(s("dashboard.offline"), "bold yellow")
            head.append("  ")
            head.append_text(literal(report.rates_missing, "dim"))
        head.append("\n")
        at, since = _when(report.generated_at), _when(report.shift.since)
        head.append(s("dashboard.as_of", at=at, since=since), "dim")
        shift = report.shift
        head.append(
            f"\n{s('dashboard.shift')}: {s('dashboard.received')} {shift.received} · "
            f"{s('dashboard.dispatched')} {shift.dispatched} · {s('dashboard.resolved')} {shift.resolved} · "
            f"{s('dashboard.closed')} {shift.closed}"
        )
        self.query_one("#dash-head", Static).update(head)
        self.query_one("#dash-rates", Static).update(self._rates(report))
        self.query_one("#dash-units", Static).update(self._units(report))
        self.query_one("#dash-counts", Static).update(self._counts(report))
        self.query_one("#dash-hot", Static).update(self._hot(report))
        self.query_one("#dash-hourly", Sparkline).data = report.hourly.counts
        self.query_one("#dash-daily", Sparkline).data = report.daily.counts

    def _rates(self, report: Report) -> RenderableType:
        s = self.host.strings
        parts: list[RenderableType] = [Text(s("dashboard.rates"), style="bold")]
        for key in ("def_response", "def_resolution", "def_satisfaction", "def_valid"):
            parts.append(Text(f"· {s(f'dashboard.{key}')}", style="dim"))
        if not report.online:
            parts.append(literal(s("dashboard.rates_missing", reason=report.rates_missing), "bold yellow"))
            return Group(*parts)
        table = _table(
            (s("dashboard.period"), s("dashboard.total"), *self._rate_headers()),
            [(s(f"dashboard.{p.period}"), str(p.total), *rate_cells(p.rates)) for p in report.periods],
        )
        notes = [Text(f"· {note}", style="dim") for note in pending_notes(report, s)]
        return Group(*parts, table, *notes)

    def _rate_headers(self) -> tuple[str, str, str]:
        s = self.host.strings
        return s("dashboard.response"), s("dashboard.resolution"), s("dashboard.satisfaction")

    def _units(self, report: Report) -> RenderableType:
        s = self.host.strings
        rows = [
            (
                u.name,
                str(u.total) if report.online else "–",
                str(u.overdue),
                str(u.chases) if report.online else "–",
                *(_percents(u.rates) if u.rates is not None else ("–", "–", "–")),  # fits 80 columns
            )
            for u in report.units
        ]
        headers = (
            s("dashboard.unit"),
            s("dashboard.total"),
            s("dashboard.overdue"),
            s("dashboard.chases"),
            *self._rate_headers(),
        )
        return Group(Text(s("dashboard.units"), style="bold"), _table(headers, rows, s("dashboard.none")))

    def _counts(self, report: Report) -> RenderableType:
        s = self.host.strings
        summary = s(
            "dashboard.summary",
            cached=report.cached,
            overdue=report.overdue,
            unsent=report.unsent,
            conflicts=len(report.conflicts),
        )
        parts: list[RenderableType] = [Text(s("dashboard.counts"), style="bold"), _line(summary)]
        if report.conflicts:
            parts.append(_line(s("dashboard.conflict_ids", ids=", ".join(report.conflicts)), "yellow"))
        name, count = s("dashboard.name"), s("dashboard.count")
        states = [(s.state(c.key), str(c.count)) for c in report.by_state if c.count]
        parts += [Text(s("dashboard.by_state"), style="bold"), _table((s("dashboard.state"), count), states)]
        for title, counts in (
            ("dashboard.overdue_by_unit", report.overdue_by_unit),
            ("dashboard.by_category", report.by_category),
            ("dashboard.by_community", report.by_community),
        ):
            rows = [(c.name or s("dashboard.undispatched"), str(c.count)) for c in counts]
            parts += [Text(s(title), style="bold"), _table((name, count), rows, s("dashboard.none"))]
        return Group(*parts)

    def _hot(self, report: Report) -> RenderableType:
        s = self.host.strings
        none = s("dashboard.none")
        pairs = _table(
            (
                s("dashboard.category"),
                s("dashboard.community"),
                s("dashboard.count"),
                s("dashboard.last_week"),
                s("dashboard.week_before"),
            ),
            [
                (p.category_name, p.community_name, str(p.count), str(p.last_week), str(p.week_before))
                for p in report.hot_pairs
            ],
            none,
        )
        parts: list[RenderableType] = [
            Text(s("dashboard.hot_spots"), style="bold"),
            Text(s("dashboard.hot_intro"), style="dim"),
            Text(s("dashboard.hot_pairs"), style="bold"),
            pairs,
        ]
        for title, people, repeats in (
            ("dashboard.hot_addresses", "dashboard.people", report.hot_addresses),
            ("dashboard.hot_callers", "dashboard.categories", report.hot_callers),
        ):
            rows = [
                (r.shown, r.community_name, str(r.count), str(r.people), " ".join(r.ids)) for r in repeats
            ]
            headers = (s("dashboard.where"), s("dashboard.community"), s("dashboard.count"), s(people))
            table = _table((*headers, s("dashboard.ids")), rows, none, ADDRESS_COLUMN, wrap_last=True)
            parts += [Text(s(title), style="bold"), table]
        return Group(*parts)

    # ----- keys --------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    def action_scroll(self, step: int) -> None:
        body = self.query_one("#dash-body", VerticalScroll)
        body.scroll_relative(y=step * 3, animate=False)

    def action_export(self) -> None:
        if self.report is not None:
            self.post_message(ExportReport(self, self.report))

    def on_report_exported(self, message: ReportExported) -> None:
        self.exported = message.path


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    empty: str = "",
    first: int = FIRST_COLUMN,
    *,
    wrap_last: bool = False,
) -> RenderableType:
    """A table of untrusted cells: every cell a literal Text (never markup)."""
    body = list(rows)
    if not body and empty:
        return Text(empty, style="dim")
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for index, header in enumerate(headers):
        if index == 0:  # names and addresses: one line each, cut with … (80 columns)
            table.add_column(literal(header), no_wrap=True, overflow="ellipsis", max_width=first)
        elif wrap_last and index == len(headers) - 1:  # request ids: wrapped between ids
            table.add_column(literal(header), min_width=8)
        else:
            table.add_column(literal(header), justify="right", no_wrap=True)
    for row in body:
        table.add_row(*(literal(cell) for cell in row))
    return table


def _percents(rates: Rates) -> tuple[str, str, str]:
    return percent(rates.response), percent(rates.resolution), percent(rates.satisfaction)


def _line(text: str, style: str = "") -> Text:
    """A literal line that ends with a newline (in a Group, lines do not run together)."""
    line = literal(text, style)
    line.end = "\n"
    return line


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%m-%d %H:%M")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url
