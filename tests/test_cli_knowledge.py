"""The installed `hotline kb` against a real central API: a supervisor adds an entry from a TOML
file, edits it from JSON, withdraws it and reads its history; a dispatcher is refused in one line."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from test_sync_cli import environment, hotline

from central_api.server import LiveServer

TokenFactory = Callable[..., str]


def failed_in_one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_supervisor_adds_edits_withdraws_and_reads_the_history(
    live_server: LiveServer, make_token: TokenFactory, tmp_path: Path
) -> None:
    env = environment(tmp_path, live_server.url, make_token("supervisor", "陈主任"))
    toml = tmp_path / "entry.toml"
    toml.write_text(
        'title = "垃圾分类投放时间"\nanswer = "早6:30-9:00，晚17:30-21:00。"\ncategory = "sanitation"\n'
        'keywords = ["垃圾分类", "投放时间"]\nvalid_from = 2026-01-01\nowner = "街道城市管理科"\n'
    )
    added = hotline("kb", "add", str(toml), env=env)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("added knowledge-base entry KB-0001: 垃圾分类投放时间")
    [entry] = live_server.store.knowledge_entries()
    assert entry.updated_by == "陈主任" and str(entry.valid_from) == "2026-01-01"

    shown = hotline("kb", "show", "KB-0001", env=env)
    assert shown.returncode == 0, shown.stderr
    edited_json = tmp_path / "entry.json"
    edited_json.write_text("\n".join(shown.stdout.splitlines()[1:]).replace("21:00", "20:00"))
    edited = hotline("kb", "edit", "KB-0001", str(edited_json), env=env)
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.startswith("replaced version 1 of KB-0001, now version 2")
    assert "20:00" in live_server.store.knowledge_entry("KB-0001").answer

    listed = hotline("kb", "list", env=env)
    assert listed.returncode == 0 and "KB-0001" in listed.stdout and "in force" in listed.stdout
    withdrawn = hotline("kb", "withdraw", "KB-0001", env=env)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert "KB-0001" not in hotline("kb", "list", env=env).stdout
    assert "withdrawn" in hotline("kb", "list", "--all", env=env).stdout

    history = hotline("kb", "history", "KB-0001", env=env)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert "created: 垃圾分类投放时间" in lines[1] and "陈主任" in lines[1]
    assert "replaced: answer (version 1 → 2)" in lines[2] and "withdrawn" in lines[3]


def test_refusals_are_one_line(live_server: LiveServer, make_token: TokenFactory, tmp_path: Path) -> None:
    env = environment(tmp_path, live_server.url, make_token("dispatcher"))
    entry = tmp_path / "entry.json"
    entry.write_text('{"title": "t", "answer": "a"}')
    assert failed_in_one_line(hotline("kb", "add", str(entry), env=env)).startswith("hotline: forbidden:")
    entry.write_text('{"title": "t"}')
    assert "answer" in failed_in_one_line(hotline("kb", "add", str(entry), env=env))
    entry.write_text("not json")
    assert "not valid JSON" in failed_in_one_line(hotline("kb", "add", str(entry), env=env))
    missing = failed_in_one_line(hotline("kb", "show", "KB-9", env=env))
    assert "KB-9" in missing
