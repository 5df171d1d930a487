"""Finding a knowledge-base entry as a call-taker types: Chinese words, pinyin or initials.

`KnowledgeIndex(entries).search(query, today=...)` ranks entries by what the query shares with
their keywords, title and answer (weighted in that order):

- Chinese text is read as character pairs and single characters, each weighted by how rare it is
  among the entries, so a caller's whole sentence (`我妈想申请低保，要带什么材料`) finds the entry
  by its telling words; the same pairs read as pinyin syllables catch a slip of the pinyin
  keyboard (`低包` for 低保, `身分证` for 身份证);
- Latin letters are pinyin, whole (`dibao`) or initials (`ydjy` for 异地就医), matched against the
  keywords and the title; words separated by spaces each count.

Entries in force on `today` come first; the others (expired, not yet valid, withdrawn) follow,
for the call-taker to see, never to answer with; entries matching far worse than the best are left
out. A `category` puts its entries first among equals.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from api_client.knowledge import KnowledgeEntry
from tui.core.pinyin import matches, spellings

__all__ = ["KnowledgeIndex"]

#: How much a match counts in each field.
KEYWORD, TITLE, ANSWER = 3.0, 2.5, 1.0
#: A pair matched only by its sound counts this much of a pair matched by its characters.
SOUND = 0.9
#: A single character counts this much of a pair (it tells little alone).
SINGLE = 0.25
#: A category's entries are worth this much more when the search names it.
CATEGORY_BONUS = 1.2
#: An entry scoring under this share of the best one is not shown (what a long sentence shares
#: with it by chance): so an entry out of force that matches well is not pushed out of the list by
#: weak matches in force.
RELEVANT = 0.3

_CJK = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z]+")


@lru_cache(maxsize=8192)
def _syllable(char: str) -> str:
    return spellings(char)[0]


def _pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _sound_pairs(run: str) -> list[tuple[str, str]]:
    sounds = [_syllable(c) for c in run]
    return list(itertools.pairwise(sounds))


@dataclass
class _Indexed:
    entry: KnowledgeEntry
    grams: dict[str, float] = field(default_factory=dict)  # pair or character -> field weight
    sounds: dict[tuple[str, str], float] = field(default_factory=dict)
    names: list[tuple[str, float]] = field(default_factory=list)  # keywords and title, for pinyin

    def add(self, text: str, weight: float) -> None:
        for run in _CJK.findall(text):
            for gram in [*_pairs(run), *run]:
                self.grams[gram] = max(self.grams.get(gram, 0.0), weight)
            for pair in _sound_pairs(run):
                self.sounds[pair] = max(self.sounds.get(pair, 0.0), weight)


def _indexed(entry: KnowledgeEntry) -> _Indexed:
    item = _Indexed(entry)
    item.add(entry.answer, ANSWER)
    item.add(entry.title, TITLE)
    for keyword in entry.keywords:
        item.add(keyword, KEYWORD)
        item.names.append((keyword, KEYWORD))
    item.names.append((entry.title, TITLE))
    return item


def _rarity(counts: dict[object, int], total: int) -> dict[object, float]:
    return {key: math.log(1 + total / count) for key, count in counts.items()}


class KnowledgeIndex:
    """The entries, indexed once for searching (see the module docstring)."""

    def __init__(self, entries: Iterable[KnowledgeEntry]) -> None:
        self._items = [_indexed(entry) for entry in entries]
        gram_counts: dict[object, int] = {}
        sound_counts: dict[object, int] = {}
        for item in self._items:
            for gram in item.grams:
                gram_counts[gram] = gram_counts.get(gram, 0) + 1
            for pair in item.sounds:
                sound_counts[pair] = sound_counts.get(pair, 0) + 1
        total = max(1, len(self._items))
        self._gram_rarity = _rarity(gram_counts, total)
        self._sound_rarity = _rarity(sound_counts, total)

    def __len__(self) -> int:
        return len(self._items)

    def search(
        self, query: str, *, today: date, category: str | None = None, limit: int = 8
    ) -> list[KnowledgeEntry]:
        """The best entries for `query`, in force on `today` first, at most `limit`. An empty
        query lists the entries (of `category` first) in their order."""
        text = query.strip().lower()
        scored: list[tuple[bool, float, int, KnowledgeEntry]] = []
        for position, item in enumerate(self._items):
            score = self._score(item, text) if text else 1.0
            if score <= 0:
                continue
            if category and item.entry.category == category:
                score *= CATEGORY_BONUS
            scored.append((not item.entry.in_force(today), -score, position, item.entry))
        best = max((-found[1] for found in scored), default=0.0)
        relevant = [found for found in scored if -found[1] >= RELEVANT * best]
        relevant.sort(key=lambda found: found[:3])
        return [found[3] for found in relevant[: max(0, limit)]]

    def _score(self, item: _Indexed, text: str) -> float:
        score = 0.0
        for run in _CJK.findall(text):
            pairs = set(_pairs(run))
            for gram in pairs:
                score += self._gram_rarity.get(gram, 0.0) * item.grams.get(gram, 0.0)
            for char in set(run):
                score += SINGLE * self._gram_rarity.get(char, 0.0) * item.grams.get(char, 0.0)
            for first, second in set(itertools.pairwise(run)):
                if first + second in item.grams:
                    continue
                pair = (_syllable(first), _syllable(second))
                score += SOUND * self._sound_rarity.get(pair, 0.0) * item.sounds.get(pair, 0.0)
        for word in _LATIN.findall(text):
            score += _spelled(item, word)
        return score


def _spelled(item: _Indexed, word: str) -> float:
    """How well Latin letters `word` spell a keyword or the title: whole, as initials, or in part."""
    best = 0.0
    for name, weight in item.names:
        full, initials = spellings(name)
        if word in (full, initials):
            best = max(best, 2.0 * weight)
        elif len(word) >= 2 and matches(word, name):
            best = max(best, weight * len(word) / max(len(full), 1) + weight / 2)
    return best
