"""A real terminal for end-to-end tests: one tmux session on a private tmux server, running one
command, driven by keys and read by `capture-pane` (tests/test_e2e_tmux.py, test_e2e_shift_tmux.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

__all__ = ["ROW", "Terminal", "first_row", "needs_tmux", "queue_bar", "row_ids"]

needs_tmux = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (CI installs it: apt-get install tmux)"
)

#: How long a key waits after an Escape (an ESC and a key read together are alt+key).
ESCAPE_PAUSE = 0.3
#: A queue row: its id first.
ROW = re.compile(r"^(R-\d{6})[ ✓]")


class Terminal:
    """One tmux session on a private tmux server, running one command."""

    def __init__(
        self,
        command: str,
        *,
        name: str,
        size: tuple[int, int],
        budget: float,
        record: Path | None = None,
    ) -> None:
        """`record` receives every byte the command writes to the terminal (`pipe-pane`, set up
        in the same tmux call that creates the pane; `command` should wait for the file).
        Every wait ends within `budget` seconds of now."""
        self.server = f"hotline-e2e-{os.getpid()}-{name}"
        self.target = name
        self.size = size
        self.deadline = time.monotonic() + budget
        self.record = record
        self.escaped = 0.0  # when the last Escape was sent
        width, height = size
        options = ["set-option", "-t", name, "remain-on-exit", "on"]
        if record is not None:
            options += [";", "pipe-pane", "-o", "-t", name, f"cat >> {shlex.quote(str(record))}"]
        try:
            self.tmux(
                "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command, ";", *options
            )
        except AssertionError:
            self.close()  # a pane waiting for a recording that never starts
            raise

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
        """Keys by name (`Enter`, `C-s`, `Escape`, `Tab`) or single characters. A key after an
        Escape waits `ESCAPE_PAUSE` after it, as a person's next key does: sooner, the terminal
        reads the two as one alt+key."""
        batch: list[str] = []
        for name in names:
            batch.append(name)
            if name == "Escape":
                self._send(*batch)
                batch = []
        if batch:
            self._send(*batch)

    def type(self, text: str) -> None:
        self._send("-l", text)

    def _send(self, *args: str) -> None:
        time.sleep(max(0.0, self.escaped + ESCAPE_PAUSE - time.monotonic()))
        self.tmux("send-keys", "-t", self.target, *args)
        if args[-1] == "Escape":
            self.escaped = time.monotonic()

    def paste(self, text: str) -> None:
        """`text` pasted as a terminal pastes it (bracketed when the program asked for it)."""
        self.tmux("set-buffer", "-b", "e2e", text)
        self.tmux("paste-buffer", "-p", "-d", "-b", "e2e", "-t", self.target)

    def screen(self) -> str:
        """The pane's text as a dispatcher sees it (no -e: no escape sequences of tmux's own)."""
        return self.tmux("capture-pane", "-p", "-t", self.target)

    def raw(self, until: bytes) -> bytes:
        """What the pane's program wrote to the terminal, once the recording holds `until`."""
        assert self.record is not None, "this terminal records nothing"
        end = min(time.monotonic() + 10, self.deadline)
        while until not in (data := self.record.read_bytes() if self.record.exists() else b""):
            if time.monotonic() > end:
                raise AssertionError(f"the recording never got {until!r}; it ends with {data[-300:]!r}")
            time.sleep(0.1)
        return data

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


def queue_bar(shot: str) -> str:
    return shot.splitlines()[0].rstrip() if shot else ""
