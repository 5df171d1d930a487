"""The `hotline` command and its subcommands.

Heavy imports (FastAPI, uvicorn, Textual, httpx) happen inside the subcommand that needs them,
so `hotline --help` and the headless subcommands start quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .settings import DEFAULT_PORT, ConfigError, Settings, load_settings

ROLES = ("dispatcher", "supervisor", "admin")
DEMO_SEED = 12345
DEMO_COUNT = 1000


class CliError(Exception):
    """A failure to report in one line, with exit status 1."""


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config file (default: $HOTLINE_CONFIG or XDG config dir)"
    )
    parser.add_argument("--api-url", help="central API base URL (env HOTLINE_API_URL)")
    parser.add_argument("--dispatcher", help="dispatcher name (env HOTLINE_DISPATCHER)")
    parser.add_argument("--lang", choices=("zh", "en"), help="interface language (env HOTLINE_LANG)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline",
        description=(
            "hotline: the dispatcher's terminal for citizen-hotline (12345) requests, "
            "and the reference central API it syncs with. Tokens are read from HOTLINE_TOKEN "
            "or HOTLINE_TOKEN_FILE, never from the command line."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the central API server",
        description="Run the central API (FastAPI + uvicorn) on a SQLite file or a database URL.",
    )
    serve.add_argument("--db", required=True, help="SQLite file path or SQLAlchemy database URL")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.set_defaults(handler=cmd_serve)

    token = sub.add_parser("token", help="manage API tokens", description="Manage API tokens.")
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

    demo = sub.add_parser(
        "demo",
        help="start an embedded central API with seeded demo data",
        description=(
            "Start an embedded central API on 127.0.0.1 with a deterministic demo data set "
            "(德胜街道: 20 communities, ~30 units, requests in every state) and a demo token."
        ),
    )
    demo.add_argument("--db", help="keep the demo database in this file (default: a new temp dir)")
    demo.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    demo.add_argument(
        "--count", type=int, default=DEMO_COUNT, help=f"requests to seed (default {DEMO_COUNT})"
    )
    demo.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})")
    demo.set_defaults(handler=cmd_demo)

    whoami = sub.add_parser(
        "whoami",
        help="check the configuration: reach the central API and show who the token is",
        description="Reach the configured central API with the configured token and print the identity.",
    )
    _client_options(whoami)
    whoami.set_defaults(handler=cmd_whoami)
    return parser


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


def cmd_demo(args: argparse.Namespace) -> int:
    from api_client.models import Role
    from central_api.seed import seed_store
    from central_api.server import LiveServer
    from central_api.sql_store import SqlStore

    workdir = Path(tempfile.mkdtemp(prefix="hotline-demo-"))  # mkdtemp makes it 0700
    db = Path(args.db) if args.db else workdir / "demo.db"
    fresh = not db.exists()
    store = SqlStore.open(str(db))
    try:
        if fresh:
            print(f"seeding {args.count} demo requests into {db} ...", flush=True)
            seed_store(store, seed=args.seed, count=args.count, progress=_progress)
        token = store.create_token("demo-dispatcher", Role.dispatcher)
    finally:
        store.close()
    token_file = workdir / "token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    server = LiveServer(str(db), port=args.port)
    server.start()
    print(f"hotline demo: central API on {server.url}", flush=True)
    print(f"  export HOTLINE_API_URL={server.url}")
    print(f"  export HOTLINE_TOKEN_FILE={token_file}")
    print("press ctrl+c to stop", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _progress(done: int, total: int) -> None:
    print(f"  {done}/{total} changes written", flush=True)


def cmd_whoami(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = settings.resolve_token()
    if token is None:
        raise CliError("no token: set HOTLINE_TOKEN or HOTLINE_TOKEN_FILE (or token_file in the config file)")

    async def ask() -> tuple[str, str, int]:
        from api_client.client import HotlineClient

        async with HotlineClient(settings.api_url, token) as client:
            me = await client.me()
            head = await client.health()
        return me.name, me.role.value, head

    from api_client.errors import HotlineError

    try:
        name, role, head = asyncio.run(ask())
    except HotlineError as exc:
        raise CliError(exc.message) from exc
    except ValueError as exc:  # a malformed URL or token, refused before any network call
        raise CliError(str(exc)) from exc
    print(f"{name} ({role}) on {settings.api_url}; the server's change head is {head}")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config,
        api_url=args.api_url,
        dispatcher=args.dispatcher,
        lang=args.lang,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    from central_api.store import StoreError

    try:
        return handler(args)
    except (CliError, ConfigError, StoreError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
