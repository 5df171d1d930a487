"""What the command prints, and the one way it prints: `say` (lines on stdout or stderr) and
`write` (a whole document on stdout), both through `api_client.domain.untrusted_text`, so no
escape sequence, C1 control or bidi override that a server, a cache or a citizen wrote reaches
the terminal. Also its plain-text tables, and `CliError`, a failure told in one line
(exit status 1)."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Sequence
from typing import TextIO

from api_client.domain.untrusted_text import clean, one_line

__all__ = ["CliError", "cells", "pad", "say", "table", "write"]


def cells(text: str) -> int:
    """The terminal cells `text` takes (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


class CliError(Exception):
    """A failure to report in one line, with exit status 1."""


def say(*lines: str, err: bool = False, flush: bool = False) -> None:
    """Print each of `lines` as one terminal line (on stderr with `err`), every unsafe character
    made visible (a line break inside a line too: `␊`)."""
    stream: TextIO = sys.stderr if err else sys.stdout
    for line in lines:
        print(clean(line), file=stream, flush=flush)


def write(text: str) -> None:
    """Write a whole document (a report in Markdown, CSV or JSON) to stdout: its line breaks and
    tabs kept, every other unsafe character made visible."""
    sys.stdout.write(clean(text, keep_newlines=True))


def pad(text: str, width: int) -> str:
    """`text` followed by spaces up to `width` terminal cells."""
    return text + " " * (width - cells(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns (CJK characters count two), every cell made printable."""
    shown = [[one_line(cell) for cell in row] for row in (header, *rows)]
    widths = [max(cells(row[i]) for row in shown) for i in range(len(header))]
    return ["  ".join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in shown]
