"""Open311 GeoReport v2 (`/open311/v2/`) against a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from api_client.actions import Dispatch
from api_client.models import OPEN_STATES, Caller, Channel, Location, NewRequest, RequestType, State, now_utc
from central_api.catalogue import CATEGORIES, unit_by_id
from central_api.seed import seed_store
from central_api.server import LiveServer
from central_api.store import RequestFilter

SPEC_FIELDS = {
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
}
ROOF_LEAK = {
    "service_code": "roof_leak",
    "address_string": "德胜里一区3号楼2单元502",
    "description": "家里卫生间顶上漏水，已经滴了两天了，楼上没人。",
    "first_name": "芳",
    "last_name": "王",
    "phone": "13800138000",
    "attribute[community]": "c01",
}


@pytest.fixture
def o311(live_server: LiveServer, key: str) -> Iterator[httpx.Client]:
    """An Open311 client that sends its api_key with every read (requests need one)."""
    with httpx.Client(
        base_url=f"{live_server.url}/open311/v2", params={"api_key": key}, timeout=10
    ) as client:
        yield client


@pytest.fixture
def key(make_token: Callable[..., str]) -> str:
    return make_token("dispatcher", "open311-app")


def _is_error_list(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body
    for item in body:
        assert set(item) == {"code", "description"}
        assert item["code"] == status and isinstance(item["description"], str) and item["description"]
    return body


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def _post(o311: httpx.Client, key: str, **fields: str) -> str:
    response = o311.post("/requests.json", data={"api_key": key, **fields})
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None and created["service_notice"]
    return str(created["service_request_id"])


# --------------------------------------------------------------------------- services


def test_discovery(o311: httpx.Client, live_server: LiveServer) -> None:
    body = o311.get("/discovery.json").json()
    [endpoint] = body["endpoints"]
    assert endpoint["url"] == f"{live_server.url}/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["application/json"]
    _aware(body["changeset"])


def test_services_one_per_category(o311: httpx.Client) -> None:
    services = o311.get("/services.json").json()
    assert [s["service_code"] for s in services] == [c.code for c in CATEGORIES]
    for service in services:
        assert set(service) == {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        assert service["metadata"] is False and service["type"] == "realtime"
    roof = next(s for s in services if s["service_code"] == "roof_leak")
    assert roof["service_name"] == "房屋漏雨" and "24小时" in roof["description"]


def test_service_definition(o311: httpx.Client) -> None:
    definition = o311.get("/services/roof_leak.json").json()
    assert definition["service_code"] == "roof_leak"
    codes = {a["code"]: a for a in definition["attributes"]}
    assert set(codes) == {"community", "type", "vulnerable"}
    assert len(codes["community"]["values"]) == 20
    assert not any(a["required"] for a in definition["attributes"])
    errors = _is_error_list(o311.get("/services/no_such_service.json"), 404)
    assert "service_code" in errors[0]["description"]


# --------------------------------------------------------------------------- POST requests.json


def test_create_and_read_back(o311: httpx.Client, key: str, live_server: LiveServer) -> None:
    request_id = _post(o311, key, **ROOF_LEAK, email="wang@example.cn")
    [item] = o311.get(f"/requests/{request_id}.json").json()
    assert set(item) == SPEC_FIELDS
    assert item["service_request_id"] == request_id
    assert item["status"] == "open"
    assert item["status_notes"].startswith("new")
    assert item["service_code"] == "roof_leak" and item["service_name"] == "房屋漏雨"
    assert item["description"] == ROOF_LEAK["description"]
    assert item["address"] == ROOF_LEAK["address_string"]
    assert item["agency_responsible"] is None
    requested = _aware(item["requested_datetime"])
    assert _aware(item["expected_datetime"]) - requested == timedelta(hours=24)
    assert _aware(item["updated_datetime"]) >= requested
    assert "wang@example.cn" not in str(item)  # contact details never go public

    stored = live_server.store.get_request(request_id)
    assert stored.channel is Channel.web
    assert stored.type is RequestType.help
    assert stored.location.community == "c01"
    assert (stored.caller.name, stored.caller.phone) == ("王*", "138****8000")  # masked, as always
    shown = live_server.store.reveal_phone(request_id, actor="组长")
    assert (shown.name, shown.phone) == ("王芳", "13800138000")
    assert not stored.vulnerable
    # the e-mail is personal data: the note every dispatcher syncs holds it masked
    assert any("w***@example.cn" in n.text for n in stored.notes)
    assert "wang@example.cn" not in stored.model_dump_json()
    assert live_server.store.audit(request_id)[0].actor == "open311-app"


def test_create_with_a_point_and_attributes(o311: httpx.Client, key: str, live_server: LiveServer) -> None:
    request_id = _post(
        o311,
        key,
        service_code="noise",
        lat="39.9551",
        long="116.3862",
        device_id="phone-1",
        **{
            "attribute[type]": "complaint",
            "attribute[vulnerable]": "true",
            "attribute[community]": "nowhere",
        },
    )
    stored = live_server.store.get_request(request_id)
    assert stored.channel is Channel.app
    assert stored.type is RequestType.complaint
    assert stored.vulnerable
    assert stored.location.community == ""  # an unknown community is left to the dispatcher
    assert stored.description == "噪音扰民"  # no description: the service name
    [item] = o311.get(f"/requests/{request_id}.json").json()
    assert (item["lat"], item["long"]) == (39.9551, 116.3862)
    assert item["address"] is None


def test_api_key_is_required(o311: httpx.Client, live_server: LiveServer) -> None:
    head = live_server.store.head()
    keyless = httpx.Client(base_url=o311.base_url, timeout=10)  # o311 sends its key with every call
    errors = _is_error_list(keyless.post("/requests.json", data=ROOF_LEAK), 403)
    assert "api_key" in errors[0]["description"]
    _is_error_list(keyless.post("/requests.json", data={**ROOF_LEAK, "api_key": "not-a-token"}), 403)
    _is_error_list(keyless.post("/requests.json", json={**ROOF_LEAK, "api_key": "x"}), 400)  # not a form
    keyless.close()
    assert live_server.store.head() == head  # nothing stored


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"service_code": "no_such_service", "address_string": "x"}, "service_code not found"),
        ({"address_string": "x"}, "service_code was not provided"),
        ({"service_code": "noise"}, "location is required"),
        ({"service_code": "noise", "lat": "0", "long": "0"}, "location is required"),
        ({"service_code": "noise", "lat": "39.95"}, "lat and long"),
        ({"service_code": "noise", "lat": "95", "long": "116.3"}, "lat must be between"),
        ({"service_code": "noise", "lat": "north", "long": "116.3"}, "lat must be a number"),
        (
            {"service_code": "noise", "address_id": "A1", "description": "吵" * 4001},
            "description is too long",
        ),
        ({"service_code": "noise", "address_id": "A1", "attribute[type]": "rant"}, "attribute[type]"),
        ({"service_code": "noise", "address_id": "A1", "email": "not an address"}, "email"),
    ],
)
def test_invalid_posts_are_400(
    o311: httpx.Client, key: str, live_server: LiveServer, fields: dict[str, str], expected: str
) -> None:
    head = live_server.store.head()
    errors = _is_error_list(o311.post("/requests.json", data={"api_key": key, **fields}), 400)
    assert any(expected in e["description"] for e in errors), errors
    assert live_server.store.head() == head


def test_several_problems_are_listed_together(o311: httpx.Client, key: str) -> None:
    fields = {"service_code": "noise", "lat": "95", "long": "east", "attribute[vulnerable]": "perhaps"}
    errors = _is_error_list(o311.post("/requests.json", data={"api_key": key, **fields}), 400)
    assert len(errors) == 3


# --------------------------------------------------------------------------- GET requests.json


@pytest.fixture
def seeded(live_server: LiveServer) -> list[Any]:
    """80 demo requests over the last month, one request from 100 days ago, and all as stored."""
    store = live_server.store
    now = now_utc()
    seed_store(store, seed=11, count=80, now=now)
    old = NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="tree",
        description="树枝挡住了窗户。",
        location=Location(community="c03", address="双旗杆东里5号楼"),
        caller=Caller(name="李先生", phone="13900139000"),
        received_at=now - timedelta(days=100),
    )
    store.create_request(old, actor="test", idempotency_key=None)
    return store.list_requests(RequestFilter(limit=1000))


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["service_request_id"] for item in response.json()]


def test_list_defaults_to_90_days(o311: httpx.Client, seeded: list[Any]) -> None:
    now = now_utc()
    recent = [r.id for r in seeded if now - r.received_at < timedelta(days=90)]
    assert len(recent) == len(seeded) - 1
    items = o311.get("/requests.json").json()
    assert sorted(i["service_request_id"] for i in items) == sorted(recent)
    for item in items:
        assert set(item) == SPEC_FIELDS
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            _aware(item[name])
    start = (now - timedelta(days=120)).isoformat()
    assert len(_ids(o311.get("/requests.json", params={"start_date": start}))) == len(seeded)


def test_list_by_status(o311: httpx.Client, seeded: list[Any]) -> None:
    window = [r for r in seeded if now_utc() - r.received_at < timedelta(days=90)]
    open_ids = {r.id for r in window if r.state in OPEN_STATES}
    closed_ids = {r.id for r in window if r.state not in OPEN_STATES}
    assert open_ids and closed_ids
    opened = o311.get("/requests.json", params={"status": "open"}).json()
    assert {i["service_request_id"] for i in opened} == open_ids
    assert all(i["status"] == "open" for i in opened)
    closed = o311.get("/requests.json", params={"status": "closed"}).json()
    assert {i["service_request_id"] for i in closed} == closed_ids
    assert all(i["status"] == "closed" for i in closed)
    both = _ids(o311.get("/requests.json", params={"status": "open,closed"}))
    assert set(both) == open_ids | closed_ids
    _is_error_list(o311.get("/requests.json", params={"status": "pending"}), 400)


def test_list_by_service_code_and_dates(o311: httpx.Client, seeded: list[Any]) -> None:
    window = [r for r in seeded if now_utc() - r.received_at < timedelta(days=90)]
    codes = sorted({r.category for r in window})[:2]
    expected = {r.id for r in window if r.category in codes}
    got = o311.get("/requests.json", params={"service_code": ",".join(codes)}).json()
    assert {i["service_request_id"] for i in got} == expected
    assert {i["service_code"] for i in got} == set(codes)
    errors = _is_error_list(o311.get("/requests.json", params={"service_code": "no_such_service"}), 400)
    assert "service_code not found" in errors[0]["description"]

    ordered = sorted(window, key=lambda r: r.received_at)
    middle = ordered[len(ordered) // 2].received_at
    start, end = middle - timedelta(days=3), middle + timedelta(days=3)
    expected = {r.id for r in window if start <= r.received_at <= end}
    params = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    assert set(_ids(o311.get("/requests.json", params=params))) == expected
    # the same instant written in UTC with Z
    params = {
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "end_date": end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    assert set(_ids(o311.get("/requests.json", params=params))) == expected
    _is_error_list(o311.get("/requests.json", params={"start_date": "yesterday"}), 400)
    _is_error_list(
        o311.get("/requests.json", params={"start_date": end.isoformat(), "end_date": start.isoformat()}), 400
    )


def test_paging(o311: httpx.Client, seeded: list[Any]) -> None:
    everything = _ids(o311.get("/requests.json"))
    pages = [_ids(o311.get("/requests.json", params={"page": p, "page_size": 25})) for p in range(1, 6)]
    assert [len(p) for p in pages[:3]] == [25, 25, 25]
    assert [i for p in pages for i in p] == everything
    assert _ids(o311.get("/requests.json", params={"page": 99, "page_size": 25})) == []
    for params in ({"page": "0"}, {"page_size": "0"}, {"page_size": "1001"}, {"page": "two"}):
        _is_error_list(o311.get("/requests.json", params=params), 400)


def test_ids_override_other_filters(o311: httpx.Client, seeded: list[Any]) -> None:
    old = next(r for r in seeded if now_utc() - r.received_at > timedelta(days=90))
    opened = next(r for r in seeded if r.state in OPEN_STATES)
    params = {"service_request_id": f"{old.id}, {opened.id}", "status": "closed", "service_code": "gas"}
    assert sorted(_ids(o311.get("/requests.json", params=params))) == sorted([old.id, opened.id])
    assert _ids(o311.get("/requests.json", params={"service_request_id": "R-999999"})) == []


def test_states_map_to_open311(o311: httpx.Client, seeded: list[Any], live_server: LiveServer) -> None:
    merged = [r for r in seeded if r.state is State.merged]
    dispatched = [r for r in seeded if r.lead_unit is not None]
    assert dispatched
    for request in merged + dispatched[:5]:
        [item] = o311.get(f"/requests/{request.id}.json").json()
        assert item["status_notes"].startswith(request.state.value)
        assert item["status"] == ("open" if request.state in OPEN_STATES else "closed")
        if request.state is State.merged:
            assert request.merged_into in item["status_notes"]
        if request.lead_unit is not None:
            unit = unit_by_id(request.lead_unit)
            assert unit is not None and item["agency_responsible"] == unit.name
        assert _aware(item["requested_datetime"]) == request.received_at
        assert _aware(item["expected_datetime"]) == request.due_at
    # a fresh dispatch shows at once
    target = (
        next(r for r in seeded if r.state is State.new) if any(r.state is State.new for r in seeded) else None
    )
    if target is not None:
        live_server.store.apply(
            target.id,
            Dispatch(lead_unit="st-city"),
            actor="test",
            if_match=target.version,
            idempotency_key=None,
        )
        [item] = o311.get(f"/requests/{target.id}.json").json()
        assert item["agency_responsible"] == "德胜街道城市管理办公室"
        assert item["status_notes"].startswith("dispatched")


def test_unknown_request_is_404(o311: httpx.Client) -> None:
    errors = _is_error_list(o311.get("/requests/R-999999.json"), 404)
    assert "R-999999" in errors[0]["description"]


def test_reading_requests_needs_an_api_key(o311: httpx.Client, key: str, live_server: LiveServer) -> None:
    request_id = _post(o311, key, **ROOF_LEAK)
    anonymous = httpx.Client(base_url=f"{live_server.url}/open311/v2", timeout=10)
    with anonymous:
        for path in ("/requests.json", f"/requests/{request_id}.json"):
            _is_error_list(anonymous.get(path), 403)
            _is_error_list(anonymous.get(path, params={"api_key": "wrong"}), 403)
        assert anonymous.get("/services.json").status_code == 200  # the service list is public
