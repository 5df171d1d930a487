"""`hotline serve` (the central API) and `hotline token create` (its tokens)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tui.cli.output import CliError
from tui.core.settings import DEFAULT_PORT

if TYPE_CHECKING:
    from tui.cli.options import Subparsers

__all__ = ["ROLES", "add_parser", "cmd_serve", "cmd_token_create"]

ROLES = ("dispatcher", "supervisor", "admin")


def add_parser(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the central API server",
        description="Run the central API (FastAPI + uvicorn) on a SQLite file or a database URL.",
    )
    serve.add_argument("--db", required=True, help="SQLite file path or SQLAlchemy database URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.set_defaults(handler=cmd_serve)

    token = subparsers.add_parser("token", help="manage API tokens", description="Manage API tokens.")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser(
        "create",
        help="create a token and print it once",
        description="Create a bearer token for NAME and print it once; only its hash is stored.",
    )
    create.add_argument("name", help="who holds the token (shown in the audit trail)")
    create.add_argument(
        "--role", choices=ROLES, default="dispatcher", help="dispatcher (default), supervisor, admin"
    )
    create.add_argument("--db", required=True, help="SQLite file path or database URL of the central API")
    create.set_defaults(handler=cmd_token_create)


def cmd_serve(args: argparse.Namespace) -> int:
    from central_api.server import ServeError, run

    try:
        run(args.db, args.host, args.port)
    except ServeError as exc:
        raise CliError(str(exc)) from exc
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from api_client.models import Role
    from central_api.sql_store import SqlStore

    store = SqlStore.open(args.db)
    try:
        token = store.create_token(args.name, Role(args.role))
    finally:
        store.close()
    print(token)
    return 0
