"""`hotline sync` (push the pending actions, pull the changes, once) and `hotline status` (the
local cache's state, without the network when the dispatcher is configured)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from api_client.domain.untrusted_text import one_line
from tui.cli.options import ask_dispatcher, client_options, open_client, require_token, settings_from
from tui.cli.output import CliError, cells, pad, say
from tui.cli.words import sync_summary, word
from tui.core.settings import Settings

if TYPE_CHECKING:
    from local_cache.local_store import LocalStore
    from tui.cli.options import Subparsers
    from tui.core.i18n import Strings

__all__ = ["add_parser", "cmd_status", "cmd_sync", "status_lines"]

#: The labels of `hotline status`, in the order it prints them.
STATUS_LABELS = ("server", "dispatcher", "cache", "cached", "cursor", "last_sync", "pending", "conflicts")


def add_parser(subparsers: Subparsers) -> None:
    sync = subparsers.add_parser(
        "sync",
        help="push the pending actions, then pull the changes, once",
        description=(
            "Push the local cache's pending actions to the central API (each exactly once, in order "
            "per request; a call taken in offline first, then what was recorded on it), then pull "
            "every change since the saved cursor, and print a summary. "
            "Exits 1 when it cannot finish; pending actions are never lost."
        ),
    )
    client_options(sync)
    sync.set_defaults(handler=cmd_sync)

    status = subparsers.add_parser(
        "status",
        help="show the local cache: cursor, pending actions, conflicts",
        description=(
            "Print the local cache's state: server, dispatcher, cached requests, cursor, last sync, "
            "pending actions and conflicts. Needs no network when the dispatcher name is configured."
        ),
    )
    client_options(status)
    status.set_defaults(handler=cmd_status)


def cmd_sync(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    token = require_token(settings)
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
    from local_cache.sync import SyncEngine

    async with open_client(settings, token) as client:
        dispatcher = settings.dispatcher or (await client.me()).name
        store = _open_store(settings, dispatcher)
        try:
            for message in store.messages:
                say(f"hotline: {one_line(message)}", err=True)
            lang = settings.resolved_lang()
            if not store.is_sync_owner:
                raise CliError(word(lang, "sync.not_owner", directory=store.directory))
            summary = await SyncEngine(store, client).sync_once()
            _cached, pending, conflicts = store.counts()
        finally:
            store.close()
    say(sync_summary(lang, summary, settings.api_url))
    if conflicts:
        say(word(lang, "sync.conflicts", n=conflicts))
    if summary.errors:
        raise CliError(word(lang, "sync.pending", error=one_line(summary.errors[0]), n=pending))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    from local_cache.errors import CacheError
    from tui.core.i18n import Strings

    dispatcher = settings.dispatcher or ask_dispatcher(settings)
    try:
        store = _open_store(settings, dispatcher)
        try:
            lines = status_lines(store, Strings(settings.resolved_lang()))
        finally:
            store.close()
    except CacheError as exc:
        raise CliError(str(exc)) from exc
    say(*lines)
    return 0


def _open_store(settings: Settings, dispatcher: str) -> LocalStore:
    """The local cache of `dispatcher` on the configured server (HOTLINE_CACHE_DIR or XDG)."""
    from local_cache.local_store import LocalStore
    from local_cache.paths import cache_dir, cache_root
    from tui.core.collector import paused

    directory = cache_dir(cache_root(settings.cache_dir), settings.api_url, dispatcher)
    with paused():  # see `Session.open`
        return LocalStore.open(directory, server_url=settings.api_url, dispatcher=dispatcher)


def status_lines(store: LocalStore, strings: Strings) -> list[str]:
    """What `hotline status` prints about an open cache, in the language of `strings`."""
    from tui.core.error_words import describe

    lang = strings.lang
    labels = {key: word(lang, f"status.{key}") for key in STATUS_LABELS}
    wide = max(map(cells, labels.values())) + 2

    def line(key: str, value: str) -> str:
        return pad(labels[key], wide) + value

    cached, pending, conflicts = store.counts()
    last_sync = store.cache.last_sync
    lines = [
        line("server", store.server_url),
        line("dispatcher", one_line(store.dispatcher)),
        line("cache", str(store.directory)),
        line("cached", word(lang, "status.requests", n=cached)),
        line("cursor", f"{store.cache.cursor:,}"),
        line(
            "last_sync",
            last_sync.astimezone().isoformat(" ", "seconds") if last_sync else word(lang, "status.never"),
        ),
        line("pending", word(lang, "status.actions", n=pending)),
    ]
    calls = sum(1 for action in store.pending() if action.intake is not None)
    if calls:
        lines.append(word(lang, "status.calls", n=calls))
    oldest = store.pending()[:1]
    if oldest and oldest[0].attempts:
        first = oldest[0]
        lines.append(
            word(
                lang,
                "status.oldest",
                id=one_line(first.request_id),
                action=strings.action(first.action.action),
                n=first.attempts,
                error=one_line(first.last_error),
            )
        )
    lines.append(line("conflicts", f"{conflicts:,}"))
    for record in store.conflicts():
        lines.append(
            word(
                lang,
                "status.conflict",
                id=one_line(record.action.request_id),
                action=strings.action(record.action.action.action),
                kind=strings(f"conflicts.{record.kind}"),
                why=describe(record.code, record.params, strings, record.message),
                record=record.id,
            )
        )
    lines.extend(word(lang, "status.note", message=one_line(message)) for message in store.messages)
    return lines
