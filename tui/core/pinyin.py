"""Pinyin spellings of Chinese names, for type-ahead and search by Latin letters.

Dispatchers type `dsj` for 德胜街道 and `deshengli` for 德胜里: `spellings` gives both forms of a
name once (cached), for `tui.core.unit_search` and the queue search.

pypinyin is imported on first use and without its phrase dictionary (`PYPINYIN_NO_PHRASES`):
the phrases add about 55 MB to every dispatcher's process on a shared server, and the names typed
here (units, communities, categories) are read well enough character by character. A character
with several readings matches by any of them (`长` is both `c` and `z`).
"""

from __future__ import annotations

import itertools
import os
from functools import lru_cache

__all__ = ["matches", "spellings"]

#: At most this many reading combinations are kept per name (names are short; few characters
#: have more than one reading).
_MAX_VARIANTS = 8


def _readings(name: str) -> list[list[str]]:
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    from pypinyin import Style, pinyin

    return pinyin(name, style=Style.NORMAL, heteronym=True, errors="default")


@lru_cache(maxsize=4096)
def spellings(name: str) -> tuple[str, str]:
    """The full pinyin and the pinyin initials of a name (its most common reading), lower case,
    no spaces: `德胜街道` → (`deshengjiedao`, `dsjd`). Characters without pinyin are kept."""
    first = [readings[0] for readings in _readings(name)]
    return "".join(first).lower(), "".join(map(_initial, first)).lower()


def _initial(reading: str) -> str:
    """A syllable's first letter; a run that was not Chinese (digits, Latin letters) whole."""
    return reading[:1] if reading.isalpha() and reading.islower() else reading


@lru_cache(maxsize=4096)
def _variants(name: str) -> tuple[str, ...]:
    """Every spelled and initials form of `name` over its characters' readings (bounded)."""
    combos = itertools.islice(itertools.product(*_readings(name)), _MAX_VARIANTS)
    forms: list[str] = []
    for combo in combos:
        forms.append("".join(combo).lower())
        forms.append("".join(map(_initial, combo)).lower())
    return tuple(dict.fromkeys(forms))


def matches(word: str, name: str) -> bool:
    """Whether Latin letters `word` occur in the pinyin (full or initials) of `name`."""
    return any(word in form for form in _variants(name))
