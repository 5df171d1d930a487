"""Retries with exponential backoff and jitter, under one total deadline per call.

The rules:

* Only a safe call is ever retried: a read (``GET``/``HEAD``) or a write that carries an
  ``Idempotency-Key`` (the server answers a repeated key with the first answer, so nothing is
  applied twice). A write without a key is sent exactly once.
* What is retried: connection failures, per-attempt timeouts, dropped connections, and the
  answers ``429``, ``502``, ``503``, ``504``. ``Retry-After`` (seconds or an HTTP date) replaces
  the exponential backoff; when it asks for longer than the deadline has left, the call gives up
  at once with the server's answer instead of sleeping into the deadline.
* The whole call (every attempt, every backoff, every byte of every body) runs under
  ``asyncio.timeout(deadline)``: httpx's read timeout applies per chunk, so a server that
  trickles bytes would otherwise hold a call forever. Expiry raises `DeadlineExceeded`.

Nothing from httpx leaves this module except a fully read `httpx.Response`; transport failures
become `Unreachable` with a sentence a dispatcher can act on.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import stamina

from api_client.errors import DeadlineExceeded, Unreachable

# stamina logs every scheduled retry at WARNING to the "stamina" logger. With no logging set up,
# Python's last-resort handler prints those to stderr, over a CLI's output or a TUI's screen.
# A NullHandler silences only that fallback: an application that configures logging still gets
# the records through propagation.
logging.getLogger("stamina").addHandler(logging.NullHandler())

#: Answers worth another attempt: overload and gateway trouble.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Methods that never change anything on the server.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Transport failures worth another attempt (a bad URL or a local protocol misuse is not).
RETRY_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one call tries.

    ``attempts=1`` turns retries off. Backoff before retry *n* (1-based) is
    ``min(wait_max, wait_initial * 2 ** (n - 1) + uniform(0, wait_jitter))``.
    """

    attempts: int = 5
    deadline: float = 15.0
    wait_initial: float = 0.2
    wait_max: float = 3.0
    wait_jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.deadline <= 0:
            raise ValueError("deadline must be positive")
        if min(self.wait_initial, self.wait_max, self.wait_jitter) < 0:
            raise ValueError("backoff times must not be negative")


def backoff(attempt: int, *, initial: float, maximum: float, jitter: float) -> float:
    """Seconds to wait before retry number `attempt` (1-based): exponential, jittered, capped."""
    exponential = initial * 2.0 ** min(attempt - 1, 32)
    return min(maximum, exponential + random.uniform(0.0, jitter))  # jitter, not crypto


def is_retryable(method: str, headers: httpx.Headers) -> bool:
    """A call may be repeated if it is a read or a write carrying an idempotency key."""
    return method.upper() in SAFE_METHODS or bool(headers.get("Idempotency-Key"))


def retry_after(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds (>= 0), or None when absent or unreadable."""
    return parse_retry_after(response.headers.get("Retry-After", ""))


def parse_retry_after(value: str, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` value (delay-seconds or an HTTP date) as seconds from `now` (>= 0)."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryableAnswer(Exception):
    """Internal signal: the server gave a retryable status; carries the (read) response."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _CallState:
    """The retry decisions of one call: stamina's ``on`` hook plus what it has seen."""

    def __init__(self, policy: RetryPolicy, retryable: bool) -> None:
        self.policy = policy
        self.retryable = retryable
        self.started = time.monotonic()
        self.last_error: Exception | None = None
        self.attempts = 0

    def remaining(self) -> float:
        """Seconds left before the call's deadline."""
        return self.policy.deadline - (time.monotonic() - self.started)

    def hook(self, exc: BaseException) -> bool | float:
        """Decide whether to retry after `exc`; a float is a backoff that honours Retry-After."""
        if not isinstance(exc, Exception):
            # Tenacity hands us a CancelledError too (deadline or caller): never retry that.
            return False
        self.last_error = exc
        if not self.retryable:
            return False
        if isinstance(exc, RetryableAnswer):
            delay = retry_after(exc.response)
            if delay is None:
                return True
            # Sleeping past the deadline only to be cut off would hide the server's answer.
            return delay if delay < self.remaining() else False
        return isinstance(exc, RETRY_ERRORS)


async def send(http: httpx.AsyncClient, request: httpx.Request, policy: RetryPolicy) -> httpx.Response:
    """Send `request` with the policy's retries and deadline; return the read final response.

    A retryable status that persists after the last attempt is returned as a response (the
    caller maps it to an error). Raises `Unreachable` (or `DeadlineExceeded`) when no answer
    came; never an httpx exception.
    """
    state = _CallState(policy, is_retryable(request.method, request.headers))
    deadline = asyncio.timeout(policy.deadline)
    try:
        async with deadline:
            return await _attempts(http, request, policy, state)
    except RetryableAnswer as answer:
        return answer.response
    except TimeoutError as exc:
        if deadline.expired():
            raise DeadlineExceeded(_deadline_message(request, policy, state)) from exc
        raise Unreachable(describe_transport_error(exc, request.url)) from exc
    except httpx.HTTPError as exc:
        raise Unreachable(describe_transport_error(exc, request.url)) from exc


async def _attempts(
    http: httpx.AsyncClient, request: httpx.Request, policy: RetryPolicy, state: _CallState
) -> httpx.Response:
    """The stamina loop proper (without the deadline)."""
    async for attempt in stamina.retry_context(
        on=state.hook,
        attempts=policy.attempts,
        timeout=policy.deadline,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
    ):
        with attempt:
            state.attempts += 1
            response = await http.send(request)
            if response.status_code in RETRY_STATUSES:
                raise RetryableAnswer(response)
            return response
    raise AssertionError("unreachable: stamina either returns or re-raises")  # pragma: no cover


def origin(url: httpx.URL) -> str:
    """``scheme://host[:port]`` of `url`: what a dispatcher recognises as "the server"."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _deadline_message(request: httpx.Request, policy: RetryPolicy, state: _CallState) -> str:
    """Why a call ran out of time, with the last thing that went wrong if anything did."""
    text = f"no complete answer from the central API at {origin(request.url)} within {policy.deadline:g} s"
    if state.attempts > 1:
        text += f" ({state.attempts} attempts)"
    last = state.last_error
    if isinstance(last, RetryableAnswer):
        text += f"; last answer: HTTP {last.response.status_code}"
    elif isinstance(last, Exception):
        text += f"; last error: {_reason(last)}"
    return text


def describe_transport_error(exc: BaseException, url: httpx.URL) -> str:
    """One sentence for a failure to get an answer at all."""
    return f"cannot reach the central API at {origin(url)}: {_reason(exc)}"


_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by the server",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EPIPE: "connection closed by the server",
}


def _reason(exc: BaseException) -> str:
    """A short human reason for a transport failure, from the most specific cause we find."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "no connection could be made in time"
    if isinstance(exc, httpx.ReadTimeout):
        return "the server stopped answering (read timeout)"
    if isinstance(exc, httpx.WriteTimeout):
        return "the server stopped accepting data (write timeout)"
    if isinstance(exc, httpx.PoolTimeout):
        return "too many calls at once (no free connection)"
    if isinstance(exc, httpx.ProxyError):
        return f"the proxy refused the connection ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection broke off mid-answer ({exc})"
    os_error = _find_os_error(exc)
    if isinstance(os_error, socket.gaierror):
        return "the host name could not be resolved"
    if os_error is not None and os_error.errno in _ERRNO_REASONS:
        return _ERRNO_REASONS[os_error.errno]
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "the connection was lost"
    return str(exc) or type(exc).__name__


def _find_os_error(exc: BaseException) -> OSError | None:
    """The innermost OSError carrying an errno in `exc`'s cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    found: OSError | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            found = current
        current = current.__cause__ or current.__context__
    return found
