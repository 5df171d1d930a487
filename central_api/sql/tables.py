"""The central API's database schema (SQLAlchemy 2 Core), portable between SQLite and PostgreSQL.

JSON documents (a request, a change snapshot, audit before/after) are stored as text exactly as
pydantic/orjson produced them, so the change feed can splice them into a response without
re-validating. Columns next to them exist only to filter, sort and count.

Datetimes are stored as naive UTC (`UTCDateTime`) so that comparisons are plain and identical on
every backend; they come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as naive UTC, returned as aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


ID = 64  # length of ids, codes
metadata = MetaData()

#: Key/value facts about the database itself (schema version, when it was created, the secret of
#: callers' keys: `central_api.sql.callers`).
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Requests as they stand now: the JSON document plus the columns needed to filter and count.
requests = Table(
    "requests",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("num", Integer, nullable=False, unique=True),  # the number in the id, allocated in order
    Column("state", String(32), nullable=False),
    Column("category", String(ID), nullable=False),
    Column("lead_unit", String(ID), nullable=True),
    Column("merged_into", String(ID), nullable=True),
    Column("tier", String(8), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("dispatched_at", UTCDateTime, nullable=True),
    Column("accepted_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Column("change_seq", Integer, nullable=False),
    # Precomputed for the three rates (see rates.py), so stats are plain SQL aggregates.
    Column("responded_in_time", Boolean, nullable=False, default=False),
    Column("cb_valid", Boolean, nullable=False, default=False),
    Column("cb_solved", Boolean, nullable=False, default=False),
    Column("cb_satisfaction", String(16), nullable=True),
    Column("chases", Integer, nullable=False, default=0, server_default="0"),  # 催办 (stats)
    Column("answered_with", String(ID), nullable=True),  # 直接答复: the entry (stats)
    # The co-handling units as "|u1|u2|" ("" when none): a unit's token reads what it co-handles.
    Column("co_units", Text, nullable=False, default="", server_default=""),
    Column("data", Text, nullable=False),  # the Request as JSON
    Index("ix_requests_received_at", "received_at"),
    Index("ix_requests_state", "state"),
    Index("ix_requests_category", "category"),
    Index("ix_requests_lead_unit", "lead_unit"),
    Index("ix_requests_merged_into", "merged_into"),
)

#: Each request's caller in full, written with the request's intake and never sent but by the
#: audited reveal: the request's JSON (and every change and audit row) holds them masked. The
#: digits and their last four find a caller by phone (the audited lookup).
callers = Table(
    "callers",
    metadata,
    Column("request_id", String(ID), primary_key=True),
    Column("phone", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("phone_digits", String(64), nullable=False),  # every digit of the phone, as ASCII
    Column("phone_last4", String(4), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_callers_phone_last4", "phone_last4"),
    Index("ix_callers_phone_digits", "phone_digits"),
)

#: The change feed: one row per write, `seq` allocated inside the write transaction.
changes = Table(
    "changes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(ID), nullable=False),
    Column("action", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("snapshot", Text, nullable=False),  # the Request right after this change, as JSON
    Index("ix_changes_request_id", "request_id"),
    sqlite_autoincrement=True,
)

#: The units each change concerns: those the request had before it and after it (lead and
#: co-handling), so a unit's token reads the feed of its own requests, the change that takes one
#: away from it included.
change_units = Table(
    "change_units",
    metadata,
    Column("unit_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),
    PrimaryKeyConstraint("unit_id", "seq"),
    Index("ix_change_units_seq", "seq"),  # the units of the newest changes (the live stream)
)

#: The audit trail: who did what, when, and which fields changed. `seq` is the change's seq.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, nullable=True),
    Column("request_id", String(ID), nullable=True),
    Column("unit_id", String(ID), nullable=True),  # for directory events (unit duty state)
    Column("action", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_request_id", "request_id"),
    Index("ix_audit_action_actor_at", "action", "actor", "at"),  # phone lookups, by whom, when
    sqlite_autoincrement=True,
)

#: Idempotency keys, scoped per token (`tokens.id`; 0: a caller inside the server without one);
#: stored in the same transaction as the write they record.
idempotency = Table(
    "idempotency",
    metadata,
    Column("token_id", Integer, nullable=False),
    Column("key", String(200), nullable=False),
    Column("path", String(300), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("request_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),  # the change the first call made
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("token_id", "key"),
)

#: The directory: handling units, categories, communities (list fields as JSON text).
units = Table(
    "units",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("communities", Text, nullable=False),
    Column("categories", Text, nullable=False),
    Column("on_duty", Boolean, nullable=False),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(ID), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("tier", String(8), nullable=False),
    Column("default_units", Text, nullable=False),
)

communities = Table(
    "communities",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("streets", Text, nullable=False),
)

#: API tokens, stored as SHA-256 hex digests of the token. Names are unique; a revoked token
#: keeps its row (and its name).
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("unit", String(ID), nullable=True),  # the unit a `unit` token is bound to
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    sqlite_autoincrement=True,
)

#: When each token was last used, to the minute (a note apart from the token itself).
token_uses = Table(
    "token_uses",
    metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=False),
    Column("last_used_at", UTCDateTime, nullable=False),
)

#: Who made or revoked which token, when (`action`: create, revoke).
token_events = Table(
    "token_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_token_events_token_id", "token_id"),
    sqlite_autoincrement=True,
)

#: Routing rules: requests of `category` in `community` ("*": any) go to `lead_unit` and
#: `co_units` (JSON list); with `auto_dispatch` the server dispatches them at intake.
routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("category", String(ID), nullable=False),
    Column("community", String(ID), nullable=False),
    Column("lead_unit", String(ID), nullable=False),
    Column("co_units", Text, nullable=False),
    Column("auto_dispatch", Boolean, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_routing_rules_match", "category", "community", unique=True),
)

#: Every change to a routing rule: the rule as JSON before and after ("null" when absent).
routing_rule_audit = Table(
    "routing_rule_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", String(ID), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Index("ix_routing_rule_audit_rule_id", "rule_id"),
    sqlite_autoincrement=True,
)

#: The knowledge base (知识库): each entry as JSON (`api_client.knowledge.KnowledgeEntry`), numbered
#: in the order entries were made (the list's order); a withdrawn entry keeps its row.
knowledge_entries = Table(
    "knowledge_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("num", Integer, nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("data", Text, nullable=False),
)

#: Every edit of the knowledge base: the entry as JSON before and after ("null" when absent).
knowledge_events = Table(
    "knowledge_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(ID), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Index("ix_knowledge_events_entry_id", "entry_id"),
    sqlite_autoincrement=True,
)

#: The street's gazetteer (`api_client.places.Place`): each place as JSON, in the order clients
#: list it (communities, then each one's roads, compounds and their buildings, then landmarks).
places = Table(
    "places",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("position", Integer, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("parent", String(ID), nullable=True),
    Column("data", Text, nullable=False),
)

#: Every edit of the gazetteer through the API: the place as JSON before and after ("null" when absent).
place_events = Table(
    "place_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("place_id", String(ID), nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Index("ix_place_events_place_id", "place_id"),
    sqlite_autoincrement=True,
)
