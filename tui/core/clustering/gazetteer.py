"""The street's place names, one place to many spellings: the catalogue's compounds, lanes and
roads (`STREETS`, the same as `central_api.catalogue.COMMUNITIES`), the landmarks that stand
where roads cross (`LANDMARKS`), the spellings callers use for each, made by the street's naming
rules (`aliases`, by `api_client.domain.place_names`: 德外 for 德胜门外, 新康里 for 德外新康里, 三环
for 北三环中路, 1区 for 一区), the communities' names as areas (六铺炕: its lanes and roads), and
`GAZETTEER.scan`, which finds them in a text, with the shorthand a caller of the community uses
(北里, 一巷) and the homophone slips of a pinyin keyboard (麻甸桥, 黄四大街, 安的路). Pure data and
functions."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from api_client.domain.place_names import (
    COMPOUND,
    GATE_ROAD,
    LANE,
    ROAD,
    compound_forms,
    landmark_forms,
    normalize_numerals,
    road_forms,
    street_kind,
)

__all__ = [
    "AREA",
    "BEYOND",
    "COMPOUND",
    "GAZETTEER",
    "LANDMARK",
    "LANDMARKS",
    "LANE",
    "ROAD",
    "STREETS",
    "Found",
    "Gazetteer",
    "Name",
    "aliases",
    "kind_of",
    "syllable",
]

#: Each community: its name and its streets (compounds, lanes, roads), as the catalogue has them
#: (`tests/test_duplicates.py` checks that they agree).
STREETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "c01": ("德胜里社区", ("德胜里一区", "德胜里二区", "德胜门外大街")),
    "c02": ("新康社区", ("新康街", "新康路", "德外新康里")),
    "c03": ("双旗杆社区", ("双旗杆东里", "双旗杆西里", "黄寺大街")),
    "c04": ("裕中西里社区", ("裕中西里", "裕民中路", "北三环中路")),
    "c05": ("裕中东里社区", ("裕中东里", "裕民路", "林业局小区")),
    "c06": ("黄寺大街社区", ("黄寺大街", "黄寺北巷", "德外黄寺里")),
    "c07": ("六铺炕社区", ("六铺炕一巷", "六铺炕二巷", "六铺炕三巷", "六铺炕街")),
    "c08": ("新外大街社区", ("新街口外大街", "新外大街北里", "新外28号院")),
    "c09": ("人定湖社区", ("人定湖北巷", "人定湖西里", "人定湖东巷")),
    "c10": ("马甸社区", ("马甸路", "马甸南村", "马甸东路", "北三环中路")),
    "c11": ("安德路社区", ("安德路", "安德里", "安德路南里")),
    "c12": ("新明家园社区", ("新明家园", "新明胡同", "新街口外大街")),
    "c13": ("阳光丽景社区", ("阳光丽景", "德胜门外大街", "德外关厢")),
    "c14": ("新风街社区", ("新风街", "新风北里", "新风南里")),
    "c15": ("德外大街社区", ("德胜门外大街", "德外关厢", "德外西巷", "德外东巷")),
    "c16": ("六铺炕北小街社区", ("六铺炕北小街", "六铺炕北里")),
    "c17": ("石油大院社区", ("六铺炕石油大院", "六铺炕街", "石油北巷")),
    "c18": ("安德里北街社区", ("安德里北街", "安德里北街北巷", "安德路北里")),
    "c19": ("裕民路社区", ("裕民路", "裕民东里", "裕民西巷")),
    "c20": ("北三环中路社区", ("北三环中路", "三环中路北里", "马甸桥西里")),
}

#: Named bridges that stand where roads cross: a caller at a junction of two of them and a caller
#: "under the bridge" are at one place.
LANDMARKS: dict[str, tuple[str, ...]] = {
    "马甸桥": ("北三环中路", "德胜门外大街", "京藏高速"),
}
#: Roads beyond the street office that callers name at its edge.
BEYOND: tuple[str, ...] = ("京藏高速",)

LANDMARK, AREA = "landmark", "area"
#: Words too common to stand for one place even in a caller's own community.
_SUFFIX = "号院楼区巷里街路村园厢"
_TOO_COMMON = frozenset(
    {"大街", "小街", "中路", "东路", "西路", "南路", "北路", "胡同", "小区", "大院", "家园"}
)


def kind_of(name: str) -> str:
    """What a street's name says it is: a compound (…里, …区, …院), a lane (…巷, …胡同), a
    landmark, or a road."""
    return LANDMARK if name in LANDMARKS else street_kind(name)


class Name(NamedTuple):
    """A place name: its one spelling, what it is, and the communities it lies in."""

    name: str
    kind: str
    communities: frozenset[str]


def _gate_shorts() -> frozenset[str]:
    """The short forms of the roads outside a gate (德外, 新外)."""
    return frozenset(
        match.group("head") + "外"
        for _, streets in STREETS.values()
        for street in streets
        if (match := GATE_ROAD.match(street)) is not None and kind_of(street) == ROAD
    )


_GATE_SHORTS = _gate_shorts()


def _areas() -> list[str]:
    """Names of areas that come before a compound's own name (德外新康里, 六铺炕石油大院): the
    communities' names and the gate roads' short forms, longest first."""
    names = {name.removesuffix("社区") for name, _ in STREETS.values()} | _GATE_SHORTS
    return sorted(names, key=len, reverse=True)


def _roads() -> list[tuple[str, set[str]]]:
    """Every road with its spellings, longest spelling first."""
    roads = {s for _, streets in STREETS.values() for s in streets if kind_of(s) == ROAD}
    return [(road, road_forms(road)) for road in sorted(roads)]


def aliases(name: str) -> set[str]:
    """Every spelling of a street or landmark a caller may use anywhere in the street office
    (numerals as `normalize_numerals` writes them)."""
    if name in LANDMARKS:
        forms = landmark_forms(name)
    elif kind_of(name) == ROAD:
        forms = road_forms(name)
    else:
        forms = compound_forms(name, _roads(), _areas())
    return {normalize_numerals(form) for form in forms}


def _shorthands(names: Iterable[str]) -> dict[str, str]:
    """The shorthand a caller of one community uses for one of its streets (北里, 一巷, 北小街):
    an ending of a spelling, two characters or more, that no other street there shares."""
    endings: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for form in aliases(name):
            for at in range(1, len(form) - 1):
                ending = form[at:]
                if form[at - 1].isdigit() and ending[0].isdigit():
                    continue  # 8号院 is not a shorthand of 28号院
                if (
                    ending not in _TOO_COMMON
                    and ending[0] not in _SUFFIX
                    and kind_of(ending) == kind_of(name)
                ):
                    endings[ending].add(name)
    return {ending: next(iter(owners)) for ending, owners in endings.items() if len(owners) == 1}


_DIGIT_SOUNDS = ("ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu")


@lru_cache(maxsize=8192)
def syllable(ch: str) -> str:
    """A character's pinyin without tone (its most common reading); other characters as they are."""
    if ch in "0123456789":
        return _DIGIT_SOUNDS[int(ch)]  # 1区 sounds like 一去
    if not "\u4e00" <= ch <= "\u9fff":
        return ch
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    from pypinyin import lazy_pinyin  # the app's dependency (tui.core.pinyin)

    return lazy_pinyin(ch)[0]


class _Sounds(dict[int, int]):
    """A `str.translate` table that writes each character of a syllable the names use as one
    character of that syllable (得 and 德 as 德, 四 and 1 as ...): homophones become equal. Filled
    as characters are met."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__()
        self._first: dict[str, int] = {}
        for name in names:
            for ch in name:
                self._first.setdefault(syllable(ch), ord(ch))

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        said = syllable(ch) if ch in "0123456789" or "\u4e00" <= ch <= "\u9fff" else ""
        self[code] = self._first.get(said, code)
        return self[code]


#: A trie of words: each node maps a character to the next node, "" to the end of a word.
_Trie = dict[str, "_Trie"]


def _pattern(words: Iterable[str]) -> re.Pattern[str]:
    """A pattern that finds any of `words`, the longest at each place (a trie of alternatives:
    linear in the text, as fast as the regular expression engine)."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return re.compile(build(trie) or "(?!)")


class Found(NamedTuple):
    """A place name found in a text: where, the names it may stand for (more than one when the
    spelling is ambiguous: 德胜里 for 德胜里一区 or 德胜里二区; an area's streets for 六铺炕) and
    what they are."""

    start: int
    end: int
    names: frozenset[str]
    kind: str


#: Homophone slips are looked for only in spellings this long (德外 / 的外 would be everywhere).
_SLIP_MIN = 3
#: Of two names found at one place, the kind that wins.
_KIND_ORDER = {COMPOUND: 0, LANE: 1, LANDMARK: 2, ROAD: 3, AREA: 4}
#: What a match was found as: a full spelling, a community's shorthand, a homophone slip.
_SPELLING, _SHORTHAND, _SLIP = 0, 1, 2


class Gazetteer:
    """The street's names and their spellings, and `scan`, which finds them in a text."""

    def __init__(
        self, streets: dict[str, tuple[str, tuple[str, ...]]], landmarks: dict[str, tuple[str, ...]]
    ) -> None:
        where: dict[str, set[str]] = defaultdict(set)
        for community, (_, names) in streets.items():
            for name in names:
                where[name].add(community)
        for name in (*landmarks, *BEYOND):
            where[name] = set()
        self.names = {n: Name(n, kind_of(n), frozenset(c)) for n, c in where.items()}
        self.landmarks = {name: frozenset(roads) for name, roads in landmarks.items()}
        spelled: dict[str, set[str]] = defaultdict(set)
        for name in self.names:
            for form in aliases(name):
                spelled[form].add(name)
        prefixes: dict[str, set[str]] = defaultdict(set)  # 德胜里 → 德胜里一区, 德胜里二区
        for form, owners in spelled.items():
            for end in range(3, len(form)):
                if kind_of(form[:end]) == COMPOUND:
                    prefixes[form[:end]] |= owners
        for form, owners in prefixes.items():
            spelled.setdefault(form, owners)
        areas: set[str] = set()
        for community_name, streets_there in streets.values():  # 六铺炕: its lanes and roads
            area = normalize_numerals(community_name.removesuffix("社区"))
            if area not in spelled:
                spelled[area] = set(streets_there)
                areas.add(area)
        self._spelled = {form: frozenset(owners) for form, owners in spelled.items()}
        self._exact = _pattern(self._spelled)
        self._fold = _Sounds(self._spelled)
        sounds: dict[str, set[str]] = defaultdict(set)
        for form, named in self._spelled.items():
            if len(form) >= _SLIP_MIN:
                sounds[form.translate(self._fold)] |= named
        self._sounded = {form: frozenset(owners) for form, owners in sounds.items()}
        self._sound = _pattern(self._sounded)
        self._areas = (frozenset(areas), frozenset(area.translate(self._fold) for area in areas))
        self._local: dict[str, tuple[re.Pattern[str], dict[str, frozenset[str]]]] = {}
        for community, (_, names) in streets.items():
            local = {e: frozenset({n}) for e, n in _shorthands(names).items() if e not in spelled}
            self._local[community] = (_pattern(local), local)
        roads = [name for name, n in self.names.items() if n.kind == ROAD]
        self._parts = {  # 德外关厢: the stretch of 德胜门外大街 outside the gate
            name: frozenset(r for r in roads if r != name and name.removesuffix("关厢") in road_forms(r))
            for name in roads
            if name.endswith("关厢")
        }
        self._roads: dict[str, frozenset[str]] = {
            community: frozenset(n for n in names if kind_of(n) != COMPOUND)
            for community, (_, names) in streets.items()
        }

    def _kind(self, names: frozenset[str]) -> str:
        return min((self.names[n].kind for n in names), key=_KIND_ORDER.__getitem__)

    def scan(self, text: str, community: str = "") -> list[Found]:
        """The names in `text` (numerals normalized), leftmost-longest, none overlapping; of two
        as long, a full spelling before the shorthand of `community` before a homophone slip;
        never inside a number (8号院 in 28号院). Linear in the text."""
        local, shorthand = self._local.get(community, (None, {}))
        found: list[tuple[int, int, int, str]] = []
        for match in self._exact.finditer(text):
            found.append((match.start(), -match.end(), _SPELLING, match.group()))
        if local is not None:
            for match in local.finditer(text):
                found.append((match.start(), -match.end(), _SHORTHAND, match.group()))
        for match in self._sound.finditer(text.translate(self._fold)):
            found.append((match.start(), -match.end(), _SLIP, match.group()))
        found.sort()
        tables = (self._spelled, shorthand, self._sounded)
        out: list[Found] = []
        for start, minus_end, table, form in found:
            if (out and start < out[-1].end) or (
                start and text[start].isdigit() and text[start - 1].isdigit()
            ):
                continue
            names = tables[table][form]
            area = table != _SHORTHAND and form in self._areas[table == _SLIP]
            out.append(Found(start, -minus_end, names, AREA if area else self._kind(names)))
        return out

    def part_of(self, name: str) -> frozenset[str]:
        """The road a street is a stretch of: 德外关厢 (the road outside 德胜门, 关厢) is on
        德胜门外大街."""
        return self._parts.get(name, frozenset())

    def spelled(self, spelling: str) -> frozenset[str]:
        """The names a whole spelling stands for (none when it is no known spelling)."""
        return self._spelled.get(normalize_numerals(spelling), frozenset())

    def roads_of(self, community: str) -> frozenset[str]:
        """The roads and lanes of a community."""
        return self._roads.get(community, frozenset())


GAZETTEER = Gazetteer(STREETS, LANDMARKS)
