"""bench/load.py at a small size, on SQLite and on PostgreSQL (a throwaway cluster it starts): it
runs, exits 0 and prints one JSON line with every key the README's table is read from; every
write was answered and every client came to hold it. No timing is asserted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

LOAD = Path(__file__).resolve().parent.parent / "bench" / "load.py"

KEYS = {
    "store",
    "processes",
    "clients",
    "rate",
    "seconds",
    "writes",
    "writes_done",
    "writes_done_per_s",
    "write_p50_ms",
    "write_p99_ms",
    "visible_p50_ms",
    "visible_p99_ms",
    "unseen",
    "errors",
    "timeouts",
    "pulls",
    "server_cpu_pct",
    "server_rss_mb",
    "generator_cpu_pct",
    "load",
}


def run_load(*args: str, timeout: float) -> dict[str, Any]:
    """Run bench/load.py in a process group of its own (killed whole on timeout); its one line."""
    proc = subprocess.Popen(
        [sys.executable, str(LOAD), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"bench/load.py did not finish in {timeout} s\n{out}\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    (line,) = out.strip().splitlines()
    result: dict[str, Any] = json.loads(line)
    return result


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("store", "processes"), [("sqlite", 1), ("postgres", 2)])
def test_every_write_is_done_and_seen_by_every_client(store: str, processes: int) -> None:
    args = [
        "--clients",
        "5",
        "--rate",
        "5",
        "--seconds",
        "3",
        "--store",
        store,
        "--processes",
        str(processes),
    ]
    result = run_load(*args, timeout=150)
    assert set(result) >= KEYS, KEYS - set(result)
    assert (result["store"], result["processes"], result["clients"]) == (store, processes, 5)
    assert result["streams"] == 5
    assert result["writes"] == 15
    assert result["writes_done"] == 15, result["error_kinds"]
    assert result["unseen"] == 0
    for key in ("write_p99_ms", "visible_p99_ms", "server_cpu_pct", "server_rss_mb", "generator_cpu_pct"):
        assert isinstance(result[key], int | float) and result[key] >= 0, (key, result[key])
