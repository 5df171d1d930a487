"""Every input is bounded and strict (`api_client.domain.bounds`), against a real server: each
class of bad input gets a 4xx with a code and stores nothing; a stored value outside today's
bounds is still read; the keep-alive connection survives a 4xx, and a 500 says `Connection: close`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_helpers import act, intake, new_request

from api_client.actions import Extend
from api_client.domain import bounds
from api_client.domain.lifecycle import TransitionRefused, check_extension
from api_client.models import Role, now_utc
from central_api.server import LiveServer

Api = Callable[..., httpx.Client]
TABLES = ("requests", "changes", "audit", "idempotency")
BEIJING = timezone(timedelta(hours=8))


@dataclass
class World:
    """One server for the refusals (they store nothing, so they can share it)."""

    server: LiveServer
    db: Path
    dispatcher: httpx.Client
    supervisor: httpx.Client
    admin: httpx.Client
    key: str  # an Open311 api_key
    accepted: dict[str, Any]  # a request a unit has accepted (it may be extended)

    def stored(self) -> dict[str, list[Any]]:
        with sqlite3.connect(self.db) as conn:
            return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}

    def head(self) -> int:
        return int(self.dispatcher.get("/v1/health").json()["head"])

    def open311(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.server.url}/open311/v2{path}", timeout=10, **kwargs)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = tmp_path_factory.mktemp("bounds") / "hotline.db"
    server = LiveServer(db).start()
    clients = [
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        for token in (
            server.create_token("d1", Role.dispatcher),
            server.create_token("s1", Role.supervisor),
            server.create_token("a1", Role.admin),
        )
    ]
    try:
        dispatcher, supervisor, admin = clients
        request = intake(dispatcher)
        request = act(dispatcher, request, {"action": "dispatch", "lead_unit": "pm01"})
        request = act(dispatcher, request, {"action": "accept"})
        key = server.create_token("o1", Role.dispatcher)
        yield World(server, db, dispatcher, supervisor, admin, key, request)
    finally:
        for client in clients:
            client.close()
        server.stop()


def refused(world: World, send: Callable[[], httpx.Response], status: int | None, code: str) -> None:
    """`send()` is refused with a 4xx (`status` when given) naming `code`, and stores nothing.
    Under /v1 `code` is the body's code or that of one of its field errors; under /open311/ the
    body is a GeoReport list."""
    before, head = world.stored(), world.head()
    response = send()
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    body = response.json()
    if str(response.request.url.path).startswith("/open311/"):
        assert isinstance(body, list) and body and all(set(e) == {"code", "description"} for e in body)
        assert body[0]["code"] == response.status_code
    else:
        assert isinstance(body["detail"], str) and body["detail"] and isinstance(body["params"], dict)
        codes = {body["code"], *(e["code"] for e in body.get("errors", []))}
        assert not code or code in codes, body
    assert world.head() == head and world.stored() == before


def _json(client: httpx.Client, url: str, body: Any, **headers: str) -> httpx.Response:
    """`body` as JSON, lone surrogates and NaN included."""
    content = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    return client.post(url, content=content, headers={"Content-Type": "application/json", **headers})


def _extend(world: World, client: httpx.Client, new_due_at: object) -> httpx.Response:
    request = world.accepted
    return _json(
        client,
        f"/v1/requests/{request['id']}/actions",
        {"action": "extend", "reason": "parts on order", "new_due_at": new_due_at},
        **{"If-Match": f'"{request["version"]}"'},
    )


def _later(days: float) -> str:
    return (now_utc() + timedelta(days=days)).isoformat()


# --------------------------------------------------------------------------- datetimes


@pytest.mark.parametrize(
    ("what", "value", "code"),
    [
        ("received_at", "9999-12-31T23:59:59Z", "datetime_out_of_range"),
        ("received_at", "9999-12-31T23:00:00-05:00", "datetime_out_of_range"),
        ("received_at", "0001-01-01T00:00:00+08:00", "datetime_out_of_range"),
        ("received_at", "0001-01-01T00:00:00-05:00", "datetime_out_of_range"),
        ("received_at", "1999-12-31T23:59:59Z", "datetime_out_of_range"),
        ("received_at", "in two days", "datetime_out_of_range"),
        ("received_at", 1_700_000_000, "datetime_type"),
        ("received_at", "1700000000", "datetime_type"),
        ("new_due_at", "9999-12-31T23:59:59Z", "datetime_out_of_range"),
        ("new_due_at", "in 401 days", "datetime_out_of_range"),
        ("new_due_at", "0001-01-01T00:00:00+08:00", "datetime_out_of_range"),
        ("new_due_at", 4_102_444_800, "datetime_type"),
        ("since", "0001-01-01T00:00:00+01:00", "datetime_out_of_range"),
        ("until", "9999-12-31T23:59:59-01:00", "datetime_out_of_range"),
        ("since", "1700000000", "datetime_type"),
        ("start_date", "0001-01-01", None),
        ("start_date", "0001-01-01T00:00:00+08:00", None),
        ("end_date", "9999-12-31T23:59:59-05:00", None),
        ("end_date", "0001-01-02", None),
    ],
)
def test_datetimes_outside_their_window(world: World, what: str, value: object, code: str | None) -> None:
    if value == "in two days":
        value = _later(2)
    elif value == "in 401 days":
        value = _later(401)
    sends: dict[str, Callable[[], httpx.Response]] = {
        "received_at": lambda: _json(world.dispatcher, "/v1/requests", new_request(received_at=value)),
        "new_due_at": lambda: _extend(world, world.supervisor, value),
        "since": lambda: world.dispatcher.get("/v1/stats", params={"since": str(value)}),
        "until": lambda: world.dispatcher.get("/v1/stats/units", params={"until": str(value)}),
        "start_date": lambda: world.open311(
            "GET", "/requests.json", params={what: value, "api_key": world.key}
        ),
        "end_date": lambda: world.open311(
            "GET", "/requests.json", params={what: value, "api_key": world.key}
        ),
    }
    refused(world, sends[what], 422 if code else 400, code or "")


def test_the_window_says_its_bounds_and_its_edges_are_accepted(world: World, api: Api) -> None:
    r = _json(world.dispatcher, "/v1/requests", new_request(received_at="1999-12-31T23:59:59Z"))
    [problem] = r.json()["errors"]
    assert problem["params"]["min"] == bounds.EARLIEST.isoformat()
    assert datetime.fromisoformat(problem["params"]["max"]) > now_utc()
    client = api()
    assert (
        client.post("/v1/requests", json=new_request(received_at="2000-01-01T00:00:00Z")).status_code == 201
    )
    assert client.post("/v1/requests", json=new_request(received_at=_later(0.5))).status_code == 201
    assert (
        client.get("/v1/stats", params={"since": "2000-01-01T00:00:00Z", "until": _later(300)}).status_code
        == 200
    )


# --------------------------------------------------------------------------- extensions


@pytest.mark.parametrize("days", [31, 365])
def test_a_long_extension_needs_a_supervisor(world: World, days: int) -> None:
    due = datetime.fromisoformat(world.accepted["due_at"])
    longer = (due + timedelta(days=days)).isoformat()
    refused(world, lambda: _extend(world, world.dispatcher, longer), 403, "extension_needs_supervisor")
    body = _extend(world, world.dispatcher, longer).json()
    assert body["params"]["max_days"] == bounds.MAX_EXTENSION.days == 30
    assert body["params"]["request_id"] == world.accepted["id"]


def test_extensions_within_the_limit_and_by_a_supervisor(api: Api) -> None:
    dispatcher, supervisor = api(Role.dispatcher), api(Role.supervisor)
    request = intake(dispatcher)
    request = act(dispatcher, request, {"action": "dispatch", "lead_unit": "pm01"})
    request = act(dispatcher, request, {"action": "accept"})
    due = datetime.fromisoformat(request["due_at"])
    month = (due + bounds.MAX_EXTENSION).isoformat()
    request = act(dispatcher, request, {"action": "extend", "reason": "parts", "new_due_at": month})
    longer = (datetime.fromisoformat(request["due_at"]) + timedelta(days=60)).isoformat()
    request = act(supervisor, request, {"action": "extend", "reason": "a new roof", "new_due_at": longer})
    assert datetime.fromisoformat(request["due_at"]) == datetime.fromisoformat(longer)


def test_the_extension_rule_is_the_state_machine_s() -> None:
    from api_client.domain.lifecycle import intake as intake_request
    from api_client.models import NewRequest, Tier

    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    request = intake_request(
        NewRequest.model_validate(new_request()), request_id="R-1", tier=Tier.d7, now=now
    )
    check_extension(request, Extend(reason="x", new_due_at=request.due_at + bounds.MAX_EXTENSION))
    with pytest.raises(TransitionRefused) as too_long:
        check_extension(
            request, Extend(reason="x", new_due_at=request.due_at + timedelta(days=30, seconds=1))
        )
    assert too_long.value.code == "extension_needs_supervisor"


# --------------------------------------------------------------------------- text lengths


def _over(limit: int) -> str:
    return "x" * (limit + 1)


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("intake", new_request(description=_over(bounds.MAX_TEXT))),
        ("intake", new_request(category=_over(bounds.MAX_ID))),
        ("intake", new_request(location={"address": _over(bounds.MAX_ADDRESS)})),
        ("intake", new_request(location={"address": "1" * 200_000})),
        ("intake", new_request(location={"street": _over(bounds.MAX_STREET)})),
        ("intake", new_request(location={"community": _over(bounds.MAX_ID)})),
        ("intake", new_request(caller={"name": _over(bounds.MAX_NAME)})),
        ("intake", new_request(caller={"phone": _over(bounds.MAX_PHONE)})),
        ("action", {"action": "return", "reason": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "extend", "reason": _over(bounds.MAX_TEXT), "new_due_at": "2026-01-01T00:00Z"}),
        ("action", {"action": "resolve", "summary": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "callback", "reached": False, "note": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "close", "reason": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "reopen", "reason": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "escalate", "reason": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "note", "text": _over(bounds.MAX_TEXT)}),
        ("action", {"action": "merge", "parent_id": _over(bounds.MAX_ID)}),
        ("action", {"action": "dispatch", "lead_unit": _over(bounds.MAX_ID)}),
        ("action", {"action": "dispatch", "lead_unit": "pm01", "co_units": [_over(bounds.MAX_ID)]}),
        ("reveal", {"reason": _over(bounds.MAX_REASON)}),
        ("rule", {"category": "roof_leak", "lead_unit": _over(bounds.MAX_ID)}),
        ("token", {"name": _over(bounds.MAX_NAME), "role": "dispatcher"}),
    ],
)
def test_every_text_has_a_length_limit(world: World, where: str, body: dict[str, Any]) -> None:
    rid, version = world.accepted["id"], world.accepted["version"]
    client = world.supervisor
    sends: dict[str, Callable[[], httpx.Response]] = {
        "intake": lambda: _json(client, "/v1/requests", body),
        "action": lambda: _json(client, f"/v1/requests/{rid}/actions", body, **{"If-Match": str(version)}),
        "reveal": lambda: _json(client, f"/v1/requests/{rid}/phone-reveals", body),
        "rule": lambda: client.put("/v1/routing-rules/r1", json=body),
        "token": lambda: world.admin.post("/v1/tokens", json=body),
    }
    refused(world, sends[where], 422, "string_too_long")


@pytest.mark.parametrize(
    "field",
    ["description", "address_string", "address_id", "first_name", "last_name", "phone", "email", "media_url"],
)
def test_every_open311_field_has_a_length_limit(world: World, field: str) -> None:
    form = {
        "api_key": world.key,
        "service_code": "roof_leak",
        "address_string": "德胜里一区",
        field: "x" * 4001,
    }
    refused(world, lambda: world.open311("POST", "/requests.json", data=form), 400, "")


def test_an_address_at_its_limit_is_taken(api: Api) -> None:
    r = api().post("/v1/requests", json=new_request(location={"address": "德" * bounds.MAX_ADDRESS}))
    assert r.status_code == 201 and len(r.json()["location"]["address"]) == bounds.MAX_ADDRESS


# --------------------------------------------------------------------------- unknown nested fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (new_request(location={"adress": "德胜里一区 3-2-401"}), "location.adress"),
        (new_request(caller={"name": "王女士", "phone_number": "13800000000"}), "caller.phone_number"),
        (new_request(caller={"name": "王女士", "key": "k"}), "caller.key"),
        (new_request(location={"address": "x", "geo": {"lat": 1}}), "location.geo"),
    ],
)
def test_nested_objects_refuse_unknown_fields(world: World, body: dict[str, Any], field: str) -> None:
    refused(world, lambda: _json(world.dispatcher, "/v1/requests", body), 422, "extra_forbidden")
    errors = _json(world.dispatcher, "/v1/requests", body).json()["errors"]
    assert [e["field"] for e in errors] == [field]


# --------------------------------------------------------------------------- no coercion


@pytest.mark.parametrize(
    ("where", "body", "code"),
    [
        ("intake", new_request(vulnerable="yes"), "bool_type"),
        ("intake", new_request(vulnerable=1), "bool_type"),
        ("intake", new_request(description=12345), "string_type"),
        ("intake", new_request(category=5), "string_type"),
        ("intake", new_request(channel=1), "enum"),
        ("intake", new_request(location={"lat": "39.9", "long": "116.4"}), "float_type"),
        ("intake", new_request(caller={"phone": 13800000000}), "string_type"),
        ("intake", new_request(received_at=1_700_000_000.5), "datetime_type"),
        ("action", {"action": "callback", "reached": "true"}, "bool_type"),
        ("action", {"action": "note", "text": ["a list"]}, "string_type"),
        ("unit", {"on_duty": "yes"}, "bool_type"),
        ("unit", {"on_duty": 0}, "bool_type"),
        ("auto", {"category": "roof_leak", "auto_dispatch": "false"}, "bool_type"),
    ],
)
def test_nothing_is_coerced(world: World, where: str, body: dict[str, Any], code: str) -> None:
    rid, version = world.accepted["id"], world.accepted["version"]
    client = world.supervisor
    urls = {
        "intake": "/v1/requests",
        "action": f"/v1/requests/{rid}/actions",
        "unit": "/v1/units/pm01",
        "auto": "/v1/routing-rules/auto-dispatch",
    }
    method = "PATCH" if where == "unit" else "POST"

    def send() -> httpx.Response:
        content = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "If-Match": str(version)}
        return client.request(method, urls[where], content=content, headers=headers)

    refused(world, send, 422, code)


def test_json_text_still_reads_as_datetimes_and_enums(api: Api) -> None:
    body = new_request(received_at="2026-01-02T03:04:05+08:00", tier="2h", channel="wechat", type="complaint")
    r = api().post("/v1/requests", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["received_at"], made["tier"], made["channel"]) == ("2026-01-01T19:04:05Z", "2h", "wechat")


# --------------------------------------------------------------------------- pages and offsets


@pytest.mark.parametrize(
    ("where", "params"),
    [
        ("changes", {"limit": bounds.MAX_CHANGES_LIMIT + 1}),
        ("changes", {"limit": 0}),
        ("changes", {"since": 2**63}),
        ("changes", {"since": 10**40}),
        ("changes", {"since": -1}),
        ("open311", {"page": bounds.MAX_PAGE + 1}),
        ("open311", {"page": 2**62}),
        ("open311", {"page": 10**30}),
        ("open311", {"page": 0}),
        ("open311", {"page_size": bounds.MAX_PAGE_SIZE + 1}),
        ("open311", {"page_size": -(2**70)}),
    ],
)
def test_pages_and_offsets_are_capped(world: World, where: str, params: dict[str, int]) -> None:
    if where == "changes":
        refused(world, lambda: world.dispatcher.get("/v1/changes", params=params), 422, "")
    else:
        query = {**params, "api_key": world.key}
        refused(world, lambda: world.open311("GET", "/requests.json", params=query), 400, "")


def test_the_last_page_answers(world: World) -> None:
    query = {"page": bounds.MAX_PAGE, "page_size": bounds.MAX_PAGE_SIZE, "api_key": world.key}
    r = world.open311("GET", "/requests.json", params=query)
    assert r.status_code == 200 and r.json() == []


# --------------------------------------------------------------------------- idempotency keys


@pytest.mark.parametrize(
    "key",
    ["", "k" * 201, "k" * 10_000, "ключ".encode(), b"tab\there", "\u00e9t\u00e9".encode("latin-1")],
)
@pytest.mark.parametrize("where", ["v1", "open311"])
def test_idempotency_keys_are_1_to_200_printable_ascii(world: World, key: str | bytes, where: str) -> None:
    headers = {"Idempotency-Key": key}
    if where == "v1":
        refused(
            world,
            lambda: world.dispatcher.post("/v1/requests", json=new_request(), headers=headers),
            422,
            "invalid_idempotency_key",
        )
    else:
        form = {"api_key": world.key, "service_code": "roof_leak", "address_string": "德胜里一区"}
        refused(world, lambda: world.open311("POST", "/requests.json", data=form, headers=headers), 400, "")


def test_two_idempotency_keys_are_refused(world: World) -> None:
    headers = [("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    send = lambda: world.dispatcher.post("/v1/requests", json=new_request(), headers=headers)  # noqa: E731
    refused(world, send, 422, "invalid_idempotency_key")


def test_a_200_character_key_is_taken_everywhere(live_server: LiveServer, api: Api, make_token: Any) -> None:
    key = {"Idempotency-Key": "k" * 200}
    assert api().post("/v1/requests", json=new_request(), headers=key).status_code == 201
    form = {"api_key": make_token(), "service_code": "roof_leak", "address_string": "德胜里一区"}
    r = httpx.post(f"{live_server.url}/open311/v2/requests.json", data=form, headers=key, timeout=30)
    assert r.status_code == 201, r.text


# --------------------------------------------------------------------------- Open311 bodies


@pytest.mark.parametrize(
    "send",
    [
        {"json": "form"},
        {"content": b"api_key=x", "headers": {"Content-Type": "text/plain"}},
        {"data": {"email": "wang@example.cn\x00"}},
        {"data": {"media_url": "http://example.cn/a\x00.jpg"}},
        {"data": {"device_id": "\x00"}},
        {"data": {"account_id": "acc\x00"}},
        {"data": {"attribute[vulnerable]": "yes"}},
        {"data": {"email": "x" * 250 + "@example.cn"}},
    ],
)
def test_open311_refuses_what_it_cannot_store_and_stores_nothing(world: World, send: dict[str, Any]) -> None:
    form = {"api_key": world.key, "service_code": "roof_leak", "address_string": "德胜里一区"}
    if send.get("json") == "form":
        kwargs: dict[str, Any] = {"json": form}
    elif "data" in send:
        kwargs = {"data": {**form, **send["data"]}}
    else:
        kwargs = send
    refused(world, lambda: world.open311("POST", "/requests.json", **kwargs), 400, "")


def test_open311_extras_are_stored_with_the_request(live_server: LiveServer, make_token: Any) -> None:
    form = {
        "api_key": make_token(),
        "service_code": "roof_leak",
        "address_string": "德胜里一区",
        "email": "wang@example.cn",
        "media_url": "http://example.cn/a.jpg",
    }
    r = httpx.post(f"{live_server.url}/open311/v2/requests.json", data=form, timeout=30)
    assert r.status_code == 201, r.text
    stored = live_server.store.get_request(r.json()[0]["service_request_id"])
    assert any("w***@example.cn" in note.text for note in stored.notes)  # personal data, masked
    assert live_server.store.head() == 2  # the intake and its note


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("description", "description"),
        ("address", "location.address"),
        ("street surrogate", "location.street"),
        ("caller", "caller.name"),
        ("key", "location"),
        ("note", "text"),
        ("query nul", "query.unit"),
        ("query surrogate", "query.unit"),
        ("query not utf-8", "query.since"),
        ("path", "path"),
        ("open311 form", ""),
        ("open311 query", ""),
    ],
)
def test_nul_and_lone_surrogates_are_refused_everywhere(world: World, case: str, field: str) -> None:
    client, rid = world.dispatcher, world.accepted["id"]
    version = str(world.accepted["version"])
    sends: dict[str, Callable[[], httpx.Response]] = {
        "description": lambda: _json(client, "/v1/requests", new_request(description="a\x00b")),
        "address": lambda: _json(client, "/v1/requests", new_request(location={"address": "a\x00"})),
        "street surrogate": lambda: _json(client, "/v1/requests", new_request(location={"street": "\ud800"})),
        "caller": lambda: _json(client, "/v1/requests", new_request(caller={"name": "\udfff王"})),
        "key": lambda: _json(client, "/v1/requests", new_request(location={"\ud800": "x"})),
        "note": lambda: _json(
            client, f"/v1/requests/{rid}/actions", {"action": "note", "text": "\x00"}, **{"If-Match": version}
        ),
        "query nul": lambda: client.get("/v1/stats?unit=pm01%00"),
        "query surrogate": lambda: client.get("/v1/stats?unit=%ED%A0%80"),
        "query not utf-8": lambda: client.get("/v1/stats?since=%FF"),
        "path": lambda: _json(
            client, "/v1/requests/R-%00/actions", {"action": "accept"}, **{"If-Match": "1"}
        ),
        "open311 form": lambda: world.open311(
            "POST",
            "/requests.json",
            content=f"api_key={world.key}&service_code=roof_leak&address_string=%ED%A0%80".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        "open311 query": lambda: world.open311(
            "GET", f"/requests.json?api_key={world.key}&service_code=roof_leak%00"
        ),
    }
    refused(world, sends[case], None if field == "" else 422, "" if field == "" else "invalid_character")
    if field:
        body = sends[case]().json()
        assert body["code"] == "invalid_character" and body["params"]["field"].startswith(field), body


# --------------------------------------------------------------------------- stored data is read


def test_a_far_future_request_stored_before_the_bounds_is_still_listed(
    live_server: LiveServer, api: Api, make_token: Any, tmp_db: Path
) -> None:
    client = api()
    model = intake(client, description="stored by this version")
    far, far_sql = "9999-12-31T23:59:59Z", "9999-12-31 23:59:59.000000"
    rid = "R-900000"
    with sqlite3.connect(tmp_db) as conn:  # what an older version, without the bounds, could store
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM requests WHERE id = ?", (model["id"],)).fetchone())
        (head,) = conn.execute("SELECT max(seq) FROM changes").fetchone()
        data = {**json.loads(row["data"]), "id": rid, "change_seq": head + 1}
        data |= {"received_at": far, "due_at": far, "updated_at": far, "description": "漏雨，一直没人来"}
        row |= {
            "id": rid,
            "num": 900000,
            "change_seq": head + 1,
            "data": json.dumps(data, ensure_ascii=False),
        }
        row |= {"received_at": far_sql, "due_at": far_sql, "updated_at": far_sql}
        conn.execute(
            f"INSERT INTO requests ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        conn.execute(
            "INSERT INTO changes (seq, request_id, action, at, snapshot) VALUES (?, ?, 'intake', ?, ?)",
            (head + 1, rid, far_sql, row["data"]),
        )

    assert client.get(f"/v1/requests/{rid}").json()["due_at"] == far
    assert client.get(f"/v1/requests/{rid}/audit").status_code == 200
    page = client.get("/v1/changes")
    assert page.status_code == 200 and page.json()["changes"][-1]["request"]["due_at"] == far
    lines = client.get("/v1/changes", headers={"Accept": "application/x-ndjson"})
    assert lines.status_code == 200 and json.loads(lines.text.splitlines()[-1])["due_at"] == far
    assert client.get("/v1/stats").json()["total"] == 2
    assert client.get("/v1/stats/units").status_code == 200

    o311 = httpx.Client(
        base_url=f"{live_server.url}/open311/v2", params={"api_key": make_token()}, timeout=10
    )
    with o311:
        for path, params in (
            ("/requests.json", {"service_request_id": rid}),
            ("/requests.json", {"start_date": "2001-01-01"}),
            (f"/requests/{rid}.json", {}),
        ):
            r = o311.get(path, params=params)
            assert r.status_code == 200, (path, r.text)
            [item] = [i for i in r.json() if i["service_request_id"] == rid]
            assert item["expected_datetime"].startswith("9999-12-31T23:59:59")
            assert item["requested_datetime"].startswith("9999-12-31T23:59:59")
            assert "9999-12-31" in item["service_notice"]


# --------------------------------------------------------------------------- connections


def _stream(response: httpx.Response) -> object:
    return response.extensions["network_stream"]


def test_the_connection_survives_a_4xx(world: World) -> None:
    with httpx.Client(base_url=world.server.url, headers=world.dispatcher.headers, timeout=10) as client:
        first = client.get("/v1/me")
        for refusal in (
            lambda: _json(client, "/v1/requests", new_request(location={"adress": "x"})),  # the route's 422
            lambda: client.post(  # refused before the route: 400
                "/v1/requests", content=b'{"a": 1, "a": 2}', headers={"Content-Type": "application/json"}
            ),
            lambda: client.get("/v1/stats?unit=%00"),
            lambda: client.get("/v1/requests/R-999999"),
            lambda: client.post("/v1/requests", json=new_request(), headers={"Idempotency-Key": ""}),
            lambda: client.get("/v1/me", headers={"Authorization": "Bearer nobody"}),
        ):
            r = refusal()
            assert 400 <= r.status_code < 500 and r.headers.get("connection") != "close"
            after = client.get("/v1/me")
            assert after.status_code == 200
            assert _stream(r) is _stream(first) and _stream(after) is _stream(first)


def test_a_500_says_connection_close_and_the_next_call_works(
    live_server: LiveServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = api()
    first = client.get("/v1/me")

    def broken() -> list[Any]:
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(live_server.store, "categories", broken)
    failed = client.get("/v1/categories")
    assert failed.status_code == 500 and failed.headers["connection"] == "close"
    assert failed.json()["code"] == "internal_error"
    monkeypatch.undo()
    again = client.get("/v1/categories")
    assert again.status_code == 200 and _stream(again) is not _stream(first)


# --------------------------------------------------------------------------- hostile input


def _deep(depth: int) -> bytes:
    return b'{"description": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_deep(bounds.MAX_JSON_DEPTH + 1), "json_too_deep"),
        (_deep(100_000), "json_too_deep"),
        (b'{"location": {"lat": 1e309, "long": 1}}', "invalid_number"),
        (b'{"location": {"lat": -1e400}}', "invalid_number"),
        (b'{"location": {"lat": NaN}}', "invalid_number"),
        (b'{"location": {"long": Infinity}}', "invalid_number"),
        (b'{"vulnerable": 1208925819614629174706176}', "invalid_number"),  # 2**80
        (b'{"vulnerable": ' + b"9" * 5000 + b"}", "invalid_number"),
        (b'{"channel": "phone", "channel": "web"}', "duplicate_key"),
        (b'{"location": {"address": "a", "address": "b"}}', "duplicate_key"),
        (b"\xed\xa0\x80", "malformed_json"),
        (b'{"description": "\xff"}', "malformed_json"),
    ],
)
def test_hostile_json_bodies(world: World, body: bytes, code: str) -> None:
    send = lambda: world.dispatcher.post(  # noqa: E731
        "/v1/requests", content=body, headers={"Content-Type": "application/json"}
    )
    refused(world, send, 400, code)


@pytest.mark.parametrize(
    ("what", "status", "code"),
    [
        ("if-match zero", 412, "version_mismatch"),
        ("if-match negative", 400, "invalid_if_match"),
        ("if-match huge", 400, "invalid_if_match"),
        ("if-match unicode", 400, "invalid_if_match"),
        ("token unicode", 401, "unauthorized"),
        ("long query", 414, "query_too_long"),
        ("lat as text NaN", 422, "float_type"),
        ("empty lead unit", 422, "string_too_short"),
        ("blank parent", 422, "string_too_short"),
        ("id with a slash", 404, "not_found"),
        ("id with dots", 404, "not_found"),
        ("blank id", 404, "request_not_found"),
        ("id too long", 422, "string_too_long"),
        ("chunked and too large", 413, "payload_too_large"),
    ],
)
def test_hostile_requests(world: World, what: str, status: int, code: str) -> None:
    client, rid = world.dispatcher, world.accepted["id"]
    url = f"/v1/requests/{rid}/actions"
    note = {"action": "note", "text": "x"}

    def chunks() -> Iterator[bytes]:
        big = json.dumps(new_request(description="x" * (1 << 20))).encode()
        yield from (big[i : i + 65536] for i in range(0, len(big), 65536))

    sends: dict[str, Callable[[], httpx.Response]] = {
        "if-match zero": lambda: _json(client, url, note, **{"If-Match": "0"}),
        "if-match negative": lambda: _json(client, url, note, **{"If-Match": '"-3"'}),
        "if-match huge": lambda: _json(client, url, note, **{"If-Match": str(2**80)}),
        "if-match unicode": lambda: client.post(url, json=note, headers={"If-Match": "“３”".encode()}),
        "token unicode": lambda: client.get("/v1/me", headers={"Authorization": "Bearer 令牌".encode()}),
        "long query": lambda: client.get("/v1/changes", params={"x": "y" * bounds.MAX_QUERY_BYTES}),
        "lat as text NaN": lambda: _json(client, "/v1/requests", new_request(location={"lat": "NaN"})),
        "empty lead unit": lambda: _json(
            client, url, {"action": "dispatch", "lead_unit": " "}, **{"If-Match": "1"}
        ),
        "blank parent": lambda: _json(client, url, {"action": "merge", "parent_id": ""}, **{"If-Match": "1"}),
        "id with a slash": lambda: _json(client, "/v1/requests/a%2Fb/actions", note, **{"If-Match": "1"}),
        "id with dots": lambda: client.get("/v1/requests/..%2F..%2Fetc%2Fpasswd"),
        "blank id": lambda: client.get("/v1/requests/%20"),
        "id too long": lambda: client.get("/v1/requests/" + "R" * (bounds.MAX_ID + 1)),
        "chunked and too large": lambda: client.post(
            "/v1/requests", content=chunks(), headers={"Content-Type": "application/json"}
        ),
    }
    refused(world, sends[what], status, code)


async def test_the_client_keeps_a_long_extension_as_a_refusal(
    live_server: LiveServer, make_token: Any
) -> None:
    """A dispatcher's long extension is refused input (a conflict the app shows), not a bad token:
    the outbox does not stop at it."""
    from api_client.actions import Accept, Dispatch
    from api_client.client import HotlineClient
    from api_client.errors import InvalidRequest
    from api_client.models import NewRequest

    async with HotlineClient(live_server.url, make_token(Role.dispatcher)) as client:
        request = await client.intake(NewRequest.model_validate(new_request()))
        request = await client.act(request.id, Dispatch(lead_unit="pm01"), version=request.version)
        request = await client.act(request.id, Accept(), version=request.version)
        longer = Extend(reason="a new roof", new_due_at=request.due_at + timedelta(days=31))
        with pytest.raises(InvalidRequest) as refused:
            await client.act(request.id, longer, version=request.version)
    assert (refused.value.status, refused.value.code) == (403, "extension_needs_supervisor")
