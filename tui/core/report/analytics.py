"""`build_report`: the report from the local cache and the server's numbers.

Definitions (the same on screen, in the files and in the tests):

- the three rates are the server's (`/v1/stats`, defined by `api_client.models.Rates`). Periods
  are on `received_at` (`tui.core.report.periods`), until now;
- **overdue** is `api_client.domain.deadlines.is_overdue`, as the server's `Stats.overdue`;
- **hot spots** look at requests received in the last `HOT_WINDOW` (30 days): the most frequent
  category × community pairs (with the last 7 days beside the 7 before, to show sudden rises),
  addresses that recur (normalised: `normalize_address`), and callers who call again and again
  (the same caller key: `caller_identity`; shown masked). Merged requests count: each is a call;
- **trends** are arrivals per hour for the last 24 hours and per day for the last 30 days;
- **the shift** counts requests received, dispatched, resolved and closed since the shift began,
  from `received_at`, `dispatched_at`, `resolved_at`, `closed_at` (a re-dispatched request has
  the time of its latest dispatch).

Every piece of citizens' or servers' text is put on one line with its control characters replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

from api_client.domain.deadlines import is_overdue
from api_client.domain.personal_data import mask_name, mask_phone, phone_digits
from api_client.domain.untrusted_text import one_line
from api_client.models import Request, State
from tui.core.queue.rows import Names
from tui.core.report.model import (
    Count,
    HotPair,
    LocalData,
    PeriodRates,
    Repeat,
    Report,
    ServerNumbers,
    ShiftChanges,
    Trend,
    UnitRow,
)
from tui.core.report.periods import PERIODS, period_starts

__all__ = ["HOT_WINDOW", "build_report", "caller_identity", "normalize_address"]

#: How far back hot spots look.
HOT_WINDOW: Final = timedelta(days=30)
#: The "recent" span of a hot pair, compared with the span before it.
RISE_SPAN: Final = timedelta(days=7)
#: How many hot spots of each kind are listed.
HOT_TOP: Final = 10
#: How many request ids a repeated address or caller lists.
IDS_SHOWN: Final = 5


_NOT_ADDRESS: Final = re.compile(r"[\W_]+")


def normalize_address(address: str) -> str:
    """An address as repeated-address hot spots compare it: NFKC (full-width digits and letters
    as ASCII), case folded, without spaces or punctuation (`德胜里 3号楼，2单元` and
    `德胜里3号楼2单元` are one address). Lighter than `tui.core.clustering.places.normalize_address` on
    purpose: a hot spot is an address written alike, not a place read from the address's grammar."""
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
                        chases=stats.chases,
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
        caller = caller_identity(request)
        if caller:
            callers[caller].append(request)
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
                distinct = len({caller_identity(r) for r in group} - {""})
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
        (
            (f"{mask_phone(g[0].caller.phone)} {mask_name(g[0].caller.name)}".strip(), g)
            for g in callers.values()
        ),
        "categories",
    )
    return hot_pairs, hot_addresses, hot_callers


def caller_identity(request: Request) -> str:
    """What tells one caller from another: the server's caller key; for a request cached from an
    older server (a full phone, no key), the phone's digits; "" when neither says."""
    caller = request.caller
    if caller.key:
        return f"key:{caller.key}"
    if "*" in caller.phone:  # masked without a key: the hidden digits cannot tell callers apart
        return ""
    digits = phone_digits(caller.phone)
    return f"phone:{digits}" if digits else ""


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
