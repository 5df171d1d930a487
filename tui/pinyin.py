"""Pinyin spellings of Chinese names, for type-ahead and search by Latin letters.

Dispatchers type `dsj` for 德胜街道 and `deshengli` for 德胜里: `spellings` gives both forms of a
name once (cached), for `tui.unit_search` and the queue search.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

__all__ = ["spellings"]


@lru_cache(maxsize=4096)
def spellings(name: str) -> tuple[str, str]:
    """The full pinyin and the pinyin initials of a name, lower case, no spaces:
    `德胜街道` → (`deshengjiedao`, `dsjd`). Characters without pinyin are kept as they are."""
    spelled = lazy_pinyin(name, errors="default")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(spelled).lower(), "".join(initials).lower()
