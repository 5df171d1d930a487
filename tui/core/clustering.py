"""Requests that are likely one incident: duplicate clusters for the dispatcher to merge.

Pure (no Textual, no IO). `find_clusters(items)` groups open, unmerged requests that report

- the same problem (`problem_of`: words of the description within a related category group,
  `RELATED`): a roof leak, a window or wall leak, a flooded basement, a blocked drain, water on
  a road or in a compound, a power cut (a lift stopped by it and pumps without power included), a
  lift fault, a fallen tree — or, for other kinds, similar text (character bigrams, Dice);
- at one place for that problem's reach: a window leak is one flat's, a roof leak, a basement or
  a lift one building's (any flat under the roof), a power cut or a flooded compound the whole
  compound's, water on a road one spot's (马甸桥 with or without 北三环中路, 公交站 / 车站边上,
  a bare road's spot read from the description). Addresses are normalized first
  (`normalize_address`, `parse_place`), and names a typing slip apart are one name when a caller of
  the same community made the slip (`_spellings`: 得胜里一区 is 德胜里一区; 裕民东里 and 裕中东里
  are two compounds);
- a time within `window` of each other.

Each pair gets a score in [0, 1] from the place, the category and the problem (or text); pairs at
or above `threshold` are linked. Links at or above `STRONG_LINK` join outright (connected
components); weaker ones (a report naming only the road, a related category) join two groups only
when at least half the pairs between them are linked, so a report of "somewhere on 新风街" does not
chain two spots into one cluster. The suggested parent is the earliest request. Requests are put
in blocks first (the problem in one building, compound, road or landmark) and only pairs inside a
block and within the window are scored (bench/duplicates.py measures precision, recall and time).

`Item` is the small input both the app's `QueueRow` (`Item.from_row`) and an
`api_client.models.Request` (`Item.from_request`) can give.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple, Protocol

from api_client.domain.states import OPEN_STATES
from api_client.models import Request, State

# --------------------------------------------------------------------------- input


class RowLike(Protocol):
    """What `Item.from_row` reads (the app's `tui.core.queue_model.QueueRow` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> State: ...
    @property
    def category(self) -> str: ...
    @property
    def community(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def received_at(self) -> float: ...


class Item(NamedTuple):
    """One request as clustering sees it. `received_at` is epoch seconds."""

    id: str
    state: State
    category: str
    community: str
    address: str
    description: str
    received_at: float

    @classmethod
    def from_row(cls, row: RowLike) -> Item:
        return cls(
            row.id, row.state, row.category, row.community, row.address, row.description, row.received_at
        )

    @classmethod
    def from_request(cls, request: Request) -> Item:
        state = State.merged if request.merged_into else request.state
        return cls(
            request.id,
            state,
            request.category,
            request.location.community,
            request.location.address,
            request.description,
            request.received_at.timestamp(),
        )


@dataclass(frozen=True)
class Cluster:
    """Requests that are likely one incident. `parent_id` is the suggested parent (the earliest);
    `member_ids` are all of them, parent first, then by time; `score` is the mean score of the
    links that joined them; `reasons` say what they share, most common first."""

    parent_id: str
    member_ids: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]


# --------------------------------------------------------------------------- categories

#: Categories that callers and call-takers use for one problem. A category not listed is related
#: only to itself.
RELATED: dict[str, str] = {
    "roof_leak": "leak",
    "building_safety": "leak",
    "waterlogging": "water",
    "sewer": "water",
    "manhole": "water",
    "power_outage": "power",
    "elevator": "power",
    "water_outage": "power",  # the pumps of a high-rise stop with the power
    "tree_hazard": "tree",
    "tree": "tree",
    "gas_leak": "gas",
    "gas": "gas",
}
#: Problems of a whole compound or road: reports from different buildings may be one incident.
#: Everything else is a problem of one building.
WIDE_CATEGORIES = frozenset(
    {"power_outage", "water_outage", "waterlogging", "sewer", "manhole", "tree_hazard", "tree", "gas"}
)


def category_group(code: str) -> str:
    return RELATED.get(code, code)


# --------------------------------------------------------------------------- addresses

_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]+(?=号|栋|幢|座|楼|单元|门|层)")
# 区 is often typed 去 (both qu with a pinyin input method): the words dropped allow it.
_PREFIXES = re.compile(r"^(北京市|北京)?(西城[区去])?([^\W\d_]{2,3}街道(办事处)?)?")
_COMMUNITY = re.compile(r"^[\u4e00-\u9fff]{2,8}?社[区去](?=.)")
_DASH = re.compile(r"(\d+)-(\d+)-(\d+)")
_BUILDING_WORDS = re.compile(r"(\d+)(?:号楼|栋|幢|座|号?楼(?=\d+(?:单元|门))|楼$)")
_UNIT_WORDS = re.compile(r"(号楼)(\d+)(?:单元|门)")
_NOISE = re.compile(r"小[区去]里|小[区去]内|小[区去]|院里|院内|室$|[\s,，。、:：;；()（）]")


def _cn_to_int(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGIT.get(tens, 1) if tens else 1) * 10 + (_CN_DIGIT.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGIT.get(ch, 0)
    return value


def normalize_address(address: str) -> str:
    """One spelling for the ways people write an address.

    >>> normalize_address("北京市西城区德胜街道德胜里一区小区３号楼2门602室")
    '德胜里一区3号楼2单元602'
    >>> normalize_address("德胜里一区3-2-602")
    '德胜里一区3号楼2单元602'
    >>> normalize_address("德胜里一区三栋")
    '德胜里一区3号楼'
    """
    text = unicodedata.normalize("NFKC", address).strip()
    text = _PREFIXES.sub("", text)
    text = _COMMUNITY.sub("", text)
    text = _CN_NUMBER.sub(lambda m: str(_cn_to_int(m.group())), text)
    text = _DASH.sub(r"\1号楼\2单元\3", text)
    text = _NOISE.sub("", text)
    text = _BUILDING_WORDS.sub(r"\1号楼", text)
    text = _UNIT_WORDS.sub(r"\1\2单元", text)
    return text


class Place(NamedTuple):
    """An address as clustering compares it: the compound or road (`base`), the building
    number (0 when none is named), what follows it (`rest`: the unit and flat in a building, the
    spot on a road in one spelling: 马甸桥, 下穿通道, 公交站, 路口, 北口), and the unit and flat
    when named (`unit` 0 and `flat` "" when not). `landmark` is true when the spot is a named
    bridge that people name without its road (马甸桥下)."""

    base: str
    building: int
    rest: str
    unit: int = 0
    flat: str = ""
    landmark: bool = False


#: Spots on a road, the ways people say them: the first alternative that matches at the leftmost
#: position wins. A named bridge's name has no road word in it (so 新街口外大街铁路桥 is the
#: railway bridge on 新街口外大街) nor a word that leads up to a place (我在马甸桥下), and 马甸桥西里
#: is a compound, not a bridge.
_SPOT = re.compile(
    r"(?P<culvert>(?:铁路桥|铁道桥|火车桥)?(?:底下|下面)?涵洞)"
    r"|(?P<underpass>下穿|地下通道)"
    r"|(?P<rail>铁路桥|铁道桥|火车桥)"
    r"|(?P<footbridge>过街天桥|过街桥|天桥)"
    r"|(?P<bridge>[^\W\d_路街巷道桥在过到的是从往]{2,3}?)(?:立交)?桥(?![东西南北]?[里村院园])"
    r"|(?P<bus>公交车?站|车站)"
    r"|(?P<shop>便利店|超市|小卖部)"
    r"|(?P<market>菜市场|菜场)"
    r"|(?P<school>学校|小学|中学)"
    r"|(?P<exit>[东西南北])(?:边路口|口|头)"
    r"|(?P<gate>[东西南北])门"
    r"|(?P<crossing>十字路口|丁字路口|交叉口|路口)"
    r"|(?P<side>[东西南北])(?:侧|边|面)"
)
_SPOT_NAMES = {
    "culvert": "涵洞",
    "underpass": "下穿通道",
    "rail": "铁路桥",
    "footbridge": "天桥",
    "bus": "公交站",
    "shop": "便利店",
    "market": "菜市场",
    "school": "学校",
    "crossing": "路口",
}
_SPOT_SUFFIX = {"exit": "口", "gate": "门", "side": "侧"}
#: The spots a caller names without the road (a landmark everyone knows).
_LANDMARK = re.compile(
    r"(?P<culvert>(?:铁路桥|铁道桥|火车桥)(?:底下|下面)?涵洞)|(?P<underpass>下穿通道|地下通道)"
    r"|(?P<bridge>[^\W\d_路街巷道桥在过到的是从往]{2,3}?)(?:立交)?桥(?![东西南北]?[里村院园])"
)
#: An address that ends like this is a compound (no spot is looked for in it).
_COMPOUND_END = re.compile(r"(?:里|村|园|院|区|丽景|大院)$")
_ROAD_END = re.compile(r"(?:街|路|巷|胡同|道)$")
_COURTYARD = re.compile(r"^(?P<base>.*?\d+号院)(?P<rest>.*)$")
_PLACE = re.compile(r"^(?P<base>.*?)(?P<building>\d+)号楼")
_FLAT = re.compile(r"^(?:(?P<unit>\d+)单元)?(?P<flat>\d{3,4})?")


def _spot_of(match: re.Match[str]) -> tuple[str, bool]:
    kind = match.lastgroup or ""
    if kind == "bridge":
        return match.group("bridge") + "桥", True
    if kind in _SPOT_SUFFIX:
        return match.group(kind) + _SPOT_SUFFIX[kind], False
    return _SPOT_NAMES[kind], kind in ("culvert", "underpass")


def is_road(base: str) -> bool:
    """Whether a normalized base is a road (新康路, 新街口外大街) rather than a compound."""
    return bool(_ROAD_END.search(base)) and not any(ch in base for ch in "里院村园")


def _spot_in_description(base: str, description: str) -> tuple[str, bool]:
    """The spot a caller names right after the road in the description, else a landmark
    named anywhere in it, else ("", False)."""
    said = unicodedata.normalize("NFKC", description)
    size, found = len(base), False
    for at in range(len(said) - size + 1) if base else ():
        window = said[at : at + size]
        slip = window[0] == base[0] or window[-1] == base[-1]
        if window != base and (not slip or same_base(window, base) < 0.9):
            continue  # neither the road nor the road with a typing slip (新峰街 for 新风街)
        found = True
        match = _SPOT.search(said, at + size, at + size + 12)
        if match is not None and match.start() <= at + size + 2:
            return _spot_of(match)
    if found:
        return "", False
    match = _LANDMARK.search(said)
    return _spot_of(match) if match is not None else ("", False)


def parse_place(address: str, description: str = "") -> Place:
    """The place an address names. For a bare road, the spot is looked for in `description`
    (路过新康路公交站附近，积水… gives 新康路 / 公交站)."""
    text = normalize_address(address)
    match = _PLACE.match(text)
    if match is not None:
        rest = text[match.end() :]
        flat = _FLAT.match(rest)
        unit = int(flat.group("unit")) if flat is not None and flat.group("unit") else 0
        number = flat.group("flat") if flat is not None and flat.group("flat") else ""
        return Place(match.group("base"), int(match.group("building")), rest, unit, number)
    courtyard = _COURTYARD.match(text)
    if courtyard is not None:
        return Place(courtyard.group("base"), 0, "")
    if _COMPOUND_END.search(text):
        return Place(text, 0, "")
    spot = _SPOT.search(text)
    if spot is not None:
        said, landmark = _spot_of(spot)
        return Place(text[: spot.start()], 0, said, landmark=landmark)
    if description:
        said, landmark = _spot_in_description(text, description)
        if said:
            return Place(text, 0, said, landmark=landmark)
    return Place(text, 0, "")


# --------------------------------------------------------------------------- text

_NOT_TEXT = re.compile(r"[\W_]+")


def _bigrams(text: str) -> frozenset[str]:
    text = _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text))
    return frozenset(text[i : i + 2] for i in range(len(text) - 1)) or frozenset({text})


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


class TextMethod(Protocol):
    """How descriptions are compared: `prepare` once per request, `similarity` per pair (0..1)."""

    name: str

    def prepare(self, text: str) -> object: ...
    def similarity(self, a: object, b: object) -> float: ...


class NgramText:
    """Character bigrams, Dice coefficient: needs no dictionary and no word segmentation."""

    name = "ngram"

    def prepare(self, text: str) -> object:
        return _bigrams(text)

    def similarity(self, a: object, b: object) -> float:
        assert isinstance(a, frozenset) and isinstance(b, frozenset)
        return _dice(a, b)


NGRAM = NgramText()


# --------------------------------------------------------------------------- problems

#: What the caller says the problem is, within a category group: the word-level signal. A roof
#: leak (the building's roof: every top-floor flat) is not a window or wall leak (one flat's own);
#: a flooded basement (one building) is not a flooded compound; a lift stopped by a power cut is
#: the power cut (the whole compound), a lift with water in its pit is that lift's.
_ROOF_WORDS = re.compile(r"顶楼|楼顶|屋顶|房顶|顶层")
_FLAT_WORDS = re.compile(r"窗|外墙|阳台")
_LEAK_WORDS = re.compile(r"漏|渗|滴水|灌水|进水")
_BASEMENT_WORDS = re.compile(r"地下室|车库")
_DRAIN_WORDS = re.compile(r"箅子|雨水口|堵")
_WATER_WORDS = re.compile(r"积水|淹|水.{0,4}深|排不|全是水|进水|泡")
_OUTAGE_WORDS = re.compile(r"停电|没电|断电")


def problem_of(category: str, description: str) -> str:
    """The kind of problem a request reports ("roof", "flat_leak", "basement", "drain", "water",
    "outage", "lift", "tree"), or "" when it is none of the storm's."""
    group = category_group(category)
    if group == "leak":
        if category == "building_safety" and not _LEAK_WORDS.search(description):
            return ""
        if _FLAT_WORDS.search(description) and not _ROOF_WORDS.search(description):
            return "flat_leak"
        return "roof"
    if group == "water":
        if _BASEMENT_WORDS.search(description):
            return "basement"
        if _DRAIN_WORDS.search(description):
            return "drain"
        return "water" if _WATER_WORDS.search(description) else ""
    if group == "power":
        if _OUTAGE_WORDS.search(description):
            return "outage"
        return "lift" if category == "elevator" else ""
    return "tree" if group == "tree" else ""


#: How far a problem reaches: one flat, one building, or an area (a compound, or a spot on a
#: road). A blocked drain or a fallen tree at a building is that building's; on a road, the spot's.
FLAT, BUILDING, AREA, OTHER = "flat", "building", "area", "other"
_SCOPES = {"flat_leak": FLAT, "roof": BUILDING, "basement": BUILDING, "lift": BUILDING}


def _scope(problem: str, place: Place) -> str:
    if not problem:
        return OTHER
    if problem in _SCOPES:
        return _SCOPES[problem]
    if problem in ("drain", "tree") and place.building:
        return BUILDING
    return AREA


# --------------------------------------------------------------------------- scoring

#: Weights of the three signals in a pair's score: the place (for the problem's scope), the
#: category, and the text (the same problem named, else similar descriptions).
W_PLACE, W_CATEGORY, W_TEXT = 0.45, 0.15, 0.40
DEFAULT_WINDOW = timedelta(hours=6)
DEFAULT_THRESHOLD = 0.6
#: Links at or above this join their requests outright (connected components); weaker ones
#: join two groups only when enough of the pairs between them are linked (`MIN_LINKED_SHARE`).
STRONG_LINK = 0.9
#: Two groups join on weak links when at least this share of the pairs between them are linked:
#: a report that names only the road (somewhere on 新康路) does not join two spots on it.
MIN_LINKED_SHARE = 0.5


class _Prepared(NamedTuple):
    pos: int
    item: Item
    group: str
    place: Place
    problem: str
    family: str  # the problem, a blocked drain counted as water
    scope: str
    base: str  # the base's one spelling among those a typing slip apart
    spot: str  # the spot on a road, a landmark in one spelling likewise
    road: bool  # the place is on a road (or at a landmark), not in a compound
    text: object


#: Characters that tell two places apart when one of them stands for another of its class
#: (东里 / 西里, 一区 / 二区, 新康街 / 新康路); any other single differing character is taken for a
#: typing slip (德胜 / 得胜, 一区 / 一去).
_CLASSES = ("东西南北中前后上下内外", "零一二三四五六七八九十0123456789甲乙丙丁", "街路巷道里区院园村桥楼")


def same_base(a: str, b: str) -> float:
    """How surely two normalized compound or road names are one place: 1 equal, 0.9 one typing
    slip apart, 0.8 one inside the other with no number added (马甸桥下 / 北三环中路马甸桥下), else 0."""
    if a == b or not a or not b:
        return 1.0
    if len(a) == len(b):
        diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        if len(diff) == 1 and not any(diff[0][0] in c and diff[0][1] in c for c in _CLASSES):
            return 0.9
        return 0.0
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if short in long and not any(ch.isdigit() for ch in long.replace(short, "", 1)):
        return 0.8
    return 0.0


#: Two spellings a character apart that are each used at least this often, the rarer at least
#: this share as often as the other, are two places, not a typing slip.
_PLACE_USES, _PLACE_SHARE = 3, 0.25


def _spellings(names: Iterable[tuple[str, str]], *, places: bool = True) -> dict[str, str]:
    """Each name (given with the community it was reported in) mapped to one spelling for the
    names a typing slip apart (得胜里一区 -> 德胜里一区): the most used name takes each rarer one
    that differs from it in one character. A slip is made by a caller of the same community and
    is rare: names only ever reported in different communities (裕中东里 in one, 裕民东里 in
    another), or that many callers use, are two places (unless `places` is false: landmarks
    everyone knows, 马甸桥 / 马店桥). A name a slip away from two places (安德理: 安德里 or
    安德路?) is left on its own."""
    uses: Counter[str] = Counter()
    where: dict[str, set[str]] = defaultdict(set)
    for name, community in names:
        uses[name] += 1
        where[name].add(community)
    buckets: dict[tuple[str, str], list[str]] = defaultdict(list)
    canonical: dict[str, str] = {}
    for name in sorted(uses, key=lambda n: (-uses[n], n)):  # the most used first
        found = set()
        for at in range(len(name)):
            key = (name[:at], name[at + 1 :])
            for other in buckets[key]:
                if any(name[at] in c and other[at] in c for c in _CLASSES):
                    continue  # 东里 / 西里, 一区 / 二区: two places
                few = uses[name]
                if not places or (
                    not where[name].isdisjoint(where[other])
                    and (few < _PLACE_USES or few < _PLACE_SHARE * uses[other])
                ):
                    found.add(canonical[other])
            buckets[key].append(name)
        canonical[name] = found.pop() if len(found) == 1 else name
    return canonical


def _area_place(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    """Two reports of an area problem: the same compound, or the same spot on the same road (or
    the same landmark, with or without its road)."""
    pa, pb = a.place, b.place
    spot_a, spot_b = a.spot, b.spot
    if pa.base and pb.base:
        if a.base != b.base:
            return 0.0, ""
        base = 1.0 if pa.base == pb.base else 0.9
    elif pa.landmark and pb.landmark:
        base = 1.0  # the landmark says where (马甸桥下 / 北三环中路马甸桥下)
    else:
        return 0.0, ""
    road = a.road or b.road
    why = "same place" if road else "same compound"
    if spot_a and spot_b:
        if spot_a == spot_b:
            return base if pa.rest == pb.rest else 0.9 * base, why
        return 0.0, ""
    if spot_a or spot_b or road:
        return 0.7 * base, why  # somewhere on the road, or a spot in the compound
    return base, why


def _building_place(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    pa, pb = a.place, b.place
    base = same_base(pa.base, pb.base)
    if base == 0.0 or pa.building != pb.building:
        return 0.0, ""
    if a.scope == FLAT or b.scope == FLAT:
        if pa.building and pa.unit and pa.flat and (pa.unit, pa.flat) == (pb.unit, pb.flat):
            return base, "same flat"
        return 0.0, ""
    return (base, "same building") if pa.building else (0.7 * base, "same compound")


def _same_spot(a: str, b: str) -> float:
    if not a or not b:
        return 0.6  # a bare road: somewhere on it
    if a == b or a in b or b in a:
        return 1.0
    return 0.8 if _dice(_bigrams(a), _bigrams(b)) >= 0.5 else 0.0


def _other_place(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    """Two requests of another kind: the same building, or for a wide category the same
    compound or spot."""
    pa, pb = a.place, b.place
    base = same_base(pa.base, pb.base)
    if base == 0.0:
        return 0.0, ""
    wide = a.item.category in WIDE_CATEGORIES or b.item.category in WIDE_CATEGORIES
    if pa.building and pb.building:
        if pa.building == pb.building:
            return base, "same building"
        return (0.6 * base, "same compound") if wide else (0.0, "")
    if pa.building or pb.building:  # one names a building, the other only the compound or road
        return (0.7 if wide else 0.5) * base, "same compound"
    spot = _same_spot(pa.rest, pb.rest)
    return (base * spot, "same place") if spot else (0.0, "")


def _pair_score(a: _Prepared, b: _Prepared, text: TextMethod) -> tuple[float, list[str]]:
    if a.scope == AREA:
        place, why = _area_place(a, b)
    elif a.scope in (FLAT, BUILDING):
        place, why = _building_place(a, b)
    else:
        place, why = _other_place(a, b)
    if place == 0.0:
        return 0.0, []
    same_category = a.item.category == b.item.category
    reasons = [why, "same category" if same_category else "related category"]
    if a.family and a.family == b.family:
        said = 1.0  # the same problem named: the text says what it needs to
        reasons.append("same problem")
    else:
        similarity = text.similarity(a.text, b.text)
        said = min(1.0, similarity * 1.6)
        if similarity >= 0.3:
            reasons.append("similar text")
    score = W_PLACE * place + W_CATEGORY * (1.0 if same_category else 0.6) + W_TEXT * said
    return score, reasons


#: Problems that are one incident whatever they are called at one place: a flooded road spot and
#: a blocked drain there are one (the water on the road).
_FAMILY = {"drain": "water"}


def _blocks(prepared: Sequence[_Prepared]) -> Iterable[list[_Prepared]]:
    """Groups whose members may be one incident: the same problem in the same building or
    compound or on the same road (a typing slip apart), at the same landmark; requests of other
    kinds by category group and community."""
    blocks: dict[tuple[str, ...], list[_Prepared]] = defaultdict(list)
    for p in prepared:
        family = p.family
        if p.scope in (FLAT, BUILDING):
            blocks[(family, p.base, str(p.place.building))].append(p)
        elif p.scope == AREA:
            if p.base:
                blocks[(family, p.base)].append(p)
            if p.place.landmark:
                blocks[(family, "@", p.spot)].append(p)
        else:
            blocks[("", p.group, p.item.community)].append(p)
    return blocks.values()


def _prepare(items: Sequence[Item], text: TextMethod) -> list[_Prepared]:
    places = [parse_place(item.address, item.description) for item in items]
    bases = _spellings((p.base, item.community) for p, item in zip(places, items, strict=True))
    spots = _spellings(((p.rest, "") for p in places if p.landmark), places=False)
    prepared = []
    for index, (item, place) in enumerate(zip(items, places, strict=True)):
        problem = problem_of(item.category, item.description)
        scope = _scope(problem, place)
        prepared.append(
            _Prepared(
                index,
                item,
                category_group(item.category),
                place,
                problem,
                _FAMILY.get(problem, problem),
                scope,
                bases[place.base],
                "" if place.building else spots.get(place.rest, place.rest),
                place.landmark or (not place.building and is_road(place.base)),
                text.prepare(item.description) if scope == OTHER else None,
            )
        )
    return prepared


def find_clusters(
    items: Iterable[Item],
    *,
    window: timedelta = DEFAULT_WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
    text: TextMethod = NGRAM,
) -> list[Cluster]:
    """Clusters of two or more open, unmerged requests that are likely one incident, the
    largest first. `window` is how far apart in time two reports of one incident may be;
    `threshold` the score (0..1) a pair needs to be linked."""
    prepared = _prepare([i for i in items if i.state in OPEN_STATES], text)
    span = window.total_seconds()
    links: dict[tuple[int, int], tuple[float, list[str]]] = {}
    for block in _blocks(prepared):
        if len(block) < 2:
            continue
        block.sort(key=lambda p: p.item.received_at)
        for x, a in enumerate(block):
            for b in block[x + 1 :]:
                if b.item.received_at - a.item.received_at > span:
                    break
                key = (a.pos, b.pos) if a.pos < b.pos else (b.pos, a.pos)
                if key in links or (a.scope == OTHER and _apart(a, b)):
                    continue
                score, reasons = _pair_score(a, b, text)
                if score >= threshold:
                    links[key] = (score, reasons)
    parent = _link(len(prepared), links, max(threshold, STRONG_LINK))
    return _collect(prepared, links, parent)


def _apart(a: _Prepared, b: _Prepared) -> bool:
    """Two buildings named for a problem of one building: two problems."""
    pa, pb = a.place, b.place
    return bool(
        pa.building
        and pb.building
        and pa.building != pb.building
        and a.item.category not in WIDE_CATEGORIES
        and b.item.category not in WIDE_CATEGORIES
    )


def _link(size: int, links: dict[tuple[int, int], tuple[float, list[str]]], strong: float) -> list[int]:
    """Each request's group (a representative's position): strong links join outright; weak
    ones, strongest first, join two groups only when at least `MIN_LINKED_SHARE` of the pairs
    between them are linked (average linkage on the links)."""
    parent = list(range(size))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    weak = []
    for (a, b), (score, _) in links.items():
        if score >= strong:
            parent[find(a)] = find(b)
        else:
            weak.append((score, a, b))
    if weak:
        neighbours: list[list[int]] = [[] for _ in range(size)]
        for a, b in links:
            neighbours[a].append(b)
            neighbours[b].append(a)
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(size):
            members[find(i)].append(i)
        for _, a, b in sorted(weak, reverse=True):
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            ma, mb = members[ra], members[rb]
            small, other = (ma, rb) if len(ma) <= len(mb) else (mb, ra)
            cross = sum(1 for m in small for n in neighbours[m] if find(n) == other)
            if cross < MIN_LINKED_SHARE * len(ma) * len(mb):
                continue
            parent[ra] = rb
            mb.extend(ma)
            del members[ra]
    return [find(i) for i in range(size)]


def _collect(
    prepared: Sequence[_Prepared],
    links: dict[tuple[int, int], tuple[float, list[str]]],
    root: Sequence[int],
) -> list[Cluster]:
    members: dict[int, list[int]] = defaultdict(list)
    for p in prepared:
        members[root[p.pos]].append(p.pos)
    scores: dict[int, list[float]] = defaultdict(list)
    reasons: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (a, b), (score, why) in links.items():
        if root[a] != root[b]:
            continue
        scores[root[a]].append(score)
        for reason in why:
            reasons[root[a]][reason] += 1
    clusters = []
    for group, indexes in members.items():
        if len(indexes) < 2:
            continue
        ordered = sorted((prepared[i].item for i in indexes), key=lambda it: (it.received_at, it.id))
        counted = reasons[group]
        clusters.append(
            Cluster(
                parent_id=ordered[0].id,
                member_ids=tuple(it.id for it in ordered),
                score=round(sum(scores[group]) / len(scores[group]), 3),
                reasons=tuple(sorted(counted, key=lambda r: (-counted[r], r))),
            )
        )
    clusters.sort(key=lambda c: (-len(c.member_ids), c.parent_id))
    return clusters
