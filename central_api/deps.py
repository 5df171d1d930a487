"""FastAPI dependencies shared by the routers: the store, and bearer-token identity with role checks.

`get_store` is what every router (the /v1 routes and Open311) uses to reach the `Store`.
`require_identity` resolves `Authorization: Bearer <token>` to an `Identity` (401 otherwise);
`require_role(role)` additionally demands at least that role (403 otherwise).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, cast

import anyio.to_thread
from fastapi import Depends, Request

from api_client.models import Identity, Role
from central_api.errors import ApiError
from central_api.store import Store

#: How long a resolved token is trusted without asking the store again (seconds).
IDENTITY_TTL = 60.0
IDENTITY_CACHE_SIZE = 10_000

#: Roles from least to most powerful; a role may do everything the ones before it may.
ROLE_RANK: dict[Role, int] = {Role.dispatcher: 0, Role.supervisor: 1, Role.admin: 2}


def get_store(request: Request) -> Store:
    """The store the application was built with (`app.state.store`)."""
    return cast(Store, request.app.state.store)


StoreDep = Annotated[Store, Depends(get_store)]


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


async def require_identity(request: Request, store: StoreDep) -> Identity:
    """Who is calling; 401 when the token is missing or unknown.

    Known tokens are remembered for `IDENTITY_TTL` seconds per app, so most calls skip the
    database and the threadpool hop (tokens are never changed in place, only created)."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(
            401,
            "token_missing",
            "Missing bearer token: send 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    cache = _identity_cache(request)
    now = time.monotonic()
    hit = cache.get(token)
    if hit is not None and hit[0] > now:
        return hit[1]
    identity = await anyio.to_thread.run_sync(store.identify, token)
    if identity is None:
        raise ApiError(
            401, "unauthorized", "Unknown or revoked token.", headers={"WWW-Authenticate": "Bearer"}
        )
    if len(cache) >= IDENTITY_CACHE_SIZE:
        cache.clear()
    cache[token] = (now + IDENTITY_TTL, identity)
    return identity


def _identity_cache(request: Request) -> dict[str, tuple[float, Identity]]:
    state = request.app.state
    cache: dict[str, tuple[float, Identity]] | None = getattr(state, "identity_cache", None)
    if cache is None:
        cache = state.identity_cache = {}
    return cache


IdentityDep = Annotated[Identity, Depends(require_identity)]


def require_role(role: Role) -> Callable[[Identity], Identity]:
    """A dependency demanding at least `role`; 403 for a weaker one."""

    def check(identity: IdentityDep) -> Identity:
        if ROLE_RANK[identity.role] < ROLE_RANK[role]:
            raise ApiError(
                403,
                "forbidden",
                f"This needs the {role.value} role; your token has {identity.role.value}.",
                {"required_role": role.value, "role": identity.role.value},
            )
        return identity

    return check


SupervisorDep = Annotated[Identity, Depends(require_role(Role.supervisor))]
AdminDep = Annotated[Identity, Depends(require_role(Role.admin))]
