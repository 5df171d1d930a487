"""`Filter`: what narrows a queue, and how free text matches a row.

Free text: every whitespace-separated word must occur in the row's `haystack`, so Chinese
substrings work; full-width letters and digits typed with an IME match their ASCII forms; a word
of Latin letters also finds category, community and unit names by their pinyin initials or full
pinyin (`dsl` → 德胜里社区).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from tui.core.pinyin import matches as pinyin_matches
from tui.core.queue.rows import QueueRow, fold

__all__ = ["NO_FILTER", "Filter", "name_matches", "search_text"]


@dataclass(frozen=True, slots=True)
class Filter:
    """What narrows a queue. Empty sets and empty text restrict nothing."""

    text: str = ""
    categories: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()  # matches the lead unit or any co-unit
    channels: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    #: The search words: `text` folded and split on whitespace, duplicates dropped.
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(dict.fromkeys(fold(self.text).split())))

    @property
    def is_empty(self) -> bool:
        """True when the filter lets every row through."""
        return not (
            self.words or self.categories or self.communities or self.units or self.channels or self.tiers
        )

    def matches(self, row: QueueRow) -> bool:
        """Whether one row passes (the model filters whole queues faster; this is the rule)."""
        if self.categories and row.category not in self.categories:
            return False
        if self.communities and row.community not in self.communities:
            return False
        if self.tiers and row.tier not in self.tiers:
            return False
        if self.channels and row.channel not in self.channels:
            return False
        if self.units and row.lead_unit not in self.units and self.units.isdisjoint(row.co_units):
            return False
        if self.words:
            haystack = row.haystack
            return all(word in haystack for word in self.words)
        return True


NO_FILTER: Final = Filter()


#: `fold` of a display name: few distinct ones, folded once each, not once per search.
_fold_name: Final = lru_cache(maxsize=4096)(fold)


def name_matches(word: str, name: str) -> bool:
    """A search word matches a category, community or unit name by its characters, or, for a
    word of two or more Latin letters, by the name's pinyin initials or full pinyin (`dsl` and
    `deshengli` find 德胜里社区)."""
    if word in _fold_name(name):
        return True
    if len(word) < 2 or not word.isascii() or not word.isalpha():
        return False
    return pinyin_matches(word, name)


def search_text(row: QueueRow) -> str:
    """What the model scans per row: `QueueRow.haystack` without the display names (searched as
    columns) and without the address when the description already contains it (20–40 % less
    text to scan; a word found in the address is found in the description then)."""
    parts = [row.id, row.description]
    if row.address not in row.description:
        parts.append(row.address)
    parts.append(row.caller)
    return fold("\n".join(parts))
