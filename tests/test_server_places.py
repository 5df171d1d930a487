"""`GET /v1/places`: the street's gazetteer on a real server (both stores), written by the demo
seed, read by every /v1 role, cached by the client with the directory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import TypeAdapter

from api_client.client import HotlineClient
from api_client.models import Role
from api_client.places import Place, PlaceKind
from central_api.places_seed import demo_places
from central_api.seed import seed_store
from central_api.seed_bulk import seed_new_database
from central_api.server import LiveServer
from central_api.sql_store import SqlStore
from local_cache.directory import FILE_NAME, DirectoryFile, fetch_directory

Api = Callable[..., httpx.Client]
PLACES = TypeAdapter(list[Place])
NOW = datetime(2026, 7, 20, 10, tzinfo=UTC)


def test_a_new_database_has_no_places_and_says_so_with_a_tag(api: Api) -> None:
    response = api().get("/v1/places")
    assert response.status_code == 200, response.text
    assert response.json() == []
    assert response.headers["ETag"].startswith('"')


def test_the_gazetteer_is_read_whole_in_order(api: Api, live_server: LiveServer) -> None:
    client = api()
    empty_tag = client.get("/v1/places").headers["ETag"]
    places = demo_places()
    live_server.store.set_places(places)
    response = client.get("/v1/places")
    assert response.status_code == 200
    assert PLACES.validate_json(response.content) == places
    tag = response.headers["ETag"]
    assert tag != empty_tag
    again = client.get("/v1/places", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    assert client.get("/v1/places", headers={"If-None-Match": empty_tag}).status_code == 200


@pytest.mark.parametrize("role", [Role.dispatcher, Role.supervisor, Role.admin])
def test_every_centre_role_reads_it(api: Api, live_server: LiveServer, role: Role) -> None:
    live_server.store.set_places(demo_places()[:3])
    response = api(role).get("/v1/places")
    assert response.status_code == 200 and len(response.json()) == 3


def test_a_unit_reads_it_and_a_partner_may_not(live_server: LiveServer) -> None:
    live_server.store.set_places(demo_places()[:3])
    unit = live_server.store.create_token("unit-cc05", Role.unit, unit="cc05")
    partner = live_server.store.create_token("partner-1", Role.partner)
    with httpx.Client(base_url=live_server.url, timeout=10) as client:
        read = client.get("/v1/places", headers={"Authorization": f"Bearer {unit}"})
        assert read.status_code == 200 and len(read.json()) == 3
        refused = client.get("/v1/places", headers={"Authorization": f"Bearer {partner}"})
        assert refused.status_code == 403
        assert client.get("/v1/places").status_code == 401


def test_a_gazetteer_with_a_bad_parent_or_a_twice_used_id_is_refused_whole(live_server: LiveServer) -> None:
    store = live_server.store
    good = demo_places()[:2]
    store.set_places(good)
    orphan = Place(id="b1", name="1号楼", kind=PlaceKind.building, parent="nowhere")
    with pytest.raises(ValueError, match="nowhere"):
        store.set_places([*good, orphan])
    with pytest.raises(ValueError, match="two places"):
        store.set_places([*good, good[0]])
    assert PLACES.validate_json(store.places_json()) == good


async def test_the_client_reads_it_and_the_directory_keeps_it(
    live_server: LiveServer, tmp_path: Path
) -> None:
    places = demo_places()
    live_server.store.set_places(places)
    token = live_server.store.create_token("dispatcher-1", Role.dispatcher)
    async with HotlineClient(live_server.url, token) as client:
        assert await client.places() == places
        directory = await fetch_directory(client)
    assert directory.places == places
    assert directory.covering_units("s13-b03")[:2] == ["cc05", "pm02"]
    file = DirectoryFile(tmp_path / FILE_NAME)
    file.save(directory)
    loaded = file.load()
    assert loaded is not None and loaded.places == places and loaded.place("s13") == directory.place("s13")


def test_the_demo_seed_writes_the_gazetteer(tmp_path: Path) -> None:
    store, bulk = SqlStore.open(tmp_path / "seeded.db"), SqlStore.open(tmp_path / "bulk.db")
    try:
        seed_store(store, seed=7, count=3, now=NOW)
        assert PLACES.validate_json(store.places_json()) == demo_places()
        seed_new_database(bulk.url, seed=7, count=3, now=NOW)
        assert bulk.places_json() == store.places_json()
    finally:
        store.close()
        bulk.close()


def test_a_supervisor_adds_and_changes_a_place_and_every_edit_is_kept(
    api: Api, live_server: LiveServer
) -> None:
    live_server.store.set_places(demo_places())
    client = api(Role.supervisor)
    body = {
        "name": "90号楼",
        "kind": "building",
        "community": "c01",
        "parent": "s01",
        "aliases": ["九十号楼"],
    }
    created = client.put("/v1/places/s01-b90", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/v1/places/s01-b90"
    replaced = client.put("/v1/places/s01-b90", json={**body, "units": ["cc01"]})
    assert replaced.status_code == 200 and replaced.json()["units"] == ["cc01"]
    listed = PLACES.validate_json(client.get("/v1/places").content)
    assert listed[-1].id == "s01-b90" and listed[-1].units == ["cc01"]  # a new place is listed last
    events = client.get("/v1/places/audit", params={"place": "s01-b90"}).json()
    assert [(e["action"], e["before"] is None, e["after"]["units"]) for e in events] == [
        ("create", True, []),
        ("replace", False, ["cc01"]),
    ]
    assert {e["actor"] for e in events} == {events[0]["actor"]} and events[0]["actor"].startswith(
        "supervisor"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "某楼", "kind": "building", "parent": "nowhere"}, "unknown_place"),
        ({"name": "某楼", "kind": "building", "parent": "s01-b01", "units": ["u-none"]}, "unknown_unit"),
        ({"name": "某院", "kind": "compound", "community": "c99"}, "unknown_community"),
        ({"name": "德胜里一区", "kind": "compound", "parent": "s01-b01"}, "place_parent_loop"),
    ],
)
def test_a_place_with_an_unknown_reference_or_a_loop_is_refused_and_nothing_kept(
    api: Api, live_server: LiveServer, body: dict[str, object], code: str
) -> None:
    live_server.store.set_places(demo_places())
    client = api(Role.supervisor)
    before = client.get("/v1/places").content
    refused = client.put("/v1/places/s01", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == code, refused.text
    assert client.get("/v1/places").content == before
    assert client.get("/v1/places/audit").json() == []


def test_only_a_supervisor_edits_the_gazetteer_or_reads_its_edits(api: Api) -> None:
    client = api(Role.dispatcher)
    body = {"name": "某楼", "kind": "landmark"}
    assert client.put("/v1/places/lm99", json=body).status_code == 403
    assert client.get("/v1/places/audit").status_code == 403
