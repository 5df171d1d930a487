"""`GET /v1/stats`: the three rates checked against a hand computation of a known history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from conftest import bearer
from pg_support import Db
from server_helpers import act, intake

from api_client.models import Request, RequestType, Role, Stats, Tier
from central_api.rates import responded_in_time, stats_from_requests
from central_api.server import LiveServer
from central_api.store import RequestFilter

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def history(tmp_db: Db) -> Iterator[tuple[LiveServer, httpx.Client, Clock, dict[str, dict[str, Any]]]]:
    """Seven requests with a known history (see the expectations in the tests)."""
    clock = Clock()
    server = LiveServer(tmp_db, clock=clock).start()
    client = httpx.Client(
        timeout=30, base_url=server.url, headers=bearer(server.create_token("d", Role.supervisor))
    )

    def at(offset: timedelta) -> None:
        clock.now = T0 + offset

    def received(offset: timedelta) -> str:
        return (T0 + offset).isoformat()

    h, m, d = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)
    reached = {"action": "callback", "reached": True}
    resolve = {"action": "resolve", "summary": "已修复"}
    r: dict[str, dict[str, Any]] = {}
    # A: 24h tier, accepted after 1 h (in time), closed satisfied.
    r["A"] = intake(client, received_at=received(-d))
    at(0 * h)
    r["A"] = act(client, r["A"], {"action": "dispatch", "lead_unit": "cc01"})
    at(1 * h)
    r["A"] = act(client, r["A"], {"action": "accept"})
    at(2 * h)
    r["A"] = act(client, r["A"], resolve)
    r["A"] = act(client, r["A"], {**reached, "solved": True, "satisfaction": "satisfied"})
    # B: 2h tier, accepted after 45 min (late: the window is 30 min); first callback unsolved
    # (which reopened it), the latest solved + basically satisfied.
    at(0 * h)
    r["B"] = intake(client, received_at=received(0 * h), tier="2h")
    r["B"] = act(client, r["B"], {"action": "dispatch", "lead_unit": "cc01"})
    at(45 * m)
    r["B"] = act(client, r["B"], {"action": "accept"})
    r["B"] = act(client, r["B"], resolve)
    r["B"] = act(client, r["B"], {**reached, "solved": False, "satisfaction": "not_satisfied"})
    r["B"] = act(client, act(client, r["B"], {"action": "accept"}), resolve)
    r["B"] = act(client, r["B"], {**reached, "solved": True, "satisfaction": "basically"})
    # C: accepted exactly 2 h after dispatch (in time); the latest *valid* callback is unsolved
    # (it reopened C, handled again), an unreached one after it does not count; left resolved.
    at(0 * h)
    r["C"] = intake(client, received_at=received(-10 * d))
    r["C"] = act(client, r["C"], {"action": "dispatch", "lead_unit": "pm01"})
    at(2 * h)
    r["C"] = act(client, r["C"], {"action": "accept"})
    r["C"] = act(client, r["C"], resolve)
    r["C"] = act(client, r["C"], {**reached, "solved": False, "satisfaction": "not_satisfied"})
    r["C"] = act(client, act(client, r["C"], {"action": "accept"}), resolve)
    r["C"] = act(client, r["C"], {"action": "callback", "reached": False})
    # D: dispatched, never accepted, overdue.
    at(0 * h)
    r["D"] = intake(client, received_at=received(-2 * d))
    r["D"] = act(client, r["D"], {"action": "dispatch", "lead_unit": "cc01"})
    # E: new, not due yet.
    r["E"] = intake(client, received_at=received(1 * h), type=RequestType.enquiry.value)
    # F: merged before any dispatch into D, which is still being handled (merged into A, closed
    # already, it would be resolved at once).
    r["F"] = intake(client, received_at=received(-3 * d))
    r["F"] = act(client, r["F"], {"action": "merge", "parent_id": r["D"]["id"]})
    # G: dispatched, accepted in time, then returned (no lead unit, no acceptance any more).
    r["G"] = intake(client, received_at=received(0 * h))
    r["G"] = act(client, r["G"], {"action": "dispatch", "lead_unit": "cc01"})
    at(10 * m)
    r["G"] = act(client, r["G"], {"action": "accept"})
    r["G"] = act(client, r["G"], {"action": "return", "reason": "not ours"})
    at(5 * h)  # "now" for overdue
    try:
        yield server, client, clock, r
    finally:
        client.close()
        server.stop()


def _rates(stats: dict[str, Any]) -> dict[str, Any]:
    rates: dict[str, Any] = stats["rates"]
    return rates


def test_all_requests(history: tuple[LiveServer, httpx.Client, Clock, dict[str, dict[str, Any]]]) -> None:
    server, client, _clock, r = history
    assert [r[k]["state"] for k in "ABCDEFG"] == [
        "closed",
        "closed",
        "resolved",
        "dispatched",
        "new",
        "merged",
        "returned",
    ]
    stats = client.get("/v1/stats").json()
    assert stats["total"] == 7
    assert {k: v for k, v in stats["by_state"].items() if v} == {
        "closed": 2,
        "resolved": 1,
        "dispatched": 1,
        "new": 1,
        "merged": 1,
        "returned": 1,
    }
    assert set(stats["by_state"]) == {
        "new",
        "dispatched",
        "accepted",
        "returned",
        "extended",
        "resolved",
        "callback_logged",
        "closed",
        "reopened",
        "merged",
    }
    # D only: C (resolved) waits for its callback, not for a unit
    assert stats["overdue"] == 1
    # Dispatched: A B C D G. In time: A (1 h of 2 h) and C (exactly 2 h). B was 45 min on a
    # 30-min window; D was never accepted; G's acceptance was undone by the return.
    # Valid callbacks (latest reached one per request): A solved+satisfied, B solved+basically,
    # C unsolved.
    assert _rates(stats) == {
        "dispatched": 5,
        "response_counted": 5,
        "response_pending": 0,
        "responded_in_time": 2,
        "valid_callbacks": 3,
        "solved": 2,
        "satisfied": 1,
        "basically_satisfied": 1,
        "response": 2 / 5,
        "resolution": 2 / 3,
        "satisfaction": 1 / 3,
    }
    assert stats["since"] is None and stats["until"] is None and stats["unit"] is None
    # The SQL aggregates agree with the same rules applied to the request objects.
    requests = server.store.list_requests(RequestFilter())
    assert Stats.model_validate(stats) == stats_from_requests(requests, now=T0 + timedelta(hours=5))


def test_unit_filter(history: tuple[LiveServer, httpx.Client, Clock, dict[str, dict[str, Any]]]) -> None:
    _server, client, _clock, _r = history
    stats = client.get("/v1/stats", params={"unit": "cc01"}).json()
    # Lead unit cc01 now: A, B, D (G was returned, so it has no lead unit any more).
    assert stats["total"] == 3 and stats["unit"] == "cc01" and stats["overdue"] == 1
    assert _rates(stats) == {
        "dispatched": 3,
        "response_counted": 3,
        "response_pending": 0,
        "responded_in_time": 1,
        "valid_callbacks": 2,
        "solved": 2,
        "satisfied": 1,
        "basically_satisfied": 1,
        "response": 1 / 3,
        "resolution": 1.0,
        "satisfaction": 0.5,
    }
    empty = client.get("/v1/stats", params={"unit": "hm01"}).json()
    assert empty["total"] == 0
    assert _rates(empty)["response"] is None and _rates(empty)["satisfaction"] is None


def test_time_filter(history: tuple[LiveServer, httpx.Client, Clock, dict[str, dict[str, Any]]]) -> None:
    _server, client, _clock, _r = history
    since = (T0 - timedelta(days=1)).astimezone(BEIJING)  # inclusive; any timezone
    until = T0 + timedelta(hours=1)  # exclusive: E (received exactly then) is out
    stats = client.get("/v1/stats", params={"since": since.isoformat(), "until": until.isoformat()}).json()
    # Received in [T0-1d, T0+1h): A, B, G.
    assert stats["total"] == 3 and stats["overdue"] == 0
    assert datetime.fromisoformat(stats["since"]) == since
    assert _rates(stats) == {
        "dispatched": 3,
        "response_counted": 3,
        "response_pending": 0,
        "responded_in_time": 1,
        "valid_callbacks": 2,
        "solved": 2,
        "satisfied": 1,
        "basically_satisfied": 1,
        "response": 1 / 3,
        "resolution": 1.0,
        "satisfaction": 0.5,
    }


def test_overdue_moves_with_the_clock(
    history: tuple[LiveServer, httpx.Client, Clock, dict[str, dict[str, Any]]],
) -> None:
    _server, client, clock, _r = history
    clock.now = T0 + timedelta(days=2)  # E (due T0+25h) and G (due T0+24h) are late too now
    assert client.get("/v1/stats").json()["overdue"] == 3


def test_unit_stats_are_the_per_unit_stats_in_one_call(
    history: tuple[LiveServer, httpx.Client, Clock, dict[str, dict[str, Any]]],
) -> None:
    server, client, _clock, _r = history
    since = (T0 - timedelta(days=5)).isoformat()
    answer = client.get("/v1/stats/units", params={"since": since}).json()
    assert [s["unit"] for s in answer] == [u.id for u in server.store.units()]
    for stats in answer:
        one = client.get("/v1/stats", params={"unit": stats["unit"], "since": since}).json()
        assert stats == one
    by_unit = {s["unit"]: s for s in answer}
    assert by_unit["cc01"]["total"] == 3 and by_unit["pm01"]["total"] == 0  # C is 10 days old


def test_response_window_edges() -> None:
    base = Request.model_validate(
        {
            "id": "R-1",
            "received_at": T0,
            "channel": "phone",
            "type": "help",
            "category": "roof_leak",
            "description": "x",
            "location": {},
            "caller": {},
            "tier": Tier.h2,
            "due_at": T0 + timedelta(hours=2),
            "state": "accepted",
            "dispatched_at": T0,
            "version": 1,
            "change_seq": 1,
        }
    )

    def at(minutes: int) -> Request:
        return base.model_copy(update={"accepted_at": T0 + timedelta(minutes=minutes)})

    assert responded_in_time(at(30)) and not responded_in_time(at(31))
    slow = base.model_copy(update={"tier": Tier.d7})
    assert responded_in_time(slow.model_copy(update={"accepted_at": T0 + timedelta(hours=2)}))
    assert not responded_in_time(slow.model_copy(update={"accepted_at": T0 + timedelta(hours=2, seconds=1)}))
    assert not responded_in_time(base)  # never accepted


def test_a_dispatch_counts_for_the_response_rate_once_signed_for_or_its_window_closes(tmp_db: Db) -> None:
    """The worked example of docs/rates.md, small: a bulk dispatch does not drag the rate down
    while its units still have time to sign for."""
    clock = Clock()
    server = LiveServer(tmp_db, clock=clock).start()
    client = httpx.Client(
        timeout=30, base_url=server.url, headers=bearer(server.create_token("d", Role.supervisor))
    )
    try:
        ordinary = [intake(client, received_at=T0.isoformat()) for _ in range(3)]  # 2 h window
        urgent = intake(client, received_at=T0.isoformat(), tier="2h")  # 30 min window
        for index, request in enumerate([*ordinary, urgent]):
            ordinary_or_urgent = act(client, request, {"action": "dispatch", "lead_unit": "cc01"})
            if index < 3:
                ordinary[index] = ordinary_or_urgent
            else:
                urgent = ordinary_or_urgent
        clock.now = T0 + timedelta(minutes=10)
        act(client, ordinary[0], {"action": "accept"})

        def rates_at(now: datetime) -> dict[str, Any]:
            clock.now = now
            stats = client.get("/v1/stats").json()
            requests = server.store.list_requests(RequestFilter())
            assert Stats.model_validate(stats) == stats_from_requests(requests, now=now)
            return _rates(stats)

        # 20 min after: one signed for in time, three still inside their windows.
        early = rates_at(T0 + timedelta(minutes=20))
        assert (early["dispatched"], early["response_counted"], early["response_pending"]) == (4, 1, 3)
        assert early["responded_in_time"] == 1 and early["response"] == 1.0
        # 31 min after: the urgent one's 30-minute window has closed unanswered.
        later = rates_at(T0 + timedelta(minutes=31))
        assert (later["response_counted"], later["response_pending"], later["response"]) == (2, 2, 0.5)
        # Two hours on, every window has closed: 1 of 4 in time.
        done = rates_at(T0 + timedelta(hours=2, seconds=1))
        assert (done["response_counted"], done["response_pending"], done["response"]) == (4, 0, 0.25)
    finally:
        client.close()
        server.stop()
