"""The street's gazetteer (`api_client.places.Place`): read whole, as clients cache it, replaced
whole by the demo seed (or an import) in one transaction, and edited a place at a time by a
supervisor, each edit kept in `place_events` in the same transaction.

`GET /v1/places` sends the stored JSON of every place as one array without validating it again
(it was validated when written)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter
from sqlalchemy import Connection, delete, func, insert, select, update

from api_client.places import Place, PlaceEvent, PlaceIn
from central_api.sql import tables as t
from central_api.sql.directory import Directory
from central_api.sql.engine import Database
from central_api.sql.storable import check_text
from central_api.store import InvalidInput

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

    def __init__(self, db: Database, directory: Directory) -> None:
        self._db = db
        self._directory = directory

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

    def put_place(self, place_id: str, place: PlaceIn, *, actor: str) -> tuple[Place, bool]:
        """Create the place `place_id` (listed last) or replace it (in its position), with its
        event; (the place, whether it was created). InvalidInput for an unknown community, unit or
        parent, or a parent that lies in the place itself."""
        check_text(place.model_dump(mode="json"))
        self._check(place)
        saved = Place.model_validate({"id": place_id, **place.model_dump()})
        p = t.places.c
        with self._db.write() as conn:
            found = conn.execute(select(p.data).where(p.id == place_id)).scalar_one_or_none()
            before = Place.model_validate_json(found) if found is not None else None
            self._check_parent(conn, place_id, place.parent)
            row = {"kind": saved.kind.value, "parent": saved.parent, "data": saved.model_dump_json()}
            if before is None:
                last = conn.execute(select(func.max(p.position))).scalar_one_or_none()
                conn.execute(insert(t.places), {"id": place_id, "position": (last or 0) + 1, **row})
            else:
                conn.execute(update(t.places).where(p.id == place_id).values(**row))
            conn.execute(
                insert(t.place_events),
                {
                    "place_id": place_id,
                    "action": "create" if before is None else "replace",
                    "actor": actor,
                    "at": self._db.clock(),
                    "before": before.model_dump_json() if before is not None else "null",
                    "after": saved.model_dump_json(),
                },
            )
        return saved, before is None

    def _check(self, place: PlaceIn) -> None:
        if place.community and place.community not in self._directory.community_ids:
            raise InvalidInput(
                f"Unknown community {place.community!r}.",
                code="unknown_community",
                params={"community": place.community},
            )
        unknown = [u for u in place.units if u not in self._directory.unit_ids]
        if unknown:
            raise InvalidInput(
                f"Unknown unit {', '.join(repr(u) for u in unknown)}.",
                code="unknown_unit",
                params={"units": unknown},
            )

    @staticmethod
    def _check_parent(conn: Connection, place_id: str, parent: str | None) -> None:
        """The parent exists and does not lie in the place (walking up its parents)."""
        p = t.places.c
        at = parent
        while at is not None:
            if at == place_id:
                raise InvalidInput(
                    f"The place {place_id!r} cannot lie in {parent!r}, which lies in it.",
                    code="place_parent_loop",
                    params={"place": place_id, "parent": parent},
                )
            found = conn.execute(select(p.parent).where(p.id == at)).one_or_none()
            if found is None:
                raise InvalidInput(
                    f"Unknown place {at!r} given as the parent.",
                    code="unknown_place",
                    params={"place": at},
                )
            at = found.parent

    def place_audit(self, place_id: str | None = None) -> list[PlaceEvent]:
        """Every edit of the gazetteer through the API (or of one place), oldest first."""
        e = t.place_events.c
        query = select(t.place_events).order_by(e.id)
        if place_id is not None:
            query = query.where(e.place_id == place_id)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        return [
            PlaceEvent(
                id=row.id,
                place_id=row.place_id,
                action=row.action,
                actor=row.actor,
                at=row.at,
                before=Place.model_validate_json(row.before) if row.before != "null" else None,
                after=Place.model_validate_json(row.after) if row.after != "null" else None,
            )
            for row in rows
        ]
