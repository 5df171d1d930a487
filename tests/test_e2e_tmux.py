"""The installed `hotline demo` in a real terminal (tmux, 100x30, xterm-256color), by keyboard only.

A dispatcher dispatches a new request (pinyin initials `dsj`, Enter picks the lead, ctrl+s) and
logs a callback (reached, solved, satisfied) on a request of the callback queue, waits until
nothing is left unsent and quits with `q`. The server's database must then hold exactly one
dispatch and one callback by `demo-dispatcher` on those requests.

A citizen's request full of escape sequences and Rich markup, taken in while the app runs, is
shown in the queue and opened in the detail view. Every byte the app writes to the terminal is
recorded (`tmux pipe-pane`, connected before the app starts): none of the citizen's sequences
may be in it, and the screen must show the citizen's text literally, controls as stand-ins.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_cli import free_port, hotline_command
from tmux_support import Terminal, first_row, needs_tmux, queue_bar, row_ids

from api_client.domain.personal_data import mask_name
from api_client.models import Caller, Channel, Location, NewRequest, RequestType, State
from central_api.sql_store import SqlStore

pytestmark = needs_tmux

SIZE = (100, 30)
DISPATCHER = "demo-dispatcher"
#: The whole test, from start to the app's exit, stays within this many seconds.
BUDGET = 55.0
EXITED = re.compile(r"hotline exited with status (\d+)")
#: What a citizen's text may carry to attack the dispatcher's terminal, each with the stand-in
#: the dispatcher must see instead (C0 controls as Control Pictures, C1 controls as U+FFFD).
#: The app itself never writes any of these sequences.
HOSTILE = (
    ("\x1b]2;pwned\x07", "␛]2;pwned␇"),  # OSC 2: retitle the window (BEL ends it)
    ("\x1b]0;pwned\x1b\\", "␛]0;pwned␛\\"),  # OSC 0: retitle the window (ST ends it)
    ("\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),  # OSC 52: put "pwned" on the clipboard
    (
        "\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\",  # OSC 8: a hidden hyperlink
        "␛]8;;https://evil.example/␛\\here␛]8;;␛\\",
    ),
    ("\x1b[6n", "␛[6n"),  # DSR: the terminal would type its cursor position into the app
    ("\x1b[2J", "␛[2J"),  # clear the screen
    ("\x9b31m", "\ufffd31m"),  # a C1 CSI (one byte on some terminals): red text
    ("ring\x07", "ring␇"),  # BEL
)
#: Rich markup that must be shown as typed (as markup it would be bold red text and a link).
MARKUP = "[bold red]LOUD[/] [link=https://evil.example/]x[/link]"
#: One sequence a line, so that the detail view never wraps one.
DESCRIPTION = "\n".join(["楼道灯坏了", *(seq for seq, _ in HOSTILE), MARKUP, "尾"])
ADDRESS = f"德胜里 {MARKUP} \x1b]2;pwned\x07"
CALLER = "张\x1b[2J\x1b]0;pwned\x07三"
ACTOR = "话务\x1b]2;pwned\x07"


def answer_shown(label: str, chosen: str) -> Callable[[str], bool]:
    """Whether the dialog's line `label` shows the answer `chosen` (● chosen, ○ not)."""
    return lambda shot: any(label in line and chosen in line for line in shot.splitlines())


def status_line(shot: str) -> str:
    lines = shot.splitlines()
    return lines[SIZE[1] - 2] if len(lines) >= SIZE[1] - 1 else ""


def synced(shot: str) -> bool:
    line = status_line(shot)
    return "● online" in line and "unsent actions 0" in line and " 5 Unsent 0 " in queue_bar(shot)


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
    record = tmp_path / "terminal.bytes"
    # The app starts once the recording runs; the shell says how the app ended (tmux may call a
    # pane dead before it knows the status).
    script = (
        f"while [ ! -e {shlex.quote(str(record))} ]; do sleep 0.05; done; "
        f'{hotline}; echo "hotline exited with status $?"'
    )
    terminal = Terminal(
        shlex.join(["sh", "-c", script]), name="demo", size=SIZE, budget=BUDGET, record=record
    )
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
    # Over SSH every mouse move would repaint: by default the app asks the terminal for no mouse
    # reports at all (tmux knows which modes the program in the pane switched on).
    modes = "#{mouse_any_flag}#{mouse_all_flag}#{mouse_button_flag}#{mouse_standard_flag}#{mouse_sgr_flag}"
    assert term.tmux("display-message", "-p", "-t", term.target, modes).strip() == "00000"

    # A citizen's escape sequences arrive while the app runs (another server process's intake).
    store = SqlStore.open(str(db))
    try:
        nasty = store.create_request(
            NewRequest(
                channel=Channel.phone,
                type=RequestType.help,
                category="roof_leak",
                description=DESCRIPTION,
                location=Location(community="c01", address=ADDRESS),
                caller=Caller(name=CALLER, phone="13800001234"),
                vulnerable=True,
            ),
            actor=ACTOR,
            idempotency_key=None,
        ).request.id
    finally:
        store.close()
    shot = term.wait(
        lambda s: nasty in row_ids(s) and queue_bar(s).endswith(" 6 All 201"), "the citizen's request"
    )
    row = next(line for line in shot.splitlines() if line.startswith(nasty))
    assert f"楼道灯坏了 {HOSTILE[0][1]} " in row, row  # the text as written, controls as stand-ins

    # Open it (the cursor on its row, Enter): every field in full, and the audit from the server.
    term.keys("g", *["j"] * row_ids(shot).index(nasty), "Enter")
    shot = term.wait(
        lambda s: "Description" in s and nasty in s and "德胜里" in s and "话务␛]2;pwned␇ " in s,
        "the citizen's request in full, with its history (the intake by a hostile actor name)",
    )
    lines = [line.strip() for line in shot.splitlines()]
    assert lines[0].startswith(nasty), shot
    assert f"Address 德胜里 {MARKUP} ␛]2;pwned␇" in lines, shot
    caller = mask_name(CALLER)  # masked at the source
    assert any(line.startswith(f"Caller {caller} ") for line in lines), shot
    for _, shown in HOSTILE:
        assert shown in lines, (shown, shot)
    assert MARKUP in lines, shot
    term.keys("Escape")
    term.wait(lambda s: "sort:" in s and nasty in row_ids(s), "the queue again")

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
    end = min(time.monotonic() + 15, term.deadline)
    while not EXITED.search(shot := term.history()):  # the pane and its scrollback
        if time.monotonic() > end:
            raise AssertionError(f"the app did not end after q:\n{shot}")
        time.sleep(0.1)
    exited = EXITED.search(shot)
    assert exited is not None and exited.group(1) == "0", term.history()

    # Every byte the app wrote: the citizen's text is in it (as stand-ins), its sequences are not.
    raw = term.raw(until=b"hotline exited with status")
    leaked = [seq for seq, _ in HOSTILE if seq.encode() in raw]
    assert not leaked, f"the citizen's sequences reached the terminal: {leaked}"
    unseen = [shown for _, shown in HOSTILE if shown.encode() not in raw]
    assert not unseen, f"the recording never shows {unseen}"
    # What is left once every complete CSI and OSC sequence is taken out must hold no ESC.
    bare = re.sub(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)", b"", raw)
    for where, pattern, what in (
        (raw, rb"\x1b\][^\x07\x1b]*(?:pwned|evil\.example)", "an OSC carrying the citizen's words"),
        (raw, rb"\x1b\]52;", "a clipboard write (the app never copies)"),
        (raw, rb"(?:pwned|ring|cHduZWQ=)\x07", "a BEL right after the citizen's words"),
        (raw, rb"\xc2[\x80-\x9f]", "a C1 control"),
        (bare, rb"\x1b", "an ESC outside a CSI or OSC sequence"),
    ):
        found = re.search(pattern, where)
        assert found is None, (
            f"{what} reached the terminal: {where[max(found.start() - 60, 0) : found.end() + 60]!r}"
        )
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
