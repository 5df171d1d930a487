"""A pure ASGI middleware limiting request body size (413).

It refuses a declared `Content-Length` over the limit before the app runs, and counts the bytes
actually streamed (chunked bodies): past the limit, reading the body raises `BodyTooLarge`, which
FastAPI passes on as an HTTP error. Before answering 413 it reads and discards the rest of the body
(up to `DRAIN_CAP` bytes) so that a client still uploading sees the answer instead of a connection
reset. Being plain ASGI (not `BaseHTTPMiddleware`), it never buffers responses: SSE flows through.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central_api.errors import ApiError, error_response

#: At most this many body bytes are read and thrown away before a 413 (beyond: just close).
DRAIN_CAP = 64 << 20


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


async def _nothing_to_read() -> Message:  # a Response never reads the request
    return {"type": "http.disconnect"}
