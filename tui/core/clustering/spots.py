"""Spots on a road as callers name them, in one word per kind: a bridge (马甸桥, 立交桥下, 那个大桥
底下), an underpass (铁路桥, 桥洞子, 下穿, 涵洞), a junction (交叉口, 路口, 交界, 西口, 巷口), a
compound's gate (北门, 门口), a bus stop (公交站, 车站, 安德里站), a shop, a market, a school …
and `is_vague`: the caller says they do not know where on the road."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from tui.core.clustering.gazetteer import AREA, COMPOUND, LANDMARK, LANE, ROAD, Found

__all__ = [
    "AREA_MARK",
    "BRIDGE",
    "CROSSING",
    "GATE",
    "PLACES",
    "SIDE",
    "UNDERPASS",
    "Spot",
    "find_spot",
    "is_vague",
]

BRIDGE, UNDERPASS, CROSSING, GATE, SIDE, BUS = "bridge", "underpass", "crossing", "gate", "side", "bus"
#: Under an unnamed bridge (桥下, 大桥底下): an underpass, or the named bridge said before it.
UNDER = "under"

_SIDES = "东西南北"
#: The words of each kind of spot; every alternative begins with a character (see `_TAGGED`).
_SAID: dict[str, tuple[str, ...]] = {
    "underpass": (
        "铁路桥(?:洞子?|底下|下面|下边|下)?(?:涵洞)?",
        "铁道桥(?:洞子?|底下|下面|下边|下)?(?:涵洞)?",
        "火车桥(?:洞子?|底下|下面|下边|下)?(?:涵洞)?",
        "桥洞子?",
        "涵洞",
        "下穿(?:通道|隧道)?",
        "人行地下通道",
        "地下通道",
        "人行通道",
        "地道",
        "隧道",
        "下凹桥",
    ),
    "footbridge": ("过街天桥", "过街桥", "天桥"),
    "metro": ("地铁站?口?",),
    "bus": ("公交车?站台?", "车站", "站台"),
    "fuel": ("加油站", "中石化", "中石油"),
    "market": ("菜市场", "菜场", "农贸市场"),
    "shop": ("超市", "便利店", "小卖部", "商店", "物美", "商场"),
    "eatery": ("饭馆", "饭店", "餐馆", "涮肉馆?", "面馆"),
    "school": ("学校", "小学", "中学", "幼儿园", "校门"),
    "hospital": ("医院", "卫生站", "卫生院"),
    "park": ("公园",),
    "toilet": ("公厕", "公共厕所"),
    "bridge": ("立交桥?", "大桥", "桥(?:底下|下面|下边|下)"),
    "crossing": ("十字路口", "丁字路口", "交叉路?口", "交界", "交汇", "路口"),
    "gate": ("大门(?:口|外)?", "门口", "门外", "门前"),
}
#: Spots said with a direction (北口, 东门外, 西侧), by kind.
_SIDED = {"exit": "(?:边路口|口|头)", "gate": "大?门(?:口|外|前)?", "side": "(?:侧|边|面)"}
_TAGS: dict[str, tuple[str, str]] = {}


def _tagged() -> re.Pattern[str]:
    """All the spots' words in one pattern, each alternative tagged (an empty group) with its
    kind and direction: every alternative begins with a character, so a search skips to the
    places where one may begin."""
    words = [(kind, "", word) for kind, said in _SAID.items() for word in said]
    words += [(kind, side, side + tail) for kind, tail in _SIDED.items() for side in _SIDES]
    parts = []
    for n, (kind, side, word) in enumerate(words):
        _TAGS[f"t{n}"] = (kind, side)
        parts.append(f"{word}(?P<t{n}>)")
    return re.compile("|".join(parts))


_SPOT = _tagged()
#: A named bridge (裕中桥, 德胜门桥): not a road's name, not a compound named after it (马甸桥西里).
_NAMED_BRIDGE = re.compile(
    r"([^\W\d_路街巷道桥在过到的是从往那个这大天行立火铁]{2,3}?)(?:立交)?桥(?![东西南北]?[里村院园])"
)
#: Spots that need the place right before them: a gate is a compound's (not 单元门 or 出门),
#: an exit or a side a road's.
_AFTER_NAME = {"gate", "exit", "side"}
_KINDS = {"exit": CROSSING, "named": BRIDGE, "bridge": UNDER, "gate": GATE}  # under an unnamed bridge
_VAGUE = re.compile(
    r"具体(?:位置|地点|哪段|哪儿|在哪)|说不清|说不上来|没说清|不知道(?:在)?哪|哪一?段|好几处|多处|几处"
)


class Spot(NamedTuple):
    """A spot: its kind, where it was said, what it belongs to, a direction said with it, and
    where its words end."""

    kind: str
    start: int
    at: frozenset[str]
    side: str
    end: int = 0


def is_vague(text: str) -> bool:
    """Whether the caller says they do not know where (具体位置说不清, 好几处积水)."""
    return _VAGUE.search(text) is not None


#: Marks a spot of an area (人定湖公园), not of one of its streets.
AREA_MARK = "@"
_BETWEEN = frozenset({"", "小区", "那个", "这个", "的", "小区的", "那", "这", "那个小区", "那个小区的"})
#: Places a caller names, each its own spot (a bus stop at a junction is the stop).
PLACES = frozenset(
    {UNDERPASS, "footbridge", "metro", BUS, "fuel", "market", "shop", "eatery", "school", "hospital"}
)
#: Spots of their own under or at a landmark (马甸桥地下通道 is not the bridge's ramp; 马甸桥下凹桥
#: is the bridge's underside).
_AT_LANDMARK = frozenset({UNDERPASS, "footbridge", "metro", BUS})
_OWN = re.compile("通道|地道|天桥|过街桥|站|地铁")


def _before(text: str, found: Sequence[Found], at: int) -> Found | None:
    """The name that ends right before position `at` (小区 or 那个 between allowed)."""
    for f in reversed(found):
        if f.end <= at:
            return f if text[f.end : at] in _BETWEEN else None
    return None


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and start < b for a, b in spans)


def _spots(text: str, found: Sequence[Found]) -> list[Spot]:
    """Every spot named in `text`, in order."""
    out = [Spot(BRIDGE, f.start, f.names, "", f.end) for f in found if f.kind == LANDMARK]
    for f in found:  # 安德路口, 西巷口, 安德里站
        if f.end < len(text) and text[f.end] in "口站" and not text.startswith("口子", f.end):
            if text[f.end] == "站":
                out.append(Spot(BUS, f.end, f.names, "", f.end + 1))
            elif f.kind in (ROAD, LANE):
                out.append(Spot(CROSSING, f.end, frozenset(), "", f.end + 1))
    taken = [(f.start, f.end) for f in found]
    if "桥" in text:
        for match in _NAMED_BRIDGE.finditer(text):
            start, end = match.span()
            if not any(s.start < end and start < s.end for s in out) and not _overlaps(taken, start, end):
                out.append(Spot(BRIDGE, start, frozenset({match.group(1) + "桥"}), "", end))
    for match in _SPOT.finditer(text):
        name, side = _TAGS[str(match.lastgroup)]
        near = _before(text, found, match.start())
        if name in _AFTER_NAME:
            if near is None:
                continue
            if name == "gate" and near.kind not in (COMPOUND, LANE, AREA) and not side:
                continue
        start, end = match.span()
        if any(s.start < end and start < s.end for s in out) or _overlaps(taken, start, end):
            continue  # part of a name (北三环马甸桥 is not 环马甸桥) or of a spot already found
        kind = _KINDS.get(name, name)
        at: frozenset[str] = frozenset()
        if near is not None and kind not in (CROSSING, BRIDGE):  # a park of an area is the area's
            at = near.names | {AREA_MARK + text[near.start : near.end]} if near.kind == AREA else near.names
        out.append(Spot(kind, match.start(), at, side, match.end()))
    return sorted(out, key=lambda s: s.start)


def find_spot(text: str, found: Sequence[Found]) -> Spot | None:
    """The spot `text` names (`found`: the names in it), or None: the first named, a side of a
    road only when nothing else is; a stop or a shop right after a junction, a gate or a landmark
    is that stop at it (裕民路东口公交站, 马甸桥地下通道)."""
    spot = _find(text, _spots(text, found))
    return spot._replace(kind=UNDERPASS) if spot is not None and spot.kind == UNDER else spot


def _find(text: str, spots: list[Spot]) -> Spot | None:
    first = next((s for s in spots if s.kind != SIDE), spots[0] if spots else None)
    if first is None or first.kind not in (CROSSING, GATE, BRIDGE):
        return first
    for then in spots:
        if then.start >= first.end and text[first.end : then.start] in _BETWEEN:
            if first.kind == BRIDGE and then.kind in _AT_LANDMARK and _OWN.search(text, then.start, then.end):
                return then._replace(at=first.at)
            if first.kind != BRIDGE and then.kind in PLACES:
                return then._replace(at=then.at or first.at, side=first.side)
        if then.start >= first.end:
            break
    return first
