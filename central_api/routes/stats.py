"""`GET /v1/stats`: counts by state, overdue, and the three rates (see `central_api.rates`);
`GET /v1/stats/units`: the same for every unit in one call (the supervisor's dashboard). A unit's
token gets its own unit's numbers only (`unit` forced to it; `/stats/units` lists it alone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api_client.domain import bounds
from api_client.input_types import FilterAt
from api_client.models import Stats
from central_api.deps import ScopeDep, StoreDep
from central_api.openapi import BEARER, errors

router = APIRouter(prefix="/v1", tags=["stats"], dependencies=BEARER, responses=errors(401, 403))


@router.get(
    "/stats", response_model=Stats, responses=errors(422, says={422: "A bad filter, or an unknown unit"})
)
def stats(
    scope: ScopeDep,
    store: StoreDep,
    since: Annotated[FilterAt | None, Query(description="received at or after")] = None,
    until: Annotated[FilterAt | None, Query(description="received before")] = None,
    unit: Annotated[
        str | None, Query(min_length=1, max_length=bounds.MAX_ID, description="the lead unit")
    ] = None,
) -> Stats:
    """Requests received in [since, until) (led by `unit`): totals, overdue now, and the rates."""
    return store.stats(since=since, until=until, unit=unit if scope.unit is None else scope.unit)


@router.get("/stats/units", response_model=list[Stats], responses=errors(422, says={422: "A bad filter"}))
def unit_stats(
    scope: ScopeDep,
    store: StoreDep,
    since: Annotated[FilterAt | None, Query(description="received at or after")] = None,
    until: Annotated[FilterAt | None, Query(description="received before")] = None,
) -> list[Stats]:
    """`/v1/stats?unit=…` for every unit of the directory, in its order, from one snapshot."""
    if scope.unit is not None:
        return [store.stats(since=since, until=until, unit=scope.unit)]
    return store.unit_stats(since=since, until=until)
