"""The report as text: Markdown in the dispatcher's language (`to_markdown`), one long CSV table
with language-neutral keys (`to_csv`) and JSON (`to_json`); `percent` and `rate_cells` format the
rates for the dashboard too. Every piece of citizens' or servers' text is put on one line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from api_client.domain.untrusted_text import one_line
from api_client.models import Rates
from tui.core.i18n import Strings
from tui.core.report.model import Report

__all__ = ["pending_notes", "percent", "rate_cells", "to_csv", "to_json", "to_markdown"]


def percent(rate: float | None) -> str:
    """`96.9%`, or `–` when the rate has no denominator."""
    return "–" if rate is None else f"{rate * 100:.1f}%"


def rate_cells(rates: Rates) -> tuple[str, str, str]:
    """Each rate with its numerator and denominator: `40.0% (2/5)`."""
    return (
        f"{percent(rates.response)} ({rates.responded_in_time}/{rates.response_counted})",
        f"{percent(rates.resolution)} ({rates.solved}/{rates.valid_callbacks})",
        f"{percent(rates.satisfaction)} ({rates.satisfied}/{rates.valid_callbacks})",
    )


def pending_notes(report: Report, s: Strings) -> list[str]:
    """For each period, the dispatches the response rate leaves out for now (window still open)."""
    return [
        s("dashboard.response_pending", period=s(f"dashboard.{p.period}"), n=p.rates.response_pending)
        for p in report.periods
        if p.rates.response_pending
    ]


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M")


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(headers)
    lines = ["| " + " | ".join(_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines.extend("| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in rows)
    return [*lines, ""]


def to_markdown(report: Report, strings: Strings) -> str:
    """The shift handover report as Markdown, in the language of `strings`."""
    s = strings
    out = [
        f"# {s('dashboard.report_title', since=_when(report.shift.since))}",
        "",
        s(
            "dashboard.report_meta",
            at=_when(report.generated_at),
            server=report.server,
            dispatcher=report.dispatcher,
        ),
        "",
        f"## {s('dashboard.shift')}",
        "",
    ]
    shift = report.shift
    out += _table(
        (s("dashboard.received"), s("dashboard.dispatched"), s("dashboard.resolved"), s("dashboard.closed")),
        [(shift.received, shift.dispatched, shift.resolved, shift.closed)],
    )
    out += [f"## {s('dashboard.rates')}", ""]
    out += [f"- {s('dashboard.def_response')}", f"- {s('dashboard.def_resolution')}"]
    out += [f"- {s('dashboard.def_satisfaction')}", f"- {s('dashboard.def_valid')}", ""]
    rate_headers = (s("dashboard.response"), s("dashboard.resolution"), s("dashboard.satisfaction"))
    if report.online:
        out += _table(
            (s("dashboard.period"), s("dashboard.total"), *rate_headers),
            [(s(f"dashboard.{p.period}"), p.total, *rate_cells(p.rates)) for p in report.periods],
        )
        notes = pending_notes(report, s)
        out += [*(f"- {note}" for note in notes), ""] if notes else []
    else:
        out += [s("dashboard.rates_missing", reason=report.rates_missing), ""]
    out += [f"## {s('dashboard.units')}", ""]
    out += _table(
        (s("dashboard.unit"), s("dashboard.total"), s("dashboard.overdue"), *rate_headers),
        [
            (
                u.name,
                u.total if report.online else "–",
                u.overdue,
                *(rate_cells(u.rates) if u.rates else ("–",) * 3),
            )
            for u in report.units
        ],
    )
    out += [f"## {s('dashboard.counts')}", ""]
    out += [
        s(
            "dashboard.summary",
            cached=report.cached,
            overdue=report.overdue,
            unsent=report.unsent,
            conflicts=len(report.conflicts),
        ),
        "",
    ]
    if report.conflicts:
        out += [s("dashboard.conflict_ids", ids=", ".join(report.conflicts)), ""]
    out += _table(
        (s("dashboard.state"), s("dashboard.count")),
        [(s.state(c.key), c.count) for c in report.by_state],
    )
    for title, counts in (
        ("dashboard.overdue_by_unit", report.overdue_by_unit),
        ("dashboard.by_category", report.by_category),
        ("dashboard.by_community", report.by_community),
    ):
        out += [f"### {s(title)}", ""]
        rows = [(c.name or s("dashboard.undispatched"), c.count) for c in counts]
        out += _table((s("dashboard.name"), s("dashboard.count")), rows)
    out += [f"## {s('dashboard.hot_spots')}", "", s("dashboard.hot_intro"), ""]
    out += [f"### {s('dashboard.hot_pairs')}", ""]
    out += _table(
        (
            s("dashboard.category"),
            s("dashboard.community"),
            s("dashboard.count"),
            s("dashboard.last_week"),
            s("dashboard.week_before"),
        ),
        [(p.category_name, p.community_name, p.count, p.last_week, p.week_before) for p in report.hot_pairs],
    )
    for title, people, repeats in (
        ("dashboard.hot_addresses", "dashboard.people", report.hot_addresses),
        ("dashboard.hot_callers", "dashboard.categories", report.hot_callers),
    ):
        out += [f"### {s(title)}", ""]
        out += _table(
            (
                s("dashboard.where"),
                s("dashboard.community"),
                s("dashboard.count"),
                s(people),
                s("dashboard.ids"),
            ),
            [(r.shown, r.community_name, r.count, r.people, " ".join(r.ids)) for r in repeats],
        )
    out += [f"## {s('dashboard.trends')}", ""]
    out += [f"- {s('dashboard.hourly')}: {' '.join(map(str, report.hourly.counts))}"]
    out += [f"- {s('dashboard.daily')}: {' '.join(map(str, report.daily.counts))}", ""]
    return "\n".join(out)


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: object) -> object:
    """Text made safe for a spreadsheet: one line, and never read as a formula."""
    if not isinstance(value, str):
        return value
    text = one_line(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: Report) -> str:
    """The report as one long table: `section,key,name,metric,value` (language-neutral keys)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows: list[tuple[object, ...]] = [("section", "key", "name", "metric", "value")]
    rows.append(("report", "", "", "generated_at", report.generated_at.isoformat()))
    rows.append(("report", "", "", "online", int(report.online)))
    shift = report.shift
    rows.append(("shift", "", "", "since", shift.since.isoformat()))
    for metric in ("received", "dispatched", "resolved", "closed"):
        rows.append(("shift", "", "", metric, getattr(shift, metric)))
    for p in report.periods:
        rows.append(("period", p.period, "", "total", p.total))
        rows.extend(("period", p.period, "", k, v) for k, v in _rate_fields(p.rates))
    for u in report.units:
        rows.append(("unit", u.unit, u.name, "total", u.total))
        rows.append(("unit", u.unit, u.name, "overdue", u.overdue))
        if u.rates is not None:
            rows.extend(("unit", u.unit, u.name, k, v) for k, v in _rate_fields(u.rates))
    rows.append(("cache", "", "", "cached", report.cached))
    rows.append(("cache", "", "", "overdue", report.overdue))
    rows.append(("cache", "", "", "unsent", report.unsent))
    rows.append(("cache", "", "", "conflicts", len(report.conflicts)))
    for section, counts in (
        ("state", report.by_state),
        ("category", report.by_category),
        ("community", report.by_community),
        ("overdue_unit", report.overdue_by_unit),
    ):
        rows.extend((section, c.key, c.name, "count", c.count) for c in counts)
    for pair in report.hot_pairs:
        key = f"{pair.category}/{pair.community}"
        name = f"{pair.category_name} / {pair.community_name}"
        rows += [("hot_pair", key, name, m, getattr(pair, m)) for m in ("count", "last_week", "week_before")]
    for section, repeats in (("hot_address", report.hot_addresses), ("hot_caller", report.hot_callers)):
        for r in repeats:
            key = " ".join(r.ids)
            rows += [(section, key, r.shown, "count", r.count), (section, key, r.shown, "people", r.people)]
    for trend in (report.hourly, report.daily):
        rows.extend((f"trend_{trend.step}", str(i), "", "arrivals", n) for i, n in enumerate(trend.counts))
    writer.writerows(tuple(_csv_text(v) for v in row) for row in rows)
    return buffer.getvalue()


def _rate_fields(rates: Rates) -> list[tuple[str, object]]:
    return [(name, "" if value is None else value) for name, value in rates.model_dump().items()]


def to_json(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"
