"""A pure ASGI middleware holding every request to its limits as it arrives: the body size (413),
and what `central_api.raw_input` refuses in the path, the query, the headers and the body.

It refuses a declared `Content-Length` over the limit before the app runs, and counts the bytes
actually streamed (chunked bodies): past the limit, reading the body raises `BodyTooLarge`, which
FastAPI passes on as an HTTP error. Before answering 413 it reads and discards the rest of the body
(up to `DRAIN_CAP` bytes) so that a client still uploading sees the answer instead of a connection
reset. For a request a route will answer (no 404 or 405 comes first), the path, query and headers
are checked, and a JSON or form body (at most the limit) is read whole and checked before the app
sees it; a refusal leaves the connection open for the client's next call. Being plain ASGI (not
`BaseHTTPMiddleware`), it never buffers responses: SSE flows through.
"""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central_api.errors import ApiError, error_response
from central_api.raw_input import Refusal, check_form, check_json, check_target

#: At most this many body bytes are read and thrown away before a 413 (beyond: just close).
DRAIN_CAP = 64 << 20
_FORM = "application/x-www-form-urlencoded"


def _too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "payload_too_large", _too_large(limit), {"limit": limit})


async def _drain(receive: Receive, already: int = 0) -> None:
    """Read and discard the rest of the request body, up to DRAIN_CAP bytes in all."""
    total = already
    while total <= DRAIN_CAP:
        message = await receive()
        if message["type"] != "http.request":
            return
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _media_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _routed(scope: Scope) -> bool:
    """Whether a route of the application answers this method and path."""
    router = getattr(scope.get("app"), "router", None)
    return any(route.matches(scope)[0] is Match.FULL for route in getattr(router, "routes", ()))


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _body_check(media_type: str, body: bytes) -> Refusal | None:
    return check_json(body) if _is_json(media_type) else check_form(body)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0  # the server's HTTP parser refuses a malformed length anyway
                if declared > limit:
                    if declared <= DRAIN_CAP:
                        await _drain(receive)
                    await self._refuse(scope, send, limit)
                    return
        if not _routed(scope):  # the app answers 404 or 405
            await self._streamed(scope, receive, send)
            return
        refusal = check_target(scope)
        if refusal is not None:
            await _drain(receive)
            await _answer(scope, send, refusal)
            return
        media_type = _media_type(scope)
        if _is_json(media_type) or media_type == _FORM:
            await self._checked(scope, receive, send, media_type)
            return
        await self._streamed(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive, send: Send, media_type: str) -> None:
        """Read the whole body (up to the limit), check it, then hand it to the app."""
        limit = self.max_body_bytes
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before its body was complete
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if received > limit:
                if more:
                    await _drain(receive, received)
                await self._refuse(scope, send, limit)
                return
            if not more:
                break
        body = b"".join(chunks)
        refusal = _body_check(media_type, body)
        if refusal is not None:
            await _answer(scope, send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the body through as it streams, counting its bytes against the limit."""
        limit = self.max_body_bytes
        received = 0
        finished = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, finished
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if received > limit:
                    if not finished:
                        await _drain(receive, received)
                        finished = True
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, limit: int) -> None:
        response = error_response(
            scope.get("path", ""),
            413,
            "payload_too_large",
            _too_large(limit),
            {"limit": limit},
            headers={"Connection": "close"},
        )
        await response(scope, _nothing_to_read, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` giving the app `body` (already read) in one message, then whatever the client
    sends next (its disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _answer(scope: Scope, send: Send, refusal: Refusal) -> None:
    response = error_response(
        scope.get("path", ""), refusal.status, refusal.code, refusal.detail, refusal.params
    )
    await response(scope, _nothing_to_read, send)


async def _nothing_to_read() -> Message:  # a Response never reads the request
    return {"type": "http.disconnect"}
