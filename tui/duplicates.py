"""Requests that are likely one incident: duplicate clusters for the dispatcher to merge.

Pure (no Textual, no IO). `find_clusters(items)` groups open, unmerged requests that share

- a place: the same community (or, for a road, the same road in any community) and an address
  that names the same building — or the same compound or road spot, for the problems that cover a
  whole compound or road (a power cut, waterlogging, a fallen tree). Addresses are normalized first
  (`normalize_address`): full-width to half-width, Chinese numerals to digits, 小区/院里 dropped,
  栋/幢/门/3-2-602 spelled the one way, the city and street-office prefix dropped;
- a related category (`RELATED`: a roof leak and a building-safety risk, waterlogging and a
  blocked drain, a power cut and a stopped lift ...);
- similar text (character bigrams of the description, Dice coefficient);
- a time within `window` of each other.

Each pair gets a score in [0, 1] from the place, the category and the text; pairs at or above
`threshold` are linked and clusters are their connected groups. The suggested parent is the
earliest request. Requests are first put in blocks (category group × community, or × road) and only
pairs inside a block and within the window are scored (bench/duplicates.py measures the time).
Groups join strongest link first, and only when at least half the pairs between them are linked,
so a chain of look-alikes does not become one cluster.

`Item` is the small input both the app's `QueueRow` (`Item.from_row`) and an
`api_client.models.Request` (`Item.from_request`) can give.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple, Protocol

from api_client.models import OPEN_STATES, Request, State

# --------------------------------------------------------------------------- input


class RowLike(Protocol):
    """What `Item.from_row` reads (the app's `tui.queue_model.QueueRow` has it)."""

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
_PREFIXES = re.compile(r"^(北京市|北京)?(西城区)?(德胜街道|德胜街道办事处)?")
_COMMUNITY = re.compile(r"^[\u4e00-\u9fff]{2,8}?社区(?=.)")
_DASH = re.compile(r"(\d+)-(\d+)-(\d+)")
_BUILDING_WORDS = re.compile(r"(\d+)(?:号楼|栋|幢|座|号?楼(?=\d+(?:单元|门))|楼$)")
_UNIT_WORDS = re.compile(r"(号楼)(\d+)(?:单元|门)")
_NOISE = re.compile(r"小区里|小区内|小区|院里|院内|室$|[\s,，。、:：;；()（）]")
_SPOT_WORDS = [
    (re.compile(r"十字路口|交叉口|路口那儿"), "路口"),
    (re.compile(r"底下|下面|下边"), "下"),
    (re.compile(r"东边|东面"), "东侧"),
    (re.compile(r"西边|西面"), "西侧"),
    (re.compile(r"南边|南面"), "南侧"),
    (re.compile(r"北边|北面"), "北侧"),
    (re.compile(r"公交车站|公交站附近|公交站旁边|车站边上"), "公交站"),
    (re.compile(r"门口|前面|附近|旁边|那儿|边上|外$"), ""),
]
_PLACE = re.compile(r"^(?P<base>.*?)(?P<building>\d+)号楼(?:(?P<unit>\d+)单元)?")


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
    number (0 when none is named) and what follows it or the spot on a road (`rest`)."""

    base: str
    building: int
    rest: str


_ROAD = re.compile(r"^(?P<road>.+?(?:大街|小街|路|街|巷|胡同|桥))(?P<spot>.+)$")
_SPOT_END = re.compile(r"[积全的有被了太很水，。,.!！?？；;：:\s]")


def _spot(text: str) -> str:
    for pattern, word in _SPOT_WORDS:
        text = pattern.sub(word, text)
    return text


def parse_place(address: str, description: str = "") -> Place:
    """The place an address names. For a bare road, the spot is looked for in `description`
    (路过新康路公交站附近，积水… gives 新康路 / 公交站)."""
    text = normalize_address(address)
    match = _PLACE.match(text)
    if match is not None:
        return Place(match.group("base"), int(match.group("building")), text[match.end() :])
    road = _ROAD.match(text)
    if road is not None:
        return Place(road.group("road"), 0, _spot(road.group("spot")))
    if description and text and not any(k in text for k in ("里", "区", "院", "园", "村")):
        said = unicodedata.normalize("NFKC", description)
        at = said.find(text)
        if at >= 0:
            tail = _SPOT_END.split(said[at + len(text) : at + len(text) + 12], maxsplit=1)[0]
            return Place(text, 0, _spot(tail))
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


# --------------------------------------------------------------------------- scoring

#: Weights of the three signals in a pair's score.
W_PLACE, W_CATEGORY, W_TEXT = 0.45, 0.15, 0.40
DEFAULT_WINDOW = timedelta(hours=6)
DEFAULT_THRESHOLD = 0.6


class _Prepared(NamedTuple):
    pos: int
    item: Item
    group: str
    place: Place
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


def _same_spot(a: str, b: str) -> float:
    if not a or not b:
        return 0.6  # a bare road: somewhere on it
    if a == b or a in b or b in a:
        return 1.0
    return 0.8 if _dice(_bigrams(a), _bigrams(b)) >= 0.5 else 0.0


def _place_score(a: _Prepared, b: _Prepared) -> tuple[float, str]:
    """How surely the two addresses name one place for this kind of problem (0 = not)."""
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
    place, why = _place_score(a, b)
    if place == 0.0:
        return 0.0, []
    same_category = a.item.category == b.item.category
    similarity = text.similarity(a.text, b.text)
    score = (
        W_PLACE * place + W_CATEGORY * (1.0 if same_category else 0.6) + W_TEXT * min(1.0, similarity * 1.6)
    )
    reasons = [why, "same category" if same_category else "related category"]
    if similarity >= 0.3:
        reasons.append("similar text")
    return score, reasons


def _blocks(prepared: Sequence[_Prepared]) -> Iterable[list[_Prepared]]:
    """Groups whose members may be one incident: a category group in a community, and a category
    group on a road (without a building) across communities."""
    blocks: dict[tuple[str, str, str], list[_Prepared]] = defaultdict(list)
    for p in prepared:
        blocks[(p.group, "c", p.item.community)].append(p)
        if not p.place.building and p.place.base:
            blocks[(p.group, "r", p.place.base[:4])].append(p)
    return blocks.values()


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
    candidates = [i for i in items if i.state in OPEN_STATES]
    prepared = []
    for index, item in enumerate(candidates):
        place = parse_place(item.address, item.description)
        prepared.append(
            _Prepared(
                index,
                item,
                category_group(item.category),
                place,
                text.prepare(item.description),
            )
        )
    span = window.total_seconds()
    parent = list(range(len(prepared)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

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
                if key in links:
                    continue
                if (
                    a.place.building
                    and b.place.building
                    and a.place.building != b.place.building
                    and a.item.category not in WIDE_CATEGORIES
                    and b.item.category not in WIDE_CATEGORIES
                ):
                    continue  # two buildings: two problems
                score, reasons = _pair_score(a, b, text)
                if score >= threshold:
                    links[key] = (score, reasons)
    _link(len(prepared), links, parent, find)
    return _collect(prepared, links, find)


#: Two groups join when at least this share of the pairs between them are linked: a chain of
#: look-alikes (A like B, B like C) does not make A and C one incident.
MIN_LINKED_SHARE = 0.5


def _link(
    size: int,
    links: dict[tuple[int, int], tuple[float, list[str]]],
    parent: list[int],
    find: Callable[[int], int],
) -> None:
    """Join linked requests, strongest links first, group with group only when enough of the
    pairs between them are linked (average-linkage style, on the links only)."""
    neighbours: list[list[int]] = [[] for _ in range(size)]
    for a, b in links:
        neighbours[a].append(b)
        neighbours[b].append(a)
    members: dict[int, list[int]] = {}
    for (a, b), _ in sorted(links.items(), key=lambda kv: -kv[1][0]):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        small, other = (ma, rb) if len(ma) <= len(mb) else (mb, ra)
        cross = sum(1 for m in small for n in neighbours[m] if find(n) == other)
        if cross < MIN_LINKED_SHARE * len(ma) * len(mb):
            continue
        parent[ra] = rb
        members[rb] = ma + mb
        members.pop(ra, None)


def _collect(
    prepared: Sequence[_Prepared],
    links: dict[tuple[int, int], tuple[float, list[str]]],
    find: Callable[[int], int],
) -> list[Cluster]:
    members: dict[int, list[int]] = defaultdict(list)
    for p in prepared:
        members[find(p.pos)].append(p.pos)
    scores: dict[int, list[float]] = defaultdict(list)
    reasons: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (a, _b), (score, why) in links.items():
        root = find(a)
        scores[root].append(score)
        for reason in why:
            reasons[root][reason] += 1
    clusters = []
    for root, indexes in members.items():
        if len(indexes) < 2:
            continue
        ordered = sorted((prepared[i].item for i in indexes), key=lambda it: (it.received_at, it.id))
        counted = reasons[root]
        clusters.append(
            Cluster(
                parent_id=ordered[0].id,
                member_ids=tuple(it.id for it in ordered),
                score=round(sum(scores[root]) / len(scores[root]), 3),
                reasons=tuple(sorted(counted, key=lambda r: (-counted[r], r))),
            )
        )
    clusters.sort(key=lambda c: (-len(c.member_ids), c.parent_id))
    return clusters
