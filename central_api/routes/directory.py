"""The directory: handling units (and their duty state), categories, communities. Nothing in it is
personal: a unit's token reads it too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api_client.models import Category, Community, Unit, UnitUpdate
from central_api.deps import ReaderDep, StoreDep, SupervisorDep
from central_api.openapi import BEARER, BODY, errors

router = APIRouter(prefix="/v1", tags=["directory"], dependencies=BEARER, responses=errors(401, 403))


@router.get("/units", response_model=list[Unit])
def units(identity: ReaderDep, store: StoreDep) -> list[Unit]:
    """Every handling unit, in catalogue order."""
    return store.units()


@router.patch(
    "/units/{unit_id}",
    response_model=Unit,
    responses=errors(*BODY, 403, 404, says={403: "Needs the supervisor role", 404: "No such unit"}),
)
def update_unit(
    unit_id: Annotated[str, Path(min_length=1, max_length=64)],
    update: UnitUpdate,
    identity: SupervisorDep,
    store: StoreDep,
) -> Unit:
    """Put a unit on or off duty (supervisor or admin)."""
    return store.set_unit_on_duty(unit_id, update.on_duty, actor=identity.name)


@router.get("/categories", response_model=list[Category])
def categories(identity: ReaderDep, store: StoreDep) -> list[Category]:
    return store.categories()


@router.get("/communities", response_model=list[Community])
def communities(identity: ReaderDep, store: StoreDep) -> list[Community]:
    """Every community, in catalogue order, with its centre (latitude, longitude) for a map."""
    return store.communities()
