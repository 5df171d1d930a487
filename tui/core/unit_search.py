"""Type-ahead over handling units: Chinese names, full pinyin and pinyin initials.

Typing `dsj` finds 德胜街道…, `deshen` finds it too, and so does `德胜`. Matches come in tiers:
the whole distinctive name (`adl` is 安德路社区居委会 before 安德里北街社区居委会: the name without its
generic ending such as 社区居委会 or 有限公司), then a prefix, then a match inside the name. Within a
tier, units suggested for the request's category and community come first (in their order), then
units on duty before those off duty, then shorter names. With nothing typed, the suggested units
come first. The pinyin of every name is computed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from api_client.models import Unit
from tui.core.pinyin import spellings

#: Endings that name what kind of body a unit is, not which one (longest first).
GENERIC_ENDINGS: tuple[str, ...] = (
    "社区居委会",
    "有限公司",
    "居委会",
    "分公司",
    "办公室",
    "公司",
)


@dataclass(frozen=True, slots=True)
class _Entry:
    unit: Unit
    name: str  # lower-cased name
    spelled: str  # full pinyin, no spaces: "deshengjiedao"
    initials: str  # "dsjd"
    unit_id: str
    core: frozenset[str]  # the name without its generic ending: as written, spelled, initials


@dataclass(frozen=True, slots=True)
class UnitMatch:
    unit: Unit
    suggested: bool
    score: tuple[int, int]  # (tier, rank): lower is better


def _core_name(name: str) -> str:
    for ending in GENERIC_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)]
    return name


def _entry(unit: Unit) -> _Entry:
    spelled, initials = spellings(unit.name)
    core = _core_name(unit.name.lower())
    core_spelled, core_initials = spellings(core)
    return _Entry(
        unit=unit,
        name=unit.name.lower(),
        spelled=spelled,
        initials=initials,
        unit_id=unit.id.lower(),
        core=frozenset({core, core_spelled, core_initials}),
    )


#: Match tiers (lower is better).
EXACT, PREFIX, INSIDE = 0, 1, 2


def _score(entry: _Entry, query: str) -> tuple[int, int] | None:
    """(tier, rank within it), lower better; None when the query does not match at all."""
    if not query:
        return (PREFIX, 0)
    if query in entry.core or query == entry.unit_id:
        return (EXACT, 0)
    texts = (entry.name, entry.initials, entry.spelled, entry.unit_id)
    for rank, text in enumerate(texts):
        if text.startswith(query):
            return (PREFIX, rank)
    for rank, text in enumerate(texts):
        if query in text:
            return (INSIDE, rank)
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
        """Units matching `query`: by match tier, suggested first, match rank, duty, length, name."""
        wanted = "".join(query.split()).lower()
        order = {unit_id: i for i, unit_id in enumerate(suggested)}
        found: list[tuple[tuple[int, int, int, int, int, int, str], UnitMatch]] = []
        for entry in self._entries:
            score = _score(entry, wanted)
            if score is None:
                continue
            rank = order.get(entry.unit.id)
            key = (
                score[0],
                0 if rank is not None else 1,
                rank if rank is not None else 0,
                score[1],
                0 if entry.unit.on_duty else 1,
                len(entry.name),
                entry.spelled,
            )
            found.append((key, UnitMatch(entry.unit, rank is not None, score)))
        found.sort(key=lambda pair: pair[0])
        matches = [match for _, match in found]
        return matches if limit is None else matches[:limit]
