"""Running the app: `hotline` alone (on the configured server) and `hotline demo` (on an embedded
central API with seeded data). Textual and the server are imported only when they run."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tui.cli.options import ask_dispatcher, open_client, settings_from
from tui.cli.output import CliError, say
from tui.cli.words import word
from tui.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from api_client.models import Identity
    from tui.cli.options import Subparsers
    from tui.core.session import Session

__all__ = ["DEMO_COUNT", "DEMO_SEED", "add_parser", "cmd_app", "cmd_demo"]

DEMO_SEED = 12345
DEMO_COUNT = 1000


def add_parser(subparsers: Subparsers) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="start an embedded central API with seeded demo data",
        description=(
            "Start an embedded central API on 127.0.0.1 with a deterministic demo data set "
            "(德胜街道: 20 communities, ~30 units, requests in every state) and a demo token, "
            "and open the app on it. Everything is removed when it ends (unless --db)."
        ),
    )
    demo.add_argument(
        "--serve-only", action="store_true", help="only run the server (print how to reach it) until ctrl+c"
    )
    demo.add_argument("--lang", choices=("zh", "en"), help="interface language (env HOTLINE_LANG)")
    demo.add_argument("--db", help="keep the demo database in this file (default: a new temp dir)")
    demo.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    demo.add_argument(
        "--count", type=int, default=DEMO_COUNT, help=f"requests to seed (default {DEMO_COUNT})"
    )
    demo.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})")
    demo.add_argument(
        "--storm",
        type=float,
        metavar="RATE",
        help="a rainstorm: new requests arrive at RATE per minute while the demo runs (in bursts)",
    )
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    import importlib

    from tui.cli.demo_server import DemoServer, DemoSpec, ServerProcess

    if args.storm is not None and args.storm <= 0:
        raise CliError("--storm RATE must be a positive number of requests per minute")
    workdir = Path(tempfile.mkdtemp(prefix="hotline-demo-"))  # mkdtemp makes it 0700
    db = Path(args.db) if args.db else workdir / "demo.db"
    spec = DemoSpec(
        db=db, fresh=not db.exists(), port=args.port, seed=args.seed, count=args.count, storm=args.storm
    )
    token_file = workdir / "token"
    try:
        if args.serve_only:
            server = DemoServer(spec)
            try:
                reach = server.start()
                server.seed()
                _write_token(token_file, reach.token)
                lang = load_settings(args.config, lang=args.lang).resolved_lang()
                say(
                    word(lang, "demo.serving", url=reach.url),
                    f"  export HOTLINE_API_URL={reach.url}",
                    f"  export HOTLINE_TOKEN_FILE={token_file}",
                    word(lang, "demo.stop"),
                    flush=True,
                )
                with contextlib.suppress(KeyboardInterrupt):
                    server.wait()
                return 0
            finally:
                server.stop()
        process = ServerProcess(spec, log=workdir / "server.log").start()
        try:
            importlib.import_module("tui.ui.app")  # while the server starts in its own process
            reach = process.reachable()
            _write_token(token_file, reach.token)
            settings = load_settings(
                args.config,
                api_url=reach.url,
                token_file=token_file,
                dispatcher=reach.dispatcher,
                cache_dir=workdir / "cache",
                lang=args.lang,
            )
            status = _run_app(settings, reach.token, reach.dispatcher)
        finally:
            failure = process.stop()
        if failure is not None:
            raise CliError(failure)
        return status
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the demo token and cache (and the db unless --db)


def _write_token(path: Path, token: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")


def cmd_app(args: argparse.Namespace) -> int:
    """`hotline` alone: the app on the configured server."""
    settings = settings_from(args)
    token = settings.resolve_token()
    dispatcher = settings.dispatcher
    if not dispatcher:
        if token is None:
            raise CliError(word(settings.resolved_lang(), "error.no_token_no_dispatcher"))
        dispatcher = ask_dispatcher(settings)
    return _run_app(settings, token, dispatcher, learn_identity=True)


def _run_app(settings: Settings, token: str | None, dispatcher: str, *, learn_identity: bool = False) -> int:
    """The app on the session of `dispatcher` on the configured server. With `learn_identity`, a
    first start asks the server who the token belongs to before the app opens (a unit's login then
    opens on its unit's queues at once; later starts read it from the cache)."""
    from local_cache.errors import CacheError
    from local_cache.paths import cache_dir, cache_root
    from tui.core.i18n import Strings
    from tui.core.session import Session
    from tui.ui.app import HotlineApp

    directory = cache_dir(cache_root(settings.cache_dir), settings.api_url, dispatcher)
    try:
        session = Session.open(directory, api_url=settings.api_url, dispatcher=dispatcher, token=token)
    except CacheError as exc:
        raise CliError(str(exc)) from exc
    if learn_identity and token is not None and session.identity is None:
        _learn_identity(settings, token, session)
    try:
        app = HotlineApp(
            session,
            strings=Strings(settings.resolved_lang()),
            keymap=settings.keys,
            announce_urgent=settings.announce_urgent,
            columns=settings.columns,
            client_factory=lambda _url, token: open_client(settings, token),  # the session's URL
        )
        app.run(mouse=settings.mouse)
    finally:
        session.close()
    return app.return_code or 0


def _learn_identity(settings: Settings, token: str, session: Session) -> None:
    """Who the token belongs to (`/v1/me`), kept in the session's cache; left to the app when the
    server does not answer at once."""
    import asyncio

    from api_client.errors import HotlineError
    from local_cache.errors import CacheError

    async def ask() -> Identity:
        async with open_client(settings, token, attempts=1, deadline=3.0) as client:
            return await client.me()

    try:
        session.set_identity(asyncio.run(ask()))
    except (HotlineError, ValueError, CacheError):
        return
