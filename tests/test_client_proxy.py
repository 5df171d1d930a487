"""The client honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment.

httpx drops proxy handling silently as soon as a custom transport is passed; these tests run a
tiny real proxy on 127.0.0.1 and look at what reaches it.
"""

from __future__ import annotations

import pytest
from faultservers import Conn, FaultServer, response, script

from api_client import HotlineClient, Unreachable
from api_client.transport_security import InsecureTransportWarning

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
IDENTITY = {"name": "disp-1", "role": "dispatcher"}


@pytest.fixture(autouse=True)
def _clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def proxy(conn: Conn) -> None:
    """A proxy that refuses every tunnel and answers plain-http requests itself."""
    if conn.hit.method == "CONNECT":
        await conn.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    else:
        await conn.send(response(200, IDENTITY))


def client(url: str) -> HotlineClient:
    return HotlineClient(url, "tok-9", deadline=5.0, attempts=2, wait_initial=0.01, wait_jitter=0.01)


async def test_https_goes_through_https_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FaultServer(proxy) as server:
        monkeypatch.setenv("HTTPS_PROXY", server.url)
        async with client("https://central.example.test") as api:
            with pytest.raises(Unreachable) as caught:
                await api.me()
    assert server.hits, "the proxy saw nothing: HTTPS_PROXY was ignored"
    assert server.hits[0].request_line == "CONNECT central.example.test:443"
    assert "proxy" in caught.value.message
    assert "https://central.example.test" in caught.value.message


async def test_http_goes_through_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FaultServer(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        with pytest.warns(InsecureTransportWarning, match="central.example.test"):  # a non-local host
            api = client("http://central.example.test")
        async with api:
            identity = await api.me()
    assert identity.name == "disp-1"
    assert [hit.request_line for hit in server.hits] == ["GET http://central.example.test/v1/me"]
    assert server.hits[0].headers["authorization"] == "Bearer tok-9"


async def test_lowercase_variables_and_a_base_path_work_too(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FaultServer(proxy) as server:
        monkeypatch.setenv("http_proxy", server.url)
        async with client("http://central.example.test/hotline") as api:
            await api.me()
    assert [hit.request_line for hit in server.hits] == ["GET http://central.example.test/hotline/v1/me"]


async def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with (
        FaultServer(proxy) as proxy_server,
        FaultServer(script(response(200, IDENTITY))) as central,
    ):
        monkeypatch.setenv("HTTP_PROXY", proxy_server.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with client(central.url) as api:
            await api.me()
    assert proxy_server.hits == []
    assert [hit.request_line for hit in central.hits] == ["GET /v1/me"]
