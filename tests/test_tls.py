"""https end to end, and the warning when a token would travel in clear text.

`hotline serve --tls-cert --tls-key` runs as a real process on 127.0.0.1 with a certificate from a
throwaway authority (trustme); the client trusts it through `ca_file` (HOTLINE_CA_FILE for the
command) and nothing else. A key file other users may read is refused. The warning is decided from
the URL alone (`is_loopback_url`): no test sends anything to a host other than 127.0.0.1 (the
command's warning is seen through a proxy on 127.0.0.1, which never resolves the remote name).
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from app_support import until
from faultservers import Conn, FaultServer, closed_port, response
from test_sync_cli import environment, hotline
from test_sync_support import hotline_script
from textual.message import Message
from textual.notifications import Notification, Notify

from api_client import transport_security
from api_client.client import HotlineClient
from api_client.errors import Unreachable
from api_client.models import Role
from api_client.transport_security import (
    InsecureTransportWarning,
    cleartext_host,
    insecure_transport,
    is_loopback_url,
)
from central_api.sql_store import SqlStore
from tui.core.i18n import Strings
from tui.core.session import Session
from tui.ui.app import HotlineApp


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8345", True),
        ("http://127.8.9.10", True),
        ("http://localhost:8345/", True),
        ("http://LOCALHOST.", True),
        ("http://[::1]:8345", True),
        ("http://[::ffff:127.0.0.1]:1", True),
        ("http://10.1.2.3:8345", False),
        ("http://192.168.0.7", False),
        ("http://[2001:db8::1]:8345", False),
        ("http://[::ffff:10.0.0.1]", False),
        ("http://central.example", False),
        ("http://localhost.example.com", False),
        ("http://127.0.0.1.example.com", False),
        ("http://user:pw@10.1.2.3", False),
        ("http://", False),
        ("not a url", False),
    ],
)
def test_loopback_is_decided_from_the_url(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_which_addresses_send_a_token_in_clear_text() -> None:
    assert cleartext_host("http://10.1.2.3:8345") == "10.1.2.3:8345"
    assert cleartext_host("http://ops:secret@central.example:80/") == "central.example:80"  # no password
    for safe in ("https://10.1.2.3", "HTTPS://central.example", "http://127.0.0.1:8345", "http://[::1]"):
        assert cleartext_host(safe) is None and insecure_transport(safe) is None
    said = insecure_transport("http://10.1.2.3:8345")
    assert said is not None and "plain http to 10.1.2.3:8345" in said and "https://" in said


async def test_the_client_warns_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a client sends nothing; the first one with a token for plain http to another host
    warns, no later one does; https, this machine and no token never warn."""
    monkeypatch.setattr(transport_security, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet = [
            HotlineClient("https://10.1.2.3", "tok"),
            HotlineClient("http://127.0.0.1:9", "tok"),
            HotlineClient("http://localhost:9", "tok"),
            HotlineClient("http://10.1.2.3", None),
        ]
        assert caught == []
        loud = [HotlineClient("http://10.1.2.3:8345", "tok"), HotlineClient("http://10.9.9.9", "tok")]
    assert [w.category for w in caught] == [InsecureTransportWarning]
    assert "plain http to 10.1.2.3:8345" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the code that made the client
    for client in quiet + loud:
        await client.aclose()


async def test_the_command_says_the_warning_once_on_stderr(tmp_path: Path) -> None:
    """`hotline whoami` with a remote plain-http address, through a proxy on 127.0.0.1."""

    async def proxy(conn: Conn) -> None:
        if conn.hit.target.endswith("/v1/health"):
            await conn.send(response(200, {"status": "ok", "head": 3}))
        else:
            await conn.send(response(200, {"name": "王", "role": "dispatcher"}))

    async with FaultServer(proxy) as server:
        env = environment(tmp_path, "http://central.example.test:8345", "tok-1")
        env = {k: v for k, v in env.items() if k.lower() not in {"https_proxy", "all_proxy", "no_proxy"}}
        env |= {"HTTP_PROXY": server.url, "http_proxy": server.url}
        proc = await asyncio.create_subprocess_exec(
            hotline_script(),
            "whoami",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    assert [hit.target for hit in server.hits] == [
        "http://central.example.test:8345/v1/me",
        "http://central.example.test:8345/v1/health",
    ]
    assert out.decode().startswith("王 (dispatcher) on http://central.example.test:8345")
    assert err.decode().splitlines() == [
        "hotline: warning: the token is sent over plain http to central.example.test:8345: anyone on the "
        "network path can read it; use an https:// address (the server: hotline serve --tls-cert/--tls-key)"
    ]


async def test_the_app_says_it_in_a_notice(tmp_path: Path) -> None:
    """The app on a remote plain-http address warns in a notice (its words, in its language); its
    client is pointed at a closed port on 127.0.0.1, so nothing leaves this machine."""
    session = Session.open(tmp_path / "cache", api_url="http://10.1.2.3:8345", dispatcher="王", token="tok-1")
    port = closed_port()
    notices: list[Notification] = []

    def keep(message: Message) -> None:
        if isinstance(message, Notify):
            notices.append(message.notification)

    app = HotlineApp(
        session,
        strings=Strings("en"),
        client_factory=lambda _url, token: HotlineClient(f"http://127.0.0.1:{port}", token, attempts=1),
    )
    try:
        async with app.run_test(message_hook=keep) as pilot:
            await until(pilot, lambda: any("plain http" in n.message for n in notices), what="the notice")
            await pilot.pause(0.2)
    finally:
        session.close()
    said = [n for n in notices if "plain http" in n.message]
    assert [n.message for n in said] == [app.strings("app.insecure_transport", host="10.1.2.3:8345")]
    assert said[0].severity == "warning" and said[0].markup is False


# -- https --------------------------------------------------------------------------------------


@dataclass
class Tls:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    where = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    made = Tls(where / "ca.pem", where / "cert.pem", where / "key.pem")
    authority.cert_pem.write_to_path(str(made.ca))
    for pem in issued.cert_chain_pems:
        pem.write_to_path(str(made.cert), append=True)
    issued.private_key_pem.write_to_path(str(made.key))
    made.key.chmod(0o600)
    return made


@dataclass
class Served:
    url: str
    token: str


@pytest.fixture
def https_server(tls: Tls, tmp_path: Path) -> Iterator[Served]:
    db = tmp_path / "hotline.db"
    store = SqlStore.open(str(db))
    token = store.create_token("陈主任", Role.supervisor)
    store.close()
    args = ["serve", "--db", str(db), "--port", "0", "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    proc = subprocess.Popen(
        [hotline_script(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"hotline central API listening on (https://127\.0\.0\.1:\d+)\n", line)
        assert match, (line, proc.stderr.read() if proc.stderr and proc.poll() is not None else "")
        yield Served(match.group(1), token)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_the_client_reaches_an_https_server_through_its_private_authority(
    https_server: Served, tls: Tls
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureTransportWarning)  # https: no warning
        async with HotlineClient(https_server.url, https_server.token, ca_file=tls.ca) as client:
            assert (await client.me()).name == "陈主任"
            assert await client.health() == 0
        async with HotlineClient(https_server.url, https_server.token, attempts=1, deadline=5.0) as client:
            with pytest.raises(Unreachable):  # the system's authorities do not know this one
                await client.me()
    plain = https_server.url.replace("https://", "http://")
    async with HotlineClient(plain, https_server.token, attempts=1, deadline=5.0) as client:
        with pytest.raises(Unreachable):  # the https port speaks no plain http
            await client.me()
    with pytest.raises(ValueError, match="cannot read the CA file"):
        HotlineClient(https_server.url, https_server.token, ca_file=tls.ca.parent / "missing.pem")


def test_the_command_trusts_the_configured_authority(https_server: Served, tls: Tls, tmp_path: Path) -> None:
    env = environment(tmp_path, https_server.url, https_server.token)
    refused = hotline("whoami", env=env)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert len(refused.stderr.splitlines()) == 1 and "certificate" in refused.stderr.lower(), refused.stderr
    trusted = hotline("whoami", env=env | {"HOTLINE_CA_FILE": str(tls.ca)})
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith(f"陈主任 (supervisor) on {https_server.url}")
    assert trusted.stderr == ""


def test_serve_refuses_a_key_others_may_read_and_a_half_pair(tls: Tls, tmp_path: Path) -> None:
    db = str(tmp_path / "hotline.db")
    exposed = tmp_path / "exposed-key.pem"
    exposed.write_bytes(tls.key.read_bytes())
    exposed.chmod(0o644)
    env = environment(tmp_path, "http://127.0.0.1:9", None)
    serve = ("serve", "--db", db, "--port", "0")

    shared = hotline(*serve, "--tls-cert", str(tls.cert), "--tls-key", str(exposed), env=env)
    assert shared.returncode == 1
    assert shared.stderr == (
        f"hotline: the TLS key file {exposed} is readable by other users (mode 0644); "
        f"run: chmod 600 {exposed}\n"
    )
    half = hotline(*serve, "--tls-cert", str(tls.cert), env=env)
    assert half.returncode == 1
    assert half.stderr.startswith("hotline: --tls-cert and --tls-key go together")
    other = trustme.CA().issue_cert("127.0.0.1")
    wrong = tmp_path / "wrong-key.pem"
    other.private_key_pem.write_to_path(str(wrong))
    wrong.chmod(0o600)
    mismatched = hotline(*serve, "--tls-cert", str(tls.cert), "--tls-key", str(wrong), env=env)
    assert mismatched.returncode == 1 and "Traceback" not in mismatched.stderr
    assert mismatched.stderr.startswith(f"hotline: cannot load the TLS certificate {tls.cert} with its key")
    assert not (tmp_path / "hotline.db").exists()  # refused before anything was opened
