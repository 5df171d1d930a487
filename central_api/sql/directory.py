"""The directory: handling units (and their duty state), categories and communities.

Categories, communities and the set of unit ids do not change while a store is open: they are
read once, at open. A unit's duty state is always read from the database. A community's centre
is the catalogue's for its id (`catalogue.COMMUNITY_CENTRES`: ids are stable forever)."""

from __future__ import annotations

import orjson
from sqlalchemy import Connection, select, update

from api_client.models import Category, Community, Tier, Unit, UnitKind
from central_api.catalogue import COMMUNITY_CENTRES
from central_api.sql import tables as t
from central_api.sql.audit import audit_unit_duty
from central_api.sql.engine import Database
from central_api.store import UnitNotFound


def load_units(conn: Connection, unit_id: str | None = None) -> list[Unit]:
    """Every unit in directory order (or the one with `unit_id`), as `conn` sees them."""
    u = t.units.c
    query = select(u.id, u.name, u.kind, u.communities, u.categories, u.on_duty).order_by(u.position)
    if unit_id is not None:
        query = query.where(u.id == unit_id)
    return [
        Unit(
            id=row.id,
            name=row.name,
            kind=UnitKind(row.kind),
            communities=orjson.loads(row.communities),
            categories=orjson.loads(row.categories),
            on_duty=bool(row.on_duty),
        )
        for row in conn.execute(query)
    ]


def _load_categories(conn: Connection) -> list[Category]:
    c = t.categories.c
    return [
        Category(
            code=row.code,
            name=row.name,
            tier=Tier(row.tier),
            default_units=orjson.loads(row.default_units),
        )
        for row in conn.execute(select(c.code, c.name, c.tier, c.default_units).order_by(c.position))
    ]


def _load_communities(conn: Connection) -> list[Community]:
    c = t.communities.c
    return [
        Community(
            id=row.id, name=row.name, streets=orjson.loads(row.streets), centre=COMMUNITY_CENTRES.get(row.id)
        )
        for row in conn.execute(select(c.id, c.name, c.streets).order_by(c.position))
    ]


class Directory:
    """The directory of one database, read at open."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.read() as conn:
            self._categories = {c.code: c for c in _load_categories(conn)}
            self._communities = _load_communities(conn)
            self.community_ids = frozenset(c.id for c in self._communities)
            self.unit_ids = frozenset(conn.execute(select(t.units.c.id)).scalars())

    def category(self, code: str) -> Category | None:
        return self._categories.get(code)

    def categories(self) -> list[Category]:
        return list(self._categories.values())

    def communities(self) -> list[Community]:
        return list(self._communities)

    def units(self) -> list[Unit]:
        with self._db.read() as conn:
            return load_units(conn)

    def set_unit_on_duty(self, unit_id: str, on_duty: bool, *, actor: str) -> Unit:
        with self._db.write() as conn:
            found = load_units(conn, unit_id)
            if not found:
                raise UnitNotFound(unit_id)
            unit = found[0]
            if unit.on_duty == on_duty:
                return unit
            conn.execute(update(t.units).where(t.units.c.id == unit_id).values(on_duty=on_duty))
            audit_unit_duty(conn, unit_id, actor=actor, now=self._db.clock(), on_duty=on_duty)
        return unit.model_copy(update={"on_duty": on_duty})
