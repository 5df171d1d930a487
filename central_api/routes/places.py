"""`GET /v1/places`: the street's gazetteer, whole, for clients to cache (every /v1 role reads it).

It is a few hundred places that change only with the street's data: the answer carries an ETag of
its bytes, and a client sending it back as `If-None-Match` gets 304 without the list."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.requests import Request as HttpRequest

from api_client.places import Place
from central_api.deps import ReaderDep, StoreDep
from central_api.openapi import BEARER, errors, header
from central_api.routes._http import json_response

router = APIRouter(prefix="/v1", tags=["places"], dependencies=BEARER, responses=errors(401, 403))

_ETAG = {"ETag": {"description": "The list's tag", "required": True, "schema": {"type": "string"}}}


@router.get(
    "/places",
    response_model=list[Place],
    responses={
        200: {"description": "Every place, parents before their children", "headers": _ETAG},
        304: {"description": "The list is the one `If-None-Match` names", "headers": _ETAG},
    },
    openapi_extra=header(
        "If-None-Match",
        {"type": "string"},
        required=False,
        description="The ETag of the list the client holds",
    ),
)
def places(request: HttpRequest, identity: ReaderDep, store: StoreDep) -> Response:
    """Every place of the street's gazetteer: communities, roads, compounds, their buildings and
    landmarks, each with the units covering it."""
    body = store.places_json()
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    held = request.headers.get("if-none-match", "")
    if tag in (value.strip().removeprefix("W/") for value in held.split(",")):
        return Response(status_code=304, headers={"ETag": tag})
    return json_response(body, headers={"ETag": tag})
