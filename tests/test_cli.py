"""The installed `hotline` command: help, serve, token create, whoami."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

SUBCOMMANDS = ("serve", "token", "demo", "whoami", "sync", "status")


def hotline_command() -> list[str]:
    """The installed console script (next to this interpreter), as a user would run it."""
    script = Path(sys.executable).parent / "hotline"
    if script.exists():
        return [str(script)]
    found = shutil.which("hotline")
    assert found, "the hotline command is not installed: pip install ."
    return [found]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*hotline_command(), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_help_lists_every_subcommand() -> None:
    result = run("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout
    for name in ("serve", "demo", "whoami"):
        sub = run(name, "--help")
        assert sub.returncode == 0 and "usage: hotline " + name in sub.stdout
    assert "--role" in run("token", "create", "--help").stdout


def test_the_app_without_a_token_or_a_dispatcher_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_CONFIG"] = str(tmp_path / "none.toml")
    result = run(env=env)
    assert result.returncode == 1
    assert "HOTLINE_TOKEN_FILE" in result.stderr and "HOTLINE_DISPATCHER" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_token_option_anywhere() -> None:
    result = run("whoami", "--token", "secret")
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`hotline serve` as a real subprocess on a free port."""
    port = free_port()
    db = tmp_path / "x.db"
    proc = subprocess.Popen(
        [*hotline_command(), "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe, read to its end below: a full pipe would stall the server
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "listening on" in line or not line:
            break
    assert f"http://127.0.0.1:{port}" in line, (line, proc.poll())
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # the server's log, until it ends
    yield f"http://127.0.0.1:{port}", db
    proc.terminate()
    assert proc.wait(timeout=60) == 0


def test_serve_answers_openapi_and_tokens_work(served: tuple[str, Path], tmp_path: Path) -> None:
    url, db = served
    spec = httpx.get(f"{url}/openapi.json", timeout=5).json()
    assert "/v1/requests/{request_id}/actions" in spec["paths"] or any("actions" in p for p in spec["paths"])

    created = run("token", "create", "张敏", "--role", "supervisor", "--db", str(db))
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(token) >= 32 and "\n" not in token
    me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.json() == {"name": "张敏", "role": "supervisor", "unit": None}

    token_file = tmp_path / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env |= {
        "HOTLINE_API_URL": url,
        "HOTLINE_TOKEN_FILE": str(token_file),
        "HOTLINE_CONFIG": str(tmp_path / "none"),
    }
    who = run("whoami", env=env)
    assert who.returncode == 0, who.stderr
    assert "张敏 (supervisor)" in who.stdout

    token_file.chmod(0o644)
    refused = run("whoami", env=env)
    assert refused.returncode == 1 and "chmod 600" in refused.stderr


def test_whoami_reports_an_unreachable_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env |= {
        "HOTLINE_API_URL": f"http://127.0.0.1:{free_port()}",
        "HOTLINE_TOKEN": "whatever",
        "HOTLINE_CONFIG": str(tmp_path / "none"),
    }
    result = run("whoami", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("hotline: ") and "Traceback" not in result.stderr


def test_serve_refuses_a_bad_database_clearly(tmp_path: Path) -> None:
    result = run("serve", "--db", str(tmp_path / "no" / "such" / "dir" / "x.db"), "--port", str(free_port()))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "hotline:" in result.stderr


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_demo(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    """`hotline demo --serve-only ARGS` started; its API URL and token file once it says them."""
    proc = subprocess.Popen(
        [*hotline_command(), "demo", "--serve-only", *args, "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one pipe, read to its end below: a full pipe would stall the demo
        text=True,
        # ctrl+c as at a terminal, even when the tests run in the background (where a shell
        # starts them with SIGINT ignored, and a child would inherit that)
        preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None
    url = token_file = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (url and token_file):
        line = proc.stdout.readline()
        if not line:
            break
        if "HOTLINE_API_URL=" in line:
            url = line.split("=", 1)[1].strip()
        if "HOTLINE_TOKEN_FILE=" in line:
            token_file = line.split("=", 1)[1].strip()
    assert url and token_file, proc.poll()
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # the server's log, until it ends
    return proc, url, token_file


def test_demo_serves_seeded_data_and_cleans_up() -> None:
    proc, url, token_file = start_demo("--count", "30")
    token_path = Path(token_file)
    assert token_path.stat().st_mode & 0o777 == 0o600
    assert token_path.parent.stat().st_mode & 0o777 == 0o700
    stats = httpx.get(
        f"{url}/v1/stats", headers={"Authorization": f"Bearer {token_path.read_text().strip()}"}, timeout=30
    )
    assert stats.json()["total"] == 30
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert not token_path.parent.exists()  # the demo token does not outlive the demo


@pytest.mark.timeout(300)
def test_demo_storm_adds_requests_while_it_runs() -> None:
    proc, url, token_file = start_demo("--count", "10", "--storm", "600")
    headers = {"Authorization": f"Bearer {Path(token_file).read_text().strip()}"}
    totals = [httpx.get(f"{url}/v1/stats", headers=headers, timeout=30).json()["total"]]
    deadline = time.monotonic() + 180  # a bounded wait, long enough for a loaded machine
    while totals[-1] <= 12 and time.monotonic() < deadline:
        time.sleep(0.5)
        totals.append(httpx.get(f"{url}/v1/stats", headers=headers, timeout=30).json()["total"])
    assert totals[-1] > 12, totals  # the 10 seeded requests and then the storm's
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert not Path(token_file).parent.exists()
