"""The terminal is safe from what a server says: the installed `hotline` prints no escape
sequence, C1 control, bidi override or zero-width character that a central API sent (names,
rule fields, error details, a garbled answer), whether the API is the real one or a hostile one
on 127.0.0.1; the command prints only through `tui.cli.output`; every notification in the app is
plain text, and a saved queue named like markup is shown as written."""

from __future__ import annotations

import ast
import asyncio
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import pytest
from app_support import open_session, seeded_server, synced, until
from conftest import bearer
from faultservers import Conn, FaultServer, response
from server_helpers import intake
from test_sync_cli import environment, hotline
from test_sync_support import hotline_script
from test_tui_app import noting_app, screen_lines
from textual.notifications import Notification
from textual.pilot import Pilot
from textual.widgets import Input

from api_client.models import Role
from central_api.server import LiveServer
from tui.ui.app import HotlineApp
from tui.ui.screens.queues import QueuesScreen

ROOT = Path(__file__).resolve().parents[1]
#: What a hostile server writes: a window title (OSC … BEL), a screen clear (CSI), a C1 CSI, a
#: bidi override, a zero-width space, a BOM, DEL, and markup that must stay literal.
HOSTILE = "\x1b]0;pwned\x07 \x1b[2J \x9b31m \u202eevil\u202c \u200b\ufeff\x7f [bold]loud[/bold] [/x]"
#: A token's name as the real server takes it (it refuses control and format characters): markup.
HOSTILE_NAME = "陈[bold]x[/x][@click=app.quit]y[/]"
#: Citizens' text as the real server takes it in (every character but NUL and lone surrogates).
HOSTILE_TEXT = "\x1b]0;pwned\x07 \x1b[2J \x9b31m \u202eevil\u202c [bold]loud[/bold]"


def unsafe(text: str) -> set[str]:
    """Characters of `text` that a terminal may act on: controls (but the line feed), format
    characters (bidi, zero-width), surrogates, and the line and paragraph separators."""
    return {
        ch
        for ch in text
        if ch != "\n" and (unicodedata.category(ch) in {"Cc", "Cf", "Cs"} or ch in "\u2028\u2029")
    }


def direct(env: dict[str, str]) -> dict[str, str]:
    """`env` with no proxy: every call goes straight to 127.0.0.1."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {k: v for k, v in env.items() if k.lower() not in proxies} | {"NO_PROXY": "*"}


def assert_safe(stdout: str, stderr: str) -> None:
    assert unsafe(stdout) == set(), stdout
    assert unsafe(stderr) == set(), stderr
    assert "Traceback" not in stderr


# -- a hostile central API ------------------------------------------------------------------------

STAMP = "2026-01-05T08:00:00+00:00"


def rule(**fields: Any) -> dict[str, Any]:
    return {
        "id": f"r1{HOSTILE}",
        "category": f"roof{HOSTILE}",
        "community": f"c01{HOSTILE}",
        "lead_unit": f"pm01{HOSTILE}",
        "co_units": [f"hm{HOSTILE}"],
        "auto_dispatch": True,
        "updated_by": f"陈{HOSTILE}",
        "updated_at": STAMP,
        "version": 1,
    } | fields


def refusal(status: int) -> tuple[int, dict[str, Any]]:
    return status, {"code": f"odd{HOSTILE}", "detail": f"no{HOSTILE}", "params": {"x": HOSTILE}}


#: What the hostile API answers, by path: its own names for everything, in every field.
ANSWERS: dict[str, tuple[int, object]] = {
    "/v1/health": (200, {"status": "ok", "head": 7}),
    "/v1/me": (200, {"name": f"王{HOSTILE}", "role": "supervisor"}),
    "/v1/routing-rules": (200, [rule()]),
    "/v1/routing-rules/audit": (
        200,
        [
            {
                "id": 1,
                "rule_id": f"r1{HOSTILE}",
                "action": HOSTILE,
                "actor": HOSTILE,
                "at": STAMP,
                "after": rule(),
            }
        ],
    ),
    "/v1/categories": (200, [{"code": f"roof{HOSTILE}", "name": HOSTILE, "tier": "2h"}]),
    "/v1/communities": (200, [{"id": f"c01{HOSTILE}", "name": HOSTILE}]),
}


def hostile_api(answers: dict[str, tuple[int, object]], otherwise: tuple[int, object]) -> Any:
    async def handle(conn: Conn) -> None:
        path = conn.hit.target.partition("?")[0]
        status, body = answers.get(path, otherwise)
        if isinstance(body, str):  # not JSON at all
            await conn.send(response(status, body.encode(), content_type="text/html; charset=utf-8"))
        else:
            await conn.send(response(status, body))

    return handle


async def run_hotline(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """The installed command, run while this loop serves the hostile API; its output decoded
    strictly (a byte that is not UTF-8 fails the test)."""
    proc = await asyncio.create_subprocess_exec(
        hotline_script(),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8"), err.decode("utf-8")


@pytest.mark.parametrize(
    ("args", "answers", "otherwise", "shows"),
    [
        (("whoami",), ANSWERS, refusal(404), "王"),
        (("rules", "list"), ANSWERS, refusal(404), "陈"),
        (("rules", "history"), ANSWERS, refusal(404), "r1"),
        (("rules", "delete", "r1"), ANSWERS, refusal(404), "no"),  # the refusal's detail
        (("rules", "auto", "roof", "on"), ANSWERS, refusal(409), "no"),
        (("whoami",), {}, refusal(401), "no"),
        (("whoami",), {}, refusal(403), "no"),
        (("whoami",), {}, refusal(422), "no"),
        (("whoami",), {}, (200, f"<h1>{HOSTILE}</h1>"), "hotline:"),  # a garbled answer
        (("sync",), {}, refusal(403), "no"),
        (("sync",), ANSWERS, refusal(500), "hotline:"),
        (("report", "--format", "md"), ANSWERS, refusal(500), "offline"),
        (("report", "--format", "json"), ANSWERS, refusal(403), "offline"),
    ],
)
async def test_nothing_a_hostile_server_says_reaches_the_terminal(
    tmp_path: Path,
    args: tuple[str, ...],
    answers: dict[str, tuple[int, object]],
    otherwise: tuple[int, object],
    shows: str,
) -> None:
    async with FaultServer(hostile_api(answers, otherwise)) as server:
        env = direct(environment(tmp_path, server.url, "tok-1", "王")) | {"HOTLINE_LANG": "en"}
        code, stdout, stderr = await run_hotline(*args, env=env)
    assert server.hits, "the command reached the hostile API"
    assert_safe(stdout, stderr)
    assert shows in stdout + stderr, (stdout, stderr)
    if "pwned" in stdout + stderr:  # what the server said is shown, its controls as stand-ins
        assert "␛]0;pwned␇" in stdout + stderr
    assert code in (0, 1), (code, stderr)


def test_what_the_real_api_accepts_is_shown_harmlessly(live_server: LiveServer, tmp_path: Path) -> None:
    """A supervisor's name written as markup, and requests whose citizens' text carries escape
    sequences: `whoami`, `rules`, `sync`, `status` and `report` show them literally, with
    stand-ins for the controls."""
    token = live_server.create_token(HOSTILE_NAME, Role.supervisor)
    env = direct(environment(tmp_path, live_server.url, token)) | {"HOTLINE_LANG": "en"}
    with httpx.Client(base_url=live_server.url, headers=bearer(token), timeout=10) as api:
        for _ in range(2):  # twice at one address: a hot spot in the report
            intake(
                api,
                description=HOSTILE_TEXT,
                location={"community": "c01", "address": f"德胜里{HOSTILE_TEXT}"},
                caller={"name": f"王{HOSTILE_TEXT}", "phone": "13800000000"},
            )

    who = hotline("whoami", env=env)
    assert who.returncode == 0, who.stderr
    assert_safe(who.stdout, who.stderr)
    assert who.stdout.startswith(f"{HOSTILE_NAME} (supervisor) on ")

    made = hotline("rules", "set", "roof-any", "--category", "roof_leak", "--lead", "pm01", env=env)
    assert made.returncode == 0, made.stderr
    outputs = [made]
    for args in (
        ("rules", "list"),
        ("rules", "history"),
        ("sync",),
        ("status",),
        ("report", "--since", "-1h"),
        ("report", "--format", "csv"),
        ("report", "--format", "json"),
    ):
        shown = hotline(*args, env=env)
        assert shown.returncode == 0, (args, shown.stderr)
        assert_safe(shown.stdout, shown.stderr)
        outputs.append(shown)
    assert all(HOSTILE_NAME in out.stdout for out in outputs[1:3])  # who changed the rule
    assert "德胜里␛]0;pwned␇" in outputs[5].stdout  # the hot address, in the Markdown report


# -- the code: one way to print, plain-text notifications -----------------------------------------


def calls(package: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                found.append((path, node))
    return found


def called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def test_every_notification_is_plain_text() -> None:
    """Every `notify(...)` in the app says `markup=False` (a saved queue's name, a server's message
    in a notice must never be parsed as markup)."""
    notifies = [(path, call) for path, call in calls("tui") if called_name(call) == "notify"]
    assert notifies, "the app notifies somewhere"
    for path, call in notifies:
        markup = next((kw.value for kw in call.keywords if kw.arg == "markup"), None)
        where = f"{path.relative_to(ROOT)}:{call.lineno}"
        assert isinstance(markup, ast.Constant) and markup.value is False, (
            f"{where}: notify without markup=False"
        )


def test_the_command_prints_only_through_its_output_module() -> None:
    """No `print(...)`, `sys.stdout.write` or `sys.stderr.write` in `tui/cli` but in `output.py`,
    whose `say` and `write` clean every line."""
    for path, call in calls("tui/cli"):
        if path.name == "output.py":
            continue
        where = f"{path.relative_to(ROOT)}:{call.lineno}"
        assert called_name(call) != "print", f"{where}: print( (use tui.cli.output.say)"
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "write" and isinstance(func.value, ast.Attribute):
            assert func.value.attr not in ("stdout", "stderr"), f"{where}: write to the terminal"


# -- the app ------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Any:
    made = seeded_server(tmp_path, 20)
    try:
        yield made
    finally:
        made.stop()


async def test_saved_queues_named_like_markup_are_shown_as_written(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    async with noting_app(session, size=(120, 30), toasts=True) as (app, pilot, notices):
        await until(pilot, lambda: synced(app, 20), what="the first sync")
        screen = app.screen
        assert isinstance(screen, QueuesScreen)
        for name in ("[/x]", "[bold]x", "a\x1b[2Jb"):
            await save_queue_as(name, app, pilot, notices)
        assert app.is_running


async def save_queue_as(name: str, app: HotlineApp, pilot: Pilot[Any], notices: list[Notification]) -> None:
    """Save the current queue as `name` in the filter dialog; the notice and the filter line show
    the name as written (controls as stand-ins), never as markup."""
    screen = app.screen
    assert isinstance(screen, QueuesScreen)
    await pilot.press("f")
    await until(pilot, lambda: type(app.screen).__name__ == "FilterDialog", what="the filter dialog")
    field = app.screen.query_one("#filter-name", Input)
    field.focus()
    await pilot.pause()
    field.value = name  # typed or pasted, it is the same text
    await pilot.press("enter")
    await until(pilot, lambda: app.session.saved_queues.get(name) is not None, what=f"{name!r} saved")
    await until(pilot, lambda: screen.saved_name == name, what=f"{name!r} applied")
    shown = name.replace("\x1b", "␛")

    def saying() -> list[Notification]:
        return [notice for notice in notices if f"'{shown}'" in notice.message]

    await until(pilot, saying, what=f"the notice of {shown!r}")
    assert all(notice.markup is False for notice in saying())
    await until(
        pilot,
        lambda: any(f"「{shown}」" in line for line in screen_lines(app)),
        what=f"{shown!r} in the filter line",
    )
