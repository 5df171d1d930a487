"""The installed `hotline report` against a real central API, in md, csv and json: its numbers
are the dashboard's `Report` for the same data, and the server's own."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from app_support import seeded_server
from report_support import assert_local_agrees, assert_rates_agree, direct, report_of
from test_sync_cli import environment, hotline, store_of

from api_client.client import HotlineClient
from api_client.models import Role
from central_api.server import LiveServer
from tui.core.report.model import Report
from tui.core.session import Session


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path_factory.mktemp("cli-report"), 80)
    try:
        yield made
    finally:
        made.stop()


async def dashboard_report(
    server: LiveServer, cache: Path, token: str, now: datetime, since: datetime
) -> Report:
    """The dashboard's `Report` from the same cache and server."""
    session = Session.open(cache, api_url=server.url, dispatcher="张敏", token=token)
    try:
        async with HotlineClient(server.url, token) as client:
            return await report_of(session, client, now, since)
    finally:
        session.close()


async def test_hotline_report_agrees_with_the_dashboard(server: LiveServer, tmp_path: Path) -> None:
    token = server.store.create_token("张敏", Role.dispatcher)
    env = environment(tmp_path, server.url, token, "张敏") | {"HOTLINE_LANG": "en"}

    answer = hotline("report", "--since", "-8h", "--format", "json", env=env)
    assert answer.returncode == 0, answer.stderr
    cli = Report.model_validate_json(answer.stdout)
    assert cli.online and cli.cached == 80  # it synced the cache first
    expected = direct(server, cli.generated_at, cli.shift.since)
    assert_local_agrees(cli, expected)
    assert_rates_agree(cli, expected)
    cache = store_of(tmp_path, server.url, "张敏").directory
    dashboard = await dashboard_report(server, cache, token, cli.generated_at, cli.shift.since)
    assert cli.model_dump(exclude={"dispatcher"}) == dashboard.model_dump(exclude={"dispatcher"})

    out = tmp_path / "shift.csv"
    written = hotline("report", "--since", "-8h", "--format", "csv", "--output", str(out), env=env)
    assert written.returncode == 0, written.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    states = {r["key"]: int(r["value"]) for r in rows if r["section"] == "state" and r["value"] != "0"}
    assert states == {c.key: c.count for c in cli.by_state if c.count}
    month = {r["metric"]: r["value"] for r in rows if r["section"] == "period" and r["key"] == "month"}
    rates = next(p for p in cli.periods if p.period == "month").rates
    assert int(month["dispatched"]) == rates.dispatched and int(month["solved"]) == rates.solved

    markdown = hotline("report", "--since", "2000-01-01 00:00", env=env)
    assert markdown.returncode == 0, markdown.stderr
    text = markdown.stdout
    assert text.startswith("# Shift handover report (from 2000-01-01 00:00)")
    assert f"| {cli.cached} | " in text  # everything was received since 2000
    assert f"({rates.responded_in_time}/{rates.response_counted})" in text
    assert "response = dispatches signed for in time ÷ dispatches signed for or past their window" in text


def test_offline_hotline_report_counts_the_cache_and_says_the_rates_are_missing(
    server: LiveServer, tmp_path: Path
) -> None:
    token = server.store.create_token("李强", Role.dispatcher)
    env = environment(tmp_path, server.url, token, "李强")
    assert hotline("sync", env=env).returncode == 0
    # no token: nothing can be asked of the server, the cache is read as it is
    offline = {k: v for k, v in env.items() if k != "HOTLINE_TOKEN_FILE"}
    answer = hotline("report", "--format", "json", env=offline)
    assert answer.returncode == 0, answer.stderr
    report = Report.model_validate_json(answer.stdout)
    assert not report.online and report.periods == [] and report.cached == 80
    assert "hotline: offline (no token): the rates are missing" in answer.stderr
    assert_local_agrees(report, direct(server, report.generated_at, report.shift.since))

    refused = hotline("report", "--since", "yesterday", env=offline)
    assert refused.returncode == 1 and refused.stderr.startswith("hotline: cannot read the time 'yesterday'")
    assert "Traceback" not in refused.stderr
