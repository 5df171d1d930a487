"""Tokens: unique names, listing and revoking (API and CLI), revocation reaching every server on
one database within the promise, event streams of a revoked token ending, streams capped per
token, idempotency keys scoped by token id, and the migration of an older database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from conftest import bearer
from pg_support import Db
from server_helpers import SSEReader, new_request
from sqlalchemy import create_engine, select, text, update
from test_cli import run

from api_client.models import NewRequest, Role
from central_api import migrations
from central_api.deps import REVOCATION_SECONDS
from central_api.migrations.versions.v0004_tokens_by_id import unique_names
from central_api.routes.events import MAX_STREAMS_PER_TOKEN
from central_api.server import LiveServer
from central_api.sql import tables as t
from central_api.sql.engine import database_url
from central_api.sql_store import SqlStore
from central_api.store import TokenNameTaken


def wait_for(condition: Callable[[], bool], within: float, what: str) -> None:
    """Poll `condition` until it holds; fail when `within` seconds pass first."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.05)


def me(url: str, token: str) -> int:
    return httpx.get(f"{url}/v1/me", headers=bearer(token), timeout=10).status_code


def test_names_are_unique_in_the_store_the_api_and_the_cli(live_server: LiveServer, tmp_db: Db) -> None:
    admin = live_server.create_token("root", Role.admin)
    live_server.create_token("张敏")
    with pytest.raises(TokenNameTaken):
        live_server.create_token("张敏", Role.supervisor)
    with httpx.Client(base_url=live_server.url, headers=bearer(admin), timeout=10) as api:
        taken = api.post("/v1/tokens", json={"name": " 张敏 ", "role": "admin"})
        assert taken.status_code == 409
        assert taken.json() == {
            "code": "token_name_taken",
            "detail": "A token named '张敏' exists already: choose another name.",
            "params": {"name": "张敏"},
        }
        for bad in ("bad\x1b[31m", "root\u200b", "\u202eroot"):  # a control, a zero width, a bidi override
            refused = api.post("/v1/tokens", json={"name": bad, "role": "dispatcher"})
            assert refused.status_code == 422 and refused.json()["code"] == "token_name_invalid"
        assert api.post("/v1/tokens", json={"name": "李强", "role": "dispatcher"}).status_code == 201
    again = run("token", "create", "李强", "--db", str(tmp_db))
    assert again.returncode == 1 and "exists already" in again.stderr and "Traceback" not in again.stderr
    assert [info.name for info in live_server.store.tokens()] == ["root", "张敏", "李强"]


def test_admins_list_and_revoke_tokens_over_the_api(live_server: LiveServer) -> None:
    admin = live_server.create_token("root", Role.admin)
    dispatcher = live_server.create_token("张敏")
    partner = live_server.create_token("city-app", Role.partner)
    assert me(live_server.url, dispatcher) == 200
    with httpx.Client(base_url=live_server.url, headers=bearer(admin), timeout=10) as api:
        listed = api.get("/v1/tokens").json()
        assert [(i["name"], i["role"], i["revoked_at"]) for i in listed] == [
            ("root", "admin", None),
            ("张敏", "dispatcher", None),
            ("city-app", "partner", None),
        ]
        assert all(i["last_used_at"] is not None for i in listed[:2]) and listed[2]["last_used_at"] is None
        assert dispatcher not in str(listed) and "token_hash" not in listed[0]

        revoked = api.delete("/v1/tokens/张敏")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert me(live_server.url, dispatcher) == 401  # at once on the server that revoked it
        assert api.delete("/v1/tokens/张敏").json() == revoked.json()  # again: nothing changes
        missing = api.delete("/v1/tokens/nobody")
        assert missing.status_code == 404 and missing.json()["code"] == "token_not_found"
        assert api.post("/v1/tokens", json={"name": "张敏", "role": "dispatcher"}).status_code == 409
    for token in (partner, live_server.create_token("值班长", Role.supervisor)):
        for method, path in (("GET", "/v1/tokens"), ("DELETE", "/v1/tokens/root")):
            refused = httpx.request(method, f"{live_server.url}{path}", headers=bearer(token), timeout=30)
            assert refused.status_code == 403
    engine = create_engine(database_url(live_server.db))
    with engine.connect() as conn:
        events = conn.execute(select(t.token_events.c.name, t.token_events.c.action, t.token_events.c.actor))
        assert [tuple(e) for e in events][-2:] == [("张敏", "revoke", "root"), ("值班长", "create", "server")]
    engine.dispose()


def test_the_cli_lists_and_revokes(live_server: LiveServer, tmp_db: Db) -> None:
    token = live_server.create_token("张敏")
    live_server.create_token("city-app", Role.partner)
    assert me(live_server.url, token) == 200
    listed = run("token", "list", "--db", str(tmp_db))
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["NAME", "ROLE", "UNIT", "CREATED", "LAST", "USED", "REVOKED"]
    assert [row.split()[:2] for row in rows] == [["张敏", "dispatcher"], ["city-app", "partner"]]
    assert rows[0].endswith("-") and rows[1].endswith("-")  # neither is revoked

    revoked = run("token", "revoke", "张敏", "--db", str(tmp_db))
    assert revoked.returncode == 0 and revoked.stdout.startswith("revoked 张敏 (dispatcher) at ")
    wait_for(lambda: me(live_server.url, token) == 401, REVOCATION_SECONDS, "the server refuses it")
    assert not run("token", "list", "--db", str(tmp_db)).stdout.splitlines()[1].endswith("-")
    unknown = run("token", "revoke", "nobody", "--db", str(tmp_db))
    assert unknown.returncode == 1 and "No token named 'nobody'" in unknown.stderr


@pytest.fixture
def two_servers(tmp_db: Db) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers, each with its own store, identity cache and notifier, on one SQLite file."""
    first = LiveServer(tmp_db).start()
    second = LiveServer(tmp_db).start()
    try:
        yield first, second
    finally:
        second.stop()
        first.stop()


def refused_everywhere(
    servers: tuple[LiveServer, ...], token: str, stream: SSEReader, *, since: float
) -> None:
    """Every server answers the token 401 and its stream has ended, within the promise."""
    deadline = since + REVOCATION_SECONDS
    pending = list(servers)
    while pending:
        pending = [server for server in pending if me(server.url, token) != 401]
        assert not pending or time.monotonic() < deadline, f"still accepted by {[s.url for s in pending]}"
        time.sleep(0.05)
    assert stream.finished.wait(max(deadline - time.monotonic(), 0)), "the stream did not end"


def test_a_revoked_token_is_refused_by_every_server_and_its_streams_end(
    two_servers: tuple[LiveServer, LiveServer], tmp_db: Db
) -> None:
    first, second = two_servers
    admin = first.create_token("root", Role.admin)
    by_api, by_cli = first.create_token("张敏"), first.create_token("李强")
    for server in (first, second):
        assert me(server.url, by_api) == me(server.url, by_cli) == 200  # each server remembers them
    streams = [SSEReader(second.url, by_api), SSEReader(first.url, by_cli)]
    try:
        assert all(s.status == 200 for s in streams)
        answer = httpx.delete(f"{first.url}/v1/tokens/张敏", headers=bearer(admin), timeout=10)
        assert answer.status_code == 200
        revoked_by_api = time.monotonic()
        refused_everywhere(two_servers, by_api, streams[0], since=revoked_by_api)

        assert run("token", "revoke", "李强", "--db", str(tmp_db)).returncode == 0  # a third process
        refused_everywhere(two_servers, by_cli, streams[1], since=time.monotonic())
        assert me(second.url, admin) == 200  # only the revoked tokens
    finally:
        for stream in streams:
            stream.close()


def test_a_token_holds_a_few_streams_at_most(live_server: LiveServer) -> None:
    token = live_server.create_token("张敏")
    streams = [SSEReader(live_server.url, token) for _ in range(MAX_STREAMS_PER_TOKEN)]
    try:
        assert all(s.status == 200 for s in streams)
        refused = httpx.get(f"{live_server.url}/v1/events", headers=bearer(token), timeout=10)
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_streams"
        assert refused.json()["params"] == {"limit": MAX_STREAMS_PER_TOKEN}
        other = SSEReader(live_server.url, live_server.create_token("李强"))  # another token's own places
        assert other.status == 200
        other.close()

        streams.pop().close()  # a client goes: its place is given back
        late: list[SSEReader] = []

        def reconnects() -> bool:
            reader = SSEReader(live_server.url, token)
            late.append(reader)
            return reader.status == 200

        wait_for(reconnects, 10, "a place is given back")
        streams.extend(late)
    finally:
        for stream in streams:
            stream.close()


def test_idempotency_keys_are_scoped_by_token_id(live_server: LiveServer) -> None:
    first, second = live_server.create_token("甲"), live_server.create_token("乙")
    body = new_request()

    def intake(token: str) -> httpx.Response:
        headers = {**bearer(token), "Idempotency-Key": "intake-1"}
        return httpx.post(f"{live_server.url}/v1/requests", json=body, headers=headers, timeout=10)

    made = intake(first)
    other = intake(second)
    assert made.status_code == other.status_code == 201
    assert made.json()["id"] != other.json()["id"]  # the same key from another token: its own call
    replay = intake(first)
    assert replay.json()["id"] == made.json()["id"] and replay.headers.get("Idempotent-Replayed") == "true"
    assert intake(second).json()["id"] == other.json()["id"]


def test_unique_names_suffix_repeats() -> None:
    assert unique_names(["a", "b", "a", "a", "a-2", "b"]) == ["a", "b", "a-3", "a-4", "a-2", "b-2"]
    assert unique_names(["x" * 200, "x" * 200]) == ["x" * 200, "x" * 198 + "-2"]


@pytest.mark.stores("sqlite")  # the schema-2 tables below are written in SQLite's SQL
def test_an_older_database_gets_unique_names_and_keys_by_token(tmp_db: Db) -> None:
    """A database of schema 2 (made before Alembic): repeated names, idempotency rows by name."""
    store = SqlStore.open(tmp_db)
    made = store.create_request(NewRequest.model_validate(new_request()), actor="张敏", idempotency_key=None)
    store.close()
    engine = create_engine(database_url(tmp_db))
    hashes = {"old-1": "a" * 64, "old-2": "b" * 64, "old-3": "c" * 64}
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
        conn.execute(text("DROP TABLE tokens"))
        conn.execute(text("DROP TABLE idempotency"))
        conn.execute(
            text(
                "CREATE TABLE tokens (token_hash VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL,"
                " role VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE idempotency (actor VARCHAR(200) NOT NULL, key VARCHAR(200) NOT NULL,"
                " path VARCHAR(300) NOT NULL, body_hash VARCHAR(64) NOT NULL, request_id VARCHAR(64)"
                " NOT NULL, seq INTEGER NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (actor, key))"
            )
        )
        for i, (name, role) in enumerate([("张敏", "dispatcher"), ("张敏", "supervisor"), ("李强", "admin")]):
            conn.execute(
                text("INSERT INTO tokens VALUES (:h, :n, :r, :at)"),
                {
                    "h": list(hashes.values())[i],
                    "n": name,
                    "r": role,
                    "at": f"2026-01-0{i + 1} 08:00:00.000000",
                },
            )
        for actor in ("张敏", "离职者"):
            conn.execute(
                text("INSERT INTO idempotency VALUES (:a, 'k-1', 'POST /v1/requests', :b, :r, 1, :at)"),
                {"a": actor, "b": "0" * 64, "r": made.request.id, "at": "2026-01-05 08:00:00.000000"},
            )
        conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value="2"))
    engine.dispose()

    store = SqlStore.open(tmp_db)
    try:
        assert [(i.name, i.role) for i in store.tokens()] == [
            ("张敏", Role.dispatcher),
            ("张敏-2", Role.supervisor),
            ("李强", Role.admin),
        ]
        engine = create_engine(database_url(tmp_db))
        with engine.connect() as conn:
            ids = dict(conn.execute(select(t.tokens.c.name, t.tokens.c.id)).all())
            keys = conn.execute(select(t.idempotency.c.token_id, t.idempotency.c.key)).all()
            revision = conn.execute(text(f"SELECT version_num FROM {migrations.VERSION_TABLE}")).scalar()
        engine.dispose()
        assert sorted(tuple(k) for k in keys) == [(0, "k-1"), (ids["张敏"], "k-1")]
        assert revision == migrations.head()
        new = store.create_token("张敏-3", Role.dispatcher)  # later ids follow the migrated ones
        holder = store.identify(new)
        assert holder is not None and holder.token_id == max(ids.values()) + 1
        with pytest.raises(TokenNameTaken):
            store.create_token("张敏-2", Role.dispatcher)
    finally:
        store.close()
