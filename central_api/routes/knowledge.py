"""The knowledge base (知识库): policy answers a call-taker reads out to answer an enquiry
directly (直接答复).

Every /v1 token reads the entries and the history of their edits (a unit's too: nothing in them
is personal); supervisors and admins create, replace (If-Match) and withdraw them (an entry
withdrawn stays, marked). `check_answer` is the
action route's test of the entry a direct answer cites.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi import Request as HttpRequest
from fastapi.responses import Response

from api_client.actions import AnswerDirectly
from api_client.domain import bounds
from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn, KnowledgeEvent
from central_api.deps import ReaderDep, StoreDep, SupervisorDep
from central_api.errors import ApiError, error_response
from central_api.knowledge_store import (
    KnowledgeEntryNotFound,
    KnowledgeError,
    KnowledgeStore,
    KnowledgeVersionMismatch,
    centre_day,
)
from central_api.openapi import BEARER, BODY, ErrorBody, errors, if_match, versioned
from central_api.routes._http import etag, json_response, parse_if_match
from central_api.store import Store

router = APIRouter(prefix="/v1", tags=["knowledge"], dependencies=BEARER, responses=errors(401, 403))

EntryIdPath = Annotated[str, Path(min_length=1, max_length=bounds.MAX_ID, description="The entry's id")]
IfMatch = Annotated[str | None, Header(alias="If-Match", include_in_schema=False)]
_IF_MATCH = if_match(required=False, description='The entry\'s version as read: "3" (or 3, or W/"3").')
_IF_MATCH_REQUIRED = if_match(
    required=True, description='The entry\'s version as read: "3" (or 3, or W/"3").'
)
_SAYS = {
    400: "Malformed JSON, a body that is not a JSON object, or a malformed If-Match",
    403: "Needs the supervisor role",
    404: "No such entry",
    412: "Stale If-Match; the body carries `current`",
    422: "Invalid entry, an unknown category, or its dates reversed",
    428: "If-Match is missing",
}


class StaleEntryBody(ErrorBody):
    """A 412 on a knowledge-base entry: the entry as it stands now."""

    current: KnowledgeEntry


def _knowledge(store: Store) -> KnowledgeStore:
    if not isinstance(store, KnowledgeStore):
        raise ApiError(404, "not_found", "This server keeps no knowledge base.")
    return store


def _refused(request: HttpRequest, exc: KnowledgeError) -> Response:
    if isinstance(exc, KnowledgeVersionMismatch):
        return error_response(
            request.url.path,
            exc.status,
            exc.code,
            str(exc),
            exc.params,
            extra={"current": exc.current.model_dump(mode="json")},
            headers={"ETag": etag(exc.current.version)},
        )
    return error_response(request.url.path, exc.status, exc.code, str(exc), exc.params)


def _entry_response(entry: KnowledgeEntry, *, status: int = 200) -> Response:
    headers = {"ETag": etag(entry.version)}
    if status == 201:
        headers["Location"] = f"/v1/knowledge/{entry.id}"
    return json_response(entry.model_dump_json(), status=status, headers=headers)


def _version(value: str | None) -> int | None:
    """The version in If-Match, None without the header; an empty one is malformed (400)."""
    if value is None:
        return None
    if not value.strip():
        raise ApiError(
            400, "invalid_if_match", 'If-Match must be a version like "3", not empty.', {"value": value}
        )
    return parse_if_match(value)


@router.get("/knowledge", response_model=list[KnowledgeEntry])
def knowledge_entries(identity: ReaderDep, store: StoreDep) -> list[KnowledgeEntry]:
    """Every entry, withdrawn ones too (marked), in the order they were made."""
    return _knowledge(store).knowledge_entries()


@router.get("/knowledge/audit", response_model=list[KnowledgeEvent], responses=errors(422))
def knowledge_audit(
    identity: ReaderDep,
    store: StoreDep,
    entry: Annotated[
        str | None, Query(min_length=1, max_length=bounds.MAX_ID, description="Only this entry's edits")
    ] = None,
) -> list[KnowledgeEvent]:
    """Every edit of the knowledge base (or of one entry), oldest first: who, when, before, after."""
    return _knowledge(store).knowledge_audit(entry)


@router.get(
    "/knowledge/{entry_id}",
    response_model=KnowledgeEntry,
    responses={
        **versioned(200, "The entry"),
        **errors(404, 422, says={**_SAYS, 422: "An id longer than 64 characters"}),
    },
)
def knowledge_entry(
    entry_id: EntryIdPath, request: HttpRequest, identity: ReaderDep, store: StoreDep
) -> Response:
    """One entry, with `ETag: "<version>"`."""
    try:
        return _entry_response(_knowledge(store).knowledge_entry(entry_id))
    except KnowledgeError as exc:
        return _refused(request, exc)


@router.post(
    "/knowledge",
    status_code=201,
    response_model=KnowledgeEntry,
    responses={**versioned(201, "The entry, made", created=True), **errors(*BODY, 403, says=_SAYS)},
)
def create_knowledge_entry(entry: KnowledgeEntryIn, identity: SupervisorDep, store: StoreDep) -> Response:
    """A new entry (version 1, id `KB-<n>`). Audited."""
    made = _knowledge(store).create_knowledge_entry(entry, actor=identity.name)
    return _entry_response(made, status=201)


@router.put(
    "/knowledge/{entry_id}",
    response_model=KnowledgeEntry,
    responses={
        **versioned(200, "The entry, replaced"),
        **errors(*BODY, 403, 404, 412, 428, stale=StaleEntryBody, says=_SAYS),
    },
    openapi_extra=_IF_MATCH_REQUIRED,
)
def replace_knowledge_entry(
    entry_id: EntryIdPath,
    entry: KnowledgeEntryIn,
    request: HttpRequest,
    identity: SupervisorDep,
    store: StoreDep,
    if_match: IfMatch = None,
) -> Response:
    """Replace an entry at the version in If-Match (a withdrawn one is in force again). Audited."""
    try:
        replaced = _knowledge(store).replace_knowledge_entry(
            entry_id, entry, actor=identity.name, if_match=_version(if_match)
        )
    except KnowledgeError as exc:
        return _refused(request, exc)
    return _entry_response(replaced)


@router.delete(
    "/knowledge/{entry_id}",
    response_model=KnowledgeEntry,
    responses={
        **versioned(200, "The entry, withdrawn"),
        **errors(400, 403, 404, 412, 422, stale=StaleEntryBody, says=_SAYS),
    },
    openapi_extra=_IF_MATCH,
)
def withdraw_knowledge_entry(
    entry_id: EntryIdPath,
    request: HttpRequest,
    identity: SupervisorDep,
    store: StoreDep,
    if_match: IfMatch = None,
) -> Response:
    """Withdraw an entry (checking If-Match when given): it stays, marked `withdrawn`, and no
    answer may cite it any more. Audited; withdrawing it again changes nothing."""
    try:
        withdrawn = _knowledge(store).withdraw_knowledge_entry(
            entry_id, actor=identity.name, if_match=_version(if_match)
        )
    except KnowledgeError as exc:
        return _refused(request, exc)
    return _entry_response(withdrawn)


def check_answer(store: Store, request_id: str, action: AnswerDirectly, version: int) -> None:
    """A direct answer may cite only a known entry (else 422 `knowledge_entry_unknown`) in force
    today at the centre (else 409 `knowledge_entry_not_in_force`). Judged on the version acted on:
    when the request has changed since, the store answers 412, or replays the answer it took."""
    if store.get_request(request_id).version != version:
        return
    try:
        entry = _knowledge(store).knowledge_entry(action.entry_id)
    except KnowledgeEntryNotFound as exc:
        raise ApiError(
            422,
            "knowledge_entry_unknown",
            f"No knowledge-base entry {action.entry_id!r} to answer with.",
            {"entry_id": action.entry_id},
        ) from exc
    today = centre_day(store.clock())
    if not entry.in_force(today):
        raise ApiError(
            409,
            "knowledge_entry_not_in_force",
            f"Knowledge-base entry {entry.id} is not in force on {today.isoformat()}"
            + (" (withdrawn)." if entry.withdrawn else "."),
            {
                "entry_id": entry.id,
                "day": today.isoformat(),
                "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
                "valid_until": entry.valid_until.isoformat() if entry.valid_until else None,
                "withdrawn": entry.withdrawn,
            },
        )
