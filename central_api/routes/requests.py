"""Requests: intake, read, dispatcher actions, audit trail, audited phone reveals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from api_client.actions import Action
from api_client.models import AuditEvent, NewRequest, PhoneReveal, PhoneRevealRequest, Request
from central_api.deps import IdentityDep, StoreDep
from central_api.routes._http import IdempotencyKey, outcome_response, parse_if_match, request_response

router = APIRouter(prefix="/v1", tags=["requests"])

RequestId = Annotated[str, Path(min_length=1, max_length=64, description="The request id")]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='The version acted on: "3" (or 3, or W/"3").')
]

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Malformed JSON or a body that is not an object"},
    401: {"description": "Missing or unknown token"},
    413: {"description": "Body too large"},
    422: {"description": "Invalid input, unknown category/community/unit, or reused idempotency key"},
}


@router.post(
    "/requests",
    status_code=201,
    response_model=Request,
    responses=_ERRORS,
)
def create_request(
    new: NewRequest, identity: IdentityDep, store: StoreDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Intake: store a new request (state `new`, version 1)."""
    outcome = store.create_request(new, actor=identity.name, idempotency_key=idempotency_key)
    response = outcome_response(outcome, status=201)
    response.headers["Location"] = f"/v1/requests/{outcome.request.id}"
    return response


@router.get(
    "/requests/{request_id}", response_model=Request, responses={404: {"description": "No such request"}}
)
def get_request(request_id: RequestId, identity: IdentityDep, store: StoreDep) -> Response:
    """A request as it stands, with `ETag: "<version>"`."""
    return request_response(store.get_request(request_id))


@router.post(
    "/requests/{request_id}/actions",
    response_model=Request,
    responses={
        **_ERRORS,
        404: {"description": "No such request"},
        409: {"description": "The state machine refuses the action"},
        412: {"description": "Stale If-Match; the body carries `current`"},
        428: {"description": "If-Match missing"},
    },
)
def act(
    request_id: RequestId,
    action: Action,
    identity: IdentityDep,
    store: StoreDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Apply one dispatcher action, based on the version in If-Match."""
    version = parse_if_match(if_match)
    outcome = store.apply(
        request_id, action, actor=identity.name, if_match=version, idempotency_key=idempotency_key
    )
    return outcome_response(outcome)


@router.get(
    "/requests/{request_id}/audit",
    response_model=list[AuditEvent],
    responses={404: {"description": "No such request"}},
)
def audit(request_id: RequestId, identity: IdentityDep, store: StoreDep) -> list[AuditEvent]:
    """The request's history, oldest first."""
    return store.audit(request_id)


@router.post(
    "/requests/{request_id}/phone-reveals",
    response_model=PhoneReveal,
    responses={**_ERRORS, 404: {"description": "No such request"}},
)
def reveal_phone(
    request_id: RequestId,
    identity: IdentityDep,
    store: StoreDep,
    body: PhoneRevealRequest | None = None,
) -> PhoneReveal:
    """The caller's full phone and name. Every call appends a `reveal_phone` event (who, when,
    why) to the request's audit trail; the request's version and the change feed are untouched."""
    reason = body.reason if body is not None else ""
    return store.reveal_phone(request_id, actor=identity.name, reason=reason)
