"""The client's exceptions. No raw httpx or pydantic exception leaves `api_client`.

HotlineError
├── Unreachable            connection refused, DNS, proxy, network dropped
│   └── DeadlineExceeded   the call's total deadline ran out
├── Unauthorized           401: no token or a bad one
├── Forbidden              403: the token's role may not do this
├── NotFound               404
├── Conflict               412: stale version; `.current` is the server's request
├── InvalidRequest         400/409/413/422/428: the server refused the input; `.detail`
├── ServerError            5xx after the retries that were safe
└── InvalidResponse        the server's answer is not what the contract says; `.field`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api_client.models import Request


class HotlineError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Unreachable(HotlineError):
    """The server could not be reached, or the connection failed mid-call."""


class DeadlineExceeded(Unreachable):
    """The call's total deadline ran out (a hung or trickling server)."""


class Unauthorized(HotlineError):
    pass


class Forbidden(HotlineError):
    pass


class NotFound(HotlineError):
    pass


class Conflict(HotlineError):
    """The request changed since the version the action was based on."""

    def __init__(self, message: str, *, current: Request, status: int | None = 412) -> None:
        super().__init__(message, status=status)
        self.current = current


class InvalidRequest(HotlineError):
    """The server refused the input (a bad field, a refused transition, an unknown unit).

    `.detail` is the server's sentence; `.errors` the `(field, message)` pairs of a 422.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        detail: str = "",
        errors: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message, status=status)
        self.detail = detail or message
        self.errors = errors


class ServerError(HotlineError):
    pass


class InvalidResponse(HotlineError):
    """The server answered something the contract does not allow."""

    def __init__(self, message: str, *, field: str = "", status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.field = field
