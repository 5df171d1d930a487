"""The numbers: counts, overdue and the three rates (`central_api.rates`), overall or per unit."""

from __future__ import annotations

from datetime import datetime

from api_client.models import Stats
from central_api.rates import stats_sql
from central_api.sql.directory import Directory, load_units
from central_api.sql.engine import Database
from central_api.store import InvalidInput


class StatsReader:
    def __init__(self, db: Database, directory: Directory) -> None:
        self._db = db
        self._directory = directory

    def stats(self, *, since: datetime | None, until: datetime | None, unit: str | None) -> Stats:
        if unit is not None and unit not in self._directory.unit_ids:
            raise InvalidInput(f"Unknown unit {unit!r}.", code="unknown_unit", params={"units": [unit]})
        with self._db.read() as conn:
            return stats_sql(conn, now=self._db.clock(), since=since, until=until, unit=unit)

    def unit_stats(self, *, since: datetime | None, until: datetime | None) -> list[Stats]:
        now = self._db.clock()
        with self._db.read() as conn:
            return [
                stats_sql(conn, now=now, since=since, until=until, unit=unit.id) for unit in load_units(conn)
            ]
