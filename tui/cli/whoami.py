"""`hotline whoami`: reach the configured central API and say who the token is."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from api_client.domain.untrusted_text import one_line
from tui.cli.options import client_options, open_client, require_token, settings_from
from tui.cli.output import CliError, say
from tui.cli.words import role_word, word

if TYPE_CHECKING:
    from tui.cli.options import Subparsers

__all__ = ["add_parser", "cmd_whoami"]


def add_parser(subparsers: Subparsers) -> None:
    whoami = subparsers.add_parser(
        "whoami",
        help="check the configuration: reach the central API and show who the token is",
        description="Reach the configured central API with the configured token and print the identity.",
    )
    client_options(whoami)
    whoami.set_defaults(handler=cmd_whoami)


def cmd_whoami(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    token = require_token(settings)

    async def ask() -> tuple[str, str, int]:
        async with open_client(settings, token) as client:
            me = await client.me()
            head = await client.health()
        role = me.role.value if me.unit is None else f"{me.role.value} of {me.unit}"
        return me.name, role, head

    from api_client.errors import HotlineError

    try:
        name, role, head = asyncio.run(ask())
    except HotlineError as exc:
        raise CliError(exc.message) from exc
    except ValueError as exc:  # a malformed URL or token, refused before any network call
        raise CliError(str(exc)) from exc
    lang = settings.resolved_lang()
    role = role_word(lang, one_line(role))
    say(word(lang, "whoami", name=one_line(name), role=role, url=settings.api_url, head=head))
    return 0
