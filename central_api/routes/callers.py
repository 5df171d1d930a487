"""Callers: the audited lookup of a caller's requests by phone, and who looked callers up.

The number travels in a POST body, never in a URL (which proxies and access logs keep)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api_client.models import CallerLookup, CallerLookupEvent, CallerLookupRequest, Identity, Role
from central_api.deps import StoreDep, SupervisorDep, require_role
from central_api.errors import ApiError
from central_api.openapi import BEARER, BODY, errors
from central_api.store import TooManyLookups

router = APIRouter(prefix="/v1/callers", tags=["callers"], dependencies=BEARER, responses=errors(401, 403))

DispatcherDep = Annotated[Identity, Depends(require_role(Role.dispatcher))]


@router.post(
    "/lookup",
    response_model=CallerLookup,
    responses=errors(
        *BODY,
        429,
        says={
            422: "Invalid input, or not a phone number nor its last 4 to 6 digits (`lookup_not_a_phone`)",
            429: "Too many lookups lately (`lookup_rate_limited`, with Retry-After)",
        },
    ),
)
def lookup(body: CallerLookupRequest, identity: DispatcherDep, store: StoreDep) -> CallerLookup:
    """The requests of the caller with this phone (a whole number), or of every caller whose
    phone ends with these 4 to 6 digits: newest first, at most 50, callers masked as everywhere.
    Every call appends a `lookup_phone` audit event (who, when, why, the number masked, how
    many requests it found); the digits themselves are not kept."""
    try:
        return store.lookup_caller(body.phone, actor=identity.name, reason=body.reason)
    except TooManyLookups as exc:
        raise ApiError(
            429, exc.code, str(exc), exc.params, headers={"Retry-After": str(exc.retry_after)}
        ) from exc


@router.get(
    "/lookups",
    response_model=list[CallerLookupEvent],
    responses=errors(403, 422, says={403: "Needs the supervisor role"}),
)
def lookups(
    identity: SupervisorDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first")] = 100,
) -> list[CallerLookupEvent]:
    """The latest phone lookups, newest first: who, when, why, the number masked as asked."""
    return store.caller_lookups(limit)
