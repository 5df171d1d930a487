"""The options every client command takes, and what they resolve to: the settings, the token and
the dispatcher's name."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from api_client.domain.untrusted_text import one_line
from tui.cli.output import CliError
from tui.cli.words import word
from tui.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from api_client.client import HotlineClient

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "Subparsers",
    "ask_dispatcher",
    "client_options",
    "open_client",
    "require_token",
    "server_call",
    "settings_from",
]


def client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config file (default: $HOTLINE_CONFIG or XDG config dir)"
    )
    parser.add_argument("--api-url", help="central API base URL (env HOTLINE_API_URL)")
    parser.add_argument("--dispatcher", help="dispatcher name (env HOTLINE_DISPATCHER)")
    parser.add_argument("--lang", choices=("zh", "en"), help="interface language (env HOTLINE_LANG)")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config,
        api_url=args.api_url,
        dispatcher=args.dispatcher,
        lang=args.lang,
    )


def require_token(settings: Settings) -> str:
    token = settings.resolve_token()
    if token is None:
        raise CliError(word(settings.resolved_lang(), "error.no_token"))
    return token


def open_client(settings: Settings, token: str | None, **options: Any) -> HotlineClient:
    """A client of the configured central API (its private CA when one is configured);
    `options` are `HotlineClient`'s. A ValueError for a malformed address, token or CA file."""
    from api_client.client import HotlineClient

    ca_file = settings.ca_file.expanduser() if settings.ca_file is not None else None
    return HotlineClient(settings.api_url, token, ca_file=ca_file, **options)


def ask_dispatcher(settings: Settings) -> str:
    """The token holder's name from the server, for a command without a configured dispatcher."""
    lang = settings.resolved_lang()
    need = word(lang, "error.need_dispatcher")
    token = settings.resolve_token()
    if token is None:
        raise CliError(need)

    async def ask() -> str:
        async with open_client(settings, token, attempts=1, deadline=5.0) as client:
            return (await client.me()).name

    from api_client.errors import HotlineError

    try:
        return asyncio.run(ask())
    except (HotlineError, ValueError) as exc:
        reason = exc.message if isinstance(exc, HotlineError) else str(exc)
        raise CliError(word(lang, "error.need_dispatcher_why", need=need, reason=one_line(reason))) from exc


def server_call(args: argparse.Namespace, work: Callable[[HotlineClient], Coroutine[None, None, int]]) -> int:
    """Run `work` with a client for the configured server and token; any failure of the central
    API (403, 404, 409, 422 ...) is one line: the words for its code, else its own message."""
    settings = settings_from(args)
    token = require_token(settings)
    from api_client.errors import Forbidden, HotlineError

    async def run() -> int:
        async with open_client(settings, token) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except HotlineError as exc:
        from tui.core.error_words import describe
        from tui.core.i18n import Strings

        lang = settings.resolved_lang()
        said = describe(exc.code, exc.params, Strings(lang), exc.message)
        raise CliError(
            word(lang, "error.forbidden", said=said) if isinstance(exc, Forbidden) else said
        ) from exc
    except ValueError as exc:  # a malformed URL or token, refused before any network call
        raise CliError(one_line(str(exc))) from exc
