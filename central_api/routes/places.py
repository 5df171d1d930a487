"""`GET /v1/places`: the street's gazetteer, whole, for clients to cache (every /v1 role reads it);
`PUT /v1/places/{id}`: a supervisor adds or changes a place; `GET /v1/places/audit`: every such
edit (supervisors).

It is a few hundred places that change only with the street's data: the answer carries an ETag of
its bytes, and a client sending it back as `If-None-Match` gets 304 without the list."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from starlette.requests import Request as HttpRequest

from api_client.places import Place, PlaceEvent, PlaceIn
from central_api.deps import ReaderDep, StoreDep, SupervisorDep
from central_api.openapi import BEARER, BODY, errors, header
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


PlaceIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="The place's id: letters, digits, _ - .",
    ),
]


@router.get("/places/audit", response_model=list[PlaceEvent], responses=errors(403, 422))
def place_audit(
    identity: SupervisorDep,
    store: StoreDep,
    place: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this place's edits")
    ] = None,
) -> list[PlaceEvent]:
    """Every edit of the gazetteer through the API (or of one place), oldest first: who, when,
    the place before and after."""
    return store.place_audit(place)


@router.put(
    "/places/{place_id}",
    response_model=Place,
    responses={
        200: {"description": "The place was replaced"},
        201: {"description": "The place was created"},
        **errors(
            *BODY,
            403,
            says={
                403: "Needs the supervisor role",
                422: "Invalid place, an unknown community, unit or parent, or a parent lying in it",
            },
        ),
    },
)
def put_place(place_id: PlaceIdPath, place: PlaceIn, identity: SupervisorDep, store: StoreDep) -> Response:
    """Create a place (201: listed last) or replace it (200), the edit kept in the audit."""
    saved, created = store.put_place(place_id, place, actor=identity.name)
    headers = {"Location": f"/v1/places/{saved.id}"} if created else None
    return json_response(saved.model_dump_json(), status=201 if created else 200, headers=headers)
