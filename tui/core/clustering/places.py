"""An address as a place: `normalize_address` (one spelling for the ways people write it),
`parse_place` (its compound or road, building, unit, flat, or spot on a road) and `is_road`."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from tui.core.clustering.slips import same_base

__all__ = ["Place", "is_road", "normalize_address", "parse_place"]

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
    """One spelling for the ways people write an address. Not the report's hot-spot key
    (`tui.core.report.analytics.normalize_address`: width, case, punctuation only): this one reads
    the address's grammar (prefixes, numerals, 栋 / 3-2-602) to find one place.

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
