"""`hotline report`: the shift handover report the dashboard shows, as Markdown, CSV or JSON."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from api_client.domain.untrusted_text import one_line
from tui.cli.options import client_options, open_client, settings_from
from tui.cli.output import CliError, say, write
from tui.cli.words import word
from tui.core.settings import Settings

if TYPE_CHECKING:
    from datetime import datetime

    from api_client.client import HotlineClient
    from tui.cli.options import Subparsers
    from tui.core.report.model import Report

__all__ = ["add_parser", "cmd_report"]


def add_parser(subparsers: Subparsers) -> None:
    report = subparsers.add_parser(
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
    client_options(report)
    report.add_argument(
        "--since",
        default="-8h",
        metavar="TIME",
        help="when the shift began: '2026-11-25 08:00', 08:00 (today), -8h (default), -90m",
    )
    report.add_argument(
        "--format", choices=("md", "csv", "json"), default="md", help="md (default), csv, json"
    )
    report.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write to FILE (mode 0600, replaced whole; never through a symbolic link), not stdout",
    )
    report.set_defaults(handler=cmd_report)


def glue_since(argv: list[str]) -> list[str]:
    """`--since -8h` as `--since=-8h` (argparse takes a value starting with `-` for an option)."""
    glued: list[str] = []
    for arg in argv:
        if glued and glued[-1] == "--since" and arg.startswith("-"):
            glued[-1] = f"--since={arg}"
        else:
            glued.append(arg)
    return glued


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from api_client.errors import HotlineError
    from local_cache.errors import CacheError
    from tui.core.i18n import Strings
    from tui.core.report.files import UnsafeTarget, write_private
    from tui.core.report.periods import parse_since
    from tui.core.report.render import to_csv, to_json, to_markdown

    settings = settings_from(args)
    lang = settings.resolved_lang()
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
        text = to_markdown(report, Strings(lang)) + "\n"
    if args.output is None:
        write(text)
    else:
        try:
            write_private(args.output.expanduser(), text)
        except UnsafeTarget as exc:
            raise CliError(word(lang, "report.unsafe", why=exc)) from exc
        except OSError as exc:
            raise CliError(
                word(lang, "report.cannot_write", path=args.output, why=exc.strerror or exc)
            ) from exc
        say(word(lang, "report.written", path=args.output), err=True)
    if not report.online:
        say(word(lang, "report.offline", reason=one_line(report.rates_missing)), err=True)
    return 0


async def _report(settings: Settings, token: str | None, since: datetime, now: datetime) -> Report:
    """The report from the configured server and the local cache (see `tui.core.report`)."""
    from api_client.errors import HotlineError

    if token is None:
        return await _report_from(settings, None, settings.dispatcher, since, now, "no token")
    async with open_client(settings, token, attempts=2, deadline=10.0) as client:
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
    from tui.core.report.analytics import build_report
    from tui.core.report.fetch import fetch_server_numbers, read_local
    from tui.core.session import Session

    if not dispatcher:
        raise CliError(
            word(settings.resolved_lang(), "error.report_offline_no_dispatcher", reason=one_line(reason))
        )
    directory = cache_dir(cache_root(settings.cache_dir), settings.api_url, dispatcher)
    session = Session.open(directory, api_url=settings.api_url, dispatcher=dispatcher, token=None)
    try:
        for message in session.messages:
            say(f"hotline: {one_line(message)}", err=True)
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
