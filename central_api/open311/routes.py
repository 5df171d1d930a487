"""The GeoReport v2 routes: discovery, services, and reading and posting service requests.

A unit's token, as `api_key`, reads only its unit's service requests (`central_api.scope`: 403 for
another unit's) and posts none (403)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api_client.actions import AddNote
from api_client.models import Category, Request, Role, Unit, now_utc
from central_api.catalogue import STREET_OFFICE
from central_api.deps import StoreDep
from central_api.open311.errors import Open311Error, error_list
from central_api.open311.keys import reader, require_key
from central_api.open311.mapping import (
    BEIJING,
    as_service,
    as_service_request,
    local_time,
    public_service_request,
    service_definition,
    service_notice,
)
from central_api.open311.openapi import LIST_PARAMETERS, POST_FORM
from central_api.open311.parsing import check_form_type, new_request, request_filter
from central_api.openapi import OPEN311_KEY, georeport_errors
from central_api.scope import ALL, Scope
from central_api.store import InvalidInput, Outcome, RequestNotFound, Store, TokenHolder

log = logging.getLogger(__name__)

router = APIRouter(prefix="/open311/v2", tags=["open311"])

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When the service list last changed in a way clients should notice.
CHANGESET = datetime(2024, 1, 1, tzinfo=BEIJING)


@router.get("/discovery.json", response_model=None)
def discovery(request: HttpRequest) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    url = str(request.base_url).rstrip("/") + router.prefix
    changeset = local_time(CHANGESET)
    return JSONResponse(
        {
            "changeset": changeset,
            "contact": f"{STREET_OFFICE}接诉即办 — 12345 市民服务热线",
            "key_service": (
                "api_key 为热线令牌（合作方用 partner 角色），请向热线管理员申请（hotline token create）；"
                "建议放在请求头 X-Api-Key 或 Authorization: Bearer 中，查询串会被代理记入日志。"
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": url,
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


@router.get("/services.json", response_model=None)
def services(store: StoreDep) -> Response:
    """Every service (one per category)."""
    return JSONResponse([as_service(c) for c in store.categories()])


@router.get("/services/{service_code}.json", response_model=None, responses=georeport_errors(404))
def service(service_code: str, store: StoreDep) -> Response:
    """One service's definition: its optional attributes."""
    category = next((c for c in store.categories() if c.code == service_code), None)
    if category is None:
        return error_list(404, f"service_code provided was not found: {service_code!r}")
    return JSONResponse(service_definition(category, store.communities()))


@router.post(
    "/requests.json",
    status_code=201,
    response_model=None,
    dependencies=OPEN311_KEY,
    responses=georeport_errors(400, 403, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": POST_FORM}},
        }
    },
)
async def post_request(request: HttpRequest, store: StoreDep) -> Response:
    """Create a service request from a form-encoded body."""
    try:
        check_form_type(request.headers.get("content-type", ""))
    except Open311Error as exc:
        return exc.response()
    try:
        form = await request.form()
    except Exception:  # malformed multipart and the like
        return error_list(400, "The body must be form-encoded (application/x-www-form-urlencoded).")
    try:
        return await _post_request(form, request, store)
    finally:
        await form.close()


async def _post_request(form: FormData, request: HttpRequest, store: Store) -> Response:
    try:
        identity = await run_in_threadpool(require_key, store, request, form)
    except Open311Error as exc:
        return exc.response()
    if identity.role is Role.unit:
        return error_list(403, "a unit's api_key reads its unit's service requests; it cannot post one")
    code = form.get("service_code")
    if not isinstance(code, str) or not code.strip():
        return error_list(400, "service_code was not provided")
    categories = {c.code: c for c in await run_in_threadpool(store.categories)}
    category = categories.get(code.strip())
    if category is None:
        return error_list(400, f"service_code not found: {code.strip()!r}")
    communities = await run_in_threadpool(store.communities)
    try:
        new, note = new_request(form, category, communities)
    except Open311Error as exc:
        return exc.response()
    key = request.headers.get("idempotency-key") or None

    def store_all() -> Outcome:
        """The request and the note of its extras, in one transaction: both or nothing."""
        with store.batch():
            outcome = store.create_request(
                new, actor=identity.name, idempotency_key=key, token_id=identity.token_id
            )
            if note and not outcome.replayed:
                store.apply(
                    outcome.request.id,
                    AddNote(text=note),
                    actor=identity.name,
                    if_match=outcome.request.version,
                    idempotency_key=None,
                )
            return outcome

    try:
        created = (await run_in_threadpool(store_all)).request
    except InvalidInput as exc:
        return error_list(400, str(exc))
    return JSONResponse(
        [{"service_request_id": created.id, "service_notice": service_notice(created), "account_id": None}],
        status_code=201,
    )


@router.get(
    "/requests.json",
    response_model=None,
    dependencies=OPEN311_KEY,
    responses=georeport_errors(400, 403),
    openapi_extra={"parameters": LIST_PARAMETERS},
)
def list_requests(request: HttpRequest, store: StoreDep) -> Response:
    """Service requests, newest first: by ids, or filtered (default: the last 90 days, 1000 at most).
    Without a key when reads are public: no personal data (`public_service_request`)."""
    try:
        holder = reader(store, request)
    except Open311Error as exc:
        return exc.response()
    shown = _shown_to(holder)
    categories = {c.code: c for c in store.categories()}
    try:
        flt = request_filter(request.query_params, categories, now_utc())
    except Open311Error as exc:
        return exc.response()
    flt = dataclasses.replace(flt, unit=_scope(holder).unit)
    units = {u.id: u for u in store.units()}
    return JSONResponse([shown(r, categories, units) for r in store.list_requests(flt)])


@router.get(
    "/requests/{service_request_id}.json",
    response_model=None,
    dependencies=OPEN311_KEY,
    responses=georeport_errors(400, 403, 404),
)
def get_request(service_request_id: str, request: HttpRequest, store: StoreDep) -> Response:
    """One service request, as a list of one. Without a key when reads are public: no personal
    data (`public_service_request`)."""
    try:
        holder = reader(store, request)
    except Open311Error as exc:
        return exc.response()
    shown = _shown_to(holder)
    try:
        found = store.get_request(service_request_id)
    except RequestNotFound:
        return error_list(404, f"service_request_id not found: {service_request_id!r}")
    if not _scope(holder).covers(found):
        return error_list(403, f"service_request_id {service_request_id!r} is not your unit's")
    categories = {c.code: c for c in store.categories()}
    units = {u.id: u for u in store.units()}
    return JSONResponse([shown(found, categories, units)])


def _scope(holder: TokenHolder | None) -> Scope:
    """The requests a key's holder reads (anyone reads what public reads allow)."""
    return Scope.of(holder) if holder is not None else ALL


def _shown_to(
    holder: TokenHolder | None,
) -> Callable[[Request, Mapping[str, Category], Mapping[str, Unit]], dict[str, object]]:
    """How a service request is shown to a key's holder, or to anyone (None)."""
    return as_service_request if holder is not None else public_service_request
