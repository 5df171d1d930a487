"""Small real HTTP servers on 127.0.0.1 that misbehave on purpose, for the client's tests.

A `FaultServer` listens on a free port and hands every request it reads (one per connection)
to a scripted handler, which writes raw bytes: a canned answer, half an answer, nothing at
all, an event stream. Nothing here touches httpx: the client is tested over real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Self

import orjson


@dataclass
class Hit:
    """One request as the server read it. Header names are lower-case."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target}"


@dataclass
class Conn:
    """What a handler gets: the request, its number (0-based) and the raw streams."""

    hit: Hit
    index: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


Handler = Callable[[Conn], Awaitable[None]]


@dataclass
class FaultServer:
    """``async with FaultServer(handler) as server:`` → ``server.url``, ``server.hits``."""

    handler: Handler
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            hit = await read_request(reader)
            if hit is not None:
                self.hits.append(hit)
                await self.handler(Conn(hit, len(self.hits) - 1, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Our own __aexit__ stops hung handlers; end quietly (asyncio.streams logs a
            # cancelled connection task as an error on Python 3.11).
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> Hit | None:
    """Read one HTTP/1.1 request (head and Content-Length body); None on an empty connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Hit(method, target, headers, body)


def response(
    status: int,
    body: bytes | object = b"",
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection; a non-bytes body becomes JSON."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        f"Content-Length: {len(raw)}",
        "Connection: close",
    ]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + raw


def script(*answers: bytes) -> Handler:
    """A handler sending `answers` in turn, one per request; the last one repeats."""

    async def handle(conn: Conn) -> None:
        await conn.send(answers[min(conn.index, len(answers) - 1)])

    return handle


def sequence(*handlers: Handler) -> Handler:
    """A handler delegating request *n* to `handlers[n]`; the last one repeats."""

    async def handle(conn: Conn) -> None:
        await handlers[min(conn.index, len(handlers) - 1)](conn)

    return handle


async def hang(conn: Conn) -> None:
    """Accept the request and never answer."""
    await asyncio.sleep(3600)


async def drop(conn: Conn) -> None:
    """Read the request and close the connection without a byte of answer."""


def trickle(every: float, total: int = 100_000) -> Handler:
    """Promise a long body and send it one byte at a time, `every` seconds apart."""

    async def handle(conn: Conn) -> None:
        await conn.send(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n".encode()
        )
        for _ in range(total):
            await conn.send(b" ")
            await asyncio.sleep(every)

    return handle


SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\r\n"


def sse_event(seq: int) -> bytes:
    """One `change` event as the central API sends it."""
    return f'id: {seq}\nevent: change\ndata: {{"seq": {seq}}}\n\n'.encode()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def header_values(hits: Sequence[Hit], name: str) -> list[str | None]:
    """The value of header `name` in each hit (None when absent)."""
    return [hit.headers.get(name.lower()) for hit in hits]
