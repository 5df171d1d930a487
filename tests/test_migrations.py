"""Schema migrations (Alembic), on SQLite and on PostgreSQL: a database at every older state (made
before Alembic, or at any revision) reaches the newest revision with its data intact; the models
and the newest revision agree; a new revision applies; opening a database at the newest revision
only reads; openers at once upgrade it once; `hotline db current|upgrade`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from old_database import OLD_KEYS, RULE, STATES, legacy_database
from pg_support import Databases, Db, StoreKind, engine_on, table_rows
from server_helpers import new_request
from sqlalchemy import Engine, event, inspect, text

from api_client.domain.personal_data import mask_name, mask_phone
from api_client.models import NewRequest, Role, now_utc
from central_api import migrations
from central_api.migrations.versions.v0003_callers_apart import MASK_ACTION
from central_api.sql import tables as t
from central_api.sql.engine import Database, DatabaseUnavailable, database_url
from central_api.sql.schema import bootstrap
from central_api.sql_store import SqlStore
from tui.cli import main

pytestmark = pytest.mark.stores("sqlite", "postgres")

PHONE, NAME = "13912345678", "赵建国"
CALLERS = [(NAME, PHONE), ("钱女士", "13700001111"), (NAME, "139 1234 5678")]
#: What no stored JSON may hold after the upgrade: the digits past the first three, the name.
SECRETS = ("12345678", "00001111", "建国", "女士")


def revision_of(db: Db) -> str | None:
    with engine_on(db) as engine, engine.connect() as conn:
        return migrations.current(conn)


def meta_value(db: Db, key: str) -> str | None:
    rows = dict(table_rows(db, "meta", "key", "value"))
    return rows.get(key)


def differences(db: Db) -> list[Any]:
    """What autogenerate would put in a new revision: how the database differs from the models."""
    with engine_on(db) as engine, engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, t.metadata))


@pytest.fixture
def other_db(databases: Databases, store_kind: StoreKind, tmp_path: Path) -> Iterator[Db]:
    """A second fresh database of the same store."""
    db = databases.new(store_kind, tmp_path, "other")
    yield db
    databases.drop(db)


@pytest.mark.parametrize("state", STATES)
def test_a_database_made_before_alembic_reaches_the_head_with_its_data(tmp_db: Db, state: str) -> None:
    legacy_database(database_url(tmp_db), state, CALLERS)
    old_head = max(seq for (seq,) in table_rows(tmp_db, "changes", "seq"))
    store = SqlStore.open(tmp_db)
    try:
        ids = [f"R-{n:06d}" for n in (1, 2, 3)]
        for request_id, (name, phone) in zip(ids, CALLERS, strict=True):
            request = store.get_request(request_id)
            assert (request.caller.name, request.caller.phone) == (mask_name(name), mask_phone(phone))
            assert request.caller.key is not None
            assert store.reveal_phone(request_id, actor="张敏").phone == phone
        assert store.get_request(ids[0]).lead_unit == "cc01"
        changes, head = store.changes(0, 1000)
        assert [c.seq for c in changes] == list(range(1, head + 1))  # no gap, no duplicate
        masked_now = state in ("1 before routing rules", "1")
        assert head == old_head + (3 if masked_now else 0)
        if masked_now:
            assert [(c.action, c.request.id) for c in changes[-3:]] == [(MASK_ACTION, i) for i in ids]
        masked = [MASK_ACTION] if state != "3" else []  # (state 2: before Alembic)
        assert [e.action for e in store.audit(ids[0])] == ["intake", "dispatch", *masked, "reveal_phone"]
        stored = [
            *table_rows(tmp_db, "requests", "data"),
            *table_rows(tmp_db, "changes", "snapshot"),
            *table_rows(tmp_db, "audit", "before", "after"),
        ]
        for row in stored:
            assert not any(secret in text for text in row for secret in SECRETS), row
        names = [(info.name, info.role) for info in store.tokens()]
        token_ids = dict(table_rows(tmp_db, "tokens", "name", "id"))
        keys = table_rows(tmp_db, "idempotency", "token_id", "key")
        if state == "3":
            assert names == [("张敏", Role.dispatcher), ("李强", Role.admin)]
            assert keys == [(token_ids["张敏"], f"k-{n}") for n in (1, 2, 3)]
        else:
            assert names == [("张敏", Role.dispatcher), ("张敏-2", Role.supervisor), ("李强", Role.admin)]
            assert OLD_KEYS[1] not in token_ids  # its key went to token 0, where nobody replays it
            assert sorted(keys) == [(0, "k-1"), (token_ids["张敏"], "k-1")]
        rules = [rule.id for rule in store.routing_rules()]
        assert rules == ([] if state in ("1 before routing rules", "3") else [RULE["id"]])
        # and it takes writes as a new one does
        made = store.create_request(NewRequest.model_validate(new_request()), actor="a", idempotency_key=None)
        assert made.request.change_seq == head + 1
        token = store.create_token("王芳", Role.dispatcher)
        holder = store.identify(token)
        assert holder is not None and holder.token_id == max(token_ids.values()) + 1
    finally:
        store.close()
    assert revision_of(tmp_db) == migrations.head()
    assert meta_value(tmp_db, "schema_version") == "alembic"  # a hotline of before refuses it
    assert differences(tmp_db) == []


@pytest.mark.parametrize("revision", ["0001", "0002", "0003"])
def test_a_database_at_any_revision_reaches_the_head(tmp_db: Db, revision: str) -> None:
    with engine_on(tmp_db) as engine, engine.begin() as conn:
        migrations.upgrade(conn, clock=now_utc, target=revision)
        conn.execute(t.meta.insert(), {"key": "schema_version", "value": "alembic"})
    assert revision_of(tmp_db) == revision
    SqlStore.open(tmp_db).close()
    assert revision_of(tmp_db) == migrations.head()
    assert differences(tmp_db) == []


def test_the_models_and_the_newest_revision_agree(tmp_db: Db, other_db: Db) -> None:
    """A new database is made from the models and stamped; the revisions from nothing make the
    same one. (`alembic check`: autogenerate finds nothing to do on either.)"""
    SqlStore.open(tmp_db).close()
    assert revision_of(tmp_db) == migrations.head()
    assert differences(tmp_db) == []
    with engine_on(other_db) as engine, engine.begin() as conn:
        migrations.upgrade(conn, clock=now_utc)
    assert revision_of(other_db) == migrations.head()
    assert differences(other_db) == []


def test_a_new_revision_applies(tmp_db: Db, tmp_path: Path) -> None:
    """A revision made from the template in a copy of the migrations runs at the next open."""
    location = tmp_path / "migrations"
    shutil.copytree(migrations.LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    SqlStore.open(tmp_db).close()
    next_id = f"{int(migrations.head()) + 1:04d}"
    made = command.revision(migrations.config(location=str(location)), "a note on each unit", rev_id=next_id)
    assert made is not None and not isinstance(made, list)
    path = Path(made.path)
    assert path.name == f"v{next_id}_a_note_on_each_unit.py"
    path.write_text(
        path.read_text().replace(
            "    pass\n", '    op.add_column("units", sa.Column("note", sa.Text(), nullable=True))\n', 1
        )
    )
    for _ in range(2):  # the second open finds it done
        db = Database(database_url(tmp_db), clock=now_utc)
        try:
            bootstrap(db, None, location=str(location))
        finally:
            db.close()
    assert revision_of(tmp_db) == next_id
    with engine_on(tmp_db) as engine, engine.connect() as conn:
        assert "note" in {column["name"] for column in inspect(conn).get_columns("units")}


def test_opening_a_database_at_the_head_only_reads(tmp_db: Db) -> None:
    SqlStore.open(tmp_db).close()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        SqlStore.open(tmp_db).close()
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert any(migrations.VERSION_TABLE in statement for statement in statements)
    writes = [
        s
        for s in statements
        if s.split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER"}
        or "IMMEDIATE" in s
        or "advisory" in s
    ]
    assert writes == []


def test_openers_at_once_upgrade_it_once(tmp_db: Db) -> None:
    """Servers starting together on a database made before Alembic: one upgrades, the others
    wait for it and find it done (each opener here has its own engine, as a process would)."""
    legacy_database(database_url(tmp_db), "1", CALLERS)
    old_head = max(seq for (seq,) in table_rows(tmp_db, "changes", "seq"))
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: SqlStore.open(tmp_db), range(4)))
    try:
        assert {store.head() for store in stores} == {old_head + 3}
    finally:
        for store in stores:
            store.close()
    actions = [action for (action,) in table_rows(tmp_db, "changes", "action")]
    assert actions.count(MASK_ACTION) == 3
    assert len(table_rows(tmp_db, "callers", "request_id")) == 3
    with engine_on(tmp_db) as engine, engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {migrations.VERSION_TABLE}")).scalar() == 1


def test_a_database_of_an_unknown_version_is_refused(tmp_db: Db) -> None:
    SqlStore.open(tmp_db).close()
    with engine_on(tmp_db) as engine, engine.begin() as conn:
        conn.execute(text(f"UPDATE {migrations.VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(DatabaseUnavailable, match="revision 9999, which this server does not know"):
        SqlStore.open(tmp_db)
    with engine_on(tmp_db) as engine, engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {migrations.VERSION_TABLE}"))
        conn.execute(t.meta.update().where(t.meta.c.key == "schema_version").values(value="7"))
    with pytest.raises(DatabaseUnavailable, match="schema version 7, which this server cannot upgrade"):
        SqlStore.open(tmp_db)


@pytest.mark.stores("sqlite")
def test_hotline_db_says_where_it_stands_and_upgrades(tmp_db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    head = migrations.head()
    legacy_database(database_url(tmp_db), "1", CALLERS)
    assert main(["db", "current", "--db", str(tmp_db)]) == 0
    assert (
        capsys.readouterr().out.strip() == f"schema version 1, from before revisions (the newest is {head})"
    )
    assert main(["db", "upgrade", "--db", str(tmp_db)]) == 0
    assert (
        capsys.readouterr().out.strip() == f"upgraded to {head} from schema version 1, from before revisions"
    )
    assert main(["db", "current", "--db", str(tmp_db)]) == 0
    assert capsys.readouterr().out.strip() == f"{head} (the newest)"
    assert main(["db", "upgrade", "--db", str(tmp_db)]) == 0
    assert capsys.readouterr().out.strip() == f"already at {head}"


def test_the_revisions_are_read_as_alembic_reads_them() -> None:
    scripts = ScriptDirectory.from_config(migrations.config())
    assert migrations.head() == scripts.get_current_head()
    assert migrations.revisions().ids == {script.revision for script in scripts.walk_revisions()}


@pytest.mark.stores("sqlite")
def test_opening_a_database_imports_no_alembic(tmp_db: Db) -> None:
    """Alembic is imported only to run revisions: creating and opening a database go without."""
    probe = (
        "import sys\n"
        "from central_api.sql_store import SqlStore\n"
        f"for _ in range(2): SqlStore.open({str(tmp_db)!r}).close()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('alembic', 'mako')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
    assert revision_of(tmp_db) == migrations.head()
