"""An address as a place: `normalize_address` (one spelling for the ways people write it) and
`parse_place` (the compound, lane or road, the building, unit and flat, and the spot on a road:
a landmark, a junction, a gate, a bus stop ...), read from the description where the address says
less. Names are the gazetteer's (`gazetteer`), spots are `spots`'."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from api_client.domain.place_names import normalize_numerals
from tui.core.clustering.gazetteer import AREA, COMPOUND, GAZETTEER, LANDMARK, LANE, ROAD, kind_of
from tui.core.clustering.negation import without_negated
from tui.core.clustering.spots import BRIDGE, CROSSING, GATE, PLACES, SIDE, UNDERPASS, find_spot, is_vague

__all__ = [
    "ADDRESS_READ",
    "DESCRIPTION_READ",
    "FACILITIES",
    "Place",
    "clear_caches",
    "is_road",
    "normalize_address",
    "parse_place",
]

# 区 is often typed 去 (both qu with a pinyin input method): the words dropped allow it.
_PREFIXES = re.compile(r"^(北京市|北京)?(西城[区去])?([^\W\d_]{2,3}街道(办事处)?)?")
_COMMUNITY = re.compile(r"^[\u4e00-\u9fff]{2,8}?社[区去](?=.)")
_DASH3 = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d-])")
_DASH2 = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})(?![\d-])")
_BUILDING_WORDS = re.compile(r"(?<!\d)(\d++)(?:号楼|栋|幢|号?楼(?=\d+(?:单元|门))|楼$)")
_UNIT_WORDS = re.compile(r"(号楼)(\d+)(?:单元|门)")
_NOISE = re.compile(r"小区里|小去里|小区内|小去内|小区|小去|院里|院内|室$")
_PUNCTUATION = str.maketrans("", "", " \t\n,，。、:：;；()（）")
_DIGITS = re.compile(r"\d")


def normalize_address(address: str) -> str:
    """One spelling for the ways people write an address. Not the report's hot-spot key
    (`tui.core.report.analytics.normalize_address`: width, case, punctuation only): this one reads
    the address's grammar (prefixes, numerals, 栋 / 3-2-602 / 11-3) to find one place.

    >>> normalize_address("北京市西城区德胜街道德胜里一区小区３号楼2门602室")
    '德胜里1区3号楼2单元602'
    >>> normalize_address("德胜里一区3-2-602")
    '德胜里1区3号楼2单元602'
    >>> normalize_address("安德路南里十一号楼三门")
    '安德路南里11号楼3单元'
    """
    text = normalize_numerals(address).strip()
    if "北京" in text or "西城" in text or "街道" in text:
        text = _PREFIXES.sub("", text, count=1)
    if "社" in text:
        text = _COMMUNITY.sub("", text, count=1)
    if "-" in text:
        text = _DASH3.sub(r"\1号楼\2单元\3", text)
        text = _DASH2.sub(r"\1号楼\2单元", text)
    text = _NOISE.sub("", text.translate(_PUNCTUATION))
    if _DIGITS.search(text):
        text = _BUILDING_WORDS.sub(r"\1号楼", text)
        text = _UNIT_WORDS.sub(r"\1\2单元", text)
    return text


class Place(NamedTuple):
    """Where a request is, as clustering compares it.

    `base` is the compound, lane or road in one spelling (the gazetteer's name when it knows it,
    else the address's own words; a numbered courtyard of a road is a compound: 新康街12号院),
    `names` the gazetteer names it may stand for (two for 德胜里小区). `building` is "3" for
    3号楼, "B" for B座, "12院" for a courtyard of a lane or compound, a facility's name (锅炉房);
    `unit` and `flat` are 0 and "" when not said. `rest` is what follows the base or building.
    `spot` is the kind of spot on a road (`spots`), `spot_at` what it belongs to (a bridge's name,
    a junction's roads, a gate's compound, the road of a bus stop) and `side` a direction said with
    it (北门, 西口); `landmark` is true when a named bridge is said without its road. `roads` are
    every road and lane named. `vague` is true when the caller says they do not know where.
    `within` is the lane or compound a numbered courtyard is in (德外西巷 for 德外西巷9号院);
    `compound` is true when the caller calls the place a compound (安德里北街小区)."""

    base: str
    building: str = ""
    rest: str = ""
    unit: int = 0
    flat: str = ""
    landmark: bool = False
    names: frozenset[str] = frozenset()
    roads: frozenset[str] = frozenset()
    spot: str = ""
    spot_at: frozenset[str] = frozenset()
    side: str = ""
    vague: bool = False
    within: frozenset[str] = frozenset()
    compound: bool = False


_COURTYARD = re.compile(r"(?<!\d)(\d++)号(?:院)?(?!楼)")
_BUILDING = re.compile(
    r"(?<!\d)(?P<number>\d++)(?:号楼|栋|幢|号?楼(?=\d+(?:单元|门))|楼(?=$|\d{3,4}|[顶层]))"
    r"|(?P<letter>[A-Za-z])(?:座|栋)"
    r"|(?P<facility>锅炉房|配电室|配电房|变电室|水泵房|泵房|换热站|热力站)"
)
_FLAT = re.compile(r"(?:(?P<unit>\d+)(?:单元|门))?(?:\d+层)?(?P<flat>\d{3,4})?")
_FACILITY_NAMES = {"配电房": "配电室", "变电室": "配电室", "水泵房": "泵房", "热力站": "换热站"}
#: Buildings of a compound's services, named instead of a number.
FACILITIES = frozenset({"锅炉房", "配电室", "泵房", "换热站"})


def _read(text: str, community: str, *, address: bool) -> Place:
    """The place one text names (an address, or a description's words)."""
    found = GAZETTEER.scan(text, community)
    roads = frozenset(n for f in found if f.kind in (ROAD, LANE) for n in f.names)
    landmarks = [f for f in found if f.kind == LANDMARK]
    homes = [f for f in found if f.kind in (COMPOUND, LANE)]
    streets = [f for f in found if f.kind == ROAD] or [f for f in found if f.kind == AREA]
    # an address names the area first (裕中东里林业局小区), a description the place first
    head = (homes[-1] if address else homes[0]) if homes else (streets[0] if streets else None)
    base, names, after, within = "", frozenset[str](), 0, frozenset[str]()
    if head is not None:
        names, after = head.names, head.end
        base = min(names) if len(names) == 1 else text[head.start : head.end]
        within = GAZETTEER.part_of(base)
        courtyard = _COURTYARD.match(text, after)
        if courtyard is not None:  # a numbered courtyard: a compound of its own, on a road, or
            base = f"{base}{courtyard.group(1)}号院"  # part of its lane or compound (its houses)
            within = names if head.kind != ROAD else frozenset()
            names, after = GAZETTEER.spelled(base), courtyard.end()  # 新街口外大街28号: 新外28号院
            base = min(names) if len(names) == 1 else base
    elif address and not landmarks:
        match = _BUILDING.search(text)
        base = text[: match.start()] if match is not None and match.group("number") else text
        base = _COURTYARD.sub(lambda m: f"{m.group(1)}号院", base) if base.endswith("号") else base
        after = len(base)
    building, unit, flat = _building(text, after)
    spot = find_spot(text, found)
    if spot is not None and (spot.kind == CROSSING or (spot.kind == UNDERPASS and not spot.at)):
        spot = spot._replace(at=spot.at | roads)  # the roads that meet there, or the road under it
    return Place(
        base,
        building,
        text[after:],
        unit,
        flat,
        landmark=bool(landmarks) and head is None,
        names=names,
        roads=roads,
        spot=spot.kind if spot is not None else "",
        spot_at=spot.at if spot is not None else frozenset(),
        side=spot.side if spot is not None else "",
        vague=is_vague(text),
        within=within,
    )


_UNIT_ALONE = re.compile(r"(?<!\d)(\d++)单元")


def _building(text: str, at: int) -> tuple[str, int, str]:
    """The building (with its unit and flat) named after position `at`: a number (3号楼, 3栋), a
    letter (B座), or a facility (锅炉房); a unit said alone (三单元) with no building."""
    match = _BUILDING.search(text, at)
    if match is None:
        alone = _UNIT_ALONE.search(text, at)
        return "", int(alone.group(1)) if alone is not None else 0, ""
    if match.group("facility"):
        name = match.group("facility")
        return _FACILITY_NAMES.get(name, name), 0, ""
    number = match.group("number") or match.group("letter").upper()
    rest = _FLAT.match(text, match.end())
    unit = int(rest.group("unit")) if rest is not None and rest.group("unit") else 0
    flat = rest.group("flat") if rest is not None and rest.group("flat") else ""
    return number, unit, flat


def _landmark(place: Place, community: str) -> Place:
    """A junction or an unnamed bridge where two roads cross that a landmark stands for is the
    landmark (德胜门外大街与北三环中路交叉口 is 马甸桥); an underpass whose road is not said is
    under one of the roads named or of the caller's community (the railway bridge east of 黄寺里)."""
    if place.spot not in (CROSSING, UNDERPASS):
        return place
    met = place.spot_at | (place.roads if place.spot == UNDERPASS else frozenset())
    for name, roads in GAZETTEER.landmarks.items():
        if len(roads & met) >= 2:
            return place._replace(spot=BRIDGE, spot_at=frozenset({name}))
    if place.spot == UNDERPASS:
        named = frozenset(n for n in place.names if kind_of(n) in (ROAD, LANE))
        return place._replace(spot_at=place.spot_at | named | place.roads | GAZETTEER.roads_of(community))
    return place


_COMPOUND_SAID = re.compile(r"小[区去]|院里|院内")


@lru_cache(maxsize=4096)
def _address(address: str, community: str) -> Place:
    """The place an address names (kept for the addresses a storm repeats)."""
    place = _read(normalize_address(address), community, address=True)
    return place._replace(compound=_COMPOUND_SAID.search(address) is not None)


def clear_caches() -> None:
    """Forget the addresses read (a benchmark's cold run)."""
    _address.cache_clear()


#: How much of an address, and of a description, is read for the place: a place is named in the
#: first words (the rest of a very long text costs nothing).
ADDRESS_READ, DESCRIPTION_READ = 200, 400
#: The caller's community named in a description (我是石油大院社区的居民): not a place.
_COMMUNITY_SAID = re.compile(r"[\u4e00-\u9fff]{2,8}?社[区去]")


def _unsure(place: Place) -> bool:
    """Whether a place names no compound: nothing, a road alone, or an area (六铺炕)."""
    if not place.base:
        return not place.landmark
    if place.base.endswith("号院"):
        return False  # a numbered courtyard is a compound
    return place.base not in place.names or kind_of(place.base) == ROAD


def parse_place(
    address: str, description: str = "", community: str = "", *, detail: bool = True, unit: bool = False
) -> Place:
    """The place a request names: its address read first, and the description for what the
    address leaves out (the compound, the building, the spot on a road, the other road of a
    junction), its negated words left out (不是1单元那个, 不是桥底下那块儿). Without `detail`, the
    description is read only for a place the address does not name; with `unit`, also for the
    unit of the building (a lift's)."""
    said = _address(address[:ADDRESS_READ], community)
    if _unsure(said):
        needs = True  # no compound said, or an area or a road for it (六铺炕, 裕民路: 五号院)
    elif not detail:
        needs = False
    elif is_road(said):
        needs = said.spot in ("", SIDE, CROSSING, BRIDGE)  # 马甸桥: 人行地下通道
    else:
        needs = not said.building or said.spot == SIDE or (unit and not said.unit)
    if not description or not needs:
        return _landmark(said, community)
    words = _COMMUNITY_SAID.sub("", without_negated(description[:DESCRIPTION_READ]))
    told = _read(normalize_numerals(words), community, address=False)
    if told.vague:
        told = told._replace(spot="", spot_at=frozenset(), side="")  # 没说清楚在哪个路口
    return _landmark(_completed(said, told), community)


def _completed(said: Place, told: Place) -> Place:
    """The place an address names (`said`) with what the description adds (`told`)."""
    place = said
    if not said.base and not said.landmark:
        place = told._replace(vague=told.vague or said.vague)
    elif _unsure(said) and told.base and not _unsure(told) and not is_road(told):
        place = place._replace(  # 新外大街那个小区: 新明家园
            base=told.base, names=told.names, within=told.within, building=told.building or said.building
        )
    elif not said.building and told.within and told.within & said.names:
        place = place._replace(base=told.base, names=told.names, within=told.within)  # 德外西巷: 西巷9号院
    elif not said.building and told.building and (not told.names or told.names & said.names):
        place = place._replace(building=told.building, unit=told.unit, flat=told.flat)
    elif said.building and told.building in ("", said.building) and not said.unit and told.unit:
        place = place._replace(unit=told.unit, flat=told.flat)  # 12号楼: 三单元点梯
    if told.spot and (
        said.spot in ("", SIDE)
        or said.spot == CROSSING == told.spot
        or (said.spot in (CROSSING, GATE) and told.spot in PLACES)  # 北三环裕民路口: 公交车站
        or (said.spot == BRIDGE != told.spot and said.spot_at == told.spot_at)  # 马甸桥: 人行地下通道
    ):
        at = told.spot_at | (said.spot_at if said.spot == told.spot or not told.spot_at else frozenset())
        place = place._replace(spot=told.spot, spot_at=at, side=told.side or said.side)
    return place._replace(roads=place.roads | told.roads, vague=place.vague or told.vague)


def is_road(place: Place) -> bool:
    """Whether a place is on a road or at a landmark rather than in a compound or lane (a road
    with numbered buildings, or one the caller calls a compound, is a compound)."""
    if place.compound or place.building:
        return False
    if place.names:
        return all(kind_of(n) in (ROAD, LANDMARK) for n in place.names)
    if not place.base:
        return place.landmark or bool(place.spot)
    return kind_of(place.base) == ROAD
