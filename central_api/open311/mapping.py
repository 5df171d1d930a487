"""The hotline's requests and categories as GeoReport v2 services and service requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from api_client.domain.personal_data import mask_digit_runs
from api_client.domain.states import OPEN_STATES
from api_client.models import Category, Community, Request, RequestType, State, Tier, Unit
from central_api.catalogue import CATEGORY_DETAILS

#: Local time of the jurisdiction (Beijing, no daylight saving).
BEIJING = timezone(timedelta(hours=8), "CST")

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


def _beijing(value: datetime) -> datetime:
    """`value` in Beijing time; as it is when that lies beyond the calendar (a far-future time
    stored by an older version must not fail a read)."""
    try:
        return value.astimezone(BEIJING)
    except OverflowError:
        return value


def local_time(value: datetime | None) -> str | None:
    return None if value is None else _beijing(value).isoformat(timespec="seconds")


def service_notice(request: Request) -> str:
    """The citizen-facing promise: the deadline tier and the due time."""
    due = _beijing(request.due_at)
    zone = "北京时间" if due.utcoffset() == BEIJING.utcoffset(None) else due.tzname()
    return f"已受理，办理时限{TIER_LABELS[request.tier]}，应于{due:%Y-%m-%d %H:%M}（{zone}）前办结。"


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
        "requested_datetime": local_time(request.received_at),
        "updated_datetime": local_time(request.updated_at or request.received_at),
        "expected_datetime": local_time(request.due_at),
        "address": request.location.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": request.location.lat,
        "long": request.location.long,
        "media_url": None,
    }


#: What an Open311 read without a key may show: the spec's service request fields, none of
#: which names the caller.
PUBLIC_FIELDS: tuple[str, ...] = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


def public_service_request(
    request: Request, categories: Mapping[str, Category], units: Mapping[str, Unit]
) -> dict[str, object]:
    """A service request as anyone may read it (`hotline serve --open311-public`): only
    `PUBLIC_FIELDS`, and phone-like digit runs in the description and the address masked."""
    full = as_service_request(request, categories, units)
    public = {name: full.get(name) for name in PUBLIC_FIELDS}
    for name in ("description", "address"):
        value = public[name]
        if isinstance(value, str):
            public[name] = mask_digit_runs(value)
    return public


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
