"""Databases as hotline wrote them before Alembic, on SQLite or PostgreSQL, for the upgrade tests.

Each says its schema version in `meta` and has no `alembic_version` table:

- `"1 before routing rules"`: the first version's tables (`SCHEMA_1`, as its `tables.py` had them),
  with requests written the way it wrote them: the caller's full phone and name in the request's
  JSON, every change and the audit trail; tokens kept by hash (names may repeat), idempotency
  keys by the holder's name.
- `"1"`: the same with the routing-rule tables (added without a new version number) and a rule.
- `"2"`: callers moved out (revision 0003), tokens as before; the tables of tokens' uses and
  events there already, as the code that knew this version created them.
- `"3"`: made by that code (every table of `tables.py`), written through the store.

    path = old_database(tmp_path / "old.db", [("王先生", "13912345678"), ...])   # schema 1, SQLite
    url = legacy_database(url, "2", callers)
    store = SqlStore.open(path)     # upgrades it
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson
from server_helpers import new_request
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    insert,
    text,
    update,
)

from api_client.actions import Dispatch
from api_client.domain.deadlines import Tier
from api_client.domain.lifecycle import apply_action, snapshot_diff
from api_client.models import Channel, Location, NewRequest, Request, RequestType, Role, State, now_utc
from central_api import catalogue, migrations
from central_api.sql import tables as t
from central_api.sql.engine import database_url
from central_api.sql_store import SqlStore

#: Every state a database made before Alembic can be in, oldest first.
STATES: Final = ("1 before routing rules", "1", "2", "3")

#: The first version's tables (its `tables.py`; datetimes stored as naive UTC).
SCHEMA_1 = MetaData()
Table("meta", SCHEMA_1, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))
Table(
    "requests",
    SCHEMA_1,
    Column("id", String(64), primary_key=True),
    Column("num", Integer, nullable=False, unique=True),
    Column("state", String(32), nullable=False),
    Column("category", String(64), nullable=False),
    Column("lead_unit", String(64)),
    Column("merged_into", String(64)),
    Column("tier", String(8), nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("dispatched_at", DateTime),
    Column("accepted_at", DateTime),
    Column("updated_at", DateTime),
    Column("version", Integer, nullable=False),
    Column("change_seq", Integer, nullable=False),
    Column("responded_in_time", Boolean, nullable=False),
    Column("cb_valid", Boolean, nullable=False),
    Column("cb_solved", Boolean, nullable=False),
    Column("cb_satisfaction", String(16)),
    Column("data", Text, nullable=False),
    Index("ix_requests_received_at", "received_at"),
    Index("ix_requests_state", "state"),
    Index("ix_requests_category", "category"),
    Index("ix_requests_lead_unit", "lead_unit"),
    Index("ix_requests_merged_into", "merged_into"),
)
Table(
    "changes",
    SCHEMA_1,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("snapshot", Text, nullable=False),
    Index("ix_changes_request_id", "request_id"),
    sqlite_autoincrement=True,
)
Table(
    "audit",
    SCHEMA_1,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer),
    Column("request_id", String(64)),
    Column("unit_id", String(64)),
    Column("action", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_request_id", "request_id"),
    sqlite_autoincrement=True,
)
Table(
    "idempotency",
    SCHEMA_1,
    Column("actor", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("path", String(300), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    PrimaryKeyConstraint("actor", "key"),
)
Table(
    "units",
    SCHEMA_1,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("communities", Text, nullable=False),
    Column("categories", Text, nullable=False),
    Column("on_duty", Boolean, nullable=False),
)
Table(
    "categories",
    SCHEMA_1,
    Column("code", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("default_units", Text, nullable=False),
)
Table(
    "communities",
    SCHEMA_1,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("streets", Text, nullable=False),
)
Table(
    "tokens",
    SCHEMA_1,
    Column("token_hash", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
)
ROUTING = MetaData()
Table(
    "routing_rules",
    ROUTING,
    Column("id", String(64), primary_key=True),
    Column("category", String(64), nullable=False),
    Column("community", String(64), nullable=False),
    Column("lead_unit", String(64), nullable=False),
    Column("co_units", Text, nullable=False),
    Column("auto_dispatch", Boolean, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_routing_rules_match", "category", "community", unique=True),
)
Table(
    "routing_rule_audit",
    ROUTING,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Index("ix_routing_rule_audit_rule_id", "rule_id"),
    sqlite_autoincrement=True,
)

#: When the old version took the requests in.
OLD_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
#: The old version's tokens (oldest first: the first 张敏 keeps the name) and idempotency rows
#: (by holder's name; 离职者 holds no token any more).
OLD_TOKENS: Final = (
    ("a" * 64, "张敏", "dispatcher"),
    ("b" * 64, "张敏", "supervisor"),
    ("c" * 64, "李强", "admin"),
)
OLD_KEYS: Final = ("张敏", "离职者")
#: The routing rule of a schema-1 database that has them.
RULE: Final = {"id": "roof-c01", "category": "roof_leak", "community": "c01", "lead_unit": "cc01"}
_EXCLUDE = {"change_seq", "version", "updated_at"}


def _at(value: datetime) -> datetime:
    """A datetime as the old version stored it: naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None)


def _old_json(request: Request) -> str:
    """A request's JSON as schema 1 stored it: its caller had no key."""
    return request.model_dump_json(exclude={"caller": {"key"}})


def old_request(num: int, name: str, phone: str, received_at: datetime) -> Request:
    """A new roof-leak request in c01 as schema 1 held it: the caller in full."""
    return Request.model_validate(
        {
            "id": f"R-{num:06d}",
            "received_at": received_at,
            "channel": Channel.phone,
            "type": RequestType.help,
            "category": "roof_leak",
            "description": f"漏雨 {num}",
            "location": Location(community="c01", address=f"德胜里{num}号楼"),
            "caller": {"name": name, "phone": phone},
            "tier": Tier.h24,
            "due_at": received_at + Tier.h24.duration,
            "state": State.new,
            "updated_at": received_at,
            "version": 1,
            "change_seq": 0,
        }
    )


def old_database(path: Path, callers: Sequence[tuple[str, str]], *, dispatch_first: bool = True) -> Path:
    """A schema-1 SQLite file at `path` (see `legacy_database`)."""
    legacy_database(database_url(path), "1", callers, dispatch_first=dispatch_first)
    return path


def legacy_database(
    url: str, state: str, callers: Sequence[tuple[str, str]], *, dispatch_first: bool = True
) -> str:
    """A database at `url` (empty) in `state` (one of `STATES`): the catalogue, one request per
    (name, phone), each taken in (one change, one audit event), the first also dispatched to
    `cc01` when `dispatch_first` (a second change and audit event, which hold no caller). Before
    state 3, the tokens `OLD_TOKENS` and keys of `OLD_KEYS`; in state 3, tokens of 张敏 (id 1) and
    李强, and 张敏's idempotency keys `k-1`, `k-2`, … of the intakes."""
    if state == "3":
        return _schema_3(url, callers)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            SCHEMA_1.create_all(conn)
            if state != "1 before routing rules":
                ROUTING.create_all(conn)
                _rule(conn)
            _fill_schema_1(conn, callers, dispatch_first=dispatch_first)
        if state == "2":
            with engine.begin() as conn:
                migrations.stamp(conn, "0002")
                migrations.upgrade(conn, clock=now_utc, target="0003")
                conn.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
                conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value="2"))
                t.token_uses.create(conn)
                t.token_events.create(conn)
    finally:
        engine.dispose()
    return url


def _schema_3(url: str, callers: Sequence[tuple[str, str]]) -> str:
    store = SqlStore.open(url)
    try:
        for name, role in (("张敏", Role.dispatcher), ("李强", Role.admin)):
            store.create_token(name, role)
        for num, (name, phone) in enumerate(callers, start=1):
            new = NewRequest.model_validate(
                new_request(description=f"漏雨 {num}", caller={"name": name, "phone": phone})
            )
            made = store.create_request(new, actor="话务-1", idempotency_key=f"k-{num}", token_id=1)
            if num == 1:
                store.apply(
                    made.request.id,
                    Dispatch(lead_unit="cc01"),
                    actor="张敏",
                    if_match=1,
                    idempotency_key=None,
                )
    finally:
        store.close()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
            conn.execute(text("DROP TABLE places"))  # revision 0007's, after schema version 3
            for table in ("knowledge_events", "knowledge_entries"):  # revision 0006's
                conn.execute(text(f"DROP TABLE {table}"))
            conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value="3"))
    finally:
        engine.dispose()
    return url


def _rule(conn: Connection) -> None:
    conn.execute(
        insert(ROUTING.tables["routing_rules"]),
        {
            **RULE,
            "co_units": "[]",
            "auto_dispatch": False,
            "updated_by": "李强",
            "updated_at": _at(OLD_NOW),
            "version": 1,
        },
    )


def _fill_schema_1(conn: Connection, callers: Sequence[tuple[str, str]], *, dispatch_first: bool) -> None:
    tables = SCHEMA_1.tables
    conn.execute(
        insert(tables["meta"]),
        [{"key": "schema_version", "value": "1"}, {"key": "created_at", "value": OLD_NOW.isoformat()}],
    )
    conn.execute(
        insert(tables["units"]),
        [
            {
                "id": u.id,
                "position": i,
                "name": u.name,
                "kind": u.kind.value,
                "communities": orjson.dumps(u.communities).decode(),
                "categories": orjson.dumps(u.categories).decode(),
                "on_duty": u.on_duty,
            }
            for i, u in enumerate(catalogue.UNITS)
        ],
    )
    conn.execute(
        insert(tables["categories"]),
        [
            {
                "code": c.code,
                "position": i,
                "name": c.name,
                "tier": c.tier.value,
                "default_units": orjson.dumps(c.default_units).decode(),
            }
            for i, c in enumerate(catalogue.CATEGORIES)
        ],
    )
    conn.execute(
        insert(tables["communities"]),
        [
            {"id": c.id, "position": i, "name": c.name, "streets": orjson.dumps(c.streets).decode()}
            for i, c in enumerate(catalogue.COMMUNITIES)
        ],
    )
    conn.execute(
        insert(tables["tokens"]),
        [
            {
                "token_hash": token_hash,
                "name": name,
                "role": role,
                "created_at": _at(OLD_NOW - timedelta(days=9 - i)),
            }
            for i, (token_hash, name, role) in enumerate(OLD_TOKENS)
        ],
    )
    seq = 0
    for num, (name, phone) in enumerate(callers, start=1):
        at = OLD_NOW + timedelta(minutes=num)
        seq += 1
        request = old_request(num, name, phone, at).model_copy(update={"change_seq": seq})
        _write_change(
            conn, request, "intake", "话务-1", {}, request.model_dump(mode="json", exclude=_EXCLUDE)
        )
        if dispatch_first and num == 1:
            seq += 1
            dispatched = apply_action(request, Dispatch(lead_unit="cc01"), actor="张敏", now=at)
            dispatched = dispatched.model_copy(update={"change_seq": seq})
            before, after = snapshot_diff(request, dispatched)
            _write_change(conn, dispatched, "dispatch", "张敏", before, after)
            request = dispatched
        conn.execute(
            insert(tables["requests"]),
            {
                "id": request.id,
                "num": num,
                "state": request.state.value,
                "category": request.category,
                "lead_unit": request.lead_unit,
                "merged_into": None,
                "tier": request.tier.value,
                "received_at": _at(request.received_at),
                "due_at": _at(request.due_at),
                "dispatched_at": _at(request.dispatched_at) if request.dispatched_at else None,
                "accepted_at": None,
                "updated_at": _at(at),
                "version": request.version,
                "change_seq": request.change_seq,
                "responded_in_time": False,
                "cb_valid": False,
                "cb_solved": False,
                "cb_satisfaction": None,
                "data": _old_json(request),
            },
        )
        if num == 1:
            conn.execute(
                insert(tables["idempotency"]),
                [
                    {
                        "actor": actor,
                        "key": "k-1",
                        "path": "POST /v1/requests",
                        "body_hash": "0" * 64,
                        "request_id": request.id,
                        "seq": 1,
                        "created_at": _at(at),
                    }
                    for actor in OLD_KEYS
                ],
            )


def _write_change(
    conn: Connection,
    request: Request,
    action: str,
    actor: str,
    before: dict[str, object],
    after: dict[str, object],
) -> None:
    at = _at(request.updated_at or request.received_at)
    conn.execute(
        insert(SCHEMA_1.tables["changes"]),
        {
            "seq": request.change_seq,
            "request_id": request.id,
            "action": action,
            "at": at,
            "snapshot": _old_json(request),
        },
    )
    if "caller" in after and isinstance(after["caller"], dict):
        after = {**after, "caller": {k: v for k, v in after["caller"].items() if k != "key"}}
    row: dict[str, Any] = {
        "seq": request.change_seq,
        "request_id": request.id,
        "unit_id": None,
        "action": action,
        "actor": actor,
        "at": at,
        "before": orjson.dumps(before).decode(),
        "after": orjson.dumps(after).decode(),
        "detail": "{}",
    }
    conn.execute(insert(SCHEMA_1.tables["audit"]), row)
