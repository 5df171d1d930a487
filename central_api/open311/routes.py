"""The GeoReport v2 routes: discovery, services, and reading and posting service requests."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api_client.actions import AddNote
from api_client.models import Identity, now_utc
from central_api.catalogue import STREET_OFFICE
from central_api.deps import StoreDep
from central_api.open311.errors import Open311Error, error_list
from central_api.open311.mapping import (
    BEIJING,
    as_service,
    as_service_request,
    local_time,
    service_definition,
    service_notice,
)
from central_api.open311.parsing import new_request, request_filter
from central_api.store import InvalidInput, RequestNotFound, Store

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
            "key_service": "api_key 为调度系统令牌，请向热线管理员申请（hotline token）。",
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


@router.get("/services/{service_code}.json", response_model=None)
def service(service_code: str, store: StoreDep) -> Response:
    """One service's definition: its optional attributes."""
    category = next((c for c in store.categories() if c.code == service_code), None)
    if category is None:
        return error_list(404, f"service_code provided was not found: {service_code!r}")
    return JSONResponse(service_definition(category, store.communities()))


_POST_FIELDS = {
    "api_key": "A hotline token (required).",
    "service_code": "The category code from services.json (required).",
    "lat": "Latitude, WGS 84 (with long; or give address_string / address_id).",
    "long": "Longitude, WGS 84.",
    "address_string": "The address as text.",
    "address_id": "An address identifier.",
    "description": "What happened (at most 4000 characters).",
    "first_name": "The citizen's given name.",
    "last_name": "The citizen's family name.",
    "phone": "The citizen's phone number.",
    "email": "The citizen's e-mail address.",
    "device_id": "The reporting device (makes the channel 'app').",
    "account_id": "The citizen's account in the reporting app.",
    "media_url": "A public URL of a photo.",
    "attribute[community]": "A community id or name (see services/{code}.json).",
    "attribute[type]": "enquiry, help (default), complaint, tip_off or suggestion.",
    "attribute[vulnerable]": "true when an elderly person living alone or similar is affected.",
}


@router.post(
    "/requests.json",
    status_code=201,
    response_model=None,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["api_key", "service_code"],
                        "properties": {
                            name: {"type": "string", "description": text}
                            for name, text in _POST_FIELDS.items()
                        },
                    }
                }
            },
        }
    },
)
async def post_request(request: HttpRequest, store: StoreDep) -> Response:
    """Create a service request from a form-encoded body."""
    try:
        form = await request.form()
    except Exception:  # malformed multipart and the like
        return error_list(400, "The body must be form-encoded (application/x-www-form-urlencoded).")
    try:
        return await _post_request(form, request, store)
    finally:
        await form.close()


def key_holder(store: Store, api_key: object) -> Identity | JSONResponse:
    """Who holds `api_key`, or the 403 answer when it is missing or unknown."""
    if not isinstance(api_key, str) or not api_key.strip():
        return error_list(403, "api_key was not provided")
    identity = store.identify(api_key.strip())
    return identity if identity is not None else error_list(403, "api_key is not valid")


async def _post_request(form: FormData, request: HttpRequest, store: Store) -> Response:
    identity = await run_in_threadpool(key_holder, store, form.get("api_key"))
    if isinstance(identity, JSONResponse):
        return identity
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
    try:
        outcome = await run_in_threadpool(
            lambda: store.create_request(new, actor=identity.name, idempotency_key=key)
        )
    except InvalidInput as exc:
        return error_list(400, str(exc))
    created = outcome.request
    if note and not outcome.replayed:
        try:
            await run_in_threadpool(
                lambda: store.apply(
                    created.id,
                    AddNote(text=note),
                    actor=identity.name,
                    if_match=created.version,
                    idempotency_key=None,
                )
            )
        except Exception:  # the request is stored; losing the extras must not fail the intake
            log.exception("could not add the Open311 extras to %s", created.id)
    return JSONResponse(
        [{"service_request_id": created.id, "service_notice": service_notice(created), "account_id": None}],
        status_code=201,
    )


_GET_PARAMS = [
    ("service_request_id", "Comma-separated ids; overrides every other parameter."),
    ("service_code", "Comma-separated service codes."),
    ("start_date", "Received at or after (ISO 8601; default 90 days before end_date or now)."),
    ("end_date", "Received at or before (ISO 8601)."),
    ("status", "open, closed, or both comma-separated."),
    ("page", "1-based page number (default 1)."),
    ("page_size", "Records per page, 1..1000 (default 1000)."),
]


@router.get(
    "/requests.json",
    response_model=None,
    openapi_extra={
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in _GET_PARAMS
        ]
    },
)
def list_requests(request: HttpRequest, store: StoreDep) -> Response:
    """Service requests, newest first: by ids, or filtered (default: the last 90 days, 1000 at most)."""
    holder = key_holder(store, request.query_params.get("api_key"))
    if isinstance(holder, JSONResponse):
        return holder
    categories = {c.code: c for c in store.categories()}
    try:
        flt = request_filter(request.query_params, categories, now_utc())
    except Open311Error as exc:
        return exc.response()
    units = {u.id: u for u in store.units()}
    return JSONResponse([as_service_request(r, categories, units) for r in store.list_requests(flt)])


@router.get("/requests/{service_request_id}.json", response_model=None)
def get_request(service_request_id: str, request: HttpRequest, store: StoreDep) -> Response:
    """One service request, as a list of one."""
    holder = key_holder(store, request.query_params.get("api_key"))
    if isinstance(holder, JSONResponse):
        return holder
    try:
        found = store.get_request(service_request_id)
    except RequestNotFound:
        return error_list(404, f"service_request_id not found: {service_request_id!r}")
    categories = {c.code: c for c in store.categories()}
    units = {u.id: u for u in store.units()}
    return JSONResponse([as_service_request(found, categories, units)])
