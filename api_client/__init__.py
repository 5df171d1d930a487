"""The typed client of the hotline central API, and the wire contract it shares with the server.

The client's names are exported lazily: the server and the cache import `api_client.models`
(which runs this file) and should not pay for importing httpx and stamina.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from api_client.errors import (
    Conflict,
    DeadlineExceeded,
    Forbidden,
    HotlineError,
    InvalidRequest,
    InvalidResponse,
    NotFound,
    ServerError,
    Unauthorized,
    Unreachable,
)

if TYPE_CHECKING:
    from api_client.client import DEFAULT_USER_AGENT, Health, HotlineClient
    from api_client.events import ChangeStream, listen
    from api_client.retrying import RetryPolicy

_LAZY = {
    "DEFAULT_USER_AGENT": "client",
    "Health": "client",
    "HotlineClient": "client",
    "ChangeStream": "events",
    "listen": "events",
    "RetryPolicy": "retrying",
}

__all__ = [
    "DEFAULT_USER_AGENT",
    "ChangeStream",
    "Conflict",
    "DeadlineExceeded",
    "Forbidden",
    "Health",
    "HotlineClient",
    "HotlineError",
    "InvalidRequest",
    "InvalidResponse",
    "NotFound",
    "RetryPolicy",
    "ServerError",
    "Unauthorized",
    "Unreachable",
    "listen",
]


def __getattr__(name: str) -> object:
    """Import the client's modules on first use of one of their names."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
