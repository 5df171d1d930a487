"""The schema's migrations (Alembic), run in code, with no alembic.ini: `versions/` holds one
revision per change of `central_api.sql.tables`, oldest first, and `env.py` runs them on the
connection handed over. `central_api.sql.schema` brings every database it opens to the head;
`legacy` recognises a database made before Alembic. Migrations go forward only.

A new revision, after a change to `tables.py`, from a checkout (on a database at the head):

    from alembic import command
    from central_api.migrations import config
    command.revision(config(url="sqlite:////tmp/head.db"), "what changes", autogenerate=True, rev_id="0005")
"""

from __future__ import annotations

import ast
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    insert,
    select,
)

if TYPE_CHECKING:
    from alembic.config import Config

#: Where the revisions are (another directory of the same layout in tests).
LOCATION: Final = str(Path(__file__).resolve().parent)
#: Alembic's table of the revision a database stands at.
VERSION_TABLE: Final = "alembic_version"
#: That table as Alembic makes it. Opening a database reads and stamps it without Alembic, whose
#: import takes a noticeable part of a second: Alembic is imported only to run revisions.
_version = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
)
# Alembic's `context` and `op` are module globals: one run at a time in a process.
_running = threading.Lock()


class UpgradeFailed(Exception):
    """Alembic could not run the revisions (the message says why)."""


def config(
    connection: Connection | None = None,
    *,
    url: str | None = None,
    location: str = LOCATION,
    clock: Callable[[], datetime] | None = None,
) -> Config:
    """Alembic's configuration, made in code: the revisions at `location`, run on `connection`
    (in its transaction) or on `url`; `clock` is the time the data moves stamp (default: now)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", location)
    cfg.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    if clock is not None:
        cfg.attributes["clock"] = clock
    return cfg


@dataclass(frozen=True)
class Revisions:
    """The revisions at a location: the newest, and every id."""

    head: str
    ids: frozenset[str]


@functools.cache
def revisions(location: str = LOCATION) -> Revisions:
    """The revisions at `location`, read once per process from the `revision` and `down_revision`
    their files assign (without Alembic: see `_version`)."""
    parents: dict[str, object] = {}
    for path in sorted(Path(location, "versions").glob("*.py")):
        if path.name.startswith("__"):
            continue
        fields = _assigned(path, ("revision", "down_revision"))
        parents[str(fields["revision"])] = fields.get("down_revision")
    referenced: set[object] = set()
    for down in parents.values():
        referenced.update(down if isinstance(down, tuple | list) else (down,))
    heads = sorted(set(parents) - referenced)
    if len(heads) != 1:
        raise UpgradeFailed(f"the revisions in {location} have {len(heads)} heads, not one: {heads}")
    return Revisions(head=heads[0], ids=frozenset(parents))


def _assigned(path: Path, names: tuple[str, ...]) -> dict[str, object]:
    """The literal values a Python file assigns to `names` at its top level."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            found[target.id] = ast.literal_eval(value)
    return found


def head(location: str = LOCATION) -> str:
    """The newest revision."""
    return revisions(location).head


def knows(revision: str, location: str = LOCATION) -> bool:
    """Whether `revision` is one of the revisions at `location` (not one of a newer hotline)."""
    return revision in revisions(location).ids


def current(conn: Connection) -> str | None:
    """The revision the database stands at (its version table must exist; None when empty)."""
    value = conn.execute(select(_version.c.version_num)).scalar()
    return None if value is None else str(value)


def stamp(conn: Connection, revision: str) -> None:
    """Record that the database stands at `revision` (any revision recorded before is dropped)."""
    _version.create(conn, checkfirst=True)
    conn.execute(delete(_version))
    conn.execute(insert(_version), {"version_num": revision})


def upgrade(
    conn: Connection, *, clock: Callable[[], datetime], location: str = LOCATION, target: str = "head"
) -> None:
    """Run every revision after the database's own up to `target`, in `conn`'s transaction
    (UpgradeFailed when Alembic cannot)."""
    from alembic import command
    from alembic.util import CommandError

    with _running:
        try:
            command.upgrade(config(conn, location=location, clock=clock), target)
        except CommandError as exc:
            raise UpgradeFailed(str(exc)) from exc
