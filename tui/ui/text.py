"""Untrusted text as widgets show it: `literal` (a Rich `Text`, never parsed as markup) and `fit`
(padded or cut to an exact number of terminal cells; CJK characters take two). What is safe to
show is decided once, in `api_client.domain.untrusted_text`."""

from __future__ import annotations

from typing import Final

from rich.cells import cell_len, get_character_cell_size, set_cell_size
from rich.style import Style
from rich.text import Text

from api_client.domain.untrusted_text import clean, one_line

__all__ = ["ELLIPSIS", "fit", "literal"]

#: What ends a truncated cell.
ELLIPSIS: Final = "…"


def literal(s: str, style: str | Style = "", *, multiline: bool = False) -> Text:
    """A `Text` that shows `s` exactly as written: cleaned, never parsed as markup.

    One line unless `multiline` (then newlines and tabs are kept). No emoji codes, no
    highlighting, no links: a `Text` built this way carries only `style`.
    """
    return Text(clean(s, keep_newlines=True) if multiline else one_line(s), style=style, end="")


def fit(s: str, width: int) -> str:
    """`s` padded with spaces or truncated (ending in `…`) to exactly `width` terminal cells.

    Double-width (CJK) characters count two cells and are never cut in half. `s` should already be
    clean (see `one_line`): a control character has no defined width.
    """
    if width <= 0:
        return ""
    if s.isascii():
        size = len(s)
        if size <= width:
            return s + " " * (width - size)
        return s[: width - 1] + ELLIPSIS
    if 2 * len(s) <= width:  # fits whatever the characters
        return s + " " * (width - cell_len(s))
    # Walk only as far as the column reaches (a description may be far longer than its cell).
    used = 0
    cut = head = -1
    for index, char in enumerate(s):
        size = get_character_cell_size(char)
        if size == 0:  # a combining sequence: let Rich measure the whole
            return _fit_slowly(s, width)
        if cut < 0 and used + size > width - 1:
            cut, head = index, used
        used += size
        if used > width:
            return s[:cut] + ELLIPSIS + " " * (width - 1 - head)
    return s + " " * (width - used)


def _fit_slowly(s: str, width: int) -> str:
    size = cell_len(s)
    if size <= width:
        return s + " " * (width - size)
    head = set_cell_size(s, width - 1).rstrip(" ")
    return head + ELLIPSIS + " " * (width - 1 - cell_len(head))
