"""`POST /v1/tokens`: an admin creates an API token for a person or a system."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import StringConstraints

from api_client.models import Incoming, Role, TokenCreated
from central_api.deps import AdminDep, StoreDep

router = APIRouter(prefix="/v1", tags=["tokens"])


class NewToken(Incoming):
    """The body of `POST /v1/tokens`."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: Role


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreated,
    responses={403: {"description": "Needs the admin role"}},
)
def create_token(body: NewToken, identity: AdminDep, store: StoreDep) -> TokenCreated:
    """A new token; it is shown once and stored only as a hash."""
    token = store.create_token(body.name, body.role)
    return TokenCreated(name=body.name, role=body.role, token=token)
