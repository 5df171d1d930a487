"""Reading GeoReport v2 input: the query of `GET requests.json` as a store filter, and a POSTed
form as a `NewRequest` with the note of its extras. Naive date-times are Beijing time; a bare date
is its midnight. Every value is held to `api_client.domain.bounds`; a POST is checked whole
before anything is stored."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from api_client.actions import AddNote
from api_client.domain import bounds
from api_client.domain.personal_data import mask_email
from api_client.domain.states import OPEN_STATES
from api_client.models import (
    CallerIn,
    Category,
    Channel,
    Community,
    LocationIn,
    NewRequest,
    RequestType,
    State,
)
from central_api.catalogue import STREET_OFFICE
from central_api.open311.errors import Open311Error
from central_api.open311.mapping import BEIJING
from central_api.store import RequestFilter

DEFAULT_WINDOW = timedelta(days=90)
MAX_RECORDS = bounds.MAX_PAGE_SIZE
MAX_DESCRIPTION = bounds.MAX_TEXT


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
    if bounds.has_bad_character(value):
        errors.append(f"{name} must not contain NUL characters or lone surrogates")
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


def parse_datetime(raw: str, name: str, now: datetime) -> datetime:
    """An ISO 8601 date-time in `bounds.filter_window`; naive ones are Beijing time, a bare date
    is its midnight."""
    text = raw.strip()
    if len(text) > 19 and text[19] == " ":  # an unescaped '+' in the query string became a space
        text = f"{text[:19]}+{text[20:]}"
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), time(0), BEIJING)
        else:
            value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise Open311Error(
            400, f"{name} must be an ISO 8601 date-time such as 2024-07-31T09:30:00+08:00, not {raw[:40]!r}"
        ) from None
    value = value if value.tzinfo is not None else value.replace(tzinfo=BEIJING)
    window = bounds.filter_window(now)
    if not bounds.in_window(value, window):
        low, high = (end.isoformat(timespec="seconds") for end in window)
        raise Open311Error(400, f"{name} must be between {low} and {high}")
    return value


#: The media types of a GeoReport POST body.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def check_form_type(content_type: str) -> None:
    """Raise Open311Error(400) for a POST body that is not a form (JSON, for one); a body without
    a content type is read as an empty form."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type and media_type not in FORM_TYPES:
        raise Open311Error(
            400,
            f"The body must be form-encoded (application/x-www-form-urlencoded), not {media_type[:60]!r}.",
        )


def _int_param(raw: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, f"{name} must be a whole number, not {raw[:40]!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Open311Error(400, f"{name} must be {bounds}")
    return value


def _comma_list(raw: str | None) -> list[str]:
    if raw is None:
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def _states(raw: str | None) -> list[State]:
    """The states of a `status` filter (empty: any)."""
    states: list[State] = []
    for status in _comma_list(raw):
        if status.lower() == "open":
            states.extend(s for s in State if s in OPEN_STATES)
        elif status.lower() == "closed":
            states.extend(s for s in State if s not in OPEN_STATES)
        else:
            raise Open311Error(
                400, f"status must be open or closed (or both, comma-separated), not {status[:40]!r}"
            )
    return [] if len(set(states)) == len(State) else list(dict.fromkeys(states))


def request_filter(
    query: Mapping[str, str], categories: Mapping[str, Category], now: datetime
) -> RequestFilter:
    """The store filter for `GET requests.json`'s query parameters (raises Open311Error). Every
    parameter must be well-formed, also those `service_request_id` overrides."""
    page = _int_param(query.get("page"), "page", 1, 1, bounds.MAX_PAGE)
    page_size = _int_param(query.get("page_size"), "page_size", MAX_RECORDS, 1, MAX_RECORDS)
    states = _states(query.get("status"))
    start_raw, end_raw = query.get("start_date"), query.get("end_date")
    start = parse_datetime(start_raw, "start_date", now) if start_raw else None
    end = parse_datetime(end_raw, "end_date", now) if end_raw else None
    if start is not None and end is not None and end < start:
        raise Open311Error(400, "end_date must not be before start_date")
    ids = _comma_list(query.get("service_request_id"))
    if ids:  # "overrides all other arguments"
        if len(ids) > MAX_RECORDS:
            raise Open311Error(400, f"service_request_id lists at most {MAX_RECORDS} ids")
        return RequestFilter(ids=list(dict.fromkeys(ids)), limit=MAX_RECORDS)
    codes = list(dict.fromkeys(_comma_list(query.get("service_code"))))
    unknown = [c for c in codes if c not in categories]
    if unknown:
        raise Open311Error(400, *(f"service_code not found: {c[:80]!r}" for c in unknown))
    # without start_date: the spec's default span of 90 days, ending at end_date or now; a given
    # start_date is honoured as it is (page and page_size bound the size of the answer)
    if start is None:
        start = (end or now) - DEFAULT_WINDOW
    return RequestFilter(
        categories=codes,
        states=states,
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
    lat_raw = _text(form, "lat", limit=bounds.MAX_NUMBER_TEXT, errors=errors)
    long_raw = _text(form, "long", limit=bounds.MAX_NUMBER_TEXT, errors=errors)
    address = _text(form, "address_string", limit=bounds.MAX_ADDRESS, errors=errors)
    address_id = _text(form, "address_id", limit=bounds.MAX_EXTERNAL_ID, errors=errors)
    description = _text(form, "description", limit=MAX_DESCRIPTION, errors=errors)
    first_name = _text(form, "first_name", limit=bounds.MAX_NAME // 2 - 1, errors=errors)
    last_name = _text(form, "last_name", limit=bounds.MAX_NAME // 2, errors=errors)  # joined: MAX_NAME
    phone = _text(form, "phone", limit=bounds.MAX_PHONE, errors=errors)
    email = _text(form, "email", limit=bounds.MAX_EMAIL, errors=errors)
    media_url = _text(form, "media_url", limit=bounds.MAX_URL, errors=errors)
    device_id = _text(form, "device_id", limit=bounds.MAX_EXTERNAL_ID, errors=errors)
    account_id = _text(form, "account_id", limit=bounds.MAX_EXTERNAL_ID, errors=errors)
    community_raw = _text(form, "attribute[community]", limit=bounds.MAX_ID, errors=errors)
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
    vulnerable = vulnerable_raw == "true"
    if vulnerable_raw not in ("true", "false", ""):
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
            location=LocationIn(
                street=STREET_OFFICE,
                community=_community(community_raw, communities),
                address=address or address_id,
                lat=lat,
                long=long,
            ),
            caller=CallerIn(name=name, phone=phone),
            vulnerable=vulnerable,
        )
    except ValidationError as exc:
        raise Open311Error(
            400, *(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        ) from None
    extras = [
        f"{label}：{value}"
        for label, value in (
            ("邮箱", mask_email(email)),  # personal data: never in the shared copy
            ("图片", media_url),
            ("地址编号", address_id if address else ""),
            ("设备", device_id),
            ("账号", account_id),
        )
        if value
    ]
    note = "Open311 提交的附加信息 — " + "；".join(extras) if extras else ""
    if note:
        try:  # checked now: a note that cannot be stored must refuse the POST before it stores anything
            note = AddNote(text=note).text
        except ValidationError as exc:
            raise Open311Error(400, *(e["msg"] for e in exc.errors())) from None
    return new, note
