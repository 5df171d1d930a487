"""Requests: intake, read, dispatcher actions, audit trail, audited phone reveals.

A unit's token reads, acts on and reveals the phone of its unit's requests only (`ScopeDep`: 403
`not_your_unit` for another's, `unit_not_allowed` and `unit_not_lead` for what a unit may not do);
it takes nothing in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import Response

from api_client.actions import Action, AnswerDirectly, Extend
from api_client.domain import bounds
from api_client.domain.lifecycle import TransitionRefused, check_extension
from api_client.models import AuditEvent, NewRequest, PhoneReveal, PhoneRevealRequest, Request, Role
from central_api.deps import READ_SLOT, ROLE_RANK, IdentityDep, ReaderDep, ScopeDep, StoreDep
from central_api.errors import ApiError
from central_api.openapi import BEARER, BODY, errors, if_match, versioned
from central_api.routes._http import IdempotencyKey, outcome_response, parse_if_match, request_response
from central_api.routes.knowledge import check_answer
from central_api.scope import Scope
from central_api.store import Store

router = APIRouter(prefix="/v1", tags=["requests"], dependencies=BEARER, responses=errors(401, 403))

RequestId = Annotated[str, Path(min_length=1, max_length=bounds.MAX_ID, description="The request id")]
IfMatch = Annotated[str | None, Header(alias="If-Match", include_in_schema=False)]
_NOT_FOUND = {404: "No such request"}


@router.post(
    "/requests",
    status_code=201,
    response_model=Request,
    responses={
        **versioned(201, "The request, as taken in", created=True),
        **errors(
            *BODY, says={422: "Invalid input, an unknown category or community, or a reused idempotency key"}
        ),
    },
)
def create_request(
    new: NewRequest, identity: IdentityDep, store: StoreDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """Intake: store a new request (state `new`, version 1)."""
    outcome = store.create_request(
        new, actor=identity.name, idempotency_key=idempotency_key, token_id=identity.token_id
    )
    response = outcome_response(outcome, status=201)
    response.headers["Location"] = f"/v1/requests/{outcome.request.id}"
    return response


@router.get(
    "/requests/{request_id}",
    dependencies=READ_SLOT,
    response_model=Request,
    responses={**versioned(200, "The request"), **errors(404, 422, says=_NOT_FOUND)},
)
def get_request(request_id: RequestId, scope: ScopeDep, store: StoreDep) -> Response:
    """A request as it stands, with `ETag: "<version>"`."""
    return request_response(scope.check(store.get_request(request_id)))


@router.post(
    "/requests/{request_id}/actions",
    response_model=Request,
    responses={
        **versioned(200, "The request after the action"),
        **errors(
            *BODY,
            404,
            409,
            412,
            428,
            says={
                **_NOT_FOUND,
                400: "Malformed JSON, a body that is not a JSON object, or a malformed If-Match",
                403: "A partner's token, an extension past the limit without the supervisor role, or"
                " what a unit's token may not do (`not_your_unit`, `unit_not_allowed`, `unit_not_lead`)",
                409: "The state machine refuses the action",
                422: "Invalid action, an unknown unit or parent, or a reused idempotency key",
            },
        ),
    },
    openapi_extra=if_match(required=True, description='The version acted on: "3" (or 3, or W/"3").'),
)
def act(
    request_id: RequestId,
    action: Action,
    identity: ReaderDep,
    scope: ScopeDep,
    store: StoreDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Apply one dispatcher action, based on the version in If-Match."""
    version = parse_if_match(if_match)
    scope.check_kind(action)
    if isinstance(action, Extend) and ROLE_RANK.get(identity.role, -1) < ROLE_RANK[Role.supervisor]:
        _extension_allowed(store, request_id, action, version, scope)
    if isinstance(action, AnswerDirectly):
        check_answer(store, request_id, action, version)
    outcome = store.apply(
        request_id,
        action,
        actor=identity.name,
        if_match=version,
        idempotency_key=idempotency_key,
        token_id=identity.token_id,
        scope=scope,
    )
    return outcome_response(outcome)


def _extension_allowed(store: Store, request_id: str, action: Extend, version: int, scope: Scope) -> None:
    """403 for an extension only a supervisor may grant (`check_extension`), judged on the
    version acted on: when the request has changed since, the store answers 412 anyway (and for
    a request out of `scope`, the store refuses it)."""
    current = store.get_request(request_id)
    if current.version == version and scope.covers(current):
        try:
            check_extension(current, action)
        except TransitionRefused as exc:
            raise ApiError(403, exc.code, str(exc), exc.params) from exc


@router.get(
    "/requests/{request_id}/audit",
    dependencies=READ_SLOT,
    response_model=list[AuditEvent],
    responses=errors(404, 422, says=_NOT_FOUND),
)
def audit(request_id: RequestId, scope: ScopeDep, store: StoreDep) -> list[AuditEvent]:
    """The request's history, oldest first."""
    scope.check(store.get_request(request_id))
    return store.audit(request_id)


@router.post(
    "/requests/{request_id}/phone-reveals",
    response_model=PhoneReveal,
    responses=errors(*BODY, 404, says=_NOT_FOUND),
)
def reveal_phone(
    request_id: RequestId,
    identity: ReaderDep,
    scope: ScopeDep,
    store: StoreDep,
    body: PhoneRevealRequest | None = None,
) -> PhoneReveal:
    """The caller's full phone and name. Every call appends a `reveal_phone` event (who, when,
    why) to the request's audit trail; the request's version and the change feed are untouched.
    A unit reveals the phone of its own requests: it calls the citizen."""
    scope.check(store.get_request(request_id))
    reason = body.reason if body is not None else ""
    return store.reveal_phone(request_id, actor=identity.name, reason=reason)
