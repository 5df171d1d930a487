"""`central_api.server.run` as a real process: the listening line, the open-file limit logged,
serving, and a prompt clean exit on SIGTERM and SIGINT even with an SSE client connected."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import bearer
from pg_support import Db
from server_helpers import SSEReader

from api_client.models import Role
from central_api.sql_store import SqlStore


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_and_stops_on_signal(tmp_db: Db, sig: signal.Signals) -> None:
    store = SqlStore.open(tmp_db)
    token = store.create_token("ops", Role.dispatcher)
    store.close()
    code = f"from central_api.server import run; run({str(tmp_db)!r}, '127.0.0.1', 0)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"hotline central API listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        url = match.group(1)
        assert httpx.get(f"{url}/v1/health", timeout=30).json() == {"status": "ok", "head": 0}
        assert httpx.get(f"{url}/v1/me", headers=bearer(token), timeout=30).json()["name"] == "ops"
        reader = SSEReader(url, token)
        proc.send_signal(sig)
        assert proc.wait(60) == 0
        # the open stream was ended by the server, not cancelled when the graceful shutdown ran out
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "timeout graceful shutdown exceeded" not in stderr, stderr
        assert "Shutting down" in stderr, stderr  # uvicorn logs to stderr, so the check above can see it
        assert re.search(r"Open files: at most \d+ per process", stderr), stderr
        assert reader.finished.wait(10)
        reader.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_refuses_clearly(tmp_path: Path, tmp_db: Db) -> None:
    from central_api.server import ServeError, run

    with pytest.raises(ServeError, match=r"cannot (open|use) the database"):
        run(str(tmp_path / "no" / "such" / "dir" / "x.db"), "127.0.0.1", 0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(ServeError, match=r"cannot listen on 127\.0\.0\.1"):
            run(str(tmp_db), "127.0.0.1", busy.getsockname()[1])
