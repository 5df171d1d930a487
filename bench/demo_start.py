"""How long `hotline demo` takes to show its first screen, cold and warm.

    python bench/demo_start.py [--count 1000] [--seed 12345] [--runs 3]

Runs the installed `hotline demo --lang en` in a private tmux server (100x30, xterm-256color), as
a user would start it, with a fresh HOME (so an empty user cache dir) and TMPDIR, and reads the
pane every 20 ms. Times are from the moment the command is started:
- `first_paint_s`: the queue bar is on the screen: the app's first painted queue (target < 2 s);
- `online_s`: the status line says the app reached the demo's server;
- `queue_s`: the queue shows every seeded request (`6 All <count>`) with its first row.
`cold` is the first run in a new HOME; `warm` a later run in the same one (the demo keeps no
seeded data between runs: a warm start differs only by what the operating system has cached).
With `--runs N` each is the median of N runs (a cold run gets a new HOME each time). Prints one
JSON object (one line), with the load average before the runs (the machine may be shared).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This folder holds queue.py, which would shadow the standard library's `queue` for every
# import below: keep the folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time

SIZE = (100, 30)
POLL = 0.02
TIMEOUT = 120.0
EXITED = "hotline demo exited with status"


def hotline_command() -> list[str]:
    """The installed console script next to this interpreter (else on PATH)."""
    script = Path(sys.executable).parent / "hotline"
    if script.exists():
        return [str(script)]
    found = shutil.which("hotline")
    if not found:
        raise SystemExit("the hotline command is not installed: pip install .")
    return [found]


class Pane:
    """One tmux session on a private tmux server."""

    def __init__(self, command: str, name: str) -> None:
        self.server = f"hotline-bench-demo-{os.getpid()}-{name}"
        width, height = SIZE
        self.tmux(
            "new-session", "-d", "-s", "demo", "-x", str(width), "-y", str(height), command,
            ";", "set-option", "-t", "demo", "remain-on-exit", "on",
        )  # fmt: skip

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-u", "-L", self.server, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            env={k: v for k, v in os.environ.items() if k != "TMUX"},
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "demo")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.server, "kill-server"], capture_output=True, timeout=10, check=False
        )


def start_once(home: Path, count: int, seed: int, name: str) -> dict[str, float]:
    """One `hotline demo` from the command to its first screen, then `q`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "TMPDIR": str(home),  # the demo's temp dir: left behind only if a run fails
        "HOTLINE_CONFIG": str(home / "config.toml"),
    }
    demo = ["demo", "--lang", "en", "--count", str(count), "--seed", str(seed)]
    command = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *hotline_command(), *demo])
    script = f'{command}; echo "{EXITED} $?"'
    started = time.perf_counter()
    pane = Pane(shlex.join(["sh", "-c", script]), name)
    times: dict[str, float] = {}
    try:
        while time.perf_counter() - started < TIMEOUT:
            shot = pane.screen()
            now = time.perf_counter() - started
            lines = shot.splitlines()
            bar = lines[0].rstrip() if lines else ""
            if ended(shot):
                raise RuntimeError(f"hotline demo ended before its first screen:\n{shot}")
            if "first_paint_s" not in times and " 1 New " in f" {bar} ":
                times["first_paint_s"] = now
            if (
                "queue_s" not in times
                and bar.endswith(f" 6 All {count}")
                and len(lines) > 3
                and lines[3].startswith("R-")
            ):
                times["queue_s"] = now
            status = lines[SIZE[1] - 2] if len(lines) >= SIZE[1] - 1 else ""
            if "online_s" not in times and "● online" in status:
                times["online_s"] = now
            if len(times) == 3:
                break
            time.sleep(POLL)
        else:
            raise RuntimeError(f"no first screen within {TIMEOUT:.0f} s:\n{pane.screen()}")
        pane.tmux("send-keys", "-t", "demo", "q")
        end = time.perf_counter() + 30
        while not ended(pane.screen()):
            if time.perf_counter() > end:
                raise RuntimeError(f"hotline demo did not end after q:\n{pane.screen()}")
            time.sleep(0.1)
    finally:
        pane.close()
    return times


def ended(shot: str) -> bool:
    return EXITED in shot or "Pane is dead" in shot


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is not installed")
    load = round(os.getloadavg()[0], 2)
    cold: list[dict[str, float]] = []
    warm: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="hotline-bench-demo-") as tmp:
        for run in range(args.runs):
            home = Path(tmp) / f"home-{run}"
            home.mkdir(mode=0o700)
            cold.append(start_once(home, args.count, args.seed, f"cold{run}"))
        home = Path(tmp) / "home-0"
        for run in range(args.runs):
            warm.append(start_once(home, args.count, args.seed, f"warm{run}"))
    result = {
        "load_average": load,
        "count": args.count,
        "seed": args.seed,
        "runs": args.runs,
        "cold": median(cold),
        "warm": median(warm),
        "target_first_paint_s": 2.0,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
