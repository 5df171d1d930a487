"""The benchmarks (bench/cache.py, bench/queue.py, bench/duplicates.py) at a small size: each runs,
exits 0 and prints the JSON its docstring documents, with every key the targets are read from.

No timing is asserted: the numbers depend on the machine. Only the duplicate finder's precision
and recall are, for the app's own method: they depend on the generator and the algorithm alone.
CI installs only `.[test]`: the `bench` extra (jieba, rapidfuzz) may be missing, and the
duplicates benchmark is also run with jieba hidden.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

CACHE_KEYS = {"size", "load_s", "action_p50_ms", "action_p99_ms", "pull_per_s", "naive_action_p99_ms"}
QUEUE_KEYS = {
    "size",
    "first_paint_s",
    "refilter_p50_ms",
    "refilter_p99_ms",
    "cursor_move_p99_ms",
    "bytes_per_cursor_move",
    "rss_mb",
    "datatable_first_paint_s",
    "datatable_refilter_p99_ms",
}
METRIC_KEYS = {"precision", "recall", "elapsed_s", "clusters", "incidents"}


def run_bench(script: str, *args: str, timeout: float, env: dict[str, str] | None = None) -> str:
    """Run `bench/<script>` with `args`; its stdout. The script runs in its own process group,
    killed whole on timeout: cache.py starts a server, queue.py a child under a pty."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"bench/{script} did not finish in {timeout} s\n{out}\n{err[-3000:]}")
    assert proc.returncode == 0, err[-3000:]
    return out


def json_lines(out: str) -> list[dict[str, Any]]:
    lines = out.strip().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(p, dict) for p in parsed), out
    return parsed


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_non_negative(result: dict[str, Any], keys: set[str]) -> None:
    assert set(result) >= keys, keys - set(result)
    for key in keys - {"size"}:
        assert is_number(result[key]) and result[key] >= 0, (key, result[key])


@pytest.mark.timeout(150)
def test_cache_bench_prints_one_line_per_size() -> None:
    out = run_bench("cache.py", "--sizes", "1000", "--actions", "20", "--naive-actions", "3", timeout=120)
    (result,) = json_lines(out)
    check_non_negative(result, CACHE_KEYS | {"speedup_p99"})
    assert result["size"] == 1000
    assert result["pull_per_s"] > 0 and result["action_p99_ms"] >= result["action_p50_ms"] > 0


@pytest.mark.timeout(180)
def test_queue_bench_prints_one_line_per_size() -> None:
    out = run_bench("queue.py", "--sizes", "1000", "--samples", "8", "--datatable-samples", "3", timeout=150)
    (result,) = json_lines(out)
    check_non_negative(result, QUEUE_KEYS)
    assert result["size"] == 1000
    assert isinstance(result["bytes_per_cursor_move"], int)
    assert result["rss_mb"] > 0 and result["first_paint_s"] > 0 and result["datatable_first_paint_s"] > 0
    assert result["refilter_p99_ms"] >= result["refilter_p50_ms"]


@pytest.mark.timeout(60)
def test_queue_bench_refuses_an_empty_queue_rather_than_waiting_for_a_paint() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "queue.py"), "--sizes", "0", "--no-pty", "--no-datatable"],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == "", done.stderr[-3000:]
    assert "at least 1" in done.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize("jieba", ["as installed", "hidden"])
def test_duplicates_bench_reports_precision_and_recall(jieba: str, tmp_path: Path) -> None:
    env = None
    if jieba == "hidden":  # as in CI, where the `bench` extra is not installed
        (tmp_path / "jieba.py").write_text(
            "raise ModuleNotFoundError(\"No module named 'jieba'\", name='jieba')\n"
        )
        path = os.environ.get("PYTHONPATH")
        env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), path]))}
    out = run_bench(
        "duplicates.py", "--count", "1000", "--hours", "0.6", "--seeds", "2023,7", "--repeat", "1",
        timeout=100, env=env,
    )  # fmt: skip
    report = json.loads(out)  # one (indented) JSON object
    assert isinstance(report, dict)
    assert report["count"] == 1000 and report["app_method"] == "ngram"
    labels = ["seed 2023 (tuned on)", "seed 7 (held out)"]
    assert set(report) >= set(labels), report.keys()
    for label in labels:
        methods = report[label]
        assert set(methods) >= {"ngram", "jieba"}, methods.keys()
        for name, metrics in methods.items():
            if isinstance(metrics, str):  # a method whose packages are missing
                assert name == "jieba" and "not measured" in metrics, (name, metrics)
                continue
            check_non_negative(metrics, METRIC_KEYS)
            assert 0 <= metrics["precision"] <= 1 and 0 <= metrics["recall"] <= 1, (name, metrics)
            assert metrics["incidents"] > 0 and metrics["clusters"] > 0
        # The targets for the app's method: a property of the generator and the algorithm.
        app = methods["ngram"]
        assert app["precision"] >= 0.9 and app["recall"] >= 0.8, (label, app)
        if jieba == "hidden":
            assert isinstance(methods["jieba"], str)
