"""The three rates (三率) and request statistics, exactly as `api_client.models.Rates` defines them.

    response     = dispatched requests accepted within `response_window(tier)` of `dispatched_at`
                   / dispatched requests whose response is known: accepted, or the window closed
    resolution   = valid callbacks answering solved / valid callbacks
    satisfaction = valid callbacks answering satisfied / valid callbacks

A dispatch whose window is still open at `now` and that nobody has signed for yet is left out
of the response rate (`response_pending`): it may still be signed for in time, and counting it
would make a bulk dispatch drag the rate down for half an hour. Worked example (docs/rates.md):
70 dispatched, 30 signed for in time, 40 dispatched ten minutes ago and not yet signed for →
30 / 30 = 100 %, 40 pending; two hours later, if 25 more were signed for in time and 15 never
were, 55 / 70 = 78.6 %.

A valid callback is one that reached the citizen; per request only its latest valid callback
counts. A rate is None when its denominator is zero.

A request answered directly (直接答复, `answered_with`) is closed at intake: never dispatched, it
is in no response rate, and no callback is due, so it is in neither of the others; the stats count
it apart (`answered_directly`: closed with an entry), and `chases` sums the 催办 of the requests
counted.

Filters: `since <= received_at < until`, `unit` = the lead unit. `overdue` counts what
`api_client.domain.deadlines.is_overdue` calls overdue at `now`. `by_state` lists every state,
zeros included.

The per-request facts are computed once per write (`rate_columns`) and stored in indexed
columns, so `stats_sql` is a handful of portable SQL aggregates; `stats_from_requests` is the same
computation over request objects (for a local cache or to cross-check).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, case, func, or_, select

from api_client.domain.deadlines import is_overdue, response_window
from api_client.domain.states import HANDLING_STATES
from api_client.models import (
    Callback,
    Rates,
    Request,
    Satisfaction,
    State,
    Stats,
    Tier,
)
from central_api.sql import tables as t


def responded_in_time(request: Request) -> bool:
    """Dispatched, and accepted (签收) within the response window of its dispatch."""
    if request.dispatched_at is None or request.accepted_at is None:
        return False
    elapsed = request.accepted_at - request.dispatched_at
    return elapsed <= response_window(request.tier)


def response_counted(request: Request, now: datetime) -> bool:
    """Dispatched, and its response is known at `now`: signed for, or the window has closed."""
    if request.dispatched_at is None:
        return False
    return request.accepted_at is not None or now >= request.dispatched_at + response_window(request.tier)


def latest_valid_callback(request: Request) -> Callback | None:
    """The newest callback that reached the citizen, or None."""
    for callback in reversed(request.callbacks):
        if callback.reached:
            return callback
    return None


def rate_columns(request: Request) -> dict[str, object]:
    """The stored per-request facts the rates are counted from."""
    callback = latest_valid_callback(request)
    return {
        "responded_in_time": responded_in_time(request),
        "cb_valid": callback is not None,
        "cb_solved": bool(callback is not None and callback.solved),
        "cb_satisfaction": callback.satisfaction.value
        if callback is not None and callback.satisfaction is not None
        else None,
        "chases": request.chases,
        "answered_with": request.answered_with,
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def make_rates(
    dispatched: int,
    counted: int,
    responded_in_time: int,
    valid_callbacks: int,
    solved: int,
    satisfied: int,
    basically_satisfied: int,
) -> Rates:
    """Rates from their counts."""
    return Rates(
        dispatched=dispatched,
        response_counted=counted,
        response_pending=dispatched - counted,
        responded_in_time=responded_in_time,
        valid_callbacks=valid_callbacks,
        solved=solved,
        satisfied=satisfied,
        basically_satisfied=basically_satisfied,
        response=_ratio(responded_in_time, counted),
        resolution=_ratio(solved, valid_callbacks),
        satisfaction=_ratio(satisfied, valid_callbacks),
    )


def _in_filter(request: Request, since: datetime | None, until: datetime | None, unit: str | None) -> bool:
    if since is not None and request.received_at < since:
        return False
    if until is not None and request.received_at >= until:
        return False
    return unit is None or request.lead_unit == unit


def stats_from_requests(
    requests: Iterable[Request],
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: str | None = None,
) -> Stats:
    """Stats over request objects (the same numbers `stats_sql` counts in the database)."""
    by_state = {state.value: 0 for state in State}
    total = overdue = dispatched = counted = in_time = valid = solved = satisfied = basically = 0
    answered = chases = 0
    for request in requests:
        if not _in_filter(request, since, until, unit):
            continue
        total += 1
        chases += request.chases
        answered += answered_directly(request)
        by_state[request.state.value] += 1
        if is_overdue(request.state, request.due_at, now):
            overdue += 1
        if request.dispatched_at is not None:
            dispatched += 1
            counted += response_counted(request, now)
            in_time += responded_in_time(request)
        callback = latest_valid_callback(request)
        if callback is not None:
            valid += 1
            solved += bool(callback.solved)
            satisfied += callback.satisfaction is Satisfaction.satisfied
            basically += callback.satisfaction is Satisfaction.basically
    rates = make_rates(dispatched, counted, in_time, valid, solved, satisfied, basically)
    return Stats(
        total=total,
        by_state=by_state,
        overdue=overdue,
        rates=rates,
        answered_directly=answered,
        chases=chases,
        since=since,
        until=until,
        unit=unit,
    )


def answered_directly(request: Request) -> bool:
    """Closed as answered directly from the knowledge base."""
    return request.state is State.closed and request.answered_with is not None


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _response_known(now: datetime) -> ColumnElement[bool]:
    """`response_counted`, in SQL: signed for, or dispatched at least its tier's window ago."""
    r = t.requests.c
    closed = [and_(r.tier == tier.value, r.dispatched_at <= now - response_window(tier)) for tier in Tier]
    return or_(r.accepted_at.is_not(None), *closed)


def stats_sql(
    conn: Connection,
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: str | None = None,
) -> Stats:
    """Stats counted in the database from the `requests` table's columns."""
    r = t.requests.c
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(r.received_at >= since)
    if until is not None:
        conditions.append(r.received_at < until)
    if unit is not None:
        conditions.append(r.lead_unit == unit)
    where = and_(*conditions) if conditions else None

    by_state = {state.value: 0 for state in State}
    query = select(r.state, func.count()).group_by(r.state)
    if where is not None:
        query = query.where(where)
    for state, count in conn.execute(query):
        by_state[state] = count

    handling = [s.value for s in HANDLING_STATES]  # `is_overdue`, in SQL
    totals = select(
        func.count(),
        _count_if(and_(r.state.in_(handling), r.due_at < now)),
        _count_if(r.dispatched_at.is_not(None)),
        _count_if(and_(r.dispatched_at.is_not(None), _response_known(now))),
        _count_if(and_(r.dispatched_at.is_not(None), r.responded_in_time)),
        _count_if(r.cb_valid),
        _count_if(and_(r.cb_valid, r.cb_solved)),
        _count_if(and_(r.cb_valid, r.cb_satisfaction == Satisfaction.satisfied.value)),
        _count_if(and_(r.cb_valid, r.cb_satisfaction == Satisfaction.basically.value)),
        _count_if(and_(r.state == State.closed.value, r.answered_with.is_not(None))),
        func.coalesce(func.sum(r.chases), 0),
    )
    if where is not None:
        totals = totals.where(where)
    row = conn.execute(totals).one()
    total, overdue, dispatched, counted, in_time, valid, solved, satisfied, basically, answered, chases = (
        int(v) for v in row
    )
    rates = make_rates(dispatched, counted, in_time, valid, solved, satisfied, basically)
    return Stats(
        total=total,
        by_state=by_state,
        overdue=overdue,
        rates=rates,
        answered_directly=answered,
        chases=chases,
        since=since,
        until=until,
        unit=unit,
    )
