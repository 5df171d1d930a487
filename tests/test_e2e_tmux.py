"""The installed `hotline demo` in a real terminal (tmux, 100x30, xterm-256color), by keyboard only.

A dispatcher dispatches a new request (pinyin initials `dsj`, Enter picks the lead, ctrl+s) and
logs a callback (reached, solved, satisfied) on a request of the callback queue, waits until
nothing is left unsent and quits with `q`. The server's database must then hold exactly one
dispatch and one callback by `demo-dispatcher` on those requests. A citizen's escape sequences,
taken in while the app runs, must never reach the terminal.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_cli import free_port, hotline_command

from api_client.models import Channel, Location, NewRequest, RequestType, State
from central_api.sql_store import SqlStore

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (CI installs it: apt-get install tmux)"
)

SIZE = (100, 30)
DISPATCHER = "demo-dispatcher"
#: The whole test, from start to the app's exit, stays within this many seconds.
BUDGET = 55.0
ROW = re.compile(r"^(R-\d{6}) ")
EXITED = re.compile(r"hotline exited with status (\d+)")
#: A citizen's text that tries to clear the screen, retitle the window and ring the bell.
NASTY = "楼道灯坏了 \x1b[2J\x1b]0;pwned\x07 \x9b31m 尾"


class Terminal:
    """One tmux session on a private tmux server, running one command."""

    def __init__(self, command: str, *, name: str) -> None:
        self.server = f"hotline-e2e-{os.getpid()}-{name}"
        self.target = name
        self.deadline = time.monotonic() + BUDGET
        self.captures: list[str] = []
        width, height = SIZE
        self.tmux(
            "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command,
            ";", "set-option", "-t", name, "remain-on-exit", "on",
        )  # fmt: skip

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-u", "-L", self.server, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env={k: v for k, v in os.environ.items() if k != "TMUX"},  # also from inside tmux
        )
        if result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result.stdout

    def keys(self, *names: str) -> None:
        """Keys by name (`Enter`, `C-s`, `Escape`, `Tab`) or single characters."""
        self.tmux("send-keys", "-t", self.target, *names)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.target, "-l", text)

    def screen(self) -> str:
        """The pane's text as a dispatcher sees it (no -e: no escape sequences of tmux's own)."""
        shot = self.tmux("capture-pane", "-p", "-t", self.target)
        self.captures.append(shot)
        return shot

    def wait(self, check: Callable[[str], object], what: str, timeout: float = 15.0) -> str:
        """The screen once `check(screen)` is true; fails after `timeout` or the test's budget."""
        until = min(time.monotonic() + timeout, self.deadline)
        shot = self.screen()
        while not check(shot):
            if time.monotonic() > until:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{shot}")
            time.sleep(0.1)
            shot = self.screen()
        return shot

    def press_until(self, key: str, check: Callable[[str], object], what: str, tries: int = 5) -> str:
        """Press `key` until `check(screen)` is true, waiting a moment after each press."""
        for _ in range(tries - 1):
            self.keys(key)
            with contextlib.suppress(AssertionError):
                return self.wait(check, what, timeout=1.5)
        self.keys(key)
        return self.wait(check, what)

    def history(self) -> str:
        """Everything the pane showed, scrolled-off lines included."""
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", self.target)

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.server, "kill-server"], capture_output=True, timeout=10, check=False
        )


def first_row(shot: str) -> str | None:
    """The id on the table's first line (the line after the column titles)."""
    lines = shot.splitlines()
    match = ROW.match(lines[3]) if len(lines) > 3 else None
    return match.group(1) if match else None


def row_ids(shot: str) -> list[str]:
    return [m.group(1) for line in shot.splitlines() if (m := ROW.match(line))]


def answer_shown(label: str, chosen: str) -> Callable[[str], bool]:
    """Whether the dialog's line `label` shows the answer `chosen` (● chosen, ○ not)."""
    return lambda shot: any(label in line and chosen in line for line in shot.splitlines())


def queue_bar(shot: str) -> str:
    return shot.splitlines()[0].rstrip() if shot else ""


def status_line(shot: str) -> str:
    lines = shot.splitlines()
    return lines[SIZE[1] - 2] if len(lines) >= SIZE[1] - 1 else ""


def synced(shot: str) -> bool:
    line = status_line(shot)
    return "● online" in line and "unsent 0" in line and " 5 Unsent 0 " in queue_bar(shot)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    db = tmp_path / "demo.db"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONFAULTHANDLER": "1",  # a crash or an abort prints every thread's stack
        "TERM": "xterm-256color",
        "HOTLINE_CACHE_DIR": str(tmp_path / "cache"),
        "HOTLINE_CONFIG": str(tmp_path / "config.toml"),
    }
    args = ["demo", "--db", str(db), "--count", "200", "--port", str(free_port()), "--lang", "en"]
    hotline = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *hotline_command(), *args])
    # The shell says how the command ended (tmux may call a pane dead before it knows the status).
    command = shlex.join(["sh", "-c", f'{hotline}; echo "hotline exited with status $?"'])
    terminal = Terminal(command, name="demo")
    try:
        yield terminal, db
    finally:
        terminal.close()


def test_dispatch_and_callback_by_keys_in_a_real_terminal(demo: tuple[Terminal, Path]) -> None:
    term, db = demo
    term.wait(
        lambda s: "● online" in s and queue_bar(s).endswith(" 6 All 200") and first_row(s),
        "the first sync",
        40,
    )

    # A citizen's escape sequences arrive while the app runs (another server process's intake).
    store = SqlStore.open(str(db))
    try:
        nasty = store.create_request(
            NewRequest(
                channel=Channel.phone,
                type=RequestType.help,
                category="roof_leak",
                description=NASTY,
                location=Location(community="c01", address=f"德胜里{NASTY}"),
                vulnerable=True,
            ),
            actor="话务-测试",
            idempotency_key=None,
        ).request.id
    finally:
        store.close()
    shot = term.wait(
        lambda s: nasty in row_ids(s) and queue_bar(s).endswith(" 6 All 201"), "the citizen's request"
    )
    assert "␛" in shot  # the escape shown as its stand-in

    # Dispatch the first new request: `d`, the initials, Enter picks the lead, ctrl+s.
    term.keys("g")  # the cursor on the first row (a live update keeps it where it was)
    dispatched = first_row(term.screen())
    assert dispatched is not None
    term.keys("d")
    term.wait(lambda s: "Dispatch" in s and dispatched in s and "Lead: (none)" in s, "the dispatch dialog")
    term.type("dsj")
    term.wait(lambda s: "dsj" in s and "德胜街道" in s, "units matching dsj")
    term.keys("Enter")
    term.wait(lambda s: "Lead: 德胜街道" in s, "the lead unit picked")
    term.keys("C-s")
    term.wait(
        lambda s: "sort:" in s and dispatched not in row_ids(s), "the dispatched request to leave `new`"
    )

    # Log a callback on the first request awaiting one: reached, solved, satisfied.
    term.keys("4")
    term.wait(lambda s: " 4 Callback " in queue_bar(s) and "solved" in s, "the callback queue")
    term.keys("g")
    called = first_row(term.screen())
    assert called is not None
    term.keys("c")
    term.wait(lambda s: "Reached?" in s and called in s, "the callback dialog")
    for label, key, chosen in (
        ("Reached?", "y", "▐●▌ yes"),
        ("Solved?", "y", "▐●▌ yes"),
        ("Satisfaction", "1", "▐●▌ 1 satisfied"),
    ):
        # Keys typed right after Tab may still reach the question before it (Textual forwards
        # keys to the focus of the moment): the dispatcher presses again, and so does the test.
        term.press_until(key, answer_shown(label, chosen), f"the answer to {label}")
        if key == "y":
            term.keys("Tab")
    term.keys("C-s")
    term.wait(
        lambda s: "sort:" in s and called not in row_ids(s), "the called-back request to leave the queue"
    )

    shot = term.wait(synced, "nothing left unsent", 20)
    term.keys("q")
    try:
        shot = term.wait(EXITED.search, "the app to end")
    except AssertionError:
        raise AssertionError(f"the app did not end after q:\n{term.history()}") from None
    exited = EXITED.search(shot)
    assert exited is not None and exited.group(1) == "0", term.history()

    for capture in term.captures:
        assert "\x1b" not in capture and "\x07" not in capture and "\x9b" not in capture
    assert "pwned" not in term.tmux("display-message", "-p", "-t", term.target, "#{pane_title}")

    store = SqlStore.open(str(db))
    try:
        for request_id, action, state in (
            (dispatched, "dispatch", State.dispatched),
            (called, "callback", State.closed),
        ):
            mine = [e.action for e in store.audit(request_id) if e.actor == DISPATCHER]
            assert mine == [action], (request_id, mine)
            assert store.get_request(request_id).state is state
    finally:
        store.close()
