"""Open311 GeoReport v2 over the store: `/open311/v2/…`.

One service per category (`service_code` = category code). The service list is public; reading
and posting service requests needs `api_key` = a hotline token, because requests carry citizens'
addresses and words (personal data stays with those who handle it). Errors are GeoReport lists
`[{"code": <status>, "description": "..."}]`:

- 400: a parameter missing or invalid, an unknown `service_code` on POST or as a filter;
- 403: `api_key` missing or unknown (reading or posting requests);
- 404: unknown `service_request_id`, unknown `service_code` on `services/{code}.json`.

Mapping to the hotline: `status` is open|closed (closed and merged are closed), `status_notes`
the detailed state, `agency_responsible` the lead unit's name, `requested_datetime` the received
time, `updated_datetime` the last change, `expected_datetime` the due time (tier deadline).
Datetimes are given in Beijing time (+08:00). Naive `start_date`/`end_date` are read as Beijing
time; a bare date means its midnight.

A POSTed request becomes a `NewRequest`: channel `app` when a `device_id` is sent, `web`
otherwise; type `help` unless `attribute[type]` says otherwise; the community from
`attribute[community]` (an id or a name) when valid, else unknown. `email` and `media_url` have
no field in the hotline's model: they are kept as a note on the request (never shown publicly).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from fastapi import APIRouter
from fastapi import Request as HttpRequest
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api_client.actions import AddNote
from api_client.models import (
    OPEN_STATES,
    Caller,
    Category,
    Channel,
    Community,
    Identity,
    Location,
    NewRequest,
    Request,
    RequestType,
    State,
    Tier,
    Unit,
    now_utc,
)
from central_api.catalogue import CATEGORY_DETAILS, STREET_OFFICE
from central_api.deps import StoreDep
from central_api.store import InvalidInput, RequestFilter, RequestNotFound, Store

log = logging.getLogger(__name__)

router = APIRouter(prefix="/open311/v2", tags=["open311"])

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: Local time of the jurisdiction (Beijing, no daylight saving).
BEIJING = timezone(timedelta(hours=8), "CST")
#: When the service list last changed in a way clients should notice.
CHANGESET = datetime(2024, 1, 1, tzinfo=BEIJING)
DEFAULT_WINDOW = timedelta(days=90)
MAX_RECORDS = 1000
MAX_DESCRIPTION = 4000

TIER_LABELS: dict[Tier, str] = {Tier.h2: "2小时", Tier.h24: "24小时", Tier.d7: "7天", Tier.d15: "15天"}
STATE_LABELS: dict[State, str] = {
    State.new: "待派单",
    State.dispatched: "已派单，待签收",
    State.accepted: "已签收，办理中",
    State.returned: "已退单，待改派",
    State.extended: "已延期，办理中",
    State.resolved: "已办结，待回访",
    State.callback_logged: "已回访，待结案",
    State.closed: "已结案",
    State.reopened: "重新办理",
    State.merged: "已并单",
}
TYPE_LABELS: dict[RequestType, str] = {
    RequestType.enquiry: "咨询",
    RequestType.help: "求助",
    RequestType.complaint: "投诉",
    RequestType.tip_off: "举报",
    RequestType.suggestion: "建议",
}
_TRUE = frozenset({"true", "1", "yes", "y", "t", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "off", ""})


class Open311Error(Exception):
    """A refusal in GeoReport form: one status, one or more descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = descriptions

    def response(self) -> JSONResponse:
        return error_list(self.status, *self.descriptions)


def error_list(status: int, *descriptions: str) -> JSONResponse:
    """`[{"code": status, "description": ...}, ...]` with that HTTP status."""
    return JSONResponse([{"code": status, "description": d} for d in descriptions], status_code=status)


# --------------------------------------------------------------------------- formatting


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(BEIJING).isoformat(timespec="seconds")


def service_notice(request: Request) -> str:
    """The citizen-facing promise: the deadline tier and the due time."""
    due = request.due_at.astimezone(BEIJING)
    return f"已受理，办理时限{TIER_LABELS[request.tier]}，应于{due:%Y-%m-%d %H:%M}（北京时间）前办结。"


def status_notes(request: Request) -> str:
    """The detailed state: `<state>: <说明>`."""
    notes = f"{request.state.value}: {STATE_LABELS[request.state]}"
    if request.state is State.merged and request.merged_into:
        notes += f"，并入 {request.merged_into}"
    return notes


def as_service_request(
    request: Request, categories: Mapping[str, Category], units: Mapping[str, Unit]
) -> dict[str, object]:
    """A request as a GeoReport v2 service request (every field of the spec, nulls where unknown)."""
    category = categories.get(request.category)
    lead = units.get(request.lead_unit) if request.lead_unit else None
    return {
        "service_request_id": request.id,
        "status": "open" if request.state in OPEN_STATES else "closed",
        "status_notes": status_notes(request),
        "service_name": category.name if category is not None else request.category,
        "service_code": request.category,
        "description": request.description,
        "agency_responsible": lead.name if lead is not None else request.lead_unit,
        "service_notice": service_notice(request),
        "requested_datetime": _dt(request.received_at),
        "updated_datetime": _dt(request.updated_at or request.received_at),
        "expected_datetime": _dt(request.due_at),
        "address": request.location.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": request.location.lat,
        "long": request.location.long,
        "media_url": None,
    }


def as_service(category: Category) -> dict[str, object]:
    detail = CATEGORY_DETAILS.get(category.code)
    description = detail.description if detail is not None else category.name
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{description}（办理时限：{TIER_LABELS[category.tier]}）",
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(detail.keywords) if detail is not None else "",
        "group": detail.group if detail is not None else "",
    }


def service_definition(category: Category, communities: Sequence[Community]) -> dict[str, object]:
    """The optional attributes every service accepts (`attribute[community]`, `[type]`, `[vulnerable]`)."""
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "community",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "社区编号（可选）；不填或无效时由派单员确定",
                "order": 1,
                "description": "所在社区",
                "values": [{"key": c.id, "name": c.name} for c in communities],
            },
            {
                "variable": True,
                "code": "type",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "诉求类型（可选），默认“求助”",
                "order": 2,
                "description": "诉求类型",
                "values": [{"key": t.value, "name": TYPE_LABELS[t]} for t in RequestType],
            },
            {
                "variable": True,
                "code": "vulnerable",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "是否涉及独居老人、残疾人等需优先处置的情况（可选）",
                "order": 3,
                "description": "特殊困难群体",
                "values": [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}],
            },
        ],
    }


# --------------------------------------------------------------------------- parsing


def _text(form: FormData | Mapping[str, Any], name: str, *, limit: int, errors: list[str]) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(f"{name} must be text (file uploads are not supported; use media_url)")
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.append(f"{name} is too long: at most {limit} characters")
        return ""
    return value


def _coordinate(raw: str, name: str, bound: float, errors: list[str]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{name} must be a number of degrees, not {raw!r}")
        return None
    if not math.isfinite(value) or not -bound <= value <= bound:
        errors.append(f"{name} must be between -{bound:g} and {bound:g}")
        return None
    return value


def parse_datetime(raw: str, name: str) -> datetime:
    """An ISO 8601 date-time; naive ones are Beijing time, a bare date is its midnight."""
    text = raw.strip()
    if len(text) > 19 and text[19] == " ":  # an unescaped '+' in the query string became a space
        text = f"{text[:19]}+{text[20:]}"
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), BEIJING)
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Open311Error(
            400, f"{name} must be an ISO 8601 date-time such as 2024-07-31T09:30:00+08:00, not {raw!r}"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=BEIJING)


def _int_param(raw: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a whole number, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Open311Error(400, f"{name} must be {bounds}")
    return value


def _comma_list(raw: str | None) -> list[str]:
    if raw is None:
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def request_filter(
    query: Mapping[str, str], categories: Mapping[str, Category], now: datetime
) -> RequestFilter:
    """The store filter for `GET requests.json`'s query parameters (raises Open311Error)."""
    ids = _comma_list(query.get("service_request_id"))
    if ids:  # "overrides all other arguments"
        if len(ids) > MAX_RECORDS:
            raise Open311Error(400, f"service_request_id lists at most {MAX_RECORDS} ids")
        return RequestFilter(ids=list(dict.fromkeys(ids)), limit=MAX_RECORDS)
    codes = _comma_list(query.get("service_code"))
    unknown = [c for c in codes if c not in categories]
    if unknown:
        raise Open311Error(400, *(f"service_code not found: {c!r}" for c in unknown))
    states: list[State] = []
    for status in _comma_list(query.get("status")):
        if status.lower() == "open":
            states.extend(s for s in State if s in OPEN_STATES)
        elif status.lower() == "closed":
            states.extend(s for s in State if s not in OPEN_STATES)
        else:
            raise Open311Error(
                400, f"status must be open or closed (or both, comma-separated), not {status!r}"
            )
    if len(set(states)) == len(State):
        states = []
    start_raw, end_raw = query.get("start_date"), query.get("end_date")
    start = parse_datetime(start_raw, "start_date") if start_raw else None
    end = parse_datetime(end_raw, "end_date") if end_raw else None
    # without start_date: the spec's default span of 90 days, ending at end_date or now; a given
    # start_date is honoured as it is (page and page_size bound the size of the answer)
    if start is None:
        start = (end or now) - DEFAULT_WINDOW
    if end is not None and end < start:
        raise Open311Error(400, "end_date must not be before start_date")
    page = _int_param(query.get("page"), "page", 1, 1, None)
    page_size = _int_param(query.get("page_size"), "page_size", MAX_RECORDS, 1, MAX_RECORDS)
    return RequestFilter(
        categories=codes,
        states=list(dict.fromkeys(states)),
        received_from=start.astimezone(UTC),
        received_to=end.astimezone(UTC) if end is not None else None,
        offset=(page - 1) * page_size,
        limit=page_size,
    )


def _community(raw: str, communities: Sequence[Community]) -> str:
    """The community id for an id or a name; "" when it is neither."""
    for community in communities:
        if raw in (community.id, community.name):
            return community.id
    return ""


def new_request(
    form: FormData | Mapping[str, Any], category: Category, communities: Sequence[Community]
) -> tuple[NewRequest, str]:
    """The `NewRequest` for a POSTed form (api_key already checked), and the private note to add.

    Raises Open311Error(400) listing every problem found.
    """
    errors: list[str] = []
    lat_raw = _text(form, "lat", limit=40, errors=errors)
    long_raw = _text(form, "long", limit=40, errors=errors)
    address = _text(form, "address_string", limit=500, errors=errors)
    address_id = _text(form, "address_id", limit=200, errors=errors)
    description = _text(form, "description", limit=MAX_DESCRIPTION, errors=errors)
    first_name = _text(form, "first_name", limit=100, errors=errors)
    last_name = _text(form, "last_name", limit=100, errors=errors)
    phone = _text(form, "phone", limit=40, errors=errors)
    email = _text(form, "email", limit=254, errors=errors)
    media_url = _text(form, "media_url", limit=2000, errors=errors)
    device_id = _text(form, "device_id", limit=200, errors=errors)
    account_id = _text(form, "account_id", limit=200, errors=errors)
    community_raw = _text(form, "attribute[community]", limit=64, errors=errors)
    type_raw = _text(form, "attribute[type]", limit=32, errors=errors)
    vulnerable_raw = _text(form, "attribute[vulnerable]", limit=8, errors=errors).lower()

    lat = long = None
    before, zero = len(errors), False
    if bool(lat_raw) != bool(long_raw):
        errors.append("lat and long must be sent together")
    elif lat_raw:
        lat = _coordinate(lat_raw, "lat", 90, errors)
        long = _coordinate(long_raw, "long", 180, errors)
        if lat == 0 and long == 0:  # a common way of saying "unknown"
            lat = long = None
            zero = True
    has_point = lat is not None and long is not None
    if len(errors) == before and not (has_point or address or address_id):
        unknown = " (0,0 counts as unknown)" if zero else ""
        errors.append(f"a location is required: lat and long{unknown}, address_string or address_id")
    if email and ("@" not in email or any(c.isspace() for c in email)):
        errors.append(f"email is not an e-mail address: {email!r}")
    request_type = RequestType.help
    if type_raw:
        try:
            request_type = RequestType(type_raw)
        except ValueError:
            allowed = ", ".join(t.value for t in RequestType)
            errors.append(f"attribute[type] must be one of {allowed}, not {type_raw!r}")
    vulnerable = False
    if vulnerable_raw in _TRUE:
        vulnerable = True
    elif vulnerable_raw not in _FALSE:
        errors.append(f"attribute[vulnerable] must be true or false, not {vulnerable_raw!r}")
    if errors:
        raise Open311Error(400, *errors)

    if first_name and last_name:
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in first_name + last_name)
        name = f"{last_name}{first_name}" if cjk else f"{first_name} {last_name}"
    else:
        name = first_name or last_name
    try:
        new = NewRequest(
            channel=Channel.app if device_id else Channel.web,
            type=request_type,
            category=category.code,
            description=description or category.name,
            location=Location(
                street=STREET_OFFICE,
                community=_community(community_raw, communities),
                address=address or address_id,
                lat=lat,
                long=long,
            ),
            caller=Caller(name=name, phone=phone),
            vulnerable=vulnerable,
        )
    except ValidationError as exc:
        raise Open311Error(
            400, *(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        ) from None
    extras = [
        f"{label}：{value}"
        for label, value in (
            ("邮箱", email),
            ("图片", media_url),
            ("地址编号", address_id if address else ""),
            ("设备", device_id),
            ("账号", account_id),
        )
        if value
    ]
    note = "Open311 提交的附加信息 — " + "；".join(extras) if extras else ""
    return new, note


# --------------------------------------------------------------------------- routes


@router.get("/discovery.json", response_model=None)
def discovery(request: HttpRequest) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    url = str(request.base_url).rstrip("/") + router.prefix
    changeset = _dt(CHANGESET)
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
