"""Type-ahead over handling units: Chinese names, full pinyin and pinyin initials.

Typing `dsj` finds 德胜街道…, `deshen` finds it too, and so does `德胜`. Units suggested for the
request's category and community come first, then better matches (a prefix beats a substring),
then units on duty before those off duty. The pinyin of every name is computed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from api_client.models import Unit
from tui.core.pinyin import spellings


@dataclass(frozen=True, slots=True)
class _Entry:
    unit: Unit
    name: str  # lower-cased name
    spelled: str  # full pinyin, no spaces: "deshengjiedao"
    initials: str  # "dsjd"
    unit_id: str


@dataclass(frozen=True, slots=True)
class UnitMatch:
    unit: Unit
    suggested: bool
    score: int  # lower is better


def _entry(unit: Unit) -> _Entry:
    spelled, initials = spellings(unit.name)
    return _Entry(
        unit=unit,
        name=unit.name.lower(),
        spelled=spelled,
        initials=initials,
        unit_id=unit.id.lower(),
    )


def _score(entry: _Entry, query: str) -> int | None:
    """0 best; None when the query does not match at all."""
    if not query:
        return 3
    for rank, text in enumerate((entry.name, entry.initials, entry.spelled, entry.unit_id)):
        if text.startswith(query):
            return rank
    for rank, text in enumerate((entry.name, entry.initials, entry.spelled, entry.unit_id), start=4):
        if query in text:
            return rank
    return None


class UnitMatcher:
    """Matches a typed query against every unit of the directory."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._entries = [_entry(unit) for unit in units]

    def __len__(self) -> int:
        return len(self._entries)

    def search(
        self, query: str, *, suggested: Sequence[str] = (), limit: int | None = None
    ) -> list[UnitMatch]:
        """Units matching `query`, suggested ones first (in their order), then by match, duty, name."""
        wanted = "".join(query.split()).lower()
        order = {unit_id: i for i, unit_id in enumerate(suggested)}
        found: list[tuple[tuple[int, int, int, int, str], UnitMatch]] = []
        for entry in self._entries:
            score = _score(entry, wanted)
            if score is None:
                continue
            rank = order.get(entry.unit.id)
            key = (
                0 if rank is not None else 1,
                rank if rank is not None else 0,
                score,
                0 if entry.unit.on_duty else 1,
                entry.spelled,
            )
            found.append((key, UnitMatch(entry.unit, rank is not None, score)))
        found.sort(key=lambda pair: pair[0])
        matches = [match for _, match in found]
        return matches if limit is None else matches[:limit]
