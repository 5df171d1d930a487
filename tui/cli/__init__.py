"""The `hotline` command: `main` and the parser, assembled from one module per command group.

Each group module adds its subcommands (`add_parser`) and imports FastAPI, uvicorn, Textual and
httpx only inside the handler that needs them, so `hotline --help` and the headless subcommands
start quickly.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO

from api_client.domain.untrusted_text import one_line
from api_client.transport_security import InsecureTransportWarning
from tui.cli import app, knowledge, report, rules, server, sync, whoami
from tui.cli.options import client_options
from tui.cli.output import CliError, say
from tui.core.settings import ConfigError

__all__ = ["build_parser", "main"]


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
    client_options(parser)
    parser.set_defaults(handler=app.cmd_app)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    server.add_parser(subparsers)  # serve, token
    app.add_parser(subparsers)  # demo
    whoami.add_parser(subparsers)
    sync.add_parser(subparsers)  # sync, status
    report.add_parser(subparsers)
    rules.add_parser(subparsers)
    knowledge.add_parser(subparsers)  # kb
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(report.glue_since(sys.argv[1:] if argv is None else list(argv)))
    handler: Callable[[argparse.Namespace], int] = args.handler
    from central_api.store import StoreError

    try:
        with warnings.catch_warnings():  # restores showwarning when the command ends
            warnings.showwarning = _show_warning(warnings.showwarning)
            return handler(args)
    except (CliError, ConfigError, StoreError) as exc:
        say(f"hotline: {one_line(str(exc))}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130


class ShowWarning(Protocol):
    """The signature of `warnings.showwarning`."""

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None: ...


def _show_warning(shown: ShowWarning) -> ShowWarning:
    """The client's warning that a token travels in clear text as one `hotline: warning:` line
    on stderr; any other warning as Python shows it."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, InsecureTransportWarning):
            say(f"hotline: warning: {one_line(str(message))}", err=True, flush=True)
        else:
            shown(message, category, filename, lineno, file, line)

    return show
