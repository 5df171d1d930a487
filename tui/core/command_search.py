"""Finding a command by what a dispatcher types: its words in either language, and for Chinese
words their pinyin or its initials (`派单`, `paidan`, `pd`, `dispatch` all find 派单).

`command_score` ranks: the whole word, then its start, then anywhere in it; pinyin a little
below the characters themselves. 0 means the command does not match.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from tui.core.pinyin import matches as pinyin_matches
from tui.core.pinyin import spellings

__all__ = ["command_score", "normalized"]


def normalized(text: str) -> str:
    """Text as commands are compared: NFKC (full-width letters as ASCII), lower case, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def command_score(query: str, words: Iterable[str]) -> float:
    """How well `query` names a command known by `words` (its names in both languages)."""
    typed = normalized(query)
    if not typed:
        return 0.0
    latin = typed.isascii() and typed.isalpha()
    best = 0.0
    for word in words:
        name = normalized(word)
        if not name:
            continue
        best = max(best, _score(typed, name))
        if latin and len(typed) >= 2 and not name.isascii():
            best = max(best, 0.95 * _pinyin_score(typed, name))
    return best


def _score(typed: str, name: str) -> float:
    if typed == name:
        return 1.0
    if name.startswith(typed):
        return 0.9
    if typed in name:
        return 0.7
    return 0.0


def _pinyin_score(typed: str, name: str) -> float:
    full, initials = spellings(name)
    best = max(_score(typed, full), _score(typed, initials))
    if not best and pinyin_matches(typed, name):  # a character read another way (`长`: c or z)
        best = 0.6
    return best
