"""The storm drill (bench/storm.py) at a small size: it runs, prints its JSON, clears the queue.

No timing is asserted: the numbers depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "storm.py"

KEYS = {
    "requests",
    "rules",
    "auto_dispatch_categories",
    "clusters_merged",
    "auto_dispatched",
    "groups",
    "keys",
    "keystrokes_per_request",
    "cleared",
    "left",
    "naive_requests",
    "naive_keystrokes_per_request",
    "cursor_moves",
    "cursor_move_p50_ms",
    "cursor_move_p99_ms",
    "arrived_during_moves",
    "elapsed_s",
    "load",
}


@pytest.mark.timeout(660)
def test_a_small_storm_drill_clears_every_request() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--count", "150", "--moves", "10", "--naive", "3", "--rate", "20"],
        capture_output=True,
        text=True,
        timeout=640,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    result = json.loads(lines[0])
    assert set(result) >= KEYS, KEYS - set(result)
    assert result["requests"] == 150 and result["cleared"] == 150 and result["left"] == 0
    assert result["clusters_merged"] > 0 and result["auto_dispatched"] > 0 and result["groups"] > 0
    assert result["keys"] > 0 and result["naive_requests"] == 3
    assert result["cursor_moves"] + result["cursor_moves_lost"] == 10
