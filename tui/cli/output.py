"""What the command prints: its plain-text tables and counts, and `CliError`, a failure told in one
line (exit status 1)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from api_client.domain.untrusted_text import one_line

__all__ = ["CliError", "plural", "table"]


class CliError(Exception):
    """A failure to report in one line, with exit status 1."""


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns (CJK characters count two), every cell made printable."""

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)

    cells = [[one_line(cell) for cell in row] for row in (header, *rows)]
    widths = [max(width(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
