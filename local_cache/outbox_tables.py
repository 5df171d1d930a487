"""The tables of `outbox.json` (`actions`, `conflicts`, `confirmed`, `meta`) as one mutation sees
them, and their documents read into models.

Every document is checked for its shape here; a document that is not a valid record is named
(`<table>/<doc id>`) so that the outbox can set it aside without losing the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from local_cache.errors import CorruptCache, NewerCacheVersion
from local_cache.intakes import RENAMED_KEPT
from local_cache.outbox_records import ConfirmedCopy, PendingAction
from local_cache.storage import Document

#: The newest schema this version reads; it is written while the outbox holds an intake.
SCHEMA = 2
#: Written while it holds none: a version that knows no intakes still opens the file.
PLAIN_SCHEMA = 1
INTAKE = "intake"
RENAMED = "renamed"
ACTIONS, CONFLICTS, CONFIRMED, META = "actions", "conflicts", "confirmed", "meta"
TABLES = (ACTIONS, CONFLICTS, CONFIRMED, META)
_LAST_ERROR_MAX = 2000


@dataclass
class Tables:
    """Shallow copies of the file's tables, changed by one mutation and written back whole."""

    actions: dict[str, Document]
    conflicts: dict[str, Document]
    confirmed: dict[str, Document]
    meta: Document
    other: Document = field(default_factory=dict)
    touched: bool = False

    @classmethod
    def of(cls, data: Document | None) -> Tables:
        data = data or {}
        other = {k: v for k, v in data.items() if k not in TABLES}
        meta = dict(data.get(META, {}).get("1", {}))
        actions, conflicts, confirmed = (dict(data.get(name, {})) for name in (ACTIONS, CONFLICTS, CONFIRMED))
        return cls(actions, conflicts, confirmed, meta, other)

    def dump(self) -> Document:
        self.meta["schema"] = SCHEMA if self.holds_intake() else PLAIN_SCHEMA
        return {
            **self.other,
            ACTIONS: self.actions,
            CONFLICTS: self.conflicts,
            CONFIRMED: self.confirmed,
            META: {"1": self.meta},
        }

    def table(self, name: str) -> dict[str, Document]:
        return {ACTIONS: self.actions, CONFLICTS: self.conflicts, CONFIRMED: self.confirmed}[name]

    def next_order(self) -> int:
        """The next order number: `meta.next_order`, or past every order held when it is missing."""
        order = _int(self.meta.get("next_order"))
        if order < 1 or str(order) in self.actions:  # never reuse a document id
            used = [_int(_dict(doc).get("order")) for doc in self.actions.values()]
            used += [_int(_dict(_dict(doc).get("action")).get("order")) for doc in self.conflicts.values()]
            order = max(used, default=0) + 1
        self.meta["next_order"] = order + 1
        return order

    def next_doc(self, table: dict[str, Document]) -> str:
        return str(max((_int(k) for k in table), default=0) + 1)

    def find(self, table: dict[str, Document], field_name: str, value: str) -> str | None:
        return next((doc_id for doc_id, doc in table.items() if _dict(doc).get(field_name) == value), None)

    def note_failure(self, key: str, message: str) -> None:
        """Count a failed send of the action `key` (if pending) and keep the reason."""
        doc_id = self.find(self.actions, "key", key)
        if doc_id is not None:
            doc = self.actions[doc_id]
            attempts = _int(doc.get("attempts")) + 1
            self.actions[doc_id] = {
                **doc,
                "attempts": attempts,
                "last_error": message[:_LAST_ERROR_MAX],
            }
            self.touched = True

    def holds_intake(self) -> bool:
        """Whether an intake is pending, or kept as a conflict."""
        return any(_queued(doc) == INTAKE for doc in self.actions.values()) or any(
            _queued(_dict(doc).get("action")) == INTAKE for doc in self.conflicts.values()
        )

    def renamed(self) -> dict[str, str]:
        return renamed_in(self.meta)

    def rename(self, temporary: str, server_id: str, shift: int) -> None:
        """The server took the intake `temporary` in as `server_id`: the actions pending on it and
        its conflicts move to `server_id` (base versions moved by `shift`, the server's version
        minus the local one), merges into it name `server_id`, and the mapping is kept (the
        newest `RENAMED_KEPT`)."""
        for table, path in ((self.actions, ()), (self.conflicts, ("action",))):
            for doc_id, doc in list(table.items()):
                table[doc_id] = _renamed(_dict(doc), path, temporary, server_id, shift)
        renamed = self.renamed()
        renamed[temporary] = server_id
        self.meta[RENAMED] = dict(list(renamed.items())[-RENAMED_KEPT:])
        self.touched = True

    def keep_copy(self, copy: ConfirmedCopy) -> None:
        """Keep `copy` as the request's confirmed copy, replacing an older one."""
        for doc_id, doc in list(self.confirmed.items()):
            if _dict(_dict(doc).get("request")).get("id") == copy.request.id:
                del self.confirmed[doc_id]
        self.confirmed[self.next_doc(self.confirmed)] = copy.model_dump(mode="json")
        self.touched = True

    def move_behind(self, retried: PendingAction, again: PendingAction) -> None:
        """Renumber the pending actions on the request that the dispatcher took after `retried`
        to follow `again`, its new place, with base versions following on from it. Those taken
        before it (an earlier conflict retried first) keep their place ahead of it."""

        def taken(doc: dict[str, object]) -> int:
            return _int(doc.get("taken") if doc.get("taken") is not None else doc.get("order"))

        later = sorted(
            (
                (doc_id, doc)
                for doc_id, doc in self.actions.items()
                if _dict(doc).get("request_id") == retried.request_id
                and doc_id != str(again.order)
                and taken(_dict(doc)) > again.taken_order
            ),
            key=lambda item: taken(_dict(item[1])),
        )
        for step, (doc_id, doc) in enumerate(later, start=1):
            del self.actions[doc_id]
            order = self.next_order()
            self.actions[str(order)] = {
                **doc,
                "order": order,
                "taken": taken(_dict(doc)),
                "base_version": again.base_version + step,
            }


M = TypeVar("M", bound=BaseModel)


class Memo(Generic[M]):
    """The models of one table's documents, by document id. A document unchanged since the last
    update (the same object, or an equal one) keeps its model, so after one of our own writes
    only the new record is validated."""

    def __init__(self, model: type[M], name: str) -> None:
        self.model, self.name = model, name
        self.docs: Document = {}
        self.models: dict[str, M] = {}

    def update(self, table: Document, invalid: list[str]) -> None:
        """Read `table`; the ids of documents that cannot be read go to `invalid`."""
        docs, models = self.docs, self.models
        fresh: dict[str, M] = {}
        for doc_id, doc in table.items():
            known = models.get(doc_id)
            if known is not None and (docs[doc_id] is doc or docs[doc_id] == doc):
                fresh[doc_id] = known
                continue
            try:
                fresh[doc_id] = self.model.model_validate(doc)
            except ValidationError:
                invalid.append(f"{self.name}/{doc_id}")
        self.docs, self.models = table, fresh


def check_shape(data: Document | None, path: Path) -> tuple[Document, Document, Document, Document]:
    """The actions, conflicts and confirmed tables and the meta document, or CorruptCache. (A
    document that cannot be read is found by `Memo`: it is set aside, not the file.)"""
    if data is None:
        return {}, {}, {}, {}
    tables = [data.get(name, {}) for name in TABLES]
    for name, table in zip(TABLES, tables, strict=True):
        if not isinstance(table, dict):
            raise CorruptCache(f"the outbox {path} is damaged (its '{name}' table is not a table)")
    meta = tables[3].get("1", {})
    if not isinstance(meta, dict):
        raise CorruptCache(f"the outbox {path} is damaged (its meta document is not a document)")
    return tables[0], tables[1], tables[2], meta


def check_schema(meta: Document, path: Path) -> None:
    schema = meta.get("schema", SCHEMA)
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise CorruptCache(f"the outbox {path} is damaged (its schema is {schema!r})")
    if schema > SCHEMA:
        raise NewerCacheVersion(
            f"the outbox {path} was written by a newer hotline (schema {schema}; this one reads"
            f" up to {SCHEMA}). It was left untouched because it may hold actions not yet sent:"
            " run the newer hotline again, or ask your administrator to upgrade this one."
        )


def renamed_in(meta: Document) -> dict[str, str]:
    """Temporary ids the server has taken in: temporary id -> the server's, oldest first."""
    found = _dict(meta.get(RENAMED))
    return {k: v for k, v in found.items() if isinstance(v, str)}


def _queued(doc: Any) -> object:
    """The `action` name of a pending action's document."""
    return _dict(_dict(doc).get("action")).get("action")


def _renamed(doc: Document, path: tuple[str, ...], temporary: str, server_id: str, shift: int) -> Document:
    """`doc` (a pending action, or at `path` inside it) with `temporary` renamed to `server_id`."""
    if path:
        inner = _dict(doc.get(path[0]))
        return {**doc, path[0]: _renamed(inner, path[1:], temporary, server_id, shift)}
    action = _dict(doc.get("action"))
    if action.get("action") == "merge" and action.get("parent_id") == temporary:
        doc = {**doc, "action": {**action, "parent_id": server_id}}
    if doc.get("request_id") == temporary:
        doc = {**doc, "request_id": server_id, "base_version": _int(doc.get("base_version")) + shift}
    return doc


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _dict(value: Any) -> Document:
    return value if isinstance(value, dict) else {}
