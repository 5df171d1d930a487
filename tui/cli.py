"""The `hotline` command and its subcommands.

Heavy imports (FastAPI, uvicorn, Textual, httpx) happen inside the subcommand that needs them,
so `hotline --help` and the headless subcommands start quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from api_client.domain.untrusted_text import one_line
from tui.core.settings import DEFAULT_PORT, ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from datetime import datetime

    from api_client.client import HotlineClient
    from api_client.models import RoutingRule, RoutingRuleEvent
    from local_cache.local_store import LocalStore
    from tui.core.report import Report

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
            "and the reference central API it syncs with. Without a command it opens the app on "
            "the configured server. Tokens are read from HOTLINE_TOKEN or HOTLINE_TOKEN_FILE, "
            "never from the command line."
        ),
    )
    _client_options(parser)
    parser.set_defaults(handler=cmd_app)
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

    whoami = sub.add_parser(
        "whoami",
        help="check the configuration: reach the central API and show who the token is",
        description="Reach the configured central API with the configured token and print the identity.",
    )
    _client_options(whoami)
    whoami.set_defaults(handler=cmd_whoami)

    sync = sub.add_parser(
        "sync",
        help="push the pending actions, then pull the changes, once",
        description=(
            "Push the local cache's pending actions to the central API (each exactly once, in order "
            "per request), then pull every change since the saved cursor, and print a summary. "
            "Exits 1 when it cannot finish; pending actions are never lost."
        ),
    )
    _client_options(sync)
    sync.set_defaults(handler=cmd_sync)

    status = sub.add_parser(
        "status",
        help="show the local cache: cursor, pending actions, conflicts",
        description=(
            "Print the local cache's state: server, dispatcher, cached requests, cursor, last sync, "
            "pending actions and conflicts. Needs no network when the dispatcher name is configured."
        ),
    )
    _client_options(status)
    status.set_defaults(handler=cmd_status)

    report = sub.add_parser(
        "report",
        help="the shift handover report: the three rates, counts, overdue, hot spots, trends",
        description=(
            "Sync the local cache once, ask the central API for the three rates (today, this week, "
            "this month, every unit), and print the report the dashboard (key b) shows: counts by "
            "state, category and community, overdue by unit, unsent actions and conflicts, hot "
            "spots, trends, and what changed since the shift began. Offline it reports what the "
            "cache holds and says the rates are missing."
        ),
    )
    _client_options(report)
    report.add_argument(
        "--since",
        default="-8h",
        metavar="TIME",
        help="when the shift began: '2026-11-25 08:00', 08:00 (today), -8h (default), -90m",
    )
    report.add_argument(
        "--format", choices=("md", "csv", "json"), default="md", help="md (default), csv, json"
    )
    report.add_argument("--output", type=Path, metavar="FILE", help="write to FILE (mode 0600), not stdout")
    report.set_defaults(handler=cmd_report)

    rules = sub.add_parser(
        "rules",
        help="routing rules (supervisors): list, set, delete, the auto-dispatch switch, history",
        description=(
            "Read and change the central API's routing rules: which units get a category's requests "
            "(in one community, or * any), and whether the server dispatches them itself at intake. "
            "Anyone may list them and read their history; changing them needs a supervisor or admin token."
        ),
    )
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    rules_list = rules_sub.add_parser(
        "list", help="every rule as a table", description="Print every routing rule as a table."
    )
    rules_set = rules_sub.add_parser(
        "set",
        help="create a rule, or replace it at its current version",
        description=(
            "Create routing rule ID, or replace it: the rule is read first and its version sent, so a "
            "change someone made meanwhile is refused (exit 1), never overwritten."
        ),
    )
    rules_set.add_argument("rule_id", metavar="ID", help="the rule's id: letters, digits, _ - . (≤ 64)")
    rules_set.add_argument("--category", required=True, metavar="CODE", help="the category code")
    rules_set.add_argument(
        "--community",
        metavar="ID",
        help="a community id, or * for any (default: the rule's current one, * for a new rule)",
    )
    rules_set.add_argument("--lead", required=True, metavar="UNIT", help="the lead unit's id")
    rules_set.add_argument(
        "--co", nargs="+", action="extend", default=[], metavar="UNIT", help="co-units' ids (none by default)"
    )
    rules_set.add_argument(
        "--auto",
        action=argparse.BooleanOptionalAction,
        help="auto-dispatch at intake (default: as the rule is now, off for a new rule)",
    )
    rules_delete = rules_sub.add_parser("delete", help="delete a rule", description="Delete routing rule ID.")
    rules_delete.add_argument("rule_id", metavar="ID", help="the rule's id")
    rules_auto = rules_sub.add_parser(
        "auto",
        help="the surge switch: auto-dispatch on or off for every rule of a category",
        description=(
            "Turn auto-dispatch on or off for every routing rule of CATEGORY (the surge switch); "
            "print the rules it changed."
        ),
    )
    rules_auto.add_argument("category", metavar="CATEGORY", help="the category code")
    rules_auto.add_argument("switch", choices=("on", "off"), help="on or off")
    rules_history = rules_sub.add_parser(
        "history",
        help="who changed which rule, when, and what changed",
        description="Print the changes to the routing rules (to rule ID when given), oldest first.",
    )
    rules_history.add_argument("rule_id", nargs="?", metavar="ID", help="only this rule's changes")
    for rules_parser, handler in (
        (rules_list, cmd_rules_list),
        (rules_set, cmd_rules_set),
        (rules_delete, cmd_rules_delete),
        (rules_auto, cmd_rules_auto),
        (rules_history, cmd_rules_history),
    ):
        _client_options(rules_parser)
        rules_parser.set_defaults(handler=handler)
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
    from central_api.storm_feed import StormFeed

    if args.storm is not None and args.storm <= 0:
        raise CliError("--storm RATE must be a positive number of requests per minute")
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
    storm: StormFeed | None = None
    try:
        if args.storm is not None:
            storm = StormFeed(server.store, args.storm, seed=args.seed).start()
        if args.serve_only:
            print(f"hotline demo: central API on {server.url}", flush=True)
            print(f"  export HOTLINE_API_URL={server.url}")
            print(f"  export HOTLINE_TOKEN_FILE={token_file}")
            print("press ctrl+c to stop", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                server.wait()
            return 0
        settings = load_settings(
            args.config,
            api_url=server.url,
            token_file=token_file,
            dispatcher="demo-dispatcher",
            cache_dir=workdir / "cache",
            lang=args.lang,
        )
        return _run_app(settings, token, "demo-dispatcher")
    finally:
        if storm is not None:
            storm.stop()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the demo token and cache (and the db unless --db)


def cmd_app(args: argparse.Namespace) -> int:
    """`hotline` alone: the app on the configured server."""
    settings = _settings(args)
    token = settings.resolve_token()
    dispatcher = settings.dispatcher
    if not dispatcher:
        if token is None:
            raise CliError(
                "no token and no dispatcher name: set HOTLINE_TOKEN_FILE (or HOTLINE_TOKEN), "
                "or HOTLINE_DISPATCHER to work offline from the local cache"
            )
        dispatcher = _ask_dispatcher(settings)
    return _run_app(settings, token, dispatcher)


def _run_app(settings: Settings, token: str | None, dispatcher: str) -> int:
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
    try:
        app = HotlineApp(
            session,
            strings=Strings(settings.resolved_lang()),
            keymap=settings.keys,
            announce_urgent=settings.announce_urgent,
        )
        app.run(mouse=settings.mouse)
    finally:
        session.close()
    return app.return_code or 0


def _progress(done: int, total: int) -> None:
    print(f"  {done}/{total} changes written", flush=True)


def cmd_whoami(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = _require_token(settings)

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


def cmd_sync(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = _require_token(settings)
    from api_client.errors import HotlineError
    from local_cache.errors import CacheError

    try:
        return asyncio.run(_sync(settings, token))
    except HotlineError as exc:
        raise CliError(exc.message) from exc
    except CacheError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:  # a malformed URL or token, refused before any network call
        raise CliError(str(exc)) from exc


async def _sync(settings: Settings, token: str) -> int:
    """One headless sync: push, then pull; a summary on stdout, a failure as a CliError."""
    from api_client.client import HotlineClient
    from local_cache.sync import SyncEngine, describe

    async with HotlineClient(settings.api_url, token) as client:
        dispatcher = settings.dispatcher or (await client.me()).name
        store = _open_store(settings, dispatcher)
        try:
            for message in store.messages:
                print(f"hotline: {one_line(message)}", file=sys.stderr)
            if not store.is_sync_owner:
                raise CliError(
                    f"another hotline process is syncing the cache in {store.directory}; "
                    "it delivers every pending action, so nothing is lost"
                )
            summary = await SyncEngine(store, client).sync_once()
            _cached, pending, conflicts = store.counts()
        finally:
            store.close()
    print(describe(summary, settings.api_url))
    if conflicts:
        wait = "waits" if conflicts == 1 else "wait"
        print(f"{_plural(conflicts, 'conflict')} {wait} for you: `hotline status` lists them")
    if summary.errors:
        stay = "stays" if pending == 1 else "stay"
        raise CliError(f"{one_line(summary.errors[0])}; {_plural(pending, 'action')} {stay} pending")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from local_cache.errors import CacheError

    dispatcher = settings.dispatcher or _ask_dispatcher(settings)
    try:
        store = _open_store(settings, dispatcher)
        try:
            lines = _status_lines(store)
        finally:
            store.close()
    except CacheError as exc:
        raise CliError(str(exc)) from exc
    print("\n".join(lines))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from api_client.errors import HotlineError
    from local_cache.errors import CacheError
    from tui.core.i18n import Strings
    from tui.core.report import parse_since, to_csv, to_json, to_markdown, write_private

    settings = _settings(args)
    now = datetime.now(UTC)
    try:
        since = parse_since(args.since, now)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        report = asyncio.run(_report(settings, settings.resolve_token(), since, now))
    except (HotlineError, CacheError, ValueError) as exc:
        raise CliError(exc.message if isinstance(exc, HotlineError) else str(exc)) from exc
    if args.format == "json":
        text = to_json(report)
    elif args.format == "csv":
        text = to_csv(report)
    else:
        text = to_markdown(report, Strings(settings.resolved_lang())) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            write_private(args.output.expanduser(), text)
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
        print(f"hotline: wrote the report to {args.output}", file=sys.stderr)
    if not report.online:
        print(
            f"hotline: offline ({one_line(report.rates_missing)}): the rates are missing; "
            "the counts are the local cache's",
            file=sys.stderr,
        )
    return 0


async def _report(settings: Settings, token: str | None, since: datetime, now: datetime) -> Report:
    """The report from the configured server and the local cache (see `tui.core.report`)."""
    from api_client.client import HotlineClient
    from api_client.errors import HotlineError

    if token is None:
        return await _report_from(settings, None, settings.dispatcher, since, now, "no token")
    async with HotlineClient(settings.api_url, token, attempts=2, deadline=10.0) as client:
        try:
            dispatcher = settings.dispatcher or (await client.me()).name
        except HotlineError as exc:
            return await _report_from(settings, None, settings.dispatcher, since, now, exc.message)
        return await _report_from(settings, client, dispatcher, since, now, "")


async def _report_from(
    settings: Settings,
    client: HotlineClient | None,
    dispatcher: str | None,
    since: datetime,
    now: datetime,
    reason: str,
) -> Report:
    """Sync the dispatcher's cache once and ask for the rates (with a client), then build the
    report; without a client, or when the server fails, the cache alone and `reason`."""
    from api_client.errors import HotlineError
    from local_cache.directory import fetch_directory
    from local_cache.paths import cache_dir, cache_root
    from local_cache.sync import SyncEngine
    from tui.core.report import build_report, fetch_server_numbers, read_local
    from tui.core.session import Session

    if not dispatcher:
        raise CliError(
            f"cannot reach the central API ({reason}) and no dispatcher name to find the local cache: "
            "set HOTLINE_DISPATCHER"
        )
    directory = cache_dir(cache_root(settings.cache_dir), settings.api_url, dispatcher)
    session = Session.open(directory, api_url=settings.api_url, dispatcher=dispatcher, token=None)
    try:
        for message in session.messages:
            print(f"hotline: {one_line(message)}", file=sys.stderr)
        numbers = None
        if client is not None:
            try:
                if session.store.is_sync_owner:
                    await SyncEngine(session.store, client).sync_once()
                else:  # the app is syncing this cache: take what it flushed
                    session.store.reload_if_changed()
                session.set_directory(await fetch_directory(client))
                numbers = await fetch_server_numbers(client, now)
            except HotlineError as exc:
                reason = exc.message
        local = await asyncio.to_thread(read_local, session.store)
        return build_report(
            local,
            numbers,
            now=now,
            since=since,
            names=session.names,
            server_url=settings.api_url,
            dispatcher=dispatcher,
            rates_missing=reason,
        )
    finally:
        session.close()


# -- hotline rules --------------------------------------------------------------------------


def _rules_call(args: argparse.Namespace, work: Callable[[HotlineClient], Coroutine[None, None, int]]) -> int:
    """Run `work` with a client for the configured server and token; any failure of the central
    API (403, 404, 409, 422 ...) is one line from its own message."""
    settings = _settings(args)
    token = _require_token(settings)
    from api_client.client import HotlineClient
    from api_client.errors import Forbidden, HotlineError

    async def run() -> int:
        async with HotlineClient(settings.api_url, token) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except HotlineError as exc:
        from tui.core.error_words import describe
        from tui.core.i18n import Strings

        said = describe(exc.code, exc.params, Strings(settings.resolved_lang()), exc.message)
        raise CliError(f"forbidden: {said}" if isinstance(exc, Forbidden) else said) from exc
    except ValueError as exc:  # a malformed URL or token, refused before any network call
        raise CliError(one_line(str(exc))) from exc


class _RuleNames:
    """The directory's names, to show next to the ids in a rule (the id alone when unknown)."""

    def __init__(self, categories: dict[str, str], communities: dict[str, str]) -> None:
        self.categories = categories
        self.communities = communities

    @classmethod
    async def fetch(cls, client: HotlineClient) -> _RuleNames:
        categories, communities = await asyncio.gather(client.categories(), client.communities())
        return cls({c.code: c.name for c in categories}, {c.id: c.name for c in communities})

    def category(self, code: str) -> str:
        name = self.categories.get(code)
        return f"{code} {name}" if name else code

    def community(self, community_id: str) -> str:
        from api_client.models import ANY_COMMUNITY

        if community_id == ANY_COMMUNITY:
            return f"{ANY_COMMUNITY} (any)"
        name = self.communities.get(community_id)
        return f"{community_id} {name}" if name else community_id


def _rules_table(rules: Sequence[RoutingRule], names: _RuleNames) -> list[str]:
    header = ("ID", "CATEGORY", "COMMUNITY", "LEAD", "CO-UNITS", "AUTO", "VERSION", "UPDATED")
    rows = [
        (
            rule.id,
            names.category(rule.category),
            names.community(rule.community),
            rule.lead_unit,
            ", ".join(rule.co_units) or "-",
            _on_off(rule.auto_dispatch),
            str(rule.version),
            f"{rule.updated_by} {_local_time(rule.updated_at)}",
        )
        for rule in rules
    ]
    return _table(header, rows)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns (CJK characters count two), every cell made printable."""
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)

    cells = [[one_line(cell) for cell in row] for row in (header, *rows)]
    widths = [max(width(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def _local_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _rule_summary(rule: RoutingRule) -> str:
    co = ", ".join(rule.co_units) or "none"
    return (
        f"{rule.category} in {rule.community}: lead {rule.lead_unit}; co {co}; "
        f"auto-dispatch {_on_off(rule.auto_dispatch)}"
    )


def _rule_change(event: RoutingRuleEvent) -> str:
    """What one audited change did, in a few words."""
    before, after = event.before, event.after
    if after is None:
        return f"deleted ({_rule_summary(before)}; version {before.version})" if before else "deleted"
    if before is None:
        return f"created: {_rule_summary(after)}"
    fields = (
        ("category", before.category, after.category),
        ("community", before.community, after.community),
        ("lead", before.lead_unit, after.lead_unit),
        ("co", ", ".join(before.co_units) or "none", ", ".join(after.co_units) or "none"),
        ("auto-dispatch", _on_off(before.auto_dispatch), _on_off(after.auto_dispatch)),
    )
    changes = [f"{name} {old} → {new}" for name, old, new in fields if old != new]
    return f"{'; '.join(changes) or 'no change'} (version {before.version} → {after.version})"


def cmd_rules_list(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        rules, names = await asyncio.gather(client.routing_rules(), _RuleNames.fetch(client))
        if not rules:
            print("no routing rules: every request waits for a dispatcher (`hotline rules set` adds one)")
        else:
            print("\n".join(_rules_table(rules, names)))
        return 0

    return _rules_call(args, work)


def cmd_rules_set(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from api_client.errors import InvalidRequest, RuleConflict
    from api_client.models import ANY_COMMUNITY, RoutingRuleIn

    rule_id: str = args.rule_id

    async def work(client: HotlineClient) -> int:
        current = next((rule for rule in await client.routing_rules() if rule.id == rule_id), None)
        try:
            body = RoutingRuleIn(
                category=args.category,
                community=args.community or (current.community if current else ANY_COMMUNITY),
                lead_unit=args.lead,
                co_units=args.co,
                auto_dispatch=args.auto if args.auto is not None else bool(current and current.auto_dispatch),
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            from tui.core.error_words import describe
            from tui.core.i18n import Strings

            strings = Strings(_settings(args).resolved_lang())
            message = describe(first["type"], first.get("ctx") or {}, strings, first["msg"])
            raise CliError(one_line(f"invalid rule: {where + ': ' if where else ''}{message}")) from exc
        try:
            rule = await client.put_routing_rule(rule_id, body, version=current.version if current else None)
        except RuleConflict as exc:
            raise CliError(_rule_changed_meanwhile(rule_id, exc.current)) from exc
        except InvalidRequest as exc:
            if exc.status != 428:
                raise
            raise CliError(
                one_line(f"someone created routing rule {rule_id} meanwhile ({exc.detail}); ")
                + "nothing was changed: `hotline rules list` shows it"
            ) from exc
        done = "created" if current is None else f"replaced version {current.version} of"
        print(one_line(f"{done} routing rule {rule.id}, now version {rule.version}:"))
        print("\n".join(_rules_table([rule], await _RuleNames.fetch(client))))
        return 0

    return _rules_call(args, work)


def _rule_changed_meanwhile(rule_id: str, current: RoutingRule | None) -> str:
    if current is None:
        return one_line(
            f"someone deleted routing rule {rule_id} meanwhile; nothing was changed: "
            "`hotline rules list` shows the rules now"
        )
    return one_line(
        f"someone changed routing rule {rule_id} meanwhile: version {current.version} by "
        f"{current.updated_by} at {_local_time(current.updated_at)} ({_rule_summary(current)}); "
        "nothing was changed: run `hotline rules set` again to replace their version"
    )


def cmd_rules_delete(args: argparse.Namespace) -> int:
    async def work(client: HotlineClient) -> int:
        rule = await client.delete_routing_rule(args.rule_id)
        print(one_line(f"deleted routing rule {rule.id} (version {rule.version}: {_rule_summary(rule)})"))
        return 0

    return _rules_call(args, work)


def cmd_rules_auto(args: argparse.Namespace) -> int:
    category: str = args.category
    switch: str = args.switch

    async def work(client: HotlineClient) -> int:
        before = {(rule.id, rule.version) for rule in await client.routing_rules()}
        rules = await client.set_auto_dispatch(category, switch == "on")
        names = await _RuleNames.fetch(client)
        label = one_line(names.category(category))
        if not rules:
            message = f"no routing rule for {label}: auto-dispatch stays off"
            if switch == "on":
                raise CliError(f"{message}; `hotline rules set` creates one")
            print(message)
            return 0
        changed = [rule for rule in rules if (rule.id, rule.version) not in before]
        print(
            f"auto-dispatch {switch} for {label}: {_plural(len(changed), 'rule')} changed, "
            f"{len(rules) - len(changed):,} already {switch}"
        )
        if changed:
            print("\n".join(_rules_table(changed, names)))
        return 0

    return _rules_call(args, work)


def cmd_rules_history(args: argparse.Namespace) -> int:
    rule_id: str | None = args.rule_id

    async def work(client: HotlineClient) -> int:
        events = await client.routing_rule_audit(rule_id)
        if not events:
            print(one_line(f"no changes to routing rule {rule_id}" if rule_id else "no routing rule changes"))
            return 0
        header = ("#", "WHEN", "WHO", "RULE", "ACTION", "CHANGE")
        rows = [(str(e.id), _local_time(e.at), e.actor, e.rule_id, e.action, _rule_change(e)) for e in events]
        print("\n".join(_table(header, rows)))
        return 0

    return _rules_call(args, work)


def _glue_since(argv: list[str]) -> list[str]:
    """`--since -8h` as `--since=-8h` (argparse takes a value starting with `-` for an option)."""
    glued: list[str] = []
    for arg in argv:
        if glued and glued[-1] == "--since" and arg.startswith("-"):
            glued[-1] = f"--since={arg}"
        else:
            glued.append(arg)
    return glued


def _ask_dispatcher(settings: Settings) -> str:
    """The token holder's name from the server, for a status without a configured dispatcher."""
    need = (
        "the dispatcher name is needed to find the cache: set HOTLINE_DISPATCHER "
        "(or dispatcher in the config file)"
    )
    token = settings.resolve_token()
    if token is None:
        raise CliError(need)

    async def ask() -> str:
        from api_client.client import HotlineClient

        async with HotlineClient(settings.api_url, token, attempts=1, deadline=5.0) as client:
            return (await client.me()).name

    from api_client.errors import HotlineError

    try:
        return asyncio.run(ask())
    except (HotlineError, ValueError) as exc:
        reason = exc.message if isinstance(exc, HotlineError) else str(exc)
        raise CliError(f"{need}; the server could not tell it ({reason})") from exc


def _open_store(settings: Settings, dispatcher: str) -> LocalStore:
    """The local cache of `dispatcher` on the configured server (HOTLINE_CACHE_DIR or XDG)."""
    from local_cache.local_store import LocalStore
    from local_cache.paths import cache_dir, cache_root

    directory = cache_dir(cache_root(settings.cache_dir), settings.api_url, dispatcher)
    return LocalStore.open(directory, server_url=settings.api_url, dispatcher=dispatcher)


def _status_lines(store: LocalStore) -> list[str]:
    """What `hotline status` prints about an open cache."""
    cached, pending, conflicts = store.counts()
    last_sync = store.cache.last_sync
    lines = [
        f"server      {store.server_url}",
        f"dispatcher  {one_line(store.dispatcher)}",
        f"cache       {store.directory}",
        f"cached      {_plural(cached, 'request')}",
        f"cursor      {store.cache.cursor:,}",
        f"last sync   {last_sync.astimezone().isoformat(' ', 'seconds') if last_sync else 'never'}",
        f"pending     {_plural(pending, 'action')}",
    ]
    oldest = store.pending()[:1]
    if oldest and oldest[0].attempts:
        first = oldest[0]
        lines.append(
            f"  oldest: {one_line(first.request_id)} {first.action.action}, "
            f"{_plural(first.attempts, 'attempt')}, last: {one_line(first.last_error)}"
        )
    lines.append(f"conflicts   {conflicts:,}")
    for record in store.conflicts():
        action = record.action
        lines.append(
            f"  {one_line(action.request_id)}  {action.action.action}  {record.kind}: "
            f"{one_line(record.message)}  (id {record.id})"
        )
    lines.extend(f"note: {one_line(message)}" for message in store.messages)
    return lines


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _require_token(settings: Settings) -> str:
    token = settings.resolve_token()
    if token is None:
        raise CliError("no token: set HOTLINE_TOKEN or HOTLINE_TOKEN_FILE (or token_file in the config file)")
    return token


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config,
        api_url=args.api_url,
        dispatcher=args.dispatcher,
        lang=args.lang,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_glue_since(sys.argv[1:] if argv is None else list(argv)))
    handler: Callable[[argparse.Namespace], int] = args.handler
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
