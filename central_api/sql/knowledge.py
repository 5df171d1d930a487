"""The knowledge base in the database: its entries (`knowledge_entries`, each entry's JSON) and
every edit of them (`knowledge_events`, the entry before and after), written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from api_client.knowledge import KnowledgeEntry, KnowledgeEntryIn, KnowledgeEvent
from central_api.knowledge_store import (
    KnowledgeEntryNotFound,
    KnowledgeVersionMismatch,
    KnowledgeVersionRequired,
)
from central_api.sql import tables as t
from central_api.sql.directory import Directory
from central_api.sql.engine import Database
from central_api.sql.storable import check_text
from central_api.store import InvalidInput

#: The id of the n-th entry made without one.
ID_FORMAT = "KB-{:04d}"


def _entry(conn: Connection, entry_id: str) -> KnowledgeEntry | None:
    data = conn.execute(
        select(t.knowledge_entries.c.data).where(t.knowledge_entries.c.id == entry_id)
    ).scalar()
    return None if data is None else KnowledgeEntry.model_validate_json(data)


def _checked(conn: Connection, entry_id: str, if_match: int | None, *, required: bool) -> KnowledgeEntry:
    """The entry now, checked against `if_match` (which a replace must give)."""
    current = _entry(conn, entry_id)
    if current is None:
        raise KnowledgeEntryNotFound(entry_id)
    if if_match is None and required:
        raise KnowledgeVersionRequired(current)
    if if_match is not None and current.version != if_match:
        raise KnowledgeVersionMismatch(current, if_match)
    return current


def _values(entry: KnowledgeEntry) -> dict[str, Any]:
    return {
        "version": entry.version,
        "withdrawn": entry.withdrawn,
        "updated_at": entry.updated_at,
        "data": entry.model_dump_json(),
    }


def _record(
    conn: Connection,
    action: str,
    actor: str,
    now: datetime,
    before: KnowledgeEntry | None,
    after: KnowledgeEntry,
) -> None:
    conn.execute(
        insert(t.knowledge_events),
        {
            "entry_id": after.id,
            "action": action,
            "actor": actor,
            "at": now,
            "before": before.model_dump_json() if before is not None else "null",
            "after": after.model_dump_json(),
        },
    )


def new_entry(entry_id: str, entry: KnowledgeEntryIn, *, actor: str, now: datetime) -> KnowledgeEntry:
    """An entry as made: version 1."""
    return KnowledgeEntry(id=entry_id, **entry.model_dump(), version=1, updated_by=actor, updated_at=now)


def insert_entries(
    conn: Connection, entries: Sequence[tuple[str, KnowledgeEntryIn]], *, actor: str, now: datetime
) -> None:
    """Insert new entries and their `create` events at once, as `create_knowledge_entry` would one
    by one into an empty knowledge base (the demo's bulk seed)."""
    made = [new_entry(entry_id, entry, actor=actor, now=now) for entry_id, entry in entries]
    if not made:
        return
    conn.execute(
        insert(t.knowledge_entries),
        [{"id": entry.id, "num": num, **_values(entry)} for num, entry in enumerate(made, 1)],
    )
    conn.execute(
        insert(t.knowledge_events),
        [
            {
                "entry_id": entry.id,
                "action": "create",
                "actor": actor,
                "at": now,
                "before": "null",
                "after": entry.model_dump_json(),
            }
            for entry in made
        ],
    )


class KnowledgeBase:
    """`central_api.knowledge_store.KnowledgeStore` over the database."""

    def __init__(self, db: Database, directory: Directory) -> None:
        self._db = db
        self._directory = directory

    def knowledge_entries(self) -> list[KnowledgeEntry]:
        k = t.knowledge_entries.c
        with self._db.read() as conn:
            rows = conn.execute(select(k.data).order_by(k.num)).scalars().all()
        return [KnowledgeEntry.model_validate_json(data) for data in rows]

    def knowledge_entry(self, entry_id: str) -> KnowledgeEntry:
        with self._db.read() as conn:
            found = _entry(conn, entry_id)
        if found is None:
            raise KnowledgeEntryNotFound(entry_id)
        return found

    def _check(self, entry: KnowledgeEntryIn) -> None:
        check_text(entry.model_dump(mode="json"))
        if entry.category and self._directory.category(entry.category) is None:
            raise InvalidInput(
                f"Unknown category {entry.category!r}.",
                code="unknown_category",
                params={"category": entry.category},
            )
        if (
            entry.valid_from is not None
            and entry.valid_until is not None
            and entry.valid_until < entry.valid_from
        ):
            raise InvalidInput(
                f"The entry would end ({entry.valid_until}) before it begins ({entry.valid_from}).",
                code="knowledge_dates_reversed",
                params={
                    "valid_from": entry.valid_from.isoformat(),
                    "valid_until": entry.valid_until.isoformat(),
                },
            )

    def create_knowledge_entry(
        self, entry: KnowledgeEntryIn, *, actor: str, entry_id: str | None = None
    ) -> KnowledgeEntry:
        self._check(entry)
        k = t.knowledge_entries.c
        with self._db.write() as conn:
            num = (conn.execute(select(func.max(k.num))).scalar() or 0) + 1
            new_id = entry_id or ID_FORMAT.format(num)
            while entry_id is None and _entry(conn, new_id) is not None:
                num += 1
                new_id = ID_FORMAT.format(num)
            if _entry(conn, new_id) is not None:
                raise InvalidInput(
                    f"A knowledge-base entry {new_id!r} exists already.",
                    code="knowledge_entry_exists",
                    params={"entry_id": new_id},
                )
            now = self._db.clock()
            after = new_entry(new_id, entry, actor=actor, now=now)
            conn.execute(insert(t.knowledge_entries).values(id=new_id, num=num, **_values(after)))
            _record(conn, "create", actor, now, None, after)
        return after

    def replace_knowledge_entry(
        self, entry_id: str, entry: KnowledgeEntryIn, *, actor: str, if_match: int | None
    ) -> KnowledgeEntry:
        self._check(entry)
        with self._db.write() as conn:
            current = _checked(conn, entry_id, if_match, required=True)
            now = self._db.clock()
            after = KnowledgeEntry(
                id=entry_id,
                **entry.model_dump(),
                version=current.version + 1,
                updated_by=actor,
                updated_at=now,
            )
            conn.execute(
                update(t.knowledge_entries)
                .where(t.knowledge_entries.c.id == entry_id)
                .values(**_values(after))
            )
            _record(conn, "replace", actor, now, current, after)
        return after

    def withdraw_knowledge_entry(self, entry_id: str, *, actor: str, if_match: int | None) -> KnowledgeEntry:
        with self._db.write() as conn:
            current = _checked(conn, entry_id, if_match, required=False)
            if current.withdrawn:
                return current
            now = self._db.clock()
            after = current.model_copy(
                update={
                    "withdrawn": True,
                    "version": current.version + 1,
                    "updated_by": actor,
                    "updated_at": now,
                }
            )
            conn.execute(
                update(t.knowledge_entries)
                .where(t.knowledge_entries.c.id == entry_id)
                .values(**_values(after))
            )
            _record(conn, "withdraw", actor, now, current, after)
        return after

    def knowledge_audit(self, entry_id: str | None = None) -> list[KnowledgeEvent]:
        e = t.knowledge_events.c
        query = select(t.knowledge_events).order_by(e.id)
        if entry_id is not None:
            query = query.where(e.entry_id == entry_id)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            KnowledgeEvent(
                id=row.id,
                entry_id=row.entry_id,
                action=row.action,
                actor=row.actor,
                at=row.at,
                before=KnowledgeEntry.model_validate_json(row.before) if row.before != "null" else None,
                after=KnowledgeEntry.model_validate_json(row.after) if row.after != "null" else None,
            )
            for row in rows
        ]
