"""How the street's place names are said: numbers in one form, what a name says it is, and the
other spellings of a road or a compound that callers use (德外 for 德胜门外, 三环 for 北三环中路,
新康里 for 德外新康里). Used by the server's gazetteer, the client's place resolver and the
clustering of duplicates. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = [
    "COMPOUND",
    "GATE_ROAD",
    "LANE",
    "ROAD",
    "cn_to_int",
    "compound_forms",
    "landmark_forms",
    "normalize_numerals",
    "road_forms",
    "street_kind",
]

COMPOUND, LANE, ROAD = "compound", "lane", "road"

_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
#: A Chinese numeral before a word that counts buildings, units, floors, courtyards, areas or lanes.
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]{1,4}(?=号|栋|幢|座|楼|单元|门|层|区|巷|户|室)")
_HASH = re.compile(r"(?<!\d)(\d++)#(?:楼)?")

_COMPOUND_END = re.compile(r"(?:里|区|村|园|院|小区|丽景|大院|家园)$")
_LANE_END = re.compile(r"(?:巷|胡同)$")
#: Beijing's short forms of the roads outside a city gate: 德胜门外 → 德外, 新街口外 → 新外.
GATE_ROAD = re.compile(r"^(?P<head>[\u4e00-\u9fff])[\u4e00-\u9fff]{1,2}?(?:门|口)外")
_RING_ROAD = re.compile(r"^(?P<side>[东西南北])(?P<ring>[二三四五])环(?P<part>[东西南北中])路$")


def cn_to_int(text: str) -> int:
    """A Chinese numeral up to 99 as an integer: 三 → 3, 十一 → 11, 二十八 → 28."""
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGIT.get(tens[-1:], 1) if tens else 1) * 10 + (_CN_DIGIT.get(ones[:1], 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGIT.get(ch, 0)
    return value


def normalize_numerals(text: str) -> str:
    """`text` with full-width forms folded (NFKC) and numbers as digits where they count
    something: 三号楼二门 → 3号楼2门, 德胜里一区 → 德胜里1区, ３＃楼 → 3号楼.

    >>> normalize_numerals("新外二十八号院十一号楼三门")
    '新外28号院11号楼3门'
    """
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _CN_NUMBER.sub(lambda m: str(cn_to_int(m.group())), text)
    return _HASH.sub(r"\1号楼", text) if "#" in text else text


def street_kind(name: str) -> str:
    """What a street's name says it is: a compound (…里, …区, …院), a lane (…巷, …胡同) or a road."""
    if _LANE_END.search(name):
        return LANE
    return COMPOUND if _COMPOUND_END.search(name) else ROAD


def road_forms(road: str) -> set[str]:
    """The ways a road is said: 德胜门外大街 / 德外大街 / 德外, 六铺炕街 / 六铺炕大街,
    北三环中路 / 北三环 / 三环."""
    forms = {road}
    match = GATE_ROAD.match(road)
    if match is not None:
        short = match.group("head") + "外"
        forms |= {short + road[match.end() :], match.group(), short}
    ring = _RING_ROAD.match(road)
    if ring is not None:
        side, number, part = ring.group("side"), ring.group("ring"), ring.group("part")
        core = f"{number}环"
        forms |= {f"{side}{core}", f"{side}{core}路", core, f"{core}路", f"{core}{part}路"}
    if road.endswith("大街") and len(road) >= 4 and not match:
        forms.add(road[:-2])  # 黄寺大街 / 黄寺
    for form in list(forms):
        if form.endswith("大街"):
            forms.add(form[:-2] + "街")
        elif form.endswith("街") and not form.endswith("小街"):
            forms.add(form[:-1] + "大街")
    return forms


def landmark_forms(name: str) -> set[str]:
    """A named bridge's spellings: 马甸桥 / 马甸立交桥 / 马甸立交."""
    if not name.endswith("桥"):
        return {name}
    core = name.removesuffix("桥")
    return {name, core + "立交桥", core + "立交"}


def compound_forms(name: str, roads: Iterable[tuple[str, set[str]]], areas: Sequence[str]) -> set[str]:
    """The spellings of a compound or lane: a road's name before its own in any of the road's
    spellings (`roads`: each road with its `road_forms`): 新外大街北里 / 新街口外大街北里 / 新外北里;
    without 小区 (林业局小区 → 林业局); and without an area's name before it (`areas`, longest
    first: the communities' names, the gate roads' short forms): 德外新康里 → 新康里."""
    forms = {name}
    for _road, said in roads:
        head = max((f for f in said if name.startswith(f) and len(name) > len(f)), key=len, default="")
        if head:
            forms |= {form + name[len(head) :] for form in said}
    for form in list(forms):
        if form.endswith("小区"):
            forms.add(form[:-2])
        for area in areas:
            core = form[len(area) :]
            if form.startswith(area) and len(core) >= 3 and core[0] not in "大街路巷桥0123456789":
                forms.add(core)
    return forms
