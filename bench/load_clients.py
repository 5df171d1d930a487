"""The streaming clients of `bench/load.py`: dispatchers' sync engines, lean enough that one
asyncio process holds hundreds of them.

    python bench/load_clients.py CONFIG      (CONFIG: a JSON file of mode 600 that load.py writes)

Each client holds `GET /v1/events` with a token and keeps a cursor, as the app's sync engine
does. A carried page (`event: changes`, a `/v1/changes` page as lines, docs/api.md "Events")
that starts at or before the cursor and ends past it is applied; anything else past the cursor
(a `change` notice, a page after a gap, a page with `has_more`) makes the client wait a random
jitter (`PULL_JITTER_S`) and pull `/v1/changes?since=cursor` pages until `has_more` is false.
A carried page's `since` is its `since` field when it has one, else the id of the stream's
previous event (or the `Last-Event-ID` sent).

HTTP/1.1 is spoken by hand over asyncio streams (`Connection`, `read_head`, `read_body`,
`Dechunker`): httpx and httpx-sse cost more per event than the server does. Pulls ask for the
page as lines (as the app does) and read only the first line.

With load.py: stdout `ready {"connected": N}` once every stream is open (or `connect_s` has
passed); then stdin `drain SEQ SECONDS`: wait until every client holds SEQ (or SECONDS pass);
stdout `result {...}`: the counts, and `worst`, for each seq after `base` up to SEQ, the time
(`time.monotonic()`, one clock for every process) the last client came to hold it (None: some
client never did). The worker ends by itself at `end_by`, and when its stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

#: The longest random wait before a pull after a notice (the app's sync engine waits as long).
PULL_JITTER_S = 0.25
#: A pull or a write with no answer after this long is a timeout (the app client's read timeout).
REQUEST_TIMEOUT_S = 10.0
#: Changes a pull asks for (the sync engine's page size).
PAGE_SIZE = 500
#: Streams that may be connecting at once (so 700 clients do not all knock at the same instant).
CONNECTING_AT_ONCE = 50
ACCEPT_LINES = b"Accept: application/x-ndjson, application/json;q=0.5\r\n"


class HttpError(Exception):
    """A malformed answer (the server's HTTP, or a page that breaks the feed's rules)."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes]]:
    """The status and the headers (names in lower case) of the next response."""
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HttpError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def read_body(reader: asyncio.StreamReader, headers: dict[bytes, bytes]) -> bytes:
    """The body after `headers`: by Content-Length, chunked, or up to the end of the connection."""
    length = headers.get(b"content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers: the empty line
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    return await reader.read()


class Dechunker:
    """The payload of a chunked body, fed as it arrives."""

    __slots__ = ("_buf", "_left", "_skip", "ended")

    def __init__(self) -> None:
        self._buf = b""
        self._left = 0  # payload bytes of the current chunk still to come
        self._skip = 0  # bytes of the CRLF after a chunk still to skip
        self.ended = False

    def feed(self, data: bytes) -> bytes:
        buf = self._buf + data if self._buf else data
        out = []
        pos, end = 0, len(buf)
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._skip = 2
                continue
            if self._skip:
                take = min(self._skip, end - pos)
                pos += take
                self._skip -= take
                continue
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                break
            size = int(buf[pos:line_end].split(b";", 1)[0], 16)
            pos = line_end + 2
            if size == 0:
                self.ended = True
                pos = end
                break
            self._left = size
        self._buf = buf[pos:]
        return b"".join(out)


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server has closed it."""

    __slots__ = ("_host_header", "host", "port", "reader", "writer")

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: bytes, target: bytes, headers: bytes = b"", body: bytes = b""
    ) -> Response:
        """Send one request and read its answer. A connection the server closed while idle is
        reopened and the request sent again (it had not reached the server)."""
        message = b"%b %b HTTP/1.1\r\n%b%b" % (method, target, self._host_header, headers)
        if body or method == b"POST":
            message += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        message += b"\r\n" + body
        for attempt in (1, 2):
            reused = self.writer is not None
            if self.reader is None or self.reader.at_eof():
                self.close()
                reused = False
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(message)
                status, answer_headers = await read_head(self.reader)
                answer = await read_body(self.reader, answer_headers)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                self.close()
                stale = isinstance(exc, ConnectionError) or not exc.partial
                if reused and stale and attempt == 1:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if answer_headers.get(b"connection", b"").lower() == b"close":
                self.close()
            return Response(status, answer_headers, answer)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Stats:
    """What one worker's clients did."""

    notices: int = 0
    carried: int = 0  # carried pages applied
    gaps: int = 0  # carried pages that did not follow the cursor (then pulled)
    pulls: int = 0
    pull_timeouts: int = 0
    reconnects: int = 0
    event_bytes: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class Client:
    """One dispatcher's sync engine, reduced to its cursor."""

    __slots__ = (
        "auth",
        "conn",
        "connected",
        "cursor",
        "cursors",
        "host",
        "port",
        "shared",
        "stats",
        "target",
        "times",
        "wake",
    )

    def __init__(self, host: str, port: int, token: str, base: int, stats: Stats, shared: Connecting) -> None:
        self.host, self.port = host, port
        self.auth = b"Authorization: Bearer %b\r\n" % token.encode()
        self.conn = Connection(host, port)  # for pulls; the stream has its own
        self.cursor = self.target = base
        self.times: list[float] = []  # when the cursor moved, and to where
        self.cursors: list[int] = []
        self.stats = stats
        self.shared = shared
        self.wake = asyncio.Event()
        self.connected = False

    # -- the stream ----------------------------------------------------------------------------
    async def follow(self) -> None:
        """Hold the event stream, reconnecting (with backoff) whenever it ends."""
        failures = 0
        while True:
            try:
                await self._stream_once()
                failures = 0
            except Refused as exc:
                self.stats.errors[f"stream_{exc.status}"] += 1
                failures += 1
                await asyncio.sleep(min(exc.retry_after, 5.0) * random.random())
            except Exception as exc:  # a broken connection or a malformed event: counted, reconnect
                self.stats.errors[f"stream_{type(exc).__name__}"] += 1
                failures += 1
            self.stats.reconnects += 1
            await asyncio.sleep(min(5.0, 0.1 * 2 ** min(failures, 6)) * (0.5 + random.random()))

    async def _stream_once(self) -> None:
        await self.shared.slots.acquire()
        admitted = False
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except BaseException:
            self.shared.slots.release()
            raise
        try:
            last = self.cursor
            writer.write(
                b"GET /v1/events HTTP/1.1\r\nHost: %b:%d\r\nAccept: text/event-stream\r\n%b"
                b"Last-Event-ID: %d\r\n\r\n" % (self.host.encode(), self.port, self.auth, last)
            )
            status, headers = await read_head(reader)
            self.shared.slots.release()
            admitted = True
            if status != 200:
                await read_body(reader, headers)
                raise Refused(status, float(headers.get(b"retry-after", b"1") or 1))
            if not self.connected:
                self.connected = True
                self.shared.connected += 1
            chunks = Dechunker() if headers.get(b"transfer-encoding", b"").lower() == b"chunked" else None
            pending = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    return  # the server ended the stream
                if chunks is not None:
                    data = chunks.feed(data)
                self.stats.event_bytes += len(data)
                if b"\r" in data:
                    data = data.replace(b"\r\n", b"\n")
                if b"\n" not in data:
                    pending += data
                else:
                    *blocks, pending = (pending + data).split(b"\n\n")
                    for block in blocks:
                        last = self._event(block, last)
                if chunks is not None and chunks.ended:
                    return
        finally:
            if not admitted:
                self.shared.slots.release()
            writer.close()

    def _event(self, block: bytes, last: int) -> int:
        """Handle one event; returns the stream's position after it. Of a carried page only the
        first data line is read (the page as lines: its head; each request's JSON follows)."""
        kind, first, event_id = b"message", b"", b""
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                if not first:
                    first = line[6:] if line[5:6] == b" " else line[5:]
            elif line.startswith(b"event:"):
                kind = line[6:].strip()
            elif line.startswith(b"id:"):
                event_id = line[3:].strip()
        if kind == b"change":
            self.stats.notices += 1
            self._notice(int(orjson.loads(first)["seq"]))
        elif kind == b"changes":
            self._carried(orjson.loads(first), last)
        return int(event_id) if event_id.isdigit() else last

    def _carried(self, page: dict[str, Any], last: int) -> None:
        since = int(page.get("since", last))
        next_since, head = int(page["next_since"]), int(page["head"])
        check_seqs([change_seq(change) for change in page["changes"]], since, next_since)
        if since <= self.cursor < next_since:
            self.stats.carried += 1
            self._advance(next_since)
        elif self.cursor < since:
            self.stats.gaps += 1
        self._notice(head if page["has_more"] else next_since)

    def _notice(self, seq: int) -> None:
        if seq > self.target:
            self.target = seq
        if seq > self.cursor:
            self.wake.set()

    def _advance(self, cursor: int) -> None:
        if cursor > self.cursor:
            self.cursor = cursor
            self.times.append(time.monotonic())
            self.cursors.append(cursor)

    # -- the pulls -----------------------------------------------------------------------------
    async def puller(self) -> None:
        """After a notice past the cursor: a jitter, then pages until there is no more."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.cursor >= self.target:
                continue
            await asyncio.sleep(random.random() * PULL_JITTER_S)
            while self.cursor < self.target:
                page = await self._pull(self.cursor)
                if page is None:
                    await asyncio.sleep(0.2 + 0.3 * random.random())
                    continue
                next_since, _head, has_more = page
                self._advance(next_since)
                if not has_more:
                    break

    async def _pull(self, since: int) -> tuple[int, int, bool] | None:
        """One page after `since`: (next_since, head, has_more); None when it failed."""
        self.stats.pulls += 1
        target = b"/v1/changes?since=%d&limit=%d" % (since, PAGE_SIZE)
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                answer = await self.conn.request(b"GET", target, self.auth + ACCEPT_LINES)
        except TimeoutError:
            self.conn.close()
            self.stats.pull_timeouts += 1
            return None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
            self.stats.errors[f"pull_{type(exc).__name__}"] += 1
            return None
        if answer.status != 200:
            self.stats.errors[f"pull_{answer.status}"] += 1
            return None
        try:
            return read_page(answer, since)
        except (HttpError, ValueError, KeyError, TypeError) as exc:
            self.stats.errors[f"pull_{type(exc).__name__}"] += 1
            return None


class Refused(Exception):
    def __init__(self, status: int, retry_after: float) -> None:
        super().__init__(status)
        self.status, self.retry_after = status, retry_after


@dataclass
class Connecting:
    """What every client of a worker shares while connecting."""

    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONNECTING_AT_ONCE))
    connected: int = 0


def read_page(answer: Response, since: int) -> tuple[int, int, bool]:
    """(next_since, head, has_more) of a pulled page, its seqs checked; as lines, only the first
    line is read."""
    if answer.headers.get(b"content-type", b"").startswith(b"application/x-ndjson"):
        end = answer.body.find(b"\n")
        first = orjson.loads(answer.body[: end if end >= 0 else None])
    else:
        first = orjson.loads(answer.body)
    seqs = [change_seq(change) for change in first["changes"]]
    next_since = int(first["next_since"])
    check_seqs(seqs, since, next_since)
    return next_since, int(first["head"]), bool(first["has_more"])


def change_seq(change: Any) -> int:
    """The seq of a change of a page: `[seq, action]` as lines, `{"seq": ...}` as JSON."""
    return int(change["seq"] if isinstance(change, dict) else change[0])


def check_seqs(seqs: list[int], since: int, next_since: int) -> None:
    """The feed's rules for a page after `since` (as `local_cache.pull.check_page`)."""
    if not seqs:
        if next_since != since:
            raise HttpError(f"an empty page after {since} ends at {next_since}")
        return
    previous = since
    for seq in seqs:
        if seq <= previous:
            raise HttpError(f"change {seq} follows {previous}")
        previous = seq
    if previous != next_since:
        raise HttpError(f"next_since {next_since} is not the last change {previous}")


def worst_times(clients: list[Client], base: int, upto: int) -> list[float | None]:
    """For each seq in (base, upto]: when the last of `clients` came to hold it (None: one never did)."""
    worst: list[float | None] = [0.0] * (upto - base)
    for client in clients:
        held = base
        for when, cursor in zip(client.times, client.cursors, strict=True):
            for i in range(held - base, min(cursor, upto) - base):
                mark = worst[i]
                if mark is not None and when > mark:
                    worst[i] = when
            held = cursor
            if held >= upto:
                break
        for i in range(max(held, base) - base, upto - base):
            worst[i] = None
    return worst


def read_line(loop: asyncio.AbstractEventLoop) -> asyncio.Future[str]:
    """The next line of stdin ("" at its end), read by a daemon thread that never holds up the exit."""
    line: asyncio.Future[str] = loop.create_future()

    def read() -> None:
        text = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(answer, text)

    def answer(text: str) -> None:
        if not line.done():
            line.set_result(text)

    threading.Thread(target=read, name="load-clients-stdin", daemon=True).start()
    return line


def raise_open_files() -> None:
    """The soft limit on open files up to the hard one: each stream and each pull needs one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(config: dict[str, Any]) -> dict[str, Any]:
    host, port, base = str(config["host"]), int(config["port"]), int(config["base"])
    end_by = float(config["end_by"])
    stats, shared = Stats(), Connecting()
    clients = [Client(host, port, token, base, stats, shared) for token in config["tokens"]]
    tasks = [asyncio.create_task(c.follow()) for c in clients]
    tasks += [asyncio.create_task(c.puller()) for c in clients]
    loop = asyncio.get_running_loop()
    try:
        connect_by = min(end_by, time.monotonic() + float(config["connect_s"]))
        while shared.connected < len(clients) and time.monotonic() < connect_by:
            await asyncio.sleep(0.02)
        print("ready " + json.dumps({"connected": shared.connected}), flush=True)
        command = await asyncio.wait_for(read_line(loop), max(0.0, end_by - time.monotonic()))
        parts = command.split()
        upto, drain_s = (int(parts[1]), float(parts[2])) if parts[:1] == ["drain"] else (base, 0.0)
        drain_by = min(end_by, time.monotonic() + drain_s)
        while time.monotonic() < drain_by and any(c.cursor < upto for c in clients):
            await asyncio.sleep(0.02)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            client.conn.close()
    return {
        "connected": shared.connected,
        "notices": stats.notices,
        "carried": stats.carried,
        "gaps": stats.gaps,
        "pulls": stats.pulls,
        "pull_timeouts": stats.pull_timeouts,
        "reconnects": stats.reconnects,
        "event_bytes": stats.event_bytes,
        "errors": dict(stats.errors),
        "base": base,
        "worst": worst_times(clients, base, max(upto, base)),
    }


def main() -> int:
    raise_open_files()
    config = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    with contextlib.suppress(TimeoutError):
        result = asyncio.run(serve(config))
        print("result " + json.dumps(result), flush=True)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
