"""`tui.core.report`: the report from a seeded server equals a direct computation from the server's
data; hot spots, trends and the shift on crafted requests; the renderers; `parse_since`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_support import open_session, seeded_server
from report_support import assert_local_agrees, assert_rates_agree, direct, report_of, server_requests

from api_client.client import HotlineClient
from api_client.domain.states import HANDLING_STATES, NEW_STATES
from api_client.models import Request, State
from central_api import rates
from central_api.server import LiveServer
from local_cache.sync import SyncEngine
from tui.core.i18n import Strings
from tui.core.queue.rows import Names
from tui.core.report.analytics import build_report, normalize_address
from tui.core.report.model import LocalData, Report
from tui.core.report.periods import parse_since
from tui.core.report.render import to_csv, to_json, to_markdown

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path_factory.mktemp("report"), 120)
    try:
        yield made
    finally:
        made.stop()


async def test_the_report_from_a_seeded_server_equals_the_servers_own_numbers(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    assert session.token is not None
    try:
        async with HotlineClient(server.url, session.token) as client:
            summary = await SyncEngine(session.store, client).sync_once()
            assert not summary.errors
            now = datetime.now(UTC)
            since = now - timedelta(hours=8)
            report = await report_of(session, client, now, since)
    finally:
        session.close()
    expected = direct(server, now, since)
    assert_local_agrees(report, expected)
    assert_rates_agree(report, expected)
    assert report.cached == 120 and report.unsent == 0 and report.conflicts == []
    assert sum(report.daily.counts) == sum(
        r.received_at >= report.daily.start for r in server_requests(server)
    )
    assert Report.model_validate_json(to_json(report)) == report


def test_the_server_and_the_app_share_one_definition_of_overdue() -> None:
    due = NOW - timedelta(hours=1)
    made = [request(i, state=state, due_at=due) for i, state in enumerate(State)]
    stats = rates.stats_from_requests(made, now=NOW)
    report = build_report(LocalData(made), None, **common())
    assert stats.overdue == report.overdue == len(HANDLING_STATES)
    assert {c.key for c in report.overdue_by_unit} == {"", "cc01"}


def request(n: int, **fields: Any) -> Request:
    """A request received an hour before NOW in c01 (roof leak), with `fields` changed."""
    state = fields.pop("state", State.new)
    base: dict[str, Any] = {
        "id": f"R-{n:06d}",
        "received_at": NOW - timedelta(hours=1),
        "channel": "phone",
        "type": "help",
        "category": "roof_leak",
        "description": "漏雨",
        "location": {"community": "c01", "address": f"德胜里{n}号楼"},
        "caller": {"name": "市**", "phone": f"138****{n:04d}", "key": f"{n:016x}"},  # as the server sends
        "tier": "7d",
        "due_at": NOW + timedelta(days=6),
        "state": state,
        "lead_unit": None if state in NEW_STATES else "cc01",
        "version": 1,
        "change_seq": n,
    }
    base.update(fields)
    return Request.model_validate(base)


def common(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "now": NOW,
        "since": NOW - timedelta(hours=8),
        "names": Names(categories={"roof_leak": "房屋漏雨"}, communities={"c01": "德胜里社区"}),
        "server_url": "http://127.0.0.1:8345",
        "dispatcher": "张敏",
        "rates_missing": "offline",
    }
    return values | overrides


#: A caller as the server sends them: masked, with the key that stands for their number.
LI = {"name": "李**", "phone": "139****5678", "key": "3c0f5e1a9b7d2468"}


def test_hot_spots_find_frequent_pairs_repeated_addresses_and_repeated_callers() -> None:
    day = timedelta(days=1)
    made = [
        # the same address written three ways, by three people
        request(1, location={"community": "c02", "address": "德胜里 3号楼，2单元"}),
        request(2, location={"community": "c02", "address": "德胜里3号楼2单元"}, received_at=NOW - 2 * day),
        request(3, location={"community": "c02", "address": "德胜里３号楼 ２单元"}, received_at=NOW - day),
        # one caller (one key), four calls about two things (one of them 40 days ago: outside the
        # window); the server masked the phone as typed, the key is the same
        request(4, caller={**LI, "phone": "139******5678"}, category="noise"),
        request(5, caller=LI, category="noise"),
        request(6, caller=LI, category="parking"),
        request(7, caller=LI, received_at=NOW - 40 * day),
        # masked phones that look alike, without a key: nobody can tell they are one caller
        request(8, caller={"name": "赵**", "phone": "137****0000"}),
        request(9, caller={"name": "赵**", "phone": "137****0000"}),
        # a pair rising: roof leaks in c03, 3 this week, 1 the week before
        *(request(10 + i, location={"community": "c03", "address": ""}) for i in range(3)),
        request(13, location={"community": "c03", "address": ""}, received_at=NOW - 10 * day),
    ]
    report = build_report(LocalData(made), None, **common())
    [address] = report.hot_addresses
    assert address.count == 3 and address.people == 3
    assert address.shown == "德胜里 3号楼，2单元" and address.ids == ["R-000001", "R-000003", "R-000002"]
    [caller] = report.hot_callers
    assert caller.count == 3 and caller.people == 2  # noise and parking
    assert caller.shown == "139******5678 李**" and caller.ids == ["R-000006", "R-000005", "R-000004"]
    top = report.hot_pairs[0]
    assert (top.category, top.community, top.count) == ("roof_leak", "c03", 4)
    assert (top.category_name, top.last_week, top.week_before) == ("房屋漏雨", 3, 1)
    assert normalize_address("Ｂ座 ３-２０１") == normalize_address("b座3201")


def test_trends_and_the_shift_count_from_the_requests_timestamps() -> None:
    hour = timedelta(hours=1)
    made = [
        request(1, received_at=NOW - 30 * timedelta(minutes=1)),  # this hour: the last bucket
        request(2, received_at=NOW - 5 * hour, dispatched_at=NOW - 4 * hour, state=State.dispatched),
        request(
            3,
            received_at=NOW - 20 * hour,
            dispatched_at=NOW - 19 * hour,
            resolved_at=NOW - 2 * hour,
            closed_at=NOW - hour,
            state=State.closed,
        ),
        request(4, received_at=NOW - 25 * hour),  # not in the last 24 hours
        request(5, received_at=NOW - 40 * timedelta(days=1)),  # not in the last 30 days
    ]
    report = build_report(LocalData(made), None, **common())
    assert report.hourly.counts[-1] == 1 and sum(report.hourly.counts) == 3
    assert len(report.hourly.counts) == 24 and len(report.daily.counts) == 30
    assert sum(report.daily.counts) == 4
    shift = report.shift  # since NOW - 8 h
    assert (shift.received, shift.dispatched, shift.resolved, shift.closed) == (2, 1, 1, 1)


def test_offline_the_report_says_the_rates_are_missing_and_keeps_the_counts() -> None:
    made = [request(1, state=State.dispatched, due_at=NOW - timedelta(hours=2))]
    report = build_report(LocalData(made, unsent=2, conflicts=["R-000001"]), None, **common())
    assert not report.online and report.periods == [] and report.rates_missing == "offline"
    assert [(u.unit, u.overdue, u.rates) for u in report.units] == [("cc01", 1, None)]
    markdown = to_markdown(report, Strings("en"))
    assert "The rates are unavailable: offline" in markdown
    assert "2 unsent · 1 conflict" in markdown and "R-000001" in markdown


def test_renderers_keep_untrusted_text_inert() -> None:
    evil = "=HYPERLINK(1)\x1b]0;pwn\x07|[b]x[/b]"
    made = [request(1, category="odd"), request(2, category="odd")]
    names = Names(categories={"odd": evil}, communities={"c01": "德胜里社区"})
    report = build_report(LocalData(made), None, **common(names=names))
    markdown = to_markdown(report, Strings("zh"))
    assert "\x1b" not in markdown and "\x07" not in markdown and "␛]0;pwn␇\\|[b]x[/b]" in markdown
    assert "## 三率" in markdown and "三率不可用：offline" in markdown
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    assert rows[0] == ["section", "key", "name", "metric", "value"]
    category = next(row for row in rows if row[0] == "category")
    assert category[1] == "odd" and category[2].startswith("'=HYPERLINK") and category[4] == "2"
    assert json.loads(to_json(report))["by_category"][0]["count"] == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-8h", NOW - timedelta(hours=8)),
        ("-90m", NOW - timedelta(minutes=90)),
        ("-1d", NOW - timedelta(days=1)),
        ("2026-11-25T01:00:00+00:00", datetime(2026, 11, 25, 1, 0, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_parse_since_local_times() -> None:
    local = NOW.astimezone()
    earlier = (local - timedelta(hours=1)).replace(second=0, microsecond=0)
    assert parse_since(earlier.strftime("%H:%M"), NOW) == earlier
    later = (local + timedelta(hours=1)).replace(second=0, microsecond=0)
    assert parse_since(later.strftime("%H:%M"), NOW) == later - timedelta(days=1)  # yesterday's
    naive = datetime(2026, 11, 25, 8, 0)
    assert parse_since("2026-11-25 08:00", NOW) == naive.astimezone()
    with pytest.raises(ValueError, match="cannot read the time"):
        parse_since("yesterday", NOW)
    with pytest.raises(ValueError, match="not a time of day"):
        parse_since("25:00", NOW)
