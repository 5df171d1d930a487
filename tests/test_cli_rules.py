"""The installed `hotline rules` against a real central API: a supervisor sets, replaces,
switches and deletes routing rules and reads their history; a dispatcher is refused in one line;
the server's refusals (an unknown unit) and a change made meanwhile are one line and exit 1."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from test_sync_cli import environment, hotline

from api_client.client import HotlineClient
from api_client.models import RoutingRule, RoutingRuleIn
from central_api.server import LiveServer
from tui import cli

TokenFactory = Callable[..., str]


def rows(stdout: str) -> dict[str, dict[str, str]]:
    """A `hotline rules` table by rule id: {id: {column: cell}} (columns are 2+ spaces apart)."""
    lines = [line for line in stdout.splitlines() if line.startswith("ID ") or line[:1].isalnum()]
    header_at = next(i for i, line in enumerate(lines) if line.startswith("ID "))
    header = re.split(r"\s{2,}", lines[header_at])
    table = [dict(zip(header, re.split(r"\s{2,}", line), strict=True)) for line in lines[header_at + 1 :]]
    return {row["ID"]: row for row in table}


def failed_in_one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_supervisor_sets_replaces_switches_and_deletes_a_rule(
    live_server: LiveServer, make_token: TokenFactory, tmp_path: Path
) -> None:
    env = environment(tmp_path, live_server.url, make_token("supervisor", "陈主任"))

    created = hotline(
        "rules", "set", "roof-any", "--category", "roof_leak", "--lead", "pm01", "--co", "hm01", env=env
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created routing rule roof-any, now version 1")

    replaced = hotline("rules", "set", "roof-any", "--category", "roof_leak", "--lead", "pm02", env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.startswith("replaced version 1 of routing rule roof-any, now version 2")
    [rule] = live_server.store.routing_rules()
    assert (rule.lead_unit, rule.co_units, rule.version, rule.auto_dispatch) == ("pm02", [], 2, False)

    switched = hotline("rules", "auto", "roof_leak", "on", env=env)
    assert switched.returncode == 0, switched.stderr
    assert switched.stdout.startswith("auto-dispatch on for roof_leak 房屋漏雨: 1 rule changed, 0 already on")
    assert rows(switched.stdout)["roof-any"]["AUTO"] == "on"

    listed = hotline("rules", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    row = rows(listed.stdout)["roof-any"]
    assert row["CATEGORY"] == "roof_leak 房屋漏雨" and row["COMMUNITY"] == "* (any)"
    assert (row["LEAD"], row["CO-UNITS"], row["AUTO"], row["VERSION"]) == ("pm02", "-", "on", "3")
    assert row["UPDATED"].startswith("陈主任 ")

    off = hotline("rules", "auto", "roof_leak", "off", env=env)
    assert off.returncode == 0 and "1 rule changed" in off.stdout
    assert live_server.store.routing_rules()[0].auto_dispatch is False

    en = {**env, "HOTLINE_LANG": "en"}  # the words below are English
    unknown = hotline(
        "rules", "set", "roof-c01", "--category", "roof_leak", "--community", "c01", "--lead", "nope", env=en
    )
    assert failed_in_one_line(unknown) == "hotline: No such unit: nope"  # the words of `unknown_unit`

    deleted = hotline("rules", "delete", "roof-any", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith("deleted routing rule roof-any (version 4: roof_leak in *: lead pm02")
    assert live_server.store.routing_rules() == []

    history = hotline("rules", "history", "roof-any", env=env)
    assert history.returncode == 0, history.stderr
    changes = [re.split(r"\s{2,}", line) for line in history.stdout.splitlines()[1:]]
    assert [(who, rule_id, action) for _n, _at, who, rule_id, action, _what in changes] == [
        ("陈主任", "roof-any", "create"),
        ("陈主任", "roof-any", "replace"),
        ("陈主任", "roof-any", "replace"),
        ("陈主任", "roof-any", "replace"),
        ("陈主任", "roof-any", "delete"),
    ]
    assert [what for *_rest, what in changes][1:4] == [
        "lead pm01 → pm02; co hm01 → none (version 1 → 2)",
        "auto-dispatch off → on (version 2 → 3)",
        "auto-dispatch on → off (version 3 → 4)",
    ]


def test_a_dispatcher_may_not_change_the_rules(
    live_server: LiveServer, make_token: TokenFactory, tmp_path: Path
) -> None:
    env = environment(tmp_path, live_server.url, make_token("dispatcher"))

    refused = hotline("rules", "auto", "roof_leak", "on", env=env)
    line = failed_in_one_line(refused)
    assert line.startswith("hotline: forbidden: ") and "supervisor" in line


def test_a_rule_changed_meanwhile_is_not_overwritten(
    live_server: LiveServer,
    make_token: TokenFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`rules set` reads version 1, someone replaces the rule before the PUT: a 412, nothing
    changed, their version named (in-process, so the race is not left to timing)."""
    store = live_server.store
    first, _ = store.put_routing_rule(
        "roof-any", RoutingRuleIn(category="roof_leak", lead_unit="pm01"), actor="陈主任", if_match=None
    )
    store.put_routing_rule(
        "roof-any", RoutingRuleIn(category="roof_leak", lead_unit="pm03"), actor="李班长", if_match=1
    )

    async def stale(_client: HotlineClient) -> list[RoutingRule]:
        return [first]

    monkeypatch.setattr(HotlineClient, "routing_rules", stale)
    env = environment(tmp_path, live_server.url, make_token("supervisor"))
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("HOTLINE_"):
            monkeypatch.setenv(name, value)

    assert cli.main(["rules", "set", "roof-any", "--category", "roof_leak", "--lead", "pm02"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hotline: someone changed routing rule roof-any meanwhile: version 2 by 李班长 at ")
    assert "lead pm03" in err and len(err.splitlines()) == 1
    assert store.routing_rules()[0].lead_unit == "pm03"
