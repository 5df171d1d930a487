"""Bearer tokens: 401 without a valid one, roles (403), token creation, hashing, directory."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from conftest import bearer
from pg_support import Db, table_rows

from central_api.server import LiveServer

Api = Callable[..., httpx.Client]


def test_missing_or_unknown_token_is_401(live_server: LiveServer) -> None:
    url = live_server.url
    for path in ("/v1/me", "/v1/requests/R-000001", "/v1/changes", "/v1/units", "/v1/stats", "/v1/events"):
        r = httpx.get(url + path, timeout=30)
        assert r.status_code == 401, path
        assert r.json()["detail"] and r.headers["WWW-Authenticate"] == "Bearer"
        assert httpx.get(url + path, headers=bearer("not-a-token"), timeout=30).status_code == 401
        assert httpx.get(url + path, headers={"Authorization": "Basic abc"}, timeout=30).status_code == 401
    assert httpx.post(url + "/v1/requests", json={}, timeout=30).status_code == 401
    assert httpx.get(url + "/v1/health", timeout=30).status_code == 200


def test_me(api: Api) -> None:
    me = api("supervisor", name="sup").get("/v1/me").json()
    assert me == {"name": "sup", "role": "supervisor", "unit": None}


def test_unit_duty_needs_supervisor(api: Api) -> None:
    dispatcher, supervisor, admin = api("dispatcher"), api("supervisor"), api("admin")
    r = dispatcher.patch("/v1/units/cc01", json={"on_duty": False})
    assert r.status_code == 403 and "supervisor" in r.json()["detail"]
    r = supervisor.patch("/v1/units/cc01", json={"on_duty": False})
    assert r.status_code == 200 and r.json()["on_duty"] is False and r.json()["id"] == "cc01"
    units = {u["id"]: u for u in dispatcher.get("/v1/units").json()}
    assert units["cc01"]["on_duty"] is False and units["cc02"]["on_duty"] is True
    assert admin.patch("/v1/units/cc01", json={"on_duty": True}).json()["on_duty"] is True
    assert supervisor.patch("/v1/units/nope", json={"on_duty": True}).status_code == 404


def test_directory_reads(api: Api) -> None:
    client = api()
    categories = client.get("/v1/categories").json()
    assert any(c["code"] == "roof_leak" for c in categories)
    communities = client.get("/v1/communities").json()
    assert [c["id"] for c in communities][:3] == ["c01", "c02", "c03"]
    assert len(client.get("/v1/units").json()) > 20


def test_tokens_admin_only_and_hashed(api: Api, live_server: LiveServer, tmp_db: Db) -> None:
    for role in ("dispatcher", "supervisor"):
        assert api(role).post("/v1/tokens", json={"name": "x", "role": "dispatcher"}).status_code == 403
    admin = api("admin")
    r = admin.post("/v1/tokens", json={"name": "night shift", "role": "supervisor"})
    assert r.status_code == 201
    created = r.json()
    assert (
        created["name"] == "night shift" and created["role"] == "supervisor" and len(created["token"]) >= 32
    )
    me = httpx.get(f"{live_server.url}/v1/me", headers=bearer(created["token"]), timeout=30)
    assert me.json() == {"name": "night shift", "role": "supervisor", "unit": None}
    assert admin.post("/v1/tokens", json={"name": "x", "role": "root"}).status_code == 422
    stored = [row[0] for row in table_rows(tmp_db, "tokens", "token_hash")]
    assert created["token"] not in stored and all(len(h) == 64 for h in stored)
