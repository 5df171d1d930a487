"""The street's gazetteer, indexed for the call-taker: type-ahead and whole addresses.

    index = PlaceIndex.from_places(directory.places)
    index.search("yzdl3")          # [PlaceHit(裕中东里 3号楼, "裕中东里社区 › 裕中东里 › 3号楼"), ...]
    index.resolve("裕中东里三号楼2单元301")   # the place 3号楼 of 裕中东里
    index.covering_units(place.id)  # its community office, property company, utilities

Every place but a building is known by its names: its own, the ones the street's naming rules
give it (`api_client.domain.place_names`: 德外 for 德胜门外, 新康里 for 德外新康里, a community
without 社区), and its `aliases`. A building is found by its number after its compound's name
(`address_forms.read_tail`). `resolve` reads a whole address (`address_forms.normalize`) and
answers the most specific place it names: a building, else a compound, a landmark, a road, a
community; a name the text spells with a homophone slip (得胜里 for 德胜里) is found by its sound
when no name is spelled right. Deterministic: the same text and places give the same place, so a
request's address is enough to find its place again (`address`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from threading import Lock
from typing import ClassVar

from api_client.domain.coverage import covering_units
from api_client.domain.place_names import (
    GATE_ROAD,
    LANE,
    ROAD,
    compound_forms,
    landmark_forms,
    normalize_numerals,
    road_forms,
    street_kind,
)
from api_client.places import Place, PlaceKind
from tui.core.pinyin import spellings
from tui.core.places.address_forms import normalize, read_tail

__all__ = ["PlaceHit", "PlaceIndex"]

#: How specific a place is, most first: of the names an address gives, the most specific wins.
_SPECIFIC = {
    PlaceKind.building: 0,
    PlaceKind.compound: 1,
    PlaceKind.landmark: 2,
    PlaceKind.road: 3,
    PlaceKind.community: 4,
}
#: Type-ahead tiers (lower first).
_EXACT, _PREFIX, _INSIDE = 0, 1, 2
_SEPARATOR = " › "
_BUILDING_NAME = re.compile(r"^(\d{1,3})号楼$")
_LATIN_QUERY = re.compile(r"^([a-z]*)(\d*)$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class PlaceHit:
    """A place found by type-ahead, with its path (`德胜里社区 › 裕中东里 › 3号楼`)."""

    place: Place
    label: str


@dataclass(frozen=True, slots=True)
class _Name:
    """One spelling of a place: as written, in full pinyin and in pinyin initials."""

    form: str
    spelled: str
    initials: str


class PlaceIndex:
    """The gazetteer's places, indexed once (see the module). Read-only after it is made."""

    _last: ClassVar[tuple[Sequence[Place], PlaceIndex] | None] = None
    _last_lock: ClassVar[Lock] = Lock()

    def __init__(self, places: Iterable[Place]) -> None:
        self._places: dict[str, Place] = {}
        for place in places:
            self._places.setdefault(place.id, place)
        self._buildings: dict[str, dict[int, Place]] = defaultdict(dict)
        for place in self._places.values():
            found = _BUILDING_NAME.match(normalize_numerals(place.name))
            if place.kind is PlaceKind.building and place.parent is not None and found is not None:
                self._buildings[place.parent].setdefault(int(found.group(1)), place)
        self._forms: dict[str, list[str]] = defaultdict(list)  # a spelling → the places so named
        self._names: dict[str, list[_Name]] = {}
        for place_id, forms in self._spellings().items():
            for form in forms:
                if place_id not in self._forms[form]:
                    self._forms[form].append(place_id)
        for form, owners in self._forms.items():
            spelled, initials = spellings(form)
            for place_id in owners:
                self._names.setdefault(place_id, []).append(_Name(form, spelled, initials))
        for place_id in self._names:  # as written too, for what is typed before its counter (德胜里一)
            written = self._places[place_id].name.lower()
            if all(name.form != written for name in self._names[place_id]):
                self._names[place_id].append(_Name(written, *spellings(written)))
        ordered = sorted(self._forms, key=lambda form: (-len(form), form))
        self._pattern = _alternatives(ordered)
        self._sound = _Sounds(ordered)
        sounded: dict[str, list[str]] = defaultdict(list)
        for form in ordered:
            if len(form) >= 3:  # 德外 / 的外 would be everywhere
                sounded[self._sound.fold(form)].extend(self._forms[form])
        self._sounded = {form: list(dict.fromkeys(owners)) for form, owners in sounded.items()}
        self._sound_pattern = _alternatives(sorted(self._sounded, key=lambda form: (-len(form), form)))

    @classmethod
    def from_places(cls, places: Sequence[Place]) -> PlaceIndex:
        """The index of `places`; the same object again for the same list (a directory's places
        are indexed once however many screens ask)."""
        with cls._last_lock:
            last = cls._last
            if last is not None and last[0] is places:
                return last[1]
        index = cls(places)
        with cls._last_lock:
            cls._last = (places, index)
        return index

    def __len__(self) -> int:
        return len(self._places)

    def place(self, place_id: str) -> Place | None:
        return self._places.get(place_id)

    # ------------------------------------------------------------------ the names

    def _spellings(self) -> dict[str, set[str]]:
        """Each place's spellings (buildings have none: they are found under their compound)."""
        roads = [p.name for p in self._places.values() if p.kind is PlaceKind.road]
        road_spellings = [(road, road_forms(road)) for road in sorted(roads) if street_kind(road) == ROAD]
        shorts = {
            found.group("head") + "外" for road in roads if (found := GATE_ROAD.match(road)) is not None
        }
        communities = [p.name for p in self._places.values() if p.kind is PlaceKind.community]
        areas = sorted({name.removesuffix("社区") for name in communities} | shorts, key=len, reverse=True)
        out: dict[str, set[str]] = {}
        for place in self._places.values():
            name = place.name
            if place.kind is PlaceKind.building:
                continue
            if place.kind is PlaceKind.community:
                forms = {name, name.removesuffix("社区")}
            elif place.kind is PlaceKind.landmark:
                forms = landmark_forms(name)
            elif place.kind is PlaceKind.road and street_kind(name) != LANE:
                forms = road_forms(name)
            else:
                forms = compound_forms(name, road_spellings, areas)
            forms |= set(place.aliases)
            out[place.id] = {said for form in forms if (said := normalize(form))}
        return out

    # ------------------------------------------------------------------ a whole address

    def resolve(self, text: str, *, community: str = "") -> Place | None:
        """The most specific place `text` names (a whole address as typed or said), or None.
        Of places one spelling names, the one in `community` (a community id) comes first."""
        said = normalize(text)
        if not said:
            return None
        found = [(m.start(), m.end(), self._forms[m.group()]) for m in self._pattern.finditer(said)]
        if not found:
            folded = self._sound.fold(said)
            found = [
                (m.start(), m.end(), self._sounded[m.group()]) for m in self._sound_pattern.finditer(folded)
            ]
        if not found:
            return None
        best: tuple[tuple[int, int, int, int], Place, int] | None = None
        for order, (_start, end, owners) in enumerate(found):
            for rank, place_id in enumerate(owners):
                place = self._places[place_id]
                here = 0 if community and place.community == community else 1
                key = (_SPECIFIC[place.kind], here, order, rank)
                if best is None or key < best[0]:
                    best = (key, place, end)
        assert best is not None
        _, place, end = best
        if place.kind is PlaceKind.compound:
            building = read_tail(said[end:]).building
            if building is not None and building in self._buildings.get(place.id, {}):
                return self._buildings[place.id][building]
        return place

    def address(self, place_id: str) -> str:
        """The place's address as a request keeps it (`Location.address`): its name, a building's
        after its compound's (裕中东里3号楼). `resolve` finds the place again from it."""
        place = self._places.get(place_id)
        if place is None:
            return ""
        parent = self._places.get(place.parent) if place.parent is not None else None
        if place.kind is PlaceKind.building and parent is not None:
            return parent.name + place.name
        return place.name

    def label(self, place_id: str) -> str:
        """The place's path from its community: `德胜里社区 › 裕中东里 › 3号楼`."""
        path: list[str] = []
        seen: set[str] = set()
        place = self._places.get(place_id)
        while place is not None and place.id not in seen:
            seen.add(place.id)
            path.append(place.name)
            place = self._places.get(place.parent) if place.parent is not None else None
        return _SEPARATOR.join(reversed(path))

    def covering_units(self, place_id: str) -> list[str]:
        """The units covering the place (`api_client.domain.coverage`: a building as its compound)."""
        return covering_units(place_id, self._places)

    @property
    def places(self) -> Mapping[str, Place]:
        return self._places

    # ------------------------------------------------------------------ type-ahead

    def search(self, query: str, limit: int = 8) -> list[PlaceHit]:
        """Places for what a call-taker has typed: Chinese, full pinyin or pinyin initials of any
        of a place's names (`yzdl`, `yuzhong`, `裕中`), a building number after a compound's
        (`yzdl3`, `裕中东里3号楼`) after the names with that number in them (`dsl1`: 德胜里一区);
        a whole address first as `resolve` reads it (unless names the query begins are as
        specific). Best first: the whole name, then a name's start, then inside a name; compounds
        before landmarks, roads and communities; shorter names first."""
        wanted = "".join(query.split()).lower()
        if not wanted:
            return []
        resolved: Place | None = None
        said = wanted
        if _CJK.search(wanted):
            said = normalize(wanted)
            resolved = self.resolve(wanted)
            letters, number = said, ""
            if (digits := re.search(r"(\d{1,3})(?:号楼|号|楼)?$", said)) is not None:
                letters, number = said[: digits.start()], digits.group(1)
        else:
            found = _LATIN_QUERY.match(wanted)
            letters, number = (found.group(1), found.group(2)) if found is not None else (wanted, "")
        ranked = self._ranked(letters)
        hits: list[Place] = [resolved] if resolved is not None and resolved.kind is PlaceKind.building else []
        if number:
            hits += self._ranked(said)  # a name with a number in it (德胜里1区, 新外28号院) first
            for compound in [p for p in ranked if p.kind is PlaceKind.compound][:3]:
                buildings = self._buildings.get(compound.id, {})
                hits += [buildings[n] for n in sorted(buildings) if str(n).startswith(number)]
        if resolved is not None and not any(_SPECIFIC[p.kind] <= _SPECIFIC[resolved.kind] for p in ranked):
            hits.append(resolved)  # a whole address: what it names before the names it begins
        hits += ranked
        hits += [resolved] if resolved is not None else []
        unique = list({place.id: place for place in hits}.values())
        return [PlaceHit(place, self.label(place.id)) for place in unique[:limit]]

    def _ranked(self, wanted: str) -> list[Place]:
        if not wanted:
            return []
        scored: list[tuple[tuple[int, int, int, int, str], Place]] = []
        for place_id, names in self._names.items():
            best: tuple[int, int] | None = None
            for name in names:
                for rank, text in enumerate((name.form, name.initials, name.spelled)):
                    tier = (
                        _EXACT
                        if text == wanted
                        else _PREFIX
                        if text.startswith(wanted)
                        else _INSIDE
                        if wanted in text
                        else None
                    )
                    if tier is not None and (best is None or (tier, rank) < best):
                        best = (tier, rank)
            if best is not None:
                place = self._places[place_id]
                key = (
                    best[0],
                    _SPECIFIC[place.kind] if place.kind is not PlaceKind.community else 5,
                    best[1],
                )
                scored.append(((*key, len(place.name), place.id), place))
        scored.sort(key=lambda pair: pair[0])
        return [place for _, place in scored]


def _alternatives(forms: Sequence[str]) -> re.Pattern[str]:
    """A pattern finding any of `forms` (longest first at each place)."""
    return re.compile("|".join(map(re.escape, forms)) or "(?!)")


class _Sounds:
    """Characters folded by sound: each Chinese character a name's character of the same syllable
    (得 as 德, 玉 as 裕), so that a homophone slip spells the name."""

    def __init__(self, forms: Iterable[str]) -> None:
        self._first: dict[str, str] = {}
        for form in forms:
            for ch in form:
                if _CJK.match(ch):
                    self._first.setdefault(spellings(ch)[0], ch)

    def fold(self, text: str) -> str:
        return "".join(self._first.get(spellings(ch)[0], ch) if _CJK.match(ch) else ch for ch in text)
