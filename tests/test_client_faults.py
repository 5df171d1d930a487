"""The client against real misbehaving servers on 127.0.0.1: retries, deadlines, errors, SSE.

Timings are asserted loosely (an upper bound of the deadline plus two seconds, a lower bound
where a wait must have been honoured): the point is "bounded", not "exact".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from faultservers import (
    SSE_HEAD,
    Conn,
    FaultServer,
    closed_port,
    drop,
    hang,
    header_values,
    response,
    script,
    sequence,
    sse_event,
    trickle,
)
from pydantic import TypeAdapter

from api_client import (
    ChangeStream,
    Conflict,
    DeadlineExceeded,
    Forbidden,
    HotlineClient,
    InvalidRequest,
    InvalidResponse,
    NotFound,
    ServerError,
    Unauthorized,
    Unreachable,
)
from api_client.actions import Accept
from api_client.errors import FieldError
from api_client.models import (
    ChangeNotice,
    Channel,
    Location,
    NewRequest,
    Request,
    RequestType,
    Role,
    Tier,
)
from api_client.retrying import RetryPolicy, backoff, parse_retry_after

T0 = datetime(2026, 7, 30, 9, 0, tzinfo=UTC)
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault servers are on 127.0.0.1: a proxy from the environment must not intervene."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def request_json(**fields: Any) -> dict[str, Any]:
    """A valid `Request` body as the server would send it, with `fields` overridden."""
    body: dict[str, Any] = {
        "id": "R-1",
        "received_at": T0.isoformat(),
        "channel": "phone",
        "type": "complaint",
        "category": "heating",
        "description": "no heating in building 3",
        "location": {"street": "s1", "community": "c01", "address": "Bldg 3"},
        "caller": {"name": "Li", "phone": "138"},
        "tier": "24h",
        "due_at": (T0 + timedelta(hours=24)).isoformat(),
        "state": "new",
        "version": 1,
        "change_seq": 1,
    }
    body.update(fields)
    return body


def new_request() -> NewRequest:
    return NewRequest(
        channel=Channel.phone,
        type=RequestType.complaint,
        category="heating",
        description="no heating",
        location=Location(address="Bldg 3"),
        tier=Tier.h24,
    )


def fast_client(url: str, **options: Any) -> HotlineClient:
    """A client with short deadlines and tiny backoffs, so fault tests stay fast."""
    settings: dict[str, Any] = {
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "deadline": 5.0,
        "attempts": 3,
        "wait_initial": 0.01,
        "wait_max": 0.05,
        "wait_jitter": 0.01,
    }
    settings.update(options)
    return HotlineClient(url, "tok-123", **settings)


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t:`` → ``t[0]`` is the elapsed seconds afterwards."""
    elapsed = [0.0]
    start = time.monotonic()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.monotonic() - start


# -- getting no answer ----------------------------------------------------------------------


async def test_connection_refused_is_unreachable_within_deadline() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    async with fast_client(url, attempts=4, deadline=3.0) as client:
        with stopwatch() as t, pytest.raises(Unreachable) as caught:
            await client.get_request("R-1")
    assert not isinstance(caught.value, DeadlineExceeded)
    assert "connection refused" in caught.value.message
    assert url in caught.value.message
    assert t[0] < 3.0 + 2


async def test_dropped_connections_are_retried_then_unreachable() -> None:
    async with FaultServer(drop) as server, fast_client(server.url, attempts=4) as client:
        with pytest.raises(Unreachable) as caught:
            await client.me()
    assert len(server.hits) == 4
    assert server.url in caught.value.message


async def test_garbage_instead_of_http_is_unreachable_not_a_raw_error() -> None:
    async with (
        FaultServer(script(b"hello, this is not HTTP\r\n\r\n")) as server,
        fast_client(server.url, attempts=2) as client,
    ):
        with pytest.raises(Unreachable):
            await client.me()
    assert len(server.hits) == 2


async def test_silent_server_hits_the_deadline() -> None:
    async with (
        FaultServer(hang) as server,
        fast_client(server.url, read_timeout=30.0, deadline=1.0) as client,
    ):
        with stopwatch() as t, pytest.raises(DeadlineExceeded) as caught:
            await client.get_request("R-1")
    assert 0.8 < t[0] < 1.0 + 2
    assert "within 1 s" in caught.value.message


async def test_trickling_server_hits_the_deadline_despite_the_read_timeout() -> None:
    # Every byte arrives well within the read timeout: only the total deadline can stop it.
    async with (
        FaultServer(trickle(every=0.1)) as server,
        fast_client(server.url, read_timeout=1.0, deadline=1.5) as client,
    ):
        with stopwatch() as t, pytest.raises(DeadlineExceeded):
            await client.get_request("R-1")
    assert 1.3 < t[0] < 1.5 + 2


async def test_per_attempt_read_timeouts_are_retried_until_the_deadline() -> None:
    async with (
        FaultServer(hang) as server,
        fast_client(server.url, read_timeout=0.2, deadline=1.2, attempts=10) as client,
    ):
        with stopwatch() as t, pytest.raises(Unreachable):
            await client.get_request("R-1")
    assert len(server.hits) >= 3
    assert t[0] < 1.2 + 2


# -- retryable answers ----------------------------------------------------------------------


async def test_503_with_retry_after_is_waited_for_then_succeeds() -> None:
    answers = script(
        response(503, {"detail": "restarting"}, headers={"Retry-After": "1"}), response(200, request_json())
    )
    async with FaultServer(answers) as server, fast_client(server.url) as client:
        with stopwatch() as t:
            request = await client.get_request("R-1")
    assert request.id == "R-1"
    assert len(server.hits) == 2
    assert t[0] >= 0.9  # the backoff alone would have been ~0.02 s


async def test_429_with_retry_after_is_waited_for_then_succeeds() -> None:
    answers = script(
        response(429, {"detail": "slow down"}, headers={"Retry-After": "1"}),
        response(200, {"name": "disp-1", "role": "dispatcher"}),
    )
    async with FaultServer(answers) as server, fast_client(server.url) as client:
        with stopwatch() as t:
            identity = await client.me()
    assert identity.name == "disp-1"
    assert len(server.hits) == 2
    assert t[0] >= 0.9


async def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    answers = script(response(503, {"detail": "maintenance"}, headers={"Retry-After": "3600"}))
    async with FaultServer(answers) as server, fast_client(server.url, deadline=5.0) as client:
        with stopwatch() as t, pytest.raises(ServerError) as caught:
            await client.me()
    assert len(server.hits) == 1
    assert t[0] < 2
    assert caught.value.status == 503
    assert "maintenance" in caught.value.message


async def test_persistent_502_is_a_server_error_after_every_attempt() -> None:
    async with (
        FaultServer(script(response(502, b"bad gateway", content_type="text/html"))) as server,
        fast_client(server.url, attempts=3) as client,
    ):
        with pytest.raises(ServerError) as caught:
            await client.categories()
    assert len(server.hits) == 3
    assert caught.value.status == 502


async def test_persistent_429_is_a_busy_server_error() -> None:
    async with (
        FaultServer(script(response(429, {"detail": "x"}, headers={"Retry-After": "0"}))) as server,
        fast_client(server.url, attempts=2) as client,
    ):
        with pytest.raises(ServerError) as caught:
            await client.units()
    assert len(server.hits) == 2
    assert caught.value.status == 429
    assert "too busy" in caught.value.message


async def test_500_is_not_retried() -> None:
    async with (
        FaultServer(script(response(500, {"detail": "boom"}))) as server,
        fast_client(server.url) as client,
    ):
        with pytest.raises(ServerError, match="boom"):
            await client.me()
    assert len(server.hits) == 1


async def test_attempts_1_means_no_retry() -> None:
    async with (
        FaultServer(script(response(503, {"detail": "down"}))) as server,
        fast_client(server.url, attempts=1) as client,
    ):
        with pytest.raises(ServerError):
            await client.me()
    assert len(server.hits) == 1


# -- which calls may be retried -------------------------------------------------------------

_REQUEST = TypeAdapter(Request)


async def test_a_write_without_idempotency_key_is_never_retried() -> None:
    async with (
        FaultServer(script(response(503, {"detail": "down"}))) as server,
        fast_client(server.url, attempts=5) as client,
    ):
        with pytest.raises(ServerError):
            await client.call("POST", "/v1/requests", _REQUEST, body=b"{}")
    assert len(server.hits) == 1
    assert header_values(server.hits, "Idempotency-Key") == [None]


async def test_a_write_without_idempotency_key_is_not_retried_after_a_dropped_connection() -> None:
    async with FaultServer(drop) as server, fast_client(server.url, attempts=5) as client:
        with pytest.raises(Unreachable):
            await client.call("POST", "/v1/requests", _REQUEST, body=b"{}")
    assert len(server.hits) == 1


async def test_a_token_is_asked_for_once_even_when_no_answer_comes() -> None:
    # The server keeps only a token's hash: a retry could not get back the token the first
    # attempt made (it would find the name taken), so the one answer is the only one asked for.
    async with FaultServer(drop) as server, fast_client(server.url, attempts=5) as client:
        with pytest.raises(Unreachable):
            await client.create_token("裕中西里社区居委会", Role.unit, unit="cc04")
    assert len(server.hits) == 1 and server.hits[0].request_line == "POST /v1/tokens"
    assert header_values(server.hits, "Idempotency-Key") == [None]


async def test_a_write_with_idempotency_key_is_retried() -> None:
    async with (
        FaultServer(script(response(503, {"detail": "down"}))) as server,
        fast_client(server.url, attempts=3) as client,
    ):
        with pytest.raises(ServerError):
            await client.call(
                "POST", "/v1/requests", _REQUEST, body=b"{}", headers={"Idempotency-Key": "k-1"}
            )
    assert header_values(server.hits, "Idempotency-Key") == ["k-1"] * 3


async def test_intake_retries_with_one_generated_key() -> None:
    answers = script(response(503, {"detail": "down"}), response(201, request_json()))
    async with FaultServer(answers) as server, fast_client(server.url) as client:
        created = await client.intake(new_request())
    assert created.version == 1
    first, second = header_values(server.hits, "Idempotency-Key")
    assert first is not None and first == second
    uuid.UUID(first)
    assert server.hits[0].method == "POST" and server.hits[0].target == "/v1/requests"
    assert server.hits[0].headers["content-type"] == "application/json"
    assert NewRequest.model_validate_json(server.hits[0].body) == new_request()


async def test_act_sends_if_match_and_the_callers_key() -> None:
    async with (
        FaultServer(script(response(200, request_json(state="accepted", version=4)))) as server,
        fast_client(server.url) as client,
    ):
        updated = await client.act("R-1", Accept(), version=3, idempotency_key="outbox-7")
    assert updated.version == 4
    hit = server.hits[0]
    assert hit.request_line == "POST /v1/requests/R-1/actions"
    assert hit.headers["if-match"] == '"3"'
    assert hit.headers["idempotency-key"] == "outbox-7"
    assert hit.headers["authorization"] == "Bearer tok-123"
    assert hit.body == b'{"action":"accept"}'


async def test_ids_cannot_escape_their_path_segment() -> None:
    async with (
        FaultServer(script(response(200, request_json()))) as server,
        fast_client(server.url) as client,
    ):
        await client.get_request("../units?x=1")
    assert server.hits[0].target == "/v1/requests/..%2Funits%3Fx%3D1"


# -- answers that break the contract --------------------------------------------------------


async def test_malformed_json_is_an_invalid_response() -> None:
    async with (
        FaultServer(script(response(200, b'{"id": "R-1", '))) as server,
        fast_client(server.url) as client,
    ):
        with pytest.raises(InvalidResponse, match="malformed JSON"):
            await client.get_request("R-1")


async def test_html_instead_of_json_is_an_invalid_response() -> None:
    page = response(200, b"<html>captive portal</html>", content_type="text/html")
    async with FaultServer(script(page)) as server, fast_client(server.url) as client:
        with pytest.raises(InvalidResponse, match="text/html"):
            await client.me()


async def test_a_wrong_field_type_names_the_field() -> None:
    async with (
        FaultServer(script(response(200, request_json(version="x")))) as server,
        fast_client(server.url) as client,
    ):
        with pytest.raises(InvalidResponse) as caught:
            await client.get_request("R-1")
    assert caught.value.field == "version"
    assert "version" in caught.value.message


async def test_a_bad_nested_field_names_its_dotted_path() -> None:
    changes: list[dict[str, Any]] = [
        {"seq": n, "action": "intake", "request": request_json(change_seq=n)} for n in range(1, 5)
    ]
    changes[3]["request"]["version"] = "x"
    page = {"changes": changes, "next_since": 4, "head": 4, "has_more": False}
    async with FaultServer(script(response(200, page))) as server, fast_client(server.url) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.changes(0)
    assert caught.value.field == "changes.3.request.version"
    assert "changes.3.request.version" in caught.value.message


async def test_a_list_that_is_not_a_list_is_an_invalid_response() -> None:
    async with FaultServer(script(response(200, {"units": []}))) as server, fast_client(server.url) as client:
        with pytest.raises(InvalidResponse):
            await client.units()


async def test_unexpected_status_is_an_invalid_response() -> None:
    answer = response(302, b"", headers={"Location": "http://elsewhere.example/"})
    async with FaultServer(script(answer)) as server, fast_client(server.url) as client:
        with pytest.raises(InvalidResponse, match="302"):
            await client.me()


# -- error statuses -------------------------------------------------------------------------


async def test_412_is_a_conflict_carrying_the_current_request() -> None:
    body = {"detail": "stale version", "current": request_json(state="dispatched", version=7)}
    answer = response(412, body, headers={"ETag": '"7"'})
    async with FaultServer(script(answer)) as server, fast_client(server.url) as client:
        with pytest.raises(Conflict) as caught:
            await client.act("R-1", Accept(), version=3)
    assert caught.value.current.version == 7
    assert caught.value.status == 412
    assert "version 7" in caught.value.message
    assert len(server.hits) == 1


async def test_412_with_a_malformed_current_is_an_invalid_response() -> None:
    body = {"detail": "stale version", "current": request_json(version="seven")}
    async with FaultServer(script(response(412, body))) as server, fast_client(server.url) as client:
        with pytest.raises(InvalidResponse) as caught:
            await client.act("R-1", Accept(), version=3)
    assert caught.value.field == "current.version"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (400, InvalidRequest),
        (409, InvalidRequest),
        (413, InvalidRequest),
        (422, InvalidRequest),
        (428, InvalidRequest),
    ],
)
async def test_error_statuses_map_to_their_errors(status: int, error: type[Exception]) -> None:
    answer = response(status, {"detail": "the server's own sentence"})
    async with FaultServer(script(answer)) as server, fast_client(server.url) as client:
        with pytest.raises(error) as caught:
            await client.get_request("R-1")
    assert "the server's own sentence" in str(caught.value)
    assert len(server.hits) == 1


async def test_422_carries_detail_and_field_errors() -> None:
    body = {
        "code": "invalid_field",
        "detail": "the request is invalid",
        "params": {"field": "location.address"},
        "errors": [
            {"field": "location.address", "message": "Field required", "code": "missing", "params": {}}
        ],
    }
    async with FaultServer(script(response(422, body))) as server, fast_client(server.url) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.intake(new_request())
    assert caught.value.detail == "the request is invalid"
    assert caught.value.errors == (FieldError("location.address", "Field required", "missing", {}),)
    assert (caught.value.code, caught.value.params) == ("invalid_field", {"field": "location.address"})
    assert "location.address" in caught.value.message


async def test_an_error_without_a_json_body_still_maps() -> None:
    answer = response(404, b"Not Found", content_type="text/plain")
    async with FaultServer(script(answer)) as server, fast_client(server.url) as client:
        with pytest.raises(NotFound):
            await client.get_request("R-404")


# -- the rest of the surface ----------------------------------------------------------------


async def test_iter_changes_follows_pages_until_has_more_is_false() -> None:
    def page(seqs: list[int], has_more: bool) -> bytes:
        changes = [{"seq": n, "action": "intake", "request": request_json(change_seq=n)} for n in seqs]
        return response(200, {"changes": changes, "next_since": seqs[-1], "head": 3, "has_more": has_more})

    async with (
        FaultServer(script(page([1, 2], True), page([3], False))) as server,
        fast_client(server.url) as client,
    ):
        pages = [p async for p in client.iter_changes(0, limit=2)]
    assert [c.seq for p in pages for c in p.changes] == [1, 2, 3]
    assert [h.target for h in server.hits] == ["/v1/changes?since=0&limit=2", "/v1/changes?since=2&limit=2"]


async def test_health_returns_the_head() -> None:
    async with (
        FaultServer(script(response(200, {"status": "ok", "head": 42}))) as server,
        HotlineClient(server.url, None) as client,
    ):
        assert await client.health() == 42
    assert "authorization" not in server.hits[0].headers
    assert server.hits[0].headers["user-agent"].startswith("hotline/")


async def test_stats_sends_its_filters() -> None:
    stats = {
        "total": 0,
        "by_state": {},
        "overdue": 0,
        "rates": {
            "dispatched": 0,
            "response_counted": 0,
            "response_pending": 0,
            "responded_in_time": 0,
            "valid_callbacks": 0,
            "solved": 0,
            "satisfied": 0,
            "basically_satisfied": 0,
            "response": None,
            "resolution": None,
            "satisfaction": None,
        },
    }
    async with FaultServer(script(response(200, stats))) as server, fast_client(server.url) as client:
        result = await client.stats(since=T0, unit="u-1")
    assert result.total == 0
    assert server.hits[0].target == "/v1/stats?since=2026-07-30T09%3A00%3A00%2B00%3A00&unit=u-1"


def test_bad_base_urls_are_refused_at_construction() -> None:
    for bad in ("central.example", "ftp://central.example", ""):
        with pytest.raises(ValueError):
            HotlineClient(bad, "t")


def test_retry_after_parsing() -> None:
    now = datetime(2026, 7, 30, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after("") is None


def test_backoff_grows_and_is_capped() -> None:
    waits = [backoff(n, initial=0.1, maximum=5.0, jitter=0.0) for n in range(1, 10)]
    assert waits[:4] == [0.1, 0.2, 0.4, 0.8]
    assert waits[-1] == 5.0
    assert all(0.1 <= backoff(1, initial=0.1, maximum=5.0, jitter=0.5) <= 0.6 for _ in range(50))
    assert backoff(10_000, initial=0.1, maximum=5.0, jitter=0.5) == 5.0


def test_retry_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(deadline=0)


# -- the live stream ------------------------------------------------------------------------


def fast_stream(client: HotlineClient, **options: Any) -> ChangeStream:
    settings: dict[str, Any] = {
        "read_timeout": 5.0,
        "wait_initial": 0.01,
        "wait_max": 0.05,
        "wait_jitter": 0.01,
    }
    settings.update(options)
    return ChangeStream(client, **settings)


async def take(stream: ChangeStream, count: int, within: float = 10.0) -> list[ChangeNotice]:
    """The first `count` notices, closing the stream's connection afterwards."""
    notices: list[ChangeNotice] = []
    async with asyncio.timeout(within), contextlib.aclosing(stream.notices()) as it:
        async for notice in it:
            notices.append(notice)
            if len(notices) == count:
                break
    return notices


async def test_stream_reconnects_with_last_event_id_and_loses_nothing() -> None:
    async def first(conn: Conn) -> None:
        await conn.send(SSE_HEAD + sse_event(1) + sse_event(2))  # then drop the connection

    async def second(conn: Conn) -> None:
        if conn.hit.headers.get("last-event-id") == "2":
            await conn.send(SSE_HEAD + sse_event(3))
        else:
            await conn.send(SSE_HEAD + sse_event(999))
        await asyncio.sleep(3600)

    async with FaultServer(sequence(first, second)) as server, fast_client(server.url) as client:
        stream = fast_stream(client)
        notices = await take(stream, 3)
    assert [n.seq for n in notices] == [1, 2, 3]
    assert header_values(server.hits, "Last-Event-ID") == [None, "2"]
    assert header_values(server.hits, "Accept") == ["text/event-stream"] * 2
    assert stream.last_event_id == 3
    assert stream.reconnects == 1


async def test_stream_sends_the_saved_id_on_the_first_connect_and_rides_out_errors() -> None:
    async def ok(conn: Conn) -> None:
        await conn.send(SSE_HEAD + b": ping\n\n" + b"event: other\ndata: x\n\n" + sse_event(11))
        await asyncio.sleep(3600)

    handler = sequence(script(response(503, {"detail": "down"})), drop, ok)
    async with FaultServer(handler) as server, fast_client(server.url) as client:
        stream = fast_stream(client, last_event_id=10)
        notices = await take(stream, 1)
    assert [n.seq for n in notices] == [11]
    assert header_values(server.hits, "Last-Event-ID") == ["10", "10", "10"]
    assert stream.reconnects == 2


async def test_stream_keeps_trying_while_the_server_is_down() -> None:
    async with fast_client(f"http://127.0.0.1:{closed_port()}") as client:
        stream = fast_stream(client)
        with pytest.raises(TimeoutError):
            await take(stream, 1, within=0.5)
    assert stream.reconnects >= 3
    assert isinstance(stream.last_error, Unreachable)
    assert not stream.connected


@pytest.mark.parametrize(("status", "error"), [(401, Unauthorized), (403, Forbidden)])
async def test_stream_does_not_retry_a_refused_token(status: int, error: type[Exception]) -> None:
    async with (
        FaultServer(script(response(status, {"detail": "no"}))) as server,
        fast_client(server.url) as client,
    ):
        with pytest.raises(error):
            await take(fast_stream(client), 1)
    assert len(server.hits) == 1


async def test_stream_that_is_not_an_event_stream_is_retried_as_invalid() -> None:
    handler = sequence(script(response(200, {"seq": 1})), script(SSE_HEAD + sse_event(5)))
    async with FaultServer(handler) as server, fast_client(server.url) as client:
        stream = fast_stream(client)
        notices = await take(stream, 1)
    assert [n.seq for n in notices] == [5]
    assert stream.reconnects == 1


async def test_cancelling_the_consumer_closes_the_connection() -> None:
    closed = asyncio.Event()
    started = asyncio.Event()

    async def stream_then_watch(conn: Conn) -> None:
        await conn.send(SSE_HEAD + sse_event(1))
        started.set()
        await conn.reader.read()  # returns b"" once the client has closed its end
        closed.set()

    async def consume(stream: ChangeStream) -> None:
        async for _ in stream:
            pass

    async with FaultServer(stream_then_watch) as server, fast_client(server.url) as client:
        stream = fast_stream(client)
        task = asyncio.create_task(consume(stream))
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0.1)
        assert stream.connected
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(closed.wait(), 5)
    assert not stream.connected
    assert len(server.hits) == 1


async def test_closing_the_iterator_early_closes_the_connection() -> None:
    closed = asyncio.Event()

    async def stream_then_watch(conn: Conn) -> None:
        await conn.send(SSE_HEAD + sse_event(1) + sse_event(2))
        await conn.reader.read()
        closed.set()

    async with FaultServer(stream_then_watch) as server, fast_client(server.url) as client:
        stream = fast_stream(client)
        assert [n.seq for n in await take(stream, 1)] == [1]
        await asyncio.wait_for(closed.wait(), 5)
        assert not stream.connected
    assert len(server.hits) == 1


def test_an_event_stream_waits_as_long_as_a_busy_server_asks() -> None:
    from api_client.client import HotlineClient
    from api_client.errors import ServerError
    from api_client.events import MAX_RETRY_AFTER, ChangeStream

    stream = ChangeStream(
        HotlineClient("http://127.0.0.1:9", "t"), wait_initial=0.5, wait_max=5.0, wait_jitter=0
    )
    assert stream.next_wait() <= 5.0
    stream.last_error = ServerError("busy", status=503, code="server_busy", params={"retry_after": 10})
    assert stream.next_wait() == 10.0
    stream.last_error = ServerError("odd", status=503, code="server_busy", params={"retry_after": 10_000})
    assert stream.next_wait() <= 5.0 < MAX_RETRY_AFTER  # an absurd wait is not honoured
