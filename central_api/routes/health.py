"""`GET /v1/health` (open, no token) and `GET /v1/me` (who the token belongs to)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api_client.models import Identity
from central_api.deps import ReaderDep, StoreDep
from central_api.openapi import BEARER, errors

router = APIRouter(prefix="/v1", tags=["service"])


class Health(BaseModel):
    status: str
    head: int


@router.get("/health", response_model=Health)
def health(store: StoreDep) -> Health:
    """Liveness, and the newest change seq. Needs no token."""
    return Health(status="ok", head=store.head())


@router.get("/me", response_model=Identity, dependencies=BEARER, responses=errors(401, 403))
def me(identity: ReaderDep) -> Identity:
    """The name and role of the caller's token (and the unit a unit's token is bound to)."""
    return identity
