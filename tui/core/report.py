"""The supervisor's report: the dashboard's numbers and the shift handover (`hotline report`).

Pure Python, no Textual: `build_report` makes a `Report` (pydantic, JSON-serialisable) from

- the server's numbers (`ServerNumbers`: `/v1/stats` for today, this week and this month, and
  `/v1/stats/units` for this month; None when offline — the report then says the rates are
  missing), fetched by `fetch_server_numbers`;
- the local cache (`LocalData`: every cached request as the dispatcher sees it, the unsent
  actions and the conflicts), read by `read_local`.

Definitions (the same on screen, in the files and in the tests):

- the three rates are the server's (`/v1/stats`, defined by `api_client.models.Rates`). Periods
  are on `received_at`, from local midnight today / Monday / the 1st of the month, until now;
- **overdue** is `api_client.domain.deadlines.is_overdue`, as the server's `Stats.overdue`;
- **hot spots** look at requests received in the last `HOT_WINDOW` (30 days): the most frequent
  category × community pairs (with the last 7 days beside the 7 before, to show sudden rises),
  addresses that recur (normalised: `normalize_address`), and callers who call again and again
  (the same phone number; shown masked). Merged requests count: each is a call;
- **trends** are arrivals per hour for the last 24 hours and per day for the last 30 days;
- **the shift** counts requests received, dispatched, resolved and closed since the shift began,
  from `received_at`, `dispatched_at`, `resolved_at`, `closed_at` (a re-dispatched request has
  the time of its latest dispatch).

Renderers: `to_markdown(report, strings)`, `to_csv(report)`, `to_json(report)`. Every piece of
citizens' or servers' text is put on one line with its control characters replaced.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from pydantic import AwareDatetime, BaseModel

from api_client.domain.deadlines import is_overdue
from api_client.domain.personal_data import mask_phone, phone_digits
from api_client.domain.untrusted_text import one_line
from api_client.models import Rates, Request, State, Stats
from tui.core.i18n import Strings
from tui.core.queue_model import Names

if TYPE_CHECKING:
    from api_client.client import HotlineClient
    from local_cache.local_store import LocalStore

__all__ = [
    "HOT_WINDOW",
    "PERIODS",
    "Count",
    "HotPair",
    "LocalData",
    "PeriodRates",
    "Repeat",
    "Report",
    "ServerNumbers",
    "ShiftChanges",
    "Trend",
    "UnitRow",
    "build_report",
    "fetch_server_numbers",
    "normalize_address",
    "parse_since",
    "percent",
    "period_starts",
    "rate_cells",
    "read_local",
    "report_path",
    "to_csv",
    "to_json",
    "to_markdown",
    "write_private",
]

Period = Literal["today", "week", "month"]
PERIODS: Final[tuple[Period, ...]] = ("today", "week", "month")
#: How far back hot spots look.
HOT_WINDOW: Final = timedelta(days=30)
#: The "recent" span of a hot pair, compared with the span before it.
RISE_SPAN: Final = timedelta(days=7)
#: How many hot spots of each kind are listed.
HOT_TOP: Final = 10
#: How many request ids a repeated address or caller lists.
IDS_SHOWN: Final = 5


class Count(BaseModel):
    """A count under a key (a state, category, community or unit id) with its display name."""

    key: str
    name: str
    count: int


class PeriodRates(BaseModel):
    period: Period
    since: AwareDatetime
    total: int
    rates: Rates


class UnitRow(BaseModel):
    """One unit: this month's server numbers and the overdue requests it leads now (local)."""

    unit: str
    name: str
    total: int
    overdue: int
    rates: Rates | None  # None offline


class HotPair(BaseModel):
    category: str
    category_name: str
    community: str
    community_name: str
    count: int  # in the hot-spot window
    last_week: int  # received in the last 7 days
    week_before: int  # received in the 7 days before those


class Repeat(BaseModel):
    """An address or a caller that recurs: what is shown, how often, by how many people."""

    shown: str  # the address as first written, or the masked phone and the caller's name
    community_name: str
    count: int
    people: int  # distinct callers (phones) for an address; distinct categories for a caller
    ids: list[str]  # the newest few


class Trend(BaseModel):
    start: AwareDatetime
    step: Literal["hour", "day"]
    counts: list[int]


class ShiftChanges(BaseModel):
    since: AwareDatetime
    received: int
    dispatched: int
    resolved: int
    closed: int


class Report(BaseModel):
    generated_at: AwareDatetime
    server: str
    dispatcher: str
    online: bool  # the server's numbers are in
    rates_missing: str  # why not (empty when online)
    periods: list[PeriodRates]
    units: list[UnitRow]
    cached: int
    by_state: list[Count]
    by_category: list[Count]
    by_community: list[Count]
    overdue: int
    overdue_by_unit: list[Count]
    unsent: int
    conflicts: list[str]  # the request ids with a conflict
    hot_pairs: list[HotPair]
    hot_addresses: list[Repeat]
    hot_callers: list[Repeat]
    hourly: Trend
    daily: Trend
    shift: ShiftChanges


# ----- inputs ----------------------------------------------------------------------------------


@dataclass(slots=True)
class LocalData:
    requests: list[Request]
    unsent: int = 0
    conflicts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ServerNumbers:
    periods: dict[Period, Stats]
    units: list[Stats]


def read_local(store: LocalStore) -> LocalData:
    """Every cached request as the dispatcher sees it, the unsent actions and the conflicts
    (reads and validates every request: call it from a thread)."""
    requests = list(store.views())
    _cached, unsent, _conflicts = store.counts()
    conflicts = sorted({record.action.request_id for record in store.conflicts()})
    return LocalData(requests, unsent, conflicts)


def period_starts(now: datetime) -> dict[Period, datetime]:
    """Local midnight today, on Monday and on the 1st of the month (the machine's timezone)."""
    today = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "today": today,
        "week": today - timedelta(days=today.weekday()),
        "month": today.replace(day=1),
    }


async def fetch_server_numbers(client: HotlineClient, now: datetime) -> ServerNumbers:
    """The server's stats for each period and every unit's for this month (HotlineError
    propagates)."""
    starts = period_starts(now)
    periods = {period: await client.stats(since=starts[period]) for period in PERIODS}
    units = await client.unit_stats(since=starts["month"])
    return ServerNumbers(periods, units)


_RELATIVE: Final = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*([mhd])$")
_UNITS_OF_TIME: Final = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str, now: datetime) -> datetime:
    """When a shift began: `-8h` / `-90m` / `-1d` (before now), `08:00` (today, or yesterday when
    that is still to come), `2026-11-25 08:00`, `2026-11-25`, or ISO 8601 with an offset. Times
    without an offset are local. ValueError says what is accepted."""
    text = text.strip()
    local_now = now.astimezone()
    relative = _RELATIVE.match(text)
    if relative:
        amount = float(relative.group(1))
        return local_now - timedelta(**{_UNITS_OF_TIME[relative.group(2)]: amount})
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"not a time of day: {text!r}")
        at = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return at - timedelta(days=1) if at > local_now else at
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r}: use -8h, 08:00, '2026-11-25 08:00' or an ISO 8601 time"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


# ----- the computation -----------------------------------------------------------------------


_NOT_ADDRESS: Final = re.compile(r"[\W_]+")


def normalize_address(address: str) -> str:
    """An address as repeated-address hot spots compare it: NFKC (full-width digits and letters
    as ASCII), case folded, without spaces or punctuation (`德胜里 3号楼，2单元` and
    `德胜里3号楼2单元` are one address)."""
    return _NOT_ADDRESS.sub("", unicodedata.normalize("NFKC", address).casefold())


def _counts(counter: Counter[str], names: Mapping[str, str]) -> list[Count]:
    ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [Count(key=key, name=one_line(names.get(key, key)), count=n) for key, n in ordered]


def build_report(
    local: LocalData,
    server: ServerNumbers | None,
    *,
    now: datetime,
    since: datetime,
    names: Names,
    server_url: str,
    dispatcher: str,
    rates_missing: str = "",
) -> Report:
    """The report (see the module docstring for every definition)."""
    requests = local.requests
    by_state: Counter[str] = Counter({state.value: 0 for state in State})
    by_category: Counter[str] = Counter()
    by_community: Counter[str] = Counter()
    overdue_by_unit: Counter[str] = Counter()
    for request in requests:
        by_state[request.state.value] += 1
        by_category[request.category] += 1
        by_community[request.location.community] += 1
        if is_overdue(request.state, request.due_at, now):
            overdue_by_unit[request.lead_unit or ""] += 1
    unit_names = {"": "", **names.units}  # "": not dispatched (the renderers name it)
    periods: list[PeriodRates] = []
    units: list[UnitRow] = []
    if server is not None:
        starts = period_starts(now)
        periods = [
            PeriodRates(
                period=p, since=starts[p], total=server.periods[p].total, rates=server.periods[p].rates
            )
            for p in PERIODS
            if p in server.periods
        ]
        for stats in server.units:
            unit = stats.unit or ""
            if stats.total or overdue_by_unit[unit]:
                units.append(
                    UnitRow(
                        unit=unit,
                        name=one_line(unit_names.get(unit, unit)),
                        total=stats.total,
                        overdue=overdue_by_unit[unit],
                        rates=stats.rates,
                    )
                )
    else:
        units = [
            UnitRow(unit=unit, name=one_line(unit_names.get(unit, unit)), total=0, overdue=n, rates=None)
            for unit, n in overdue_by_unit.items()
            if unit
        ]
    units.sort(key=lambda u: (-u.overdue, -u.total, u.unit))  # the units to chase first
    hot_pairs, hot_addresses, hot_callers = _hot_spots(requests, now, names)
    return Report(
        generated_at=now,
        server=server_url,
        dispatcher=one_line(dispatcher),
        online=server is not None,
        rates_missing="" if server is not None else one_line(rates_missing),
        periods=periods,
        units=units,
        cached=len(requests),
        by_state=[Count(key=state.value, name=state.value, count=by_state[state.value]) for state in State],
        by_category=_counts(by_category, names.categories),
        by_community=_counts(by_community, names.communities),
        overdue=sum(overdue_by_unit.values()),
        overdue_by_unit=_counts(overdue_by_unit, unit_names),
        unsent=local.unsent,
        conflicts=list(local.conflicts),
        hot_pairs=hot_pairs,
        hot_addresses=hot_addresses,
        hot_callers=hot_callers,
        hourly=_hourly(requests, now),
        daily=_daily(requests, now),
        shift=_shift(requests, since),
    )


def _hot_spots(
    requests: Iterable[Request], now: datetime, names: Names
) -> tuple[list[HotPair], list[Repeat], list[Repeat]]:
    start = now - HOT_WINDOW
    recent_from, before_from = now - RISE_SPAN, now - 2 * RISE_SPAN
    pairs: Counter[tuple[str, str]] = Counter()
    last_week: Counter[tuple[str, str]] = Counter()
    week_before: Counter[tuple[str, str]] = Counter()
    addresses: dict[tuple[str, str], list[Request]] = defaultdict(list)
    callers: dict[str, list[Request]] = defaultdict(list)
    for request in requests:
        if not start <= request.received_at <= now:
            continue
        pair = (request.category, request.location.community)
        pairs[pair] += 1
        if request.received_at >= recent_from:
            last_week[pair] += 1
        elif request.received_at >= before_from:
            week_before[pair] += 1
        address = normalize_address(request.location.address)
        if address:
            addresses[(request.location.community, address)].append(request)
        phone = phone_digits(request.caller.phone)
        if phone:
            callers[phone].append(request)
    hot_pairs = [
        HotPair(
            category=category,
            category_name=one_line(names.categories.get(category, category)),
            community=community,
            community_name=one_line(names.communities.get(community, community)),
            count=n,
            last_week=last_week[(category, community)],
            week_before=week_before[(category, community)],
        )
        for (category, community), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:HOT_TOP]
        if n >= 2
    ]

    def repeats(groups: Iterable[tuple[str, list[Request]]], people: str) -> list[Repeat]:
        found: list[Repeat] = []
        for shown, group in groups:
            if len(group) < 2:
                continue
            group.sort(key=lambda r: (r.received_at, r.id), reverse=True)
            if people == "phones":
                distinct = len({phone_digits(r.caller.phone) for r in group} - {""})
            else:
                distinct = len({r.category for r in group})
            community = group[-1].location.community
            found.append(
                Repeat(
                    shown=one_line(shown),
                    community_name=one_line(names.communities.get(community, community)),
                    count=len(group),
                    people=distinct,
                    ids=[r.id for r in group[:IDS_SHOWN]],
                )
            )
        found.sort(key=lambda r: (-r.count, r.shown))
        return found[:HOT_TOP]

    hot_addresses = repeats(((g[0].location.address, g) for g in addresses.values()), "phones")
    hot_callers = repeats(
        ((f"{mask_phone(phone)} {g[0].caller.name}".strip(), g) for phone, g in callers.items()), "categories"
    )
    return hot_pairs, hot_addresses, hot_callers


def _hourly(requests: Iterable[Request], now: datetime) -> Trend:
    start = now.astimezone().replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    counts = [0] * 24
    for request in requests:
        index = int((request.received_at - start).total_seconds() // 3600)
        if 0 <= index < 24 and request.received_at <= now:
            counts[index] += 1
    return Trend(start=start, step="hour", counts=counts)


def _daily(requests: Iterable[Request], now: datetime) -> Trend:
    local = now.astimezone()
    start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=29)
    counts = [0] * 30
    zone = local.tzinfo
    for request in requests:
        index = (request.received_at.astimezone(zone).date() - start.date()).days
        if 0 <= index < 30 and request.received_at <= now:
            counts[index] += 1
    return Trend(start=start, step="day", counts=counts)


def _shift(requests: Iterable[Request], since: datetime) -> ShiftChanges:
    received = dispatched = resolved = closed = 0
    for request in requests:
        received += request.received_at >= since
        dispatched += request.dispatched_at is not None and request.dispatched_at >= since
        resolved += request.resolved_at is not None and request.resolved_at >= since
        closed += request.closed_at is not None and request.closed_at >= since
    return ShiftChanges(
        since=since, received=received, dispatched=dispatched, resolved=resolved, closed=closed
    )


# ----- renderers -------------------------------------------------------------------------------


def percent(rate: float | None) -> str:
    """`96.9%`, or `–` when the rate has no denominator."""
    return "–" if rate is None else f"{rate * 100:.1f}%"


def rate_cells(rates: Rates) -> tuple[str, str, str]:
    """Each rate with its numerator and denominator: `40.0% (2/5)`."""
    return (
        f"{percent(rates.response)} ({rates.responded_in_time}/{rates.dispatched})",
        f"{percent(rates.resolution)} ({rates.solved}/{rates.valid_callbacks})",
        f"{percent(rates.satisfaction)} ({rates.satisfied}/{rates.valid_callbacks})",
    )


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


def report_path(now: datetime) -> Path:
    """Where the dashboard writes a shift report: the user's data dir (`$XDG_DATA_HOME/hotline`)."""
    import platformdirs

    stamp = now.astimezone().strftime("%Y%m%d-%H%M%S")
    return Path(platformdirs.user_data_dir("hotline")) / "reports" / f"shift-{stamp}.md"


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` whole (a temp file, then rename), mode 0600 in a 0700 directory
    when hotline makes it: a report names citizens' addresses. OSError propagates."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
