"""FastAPI dependencies shared by the routers: the store, and bearer-token identity with role checks.

`get_store` is what every router (the /v1 routes and Open311) uses to reach the `Store`.
`require_reader` resolves `Authorization: Bearer <token>` to a `TokenHolder` of a /v1 role or a
unit's (401 for a missing, unknown or revoked token; 403 `partner_not_allowed` for a partner's,
which works only under `/open311/v2/`). A unit's token is refused by default: `require_identity`
(`IdentityDep`, what a route takes unless it says otherwise) answers it 403 `forbidden`, and so
does `require_role(role)`, which demands at least that role. A route opens to units only by taking
`ReaderDep` (for what is not personal: the directory, `/v1/me`) or `ScopeDep` (the `Scope` its
requests are read and acted on through: `central_api.scope`).

`read_slot` (as `READ_SLOT` in a route's `dependencies`) makes the reads that come in crowds (every
client pulls the change feed after each notice) take turns on `READ_THREADS` of the worker threads,
so that a write always finds a free one.

Identities are remembered per process for at most `IDENTITY_TTL` seconds, and forgotten at once
when the tokens version moves (a revocation anywhere: the notifier hears of it, by notice on
PostgreSQL, by its poll on SQLite), so a revoked token is refused by every process sharing the
database within `REVOCATION_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, cast

import anyio
import anyio.to_thread
from fastapi import Depends, Request

from api_client.models import Role
from central_api.errors import ApiError
from central_api.notifier import Notifier
from central_api.scope import Scope
from central_api.store import Store, TokenHolder

#: The promise: a revoked token is refused everywhere within this many seconds.
REVOCATION_SECONDS = 5.0
#: How long a resolved token is trusted without asking the store again (seconds), should the
#: poll of the tokens version fail (`events.WAIT_SECONDS` + this stays within the promise).
IDENTITY_TTL = 3.0
IDENTITY_CACHE_SIZE = 10_000
#: Worker threads the crowd reads may hold at once (of `central_api.sql.engine.WORKER_THREADS`).
READ_THREADS = 8

#: The roles of the /v1 API, from least to most powerful; a role may do everything the ones
#: before it may. A partner is not among them: it is another kind of token, not a lesser one.
ROLE_RANK: dict[Role, int] = {Role.dispatcher: 0, Role.supervisor: 1, Role.admin: 2}


async def get_store(request: Request) -> Store:
    """The store the application was built with (`app.state.store`). (A coroutine, so that
    FastAPI does not spend a worker thread on it.)"""
    return cast(Store, request.app.state.store)


StoreDep = Annotated[Store, Depends(get_store)]


async def read_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of the `READ_THREADS` places while the route runs (waiting, without a thread,
    until one is free)."""
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "read_limiter", None)
    if limiter is None:  # made in the app's event loop, where it is used
        limiter = state.read_limiter = anyio.CapacityLimiter(READ_THREADS)
    async with limiter:
        yield


#: `dependencies=READ_SLOT` on a route that reads for a crowd.
READ_SLOT = [Depends(read_slot, scope="function")]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


@dataclass(frozen=True)
class _Known:
    expires: float
    tokens_version: int
    holder: TokenHolder


async def identify(request: Request, store: Store, token: str) -> TokenHolder | None:
    """Who holds `token` (None: unknown or revoked), remembered as the module says."""
    notifier: Notifier = request.app.state.notifier
    cache = _identity_cache(request)
    now = time.monotonic()
    hit = cache.get(token)
    if hit is not None and hit.expires > now and hit.tokens_version == notifier.tokens_version:
        return hit.holder
    version = notifier.tokens_version  # read before the store: a revocation meanwhile is not missed
    holder = await anyio.to_thread.run_sync(store.identify, token)
    if holder is None:
        cache.pop(token, None)
        return None
    if len(cache) >= IDENTITY_CACHE_SIZE:
        cache.clear()
    cache[token] = _Known(now + IDENTITY_TTL, version, holder)
    return holder


def _identity_cache(request: Request) -> dict[str, _Known]:
    state = request.app.state
    cache: dict[str, _Known] | None = getattr(state, "identity_cache", None)
    if cache is None:
        cache = state.identity_cache = {}
    return cache


async def require_reader(request: Request, store: StoreDep) -> TokenHolder:
    """Who is calling the /v1 API, a unit's token included: 401 when the token is missing,
    unknown or revoked; 403 for a partner's token."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(
            401,
            "token_missing",
            "Missing bearer token: send 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    holder = await identify(request, store, token)
    if holder is None:
        raise ApiError(
            401, "unauthorized", "Unknown or revoked token.", headers={"WWW-Authenticate": "Bearer"}
        )
    if holder.role not in ROLE_RANK and holder.role is not Role.unit:
        raise ApiError(
            403,
            "partner_not_allowed",
            f"A {holder.role.value} token works only under /open311/v2/.",
            {"role": holder.role.value},
        )
    return holder


#: Any /v1 token, a unit's included: only for what is not personal (the directory, who you are).
ReaderDep = Annotated[TokenHolder, Depends(require_reader)]


async def require_identity(holder: ReaderDep) -> TokenHolder:
    """A dispatcher's token or a stronger one: a unit's is refused (403 `forbidden`)."""
    if holder.role not in ROLE_RANK:
        raise _weaker(Role.dispatcher, holder.role)
    return holder


IdentityDep = Annotated[TokenHolder, Depends(require_identity)]


async def require_scope(holder: ReaderDep) -> Scope:
    """The requests the token reads and acts on: all of them, or its unit's."""
    return Scope.of(holder)


#: A route that reads or acts on requests for a unit's token too, through this scope.
ScopeDep = Annotated[Scope, Depends(require_scope)]


def _weaker(role: Role, has: Role) -> ApiError:
    return ApiError(
        403,
        "forbidden",
        f"This needs the {role.value} role; your token has {has.value}.",
        {"required_role": role.value, "role": has.value},
    )


def require_role(role: Role) -> Callable[[TokenHolder], Coroutine[Any, Any, TokenHolder]]:
    """A dependency demanding at least `role` (a /v1 role); 403 for a weaker one."""
    needed = ROLE_RANK[role]

    async def check(identity: ReaderDep) -> TokenHolder:
        if ROLE_RANK.get(identity.role, -1) < needed:
            raise _weaker(role, identity.role)
        return identity

    return check


SupervisorDep = Annotated[TokenHolder, Depends(require_role(Role.supervisor))]
AdminDep = Annotated[TokenHolder, Depends(require_role(Role.admin))]
