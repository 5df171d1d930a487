"""The street's gazetteer (`api_client.places.Place`): read whole, as clients cache it, and
replaced whole by the demo seed (or an import) in one transaction.

`GET /v1/places` sends the stored JSON of every place as one array without validating it again
(it was validated when written)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter
from sqlalchemy import Connection, delete, insert, select

from api_client.places import Place
from central_api.sql import tables as t
from central_api.sql.engine import Database
from central_api.sql.storable import check_text

__all__ = ["Places", "write_places"]

_PLACES = TypeAdapter(list[Place])


def write_places(conn: Connection, places: Sequence[Place]) -> None:
    """Replace the gazetteer with `places` (in their order) inside the caller's transaction.

    Raises ValueError when two places share an id or a place names a parent that is not listed
    before it."""
    seen: set[str] = set()
    rows = []
    for position, place in enumerate(places):
        check_text(place.model_dump(mode="json"))
        if place.id in seen:
            raise ValueError(f"two places have the id {place.id!r}")
        if place.parent is not None and place.parent not in seen:
            raise ValueError(f"the place {place.id!r} lies in {place.parent!r}, not listed before it")
        seen.add(place.id)
        rows.append(
            {
                "id": place.id,
                "position": position,
                "kind": place.kind.value,
                "parent": place.parent,
                "data": place.model_dump_json(),
            }
        )
    conn.execute(delete(t.places))
    if rows:
        conn.execute(insert(t.places), rows)


class Places:
    """The gazetteer of one database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def places_json(self) -> bytes:
        """Every place, in order, as one JSON array."""
        p = t.places.c
        with self._db.read() as conn:
            data = list(conn.execute(select(p.data).order_by(p.position)).scalars())
        return ("[" + ",".join(data) + "]").encode()

    def places(self) -> list[Place]:
        return _PLACES.validate_json(self.places_json())

    def set_places(self, places: Sequence[Place]) -> None:
        with self._db.write() as conn:
            write_places(conn, places)
