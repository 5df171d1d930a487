"""`hotline serve` (the central API), `hotline token create|list|revoke` (its tokens, straight in
its database) and `hotline db upgrade|current` (its database's schema)."""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.output import CliError, say, table
from tui.core.settings import DEFAULT_PORT

if TYPE_CHECKING:
    from api_client.models import TokenInfo
    from central_api.sql.schema import SchemaState
    from tui.cli.options import Subparsers

__all__ = [
    "ROLES",
    "add_parser",
    "cmd_db_current",
    "cmd_db_upgrade",
    "cmd_serve",
    "cmd_token_create",
    "cmd_token_list",
    "cmd_token_revoke",
]

#: The help of every command's `--db`.
DB_HELP = "SQLite file path or database URL of the central API"

ROLES = ("dispatcher", "supervisor", "admin", "partner", "unit")


def add_parser(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the central API server",
        description=(
            "Run the central API (FastAPI + uvicorn) on a SQLite file or a database URL; "
            "https with --tls-cert and --tls-key."
        ),
    )
    serve.add_argument("--db", required=True, help=DB_HELP)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument(
        "--tls-cert",
        type=Path,
        metavar="FILE",
        help="serve https with this certificate chain (PEM; needs --tls-key)",
    )
    serve.add_argument(
        "--tls-key",
        type=Path,
        metavar="FILE",
        help="the certificate's private key (PEM; not readable by other users)",
    )
    serve.add_argument(
        "--workers",
        type=_processes,
        default=1,
        metavar="N",
        help="server processes sharing the port (default 1); several are for PostgreSQL, the"
        " production store (SQLite allows them, but they share its one write lock)",
    )
    serve.add_argument(
        "--open311-public",
        action="store_true",
        help="let anyone read Open311 services and service requests without a key (no personal data)",
    )
    serve.set_defaults(handler=cmd_serve)

    token = subparsers.add_parser("token", help="manage API tokens", description="Manage API tokens.")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser(
        "create",
        help="create a token and print it once",
        description="Create a bearer token for NAME and print it once; only its hash is stored.",
    )
    create.add_argument("name", help="who holds the token (unique; shown in the audit trail)")
    create.add_argument(
        "--role",
        choices=ROLES,
        default="dispatcher",
        help="dispatcher (default), supervisor, admin, partner (an Open311 app: /open311/v2/ only),"
        " or unit (a handling unit's own login: give --unit)",
    )
    create.add_argument(
        "--unit",
        metavar="ID",
        help="for --role unit: the handling unit the token is bound to (its id in the directory)",
    )
    create.add_argument("--db", required=True, help=DB_HELP)
    create.set_defaults(handler=cmd_token_create)
    listing = token_sub.add_parser(
        "list",
        help="list the tokens",
        description="List every token: name, role, when made, last used (to the minute), revoked.",
    )
    listing.add_argument("--db", required=True, help=DB_HELP)
    listing.set_defaults(handler=cmd_token_list)
    revoke = token_sub.add_parser(
        "revoke",
        help="revoke a token",
        description="Revoke the token named NAME; every server on the database refuses it within 5 s.",
    )
    revoke.add_argument("name", help="the token's name (see hotline token list)")
    revoke.add_argument("--db", required=True, help=DB_HELP)
    revoke.set_defaults(handler=cmd_token_revoke)
    _add_db_parser(subparsers)


def cmd_serve(args: argparse.Namespace) -> int:
    from central_api.server import ServeError, TlsFiles, run

    if (args.tls_cert is None) != (args.tls_key is None):
        raise CliError("--tls-cert and --tls-key go together: give both to serve https, or neither")
    tls = TlsFiles(args.tls_cert.expanduser(), args.tls_key.expanduser()) if args.tls_cert else None
    try:
        run(args.db, args.host, args.port, tls=tls, open311_public=args.open311_public, workers=args.workers)
    except ServeError as exc:
        raise CliError(str(exc)) from exc
    return 0


def _processes(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"a number of processes, 1 or more: {text!r}")
    return count


def cmd_token_create(args: argparse.Namespace) -> int:
    from api_client.models import Role
    from central_api.sql_store import SqlStore
    from central_api.store import InvalidInput

    role = Role(args.role)
    if role is Role.unit and not args.unit:
        raise CliError("a unit's token is bound to one unit: give --unit ID (the unit's id in the directory)")
    if role is not Role.unit and args.unit is not None:
        raise CliError(f"--unit is for --role unit only: a {role.value}'s token is bound to no unit")
    store = SqlStore.open(args.db)
    try:
        try:
            token = store.create_token(args.name, role, actor=_actor(), unit=args.unit)
        except InvalidInput as exc:
            if exc.code != "unknown_unit":
                raise
            known = ", ".join(unit.id for unit in store.units())
            raise CliError(f"no unit {args.unit!r} in the directory; its units are: {known}") from exc
    finally:
        store.close()
    say(token)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from central_api.sql_store import SqlStore

    store = SqlStore.open(args.db)
    try:
        tokens = store.tokens()
    finally:
        store.close()
    say(*table(("NAME", "ROLE", "UNIT", "CREATED", "LAST USED", "REVOKED"), [_row(info) for info in tokens]))
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from central_api.sql_store import SqlStore

    store = SqlStore.open(args.db)
    try:
        info = store.revoke_token(args.name, actor=_actor())
    finally:
        store.close()
    say(f"revoked {info.name} ({info.role.value}) at {_when(info.revoked_at)}")
    return 0


def _actor() -> str:
    """Who runs the command, as token events name them: `cli:<login>`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name for this user id
        return "cli"


def _when(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M") if at is not None else "-"


def _row(info: TokenInfo) -> list[str]:
    return [
        info.name,
        info.role.value,
        info.unit or "-",
        _when(info.created_at),
        _when(info.last_used_at),
        _when(info.revoked_at),
    ]


def _add_db_parser(subparsers: Subparsers) -> None:
    db = subparsers.add_parser(
        "db",
        help="the central API database's schema",
        description="Bring the central API's database to the newest schema revision, or say where it stands.",
    )
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser(
        "upgrade",
        help="bring the database to the newest revision",
        description=(
            "Bring the database to the newest schema revision, in one transaction (hotline serve does"
            " it too when it starts); a database of a version from before revisions is upgraded too."
        ),
    )
    upgrade.add_argument("--db", required=True, help=DB_HELP)
    upgrade.set_defaults(handler=cmd_db_upgrade)
    current = db_sub.add_parser(
        "current",
        help="say which revision the database is at",
        description="Say which schema revision the database is at, and the newest; change nothing.",
    )
    current.add_argument("--db", required=True, help=DB_HELP)
    current.set_defaults(handler=cmd_db_current)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from central_api import migrations
    from central_api.sql.schema import schema_state
    from central_api.sql_store import SqlStore

    before = schema_state(args.db)
    SqlStore.open(args.db).close()
    head = migrations.head()
    if before.new:
        say(f"created at {head}")
    elif before.revision == head:
        say(f"already at {head}")
    else:
        say(f"upgraded to {head} from {_stands(before)}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from central_api import migrations
    from central_api.sql.schema import schema_state

    state = schema_state(args.db)
    head = migrations.head()
    if state.new:
        say(f"no tables yet (hotline db upgrade creates them at {head})")
    elif state.revision == head:
        say(f"{head} (the newest)")
    else:
        say(f"{_stands(state)} (the newest is {head})")
    return 0


def _stands(state: SchemaState) -> str:
    if state.revision is not None:
        return state.revision
    return f"schema version {state.legacy_version}, from before revisions"
