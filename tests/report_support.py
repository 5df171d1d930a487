"""The report's numbers computed directly from the central API's own data, for comparison.

    expected = direct(server, now)    # what every section of a `Report` must say

Rates come from `central_api.rates.stats_from_requests` over the store's requests; counts,
overdue and the shift from the same requests by the report's documented definitions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from api_client.client import HotlineClient
from api_client.models import Rates, Request
from central_api.rates import HANDLING_STATES, stats_from_requests
from central_api.server import LiveServer
from central_api.store import RequestFilter
from tui.core.report.analytics import HOT_WINDOW, build_report
from tui.core.report.fetch import fetch_server_numbers, read_local
from tui.core.report.model import Report
from tui.core.report.periods import PERIODS, period_starts
from tui.core.session import Session


def server_requests(server: LiveServer) -> list[Request]:
    return list(server.store.list_requests(RequestFilter(limit=100_000)))


@dataclass
class Direct:
    by_state: dict[str, int]
    by_category: dict[str, int]
    by_community: dict[str, int]
    overdue: int
    overdue_by_unit: dict[str, int]
    periods: dict[str, tuple[int, Rates]]
    units: dict[str, tuple[int, Rates]]  # units that received requests this month
    shift: tuple[int, int, int, int]
    #: category x community -> (received in the hot-spot window, last 7 days, the 7 days before)
    pairs: dict[tuple[str, str], tuple[int, int, int]]
    hourly: list[int]  # arrivals in each of the last 24 clock hours (local time), oldest first
    daily: list[int]  # arrivals on each of the last 30 days (local time), oldest first


def _arrivals(requests: list[Request], now: datetime, edges: list[datetime]) -> list[int]:
    """How many requests were received in [edges[i], edges[i+1]), and not after `now`."""
    return [
        sum(begin <= r.received_at < end and r.received_at <= now for r in requests)
        for begin, end in pairwise(edges)
    ]


def _pairs(requests: list[Request], now: datetime) -> dict[tuple[str, str], tuple[int, int, int]]:
    week = timedelta(days=7)
    found: dict[tuple[str, str], tuple[int, int, int]] = {}
    for pair in {(r.category, r.location.community) for r in requests}:
        times = [r.received_at for r in requests if (r.category, r.location.community) == pair]
        found[pair] = (
            sum(now - HOT_WINDOW <= at <= now for at in times),
            sum(now - week <= at <= now for at in times),
            sum(now - 2 * week <= at < now - week for at in times),
        )
    return found


def direct(server: LiveServer, now: datetime, since: datetime) -> Direct:
    requests = server_requests(server)
    starts = period_starts(now)
    overdue = [r for r in requests if r.state in HANDLING_STATES and r.due_at < now]
    periods: dict[str, tuple[int, Rates]] = {}
    for period in PERIODS:
        stats = stats_from_requests(requests, now=now, since=starts[period])
        periods[period] = (stats.total, stats.rates)
    units: dict[str, tuple[int, Rates]] = {}
    for unit in server.store.units():
        stats = stats_from_requests(requests, now=now, since=starts["month"], unit=unit.id)
        if stats.total:
            units[unit.id] = (stats.total, stats.rates)
    return Direct(
        by_state={k: v for k, v in Counter(r.state.value for r in requests).items()},
        by_category=dict(Counter(r.category for r in requests)),
        by_community=dict(Counter(r.location.community for r in requests)),
        overdue=len(overdue),
        overdue_by_unit=dict(Counter(r.lead_unit or "" for r in overdue)),
        periods=periods,
        units=units,
        shift=(
            sum(r.received_at >= since for r in requests),
            sum(r.dispatched_at is not None and r.dispatched_at >= since for r in requests),
            sum(r.resolved_at is not None and r.resolved_at >= since for r in requests),
            sum(r.closed_at is not None and r.closed_at >= since for r in requests),
        ),
        pairs=_pairs(requests, now),
        hourly=_arrivals(requests, now, [_this_hour(now) + timedelta(hours=i - 23) for i in range(25)]),
        daily=_arrivals(requests, now, [_local_day(now, i - 29) for i in range(31)]),
    )


def _this_hour(now: datetime) -> datetime:
    return now.astimezone().replace(minute=0, second=0, microsecond=0)


def _local_day(now: datetime, offset: int) -> datetime:
    """Local midnight `offset` days from today's (by the calendar, whatever the UTC offset)."""
    day = now.astimezone().date() + timedelta(days=offset)
    return datetime(day.year, day.month, day.day).astimezone()


def assert_local_agrees(report: Report, expected: Direct) -> None:
    """The cache's sections of `report` equal the direct computation."""
    assert {c.key: c.count for c in report.by_state if c.count} == expected.by_state
    assert {c.key: c.count for c in report.by_category} == expected.by_category
    assert {c.key: c.count for c in report.by_community} == expected.by_community
    assert report.cached == sum(expected.by_state.values())
    assert report.overdue == expected.overdue
    assert {c.key: c.count for c in report.overdue_by_unit} == expected.overdue_by_unit
    shift = report.shift
    assert (shift.received, shift.dispatched, shift.resolved, shift.closed) == expected.shift
    # hot spots: the listed pairs are the most frequent ones, with the server's counts
    listed = {(p.category, p.community): (p.count, p.last_week, p.week_before) for p in report.hot_pairs}
    assert listed and all(expected.pairs[pair] == counts for pair, counts in listed.items())
    least = min(count for count, _, _ in listed.values())
    assert all(counts[0] <= least for pair, counts in expected.pairs.items() if pair not in listed)
    # trends: arrivals per hour and per day
    assert report.hourly.counts == expected.hourly and report.daily.counts == expected.daily


def assert_rates_agree(report: Report, expected: Direct) -> None:
    """The server's sections of `report` equal the direct computation."""
    assert report.online
    assert {p.period: (p.total, p.rates) for p in report.periods} == expected.periods
    assert {u.unit: (u.total, u.rates) for u in report.units if u.total} == expected.units
    for row in report.units:
        assert row.overdue == expected.overdue_by_unit.get(row.unit, 0)


async def report_of(session: Session, client: HotlineClient, now: datetime, since: datetime) -> Report:
    """The `Report` the dashboard builds (`DashboardScreen._build`) from this session and server."""
    numbers = await fetch_server_numbers(client, now)
    return build_report(
        read_local(session.store),
        numbers,
        now=now,
        since=since,
        names=session.names,
        server_url=session.api_url,
        dispatcher=session.dispatcher,
    )
