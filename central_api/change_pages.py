"""A page of the change feed as bytes, spliced from the stored snapshot JSON (no re-validation per
change): as JSON (`page_json`, exactly a `ChangesPage`) or as lines (`page_lines`, see
`api_client.models.ChangeLinesHead`). `read_rows` reads a page's rows from any `Store`, through
`changes_raw` when the store offers it (`SqlStore` does).

A unit's page holds only the changes that concern it: it ends at its last change (the feed's rule
for `next_since`), and `has_more` says whether it is full (the feed's head is no guide to what is
left for the unit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import orjson

from central_api.store import Store

#: One change as the feed stores it: (seq, action, the request's JSON).
Row = tuple[int, str, str]


@runtime_checkable
class RawChangeFeed(Protocol):
    def changes_raw(self, since: int, limit: int, *, unit: str | None = None) -> tuple[list[Row], int]: ...


def read_rows(store: Store, since: int, limit: int, unit: str | None = None) -> tuple[list[Row], int]:
    """The (seq, action, request JSON) rows of a page (of `unit`'s changes, when given), and the
    head."""
    if isinstance(store, RawChangeFeed):
        return store.changes_raw(since, limit, unit=unit)
    changes, head = store.changes(since, limit, unit=unit)
    return [(c.seq, c.action, c.request.model_dump_json()) for c in changes], head


def page_json(rows: list[Row], head: int, since: int, *, full: int | None = None) -> bytes:
    """A `ChangesPage` as JSON, from (seq, action, request JSON) rows; `full`: the limit of a
    unit's page (`has_more` when it holds that many)."""
    changes = [change_json(seq, action, snapshot.encode()) for seq, action, snapshot in rows]
    next_since = rows[-1][0] if rows else since
    return page_from_changes(changes, next_since, head, has_more=_has_more(rows, head, full))


def _has_more(rows: list[Row], head: int, full: int | None) -> bool:
    if full is not None:
        return len(rows) >= full
    return bool(rows) and rows[-1][0] < head


def change_json(seq: int, action: str, request: bytes) -> bytes:
    """One `Change` as JSON, from the request's JSON."""
    return b'{"seq":%d,"action":%b,"request":%b}' % (seq, orjson.dumps(action), request)


def page_from_changes(
    changes: Sequence[bytes], next_since: int, head: int, *, has_more: bool, since: int | None = None
) -> bytes:
    """A `ChangesPage` as JSON from its changes' JSON (`change_json`); with `since`, it says
    that it holds every change after `since` (as an event that carries it does)."""
    opening = b'{"changes":[' if since is None else b'{"since":%d,"changes":[' % since
    closing = b'],"next_since":%d,"head":%d,"has_more":%b}' % (
        next_since,
        head,
        b"true" if has_more else b"false",
    )
    return b"".join([opening, b",".join(changes), closing])


def page_lines(rows: list[Row], head: int, since: int, *, full: int | None = None) -> bytes:
    """A page as lines (see `api_client.models.ChangeLinesHead`): the head, then each request's
    JSON on a line of its own."""
    next_since = rows[-1][0] if rows else since
    first = {
        "next_since": next_since,
        "head": head,
        "has_more": _has_more(rows, head, full),
        "changes": [(seq, action) for seq, action, _snapshot in rows],
    }
    lines = [orjson.dumps(first)]
    lines += (one_line(snapshot) for _seq, _action, snapshot in rows)
    lines.append(b"")
    return b"\n".join(lines)


def one_line(snapshot: str) -> bytes:
    """Stored JSON as one line (compact JSON has no line break; anything else is re-dumped)."""
    data = snapshot.encode()
    return orjson.dumps(orjson.loads(data)) if b"\n" in data or b"\r" in data else data
