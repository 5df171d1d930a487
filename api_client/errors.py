"""The client's exceptions. No raw httpx or pydantic exception leaves `api_client`.

HotlineError
├── Unreachable            connection refused, DNS, proxy, network dropped
│   └── DeadlineExceeded   the call's total deadline ran out
├── Unauthorized           401: no token or a bad one
├── Forbidden              403: the token's role may not do this
├── NotFound               404
├── Conflict               412: stale version; `.current` is the server's request
├── RuleConflict           412 on a routing rule; `.current` is the rule now (None: deleted)
├── InvalidRequest         400/409/413/422/428: the server refused the input; `.detail`, `.errors`
├── ServerError            5xx after the retries that were safe
└── InvalidResponse        the server's answer is not what the contract says; `.field`

A refusal by the server carries its `code` (a stable snake_case id, e.g. `transition_refused`) and
`params` (the variable parts of its sentence); errors of the client's own have no code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from api_client.models import Request, RoutingRule


class HotlineError(Exception):
    """Base of every error the client raises; `code` and `params` as the server sent them."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.params: dict[str, object] = dict(params or {})


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

    def __init__(
        self,
        message: str,
        *,
        current: Request,
        status: int | None = 412,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, params=params)
        self.current = current


class RuleConflict(HotlineError):
    """A routing rule changed since the version a change was based on; `current` is the rule
    now (None when it was deleted)."""

    def __init__(
        self,
        message: str,
        *,
        current: RoutingRule | None,
        status: int | None = 412,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, params=params)
        self.current = current


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One field the server refused: its English message, and the problem's code and params."""

    field: str
    message: str
    code: str | None = None
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


class InvalidRequest(HotlineError):
    """The server refused the input (a bad field, a refused transition, an unknown unit).

    `.detail` is the server's sentence; `.errors` the fields a 422 names.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        detail: str = "",
        errors: tuple[FieldError, ...] = (),
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, params=params)
        self.detail = detail or message
        self.errors = errors


class ServerError(HotlineError):
    pass


class InvalidResponse(HotlineError):
    """The server answered something the contract does not allow."""

    def __init__(self, message: str, *, field: str = "", status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.field = field
