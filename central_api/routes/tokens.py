"""API tokens, for admins: `POST /v1/tokens` makes one for a person or a system (names are
unique), `GET /v1/tokens` lists them, `DELETE /v1/tokens/{name}` revokes one. Making and revoking
are token events (who, when); a revoked token is refused by every server process within
`central_api.deps.REVOCATION_SECONDS`, and its open event streams end. A `unit` token is bound to
the unit named in `unit` (and only it has one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi import Request as HttpRequest
from pydantic import StringConstraints

from api_client.input_types import Identifier
from api_client.models import Incoming, Role, TokenCreated, TokenInfo
from central_api.deps import AdminDep, StoreDep
from central_api.errors import ApiError
from central_api.notifier import Notifier
from central_api.openapi import BEARER, BODY, errors
from central_api.store import TokenNameTaken, TokenNotFound

router = APIRouter(prefix="/v1", tags=["tokens"], dependencies=BEARER, responses=errors(401, 403))


class NewToken(Incoming):
    """The body of `POST /v1/tokens`."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    role: Role
    unit: Identifier | None = None  # for a `unit` token: the unit it is bound to


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenCreated,
    responses=errors(
        *BODY,
        403,
        409,
        says={
            403: "Needs the admin role",
            409: "The name is taken",
            422: "Invalid input; a unit token without a known unit (`token_unit_missing`,"
            " `unknown_unit`), or a unit for another role (`token_unit_for_role`)",
        },
    ),
)
def create_token(body: NewToken, identity: AdminDep, store: StoreDep) -> TokenCreated:
    """A new token; it is shown once and stored only as a hash. 409 `token_name_taken` when a
    token (revoked or not) has the name already."""
    try:
        token = store.create_token(body.name, body.role, actor=identity.name, unit=body.unit)
    except TokenNameTaken as exc:
        raise ApiError(409, exc.code, str(exc), exc.params) from exc
    return TokenCreated(name=body.name, role=body.role, token=token, unit=body.unit)


@router.get(
    "/tokens", response_model=list[TokenInfo], responses=errors(403, says={403: "Needs the admin role"})
)
def list_tokens(identity: AdminDep, store: StoreDep) -> list[TokenInfo]:
    """Every token (never the token itself), revoked ones too, oldest first."""
    return store.tokens()


TokenName = Annotated[str, Path(min_length=1, max_length=200, description="The token's name")]


@router.delete(
    "/tokens/{name:path}",
    response_model=TokenInfo,
    responses=errors(403, 404, 422, says={403: "Needs the admin role", 404: "No token has this name"}),
)
def revoke_token(name: TokenName, request: HttpRequest, identity: AdminDep, store: StoreDep) -> TokenInfo:
    """Revoke a token (revoking it again changes nothing); the token as it is now. 404
    `token_not_found` for an unknown name."""
    try:
        revoked = store.revoke_token(name, actor=identity.name)
    except TokenNotFound as exc:
        raise ApiError(404, exc.code, str(exc), exc.params) from exc
    notifier: Notifier = request.app.state.notifier
    notifier.tokens_changed(store.tokens_version())  # this process forgets the token at once
    return revoked
