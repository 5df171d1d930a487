"""A central database as schema 1 wrote it (before callers were masked at the source): its tables
as that version created them, the catalogue, and requests written the way it wrote them, with
the caller's full phone and name in the request's JSON, every change and the audit trail.

    path = old_database(tmp_path / "old.db", [("王先生", "13912345678"), ...])
    store = SqlStore.open(path)     # upgrades it
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from api_client.actions import Dispatch
from api_client.domain.deadlines import Tier
from api_client.domain.lifecycle import apply_action, snapshot_diff
from api_client.models import Channel, Location, Request, RequestType, State
from central_api import catalogue

#: `CREATE TABLE` as schema 1 made them (SQLite).
SCHEMA_1 = """
CREATE TABLE meta ("key" VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE requests (
    id VARCHAR(64) NOT NULL, num INTEGER NOT NULL, state VARCHAR(32) NOT NULL,
    category VARCHAR(64) NOT NULL, lead_unit VARCHAR(64), merged_into VARCHAR(64),
    tier VARCHAR(8) NOT NULL, received_at DATETIME NOT NULL, due_at DATETIME NOT NULL,
    dispatched_at DATETIME, accepted_at DATETIME, updated_at DATETIME, version INTEGER NOT NULL,
    change_seq INTEGER NOT NULL, responded_in_time BOOLEAN NOT NULL, cb_valid BOOLEAN NOT NULL,
    cb_solved BOOLEAN NOT NULL, cb_satisfaction VARCHAR(16), data TEXT NOT NULL,
    PRIMARY KEY (id), UNIQUE (num)
);
CREATE INDEX ix_requests_lead_unit ON requests (lead_unit);
CREATE INDEX ix_requests_merged_into ON requests (merged_into);
CREATE INDEX ix_requests_received_at ON requests (received_at);
CREATE INDEX ix_requests_state ON requests (state);
CREATE INDEX ix_requests_category ON requests (category);
CREATE TABLE changes (
    seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, request_id VARCHAR(64) NOT NULL,
    action VARCHAR(32) NOT NULL, at DATETIME NOT NULL, snapshot TEXT NOT NULL
);
CREATE INDEX ix_changes_request_id ON changes (request_id);
CREATE TABLE audit (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, seq INTEGER, request_id VARCHAR(64),
    unit_id VARCHAR(64), action VARCHAR(32) NOT NULL, actor VARCHAR(200) NOT NULL,
    at DATETIME NOT NULL, "before" TEXT NOT NULL, "after" TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX ix_audit_request_id ON audit (request_id);
CREATE TABLE idempotency (
    actor VARCHAR(200) NOT NULL, "key" VARCHAR(200) NOT NULL, path VARCHAR(300) NOT NULL,
    body_hash VARCHAR(64) NOT NULL, request_id VARCHAR(64) NOT NULL, seq INTEGER NOT NULL,
    created_at DATETIME NOT NULL, PRIMARY KEY (actor, "key")
);
CREATE TABLE units (
    id VARCHAR(64) NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, kind VARCHAR(32) NOT NULL,
    communities TEXT NOT NULL, categories TEXT NOT NULL, on_duty BOOLEAN NOT NULL, PRIMARY KEY (id)
);
CREATE TABLE categories (
    code VARCHAR(64) NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, tier VARCHAR(8) NOT NULL,
    default_units TEXT NOT NULL, PRIMARY KEY (code)
);
CREATE TABLE communities (
    id VARCHAR(64) NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, streets TEXT NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE tokens (
    token_hash VARCHAR(64) NOT NULL, name VARCHAR(200) NOT NULL, role VARCHAR(16) NOT NULL,
    created_at DATETIME NOT NULL, PRIMARY KEY (token_hash)
);
CREATE TABLE routing_rules (
    id VARCHAR(64) NOT NULL, category VARCHAR(64) NOT NULL, community VARCHAR(64) NOT NULL,
    lead_unit VARCHAR(64) NOT NULL, co_units TEXT NOT NULL, auto_dispatch BOOLEAN NOT NULL,
    updated_by VARCHAR(200) NOT NULL, updated_at DATETIME NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_routing_rules_match ON routing_rules (category, community);
CREATE TABLE routing_rule_audit (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, rule_id VARCHAR(64) NOT NULL,
    action VARCHAR(16) NOT NULL, actor VARCHAR(200) NOT NULL, at DATETIME NOT NULL,
    "before" TEXT NOT NULL, "after" TEXT NOT NULL
);
CREATE INDEX ix_routing_rule_audit_rule_id ON routing_rule_audit (rule_id);
"""

#: When the old version took the requests in.
OLD_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_EXCLUDE = {"change_seq", "version", "updated_at"}


def _at(value: datetime) -> str:
    """A datetime as SQLAlchemy stored it on SQLite: naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


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
    """A schema-1 SQLite file at `path` holding the catalogue and one request per (name, phone),
    each taken in (one change, one audit event); the first also dispatched to `cc01` when
    `dispatch_first` (a second change and audit event, which hold no caller)."""
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA_1)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema_version", "1"), ("created_at", OLD_NOW.isoformat())],
        )
        db.executemany(
            "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (u.id, i, u.name, u.kind.value, orjson.dumps(u.communities).decode(),
                 orjson.dumps(u.categories).decode(), u.on_duty)
                for i, u in enumerate(catalogue.UNITS)
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO categories VALUES (?, ?, ?, ?, ?)",
            [
                (c.code, i, c.name, c.tier.value, orjson.dumps(c.default_units).decode())
                for i, c in enumerate(catalogue.CATEGORIES)
            ],
        )
        db.executemany(
            "INSERT INTO communities VALUES (?, ?, ?, ?)",
            [
                (c.id, i, c.name, orjson.dumps(c.streets).decode())
                for i, c in enumerate(catalogue.COMMUNITIES)
            ],
        )
        seq = 0
        for num, (name, phone) in enumerate(callers, start=1):
            at = OLD_NOW + timedelta(minutes=num)
            seq += 1
            request = old_request(num, name, phone, at).model_copy(update={"change_seq": seq})
            _write_change(
                db, request, "intake", "话务-1", {}, request.model_dump(mode="json", exclude=_EXCLUDE)
            )
            if dispatch_first and num == 1:
                seq += 1
                dispatched = apply_action(request, Dispatch(lead_unit="cc01"), actor="张敏", now=at)
                dispatched = dispatched.model_copy(update={"change_seq": seq})
                before, after = snapshot_diff(request, dispatched)
                _write_change(db, dispatched, "dispatch", "张敏", before, after)
                request = dispatched
            db.execute(
                "INSERT INTO requests VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, NULL, ?)",
                (
                    request.id, num, request.state.value, request.category, request.lead_unit,
                    request.tier.value, _at(request.received_at), _at(request.due_at),
                    _at(request.dispatched_at) if request.dispatched_at else None, None,
                    _at(at), request.version, request.change_seq, _old_json(request),
                ),
            )  # fmt: skip
        db.commit()
    finally:
        db.close()
    return path


def _write_change(
    db: sqlite3.Connection,
    request: Request,
    action: str,
    actor: str,
    before: dict[str, object],
    after: dict[str, object],
) -> None:
    at = _at(request.updated_at or request.received_at)
    db.execute(
        "INSERT INTO changes VALUES (?, ?, ?, ?, ?)",
        (request.change_seq, request.id, action, at, _old_json(request)),
    )
    if "caller" in after and isinstance(after["caller"], dict):
        after = {**after, "caller": {k: v for k, v in after["caller"].items() if k != "key"}}
    db.execute(
        "INSERT INTO audit (seq, request_id, unit_id, action, actor, at, before, after, detail)"
        " VALUES (?, ?, NULL, ?, ?, ?, ?, ?, '{}')",
        (request.change_seq, request.id, action, actor, at, orjson.dumps(before).decode(),
         orjson.dumps(after).decode()),
    )  # fmt: skip
