"""What a caller says of where: one spelling for the many ways of saying an address.

`normalize(text)`: width folded, numbers as digits where they count something (三号楼 → 3号楼,
`api_client.domain.place_names`), no spaces or punctuation, every way of saying a building as
`N号楼` (3栋, 3幢, 3座, 3#, 第三栋) and 3-2-602 as 3号楼2单元602. What comes before a place's
name (北京市西城区德胜街道, 我家在) is left: the index finds names anywhere in the text.
`read_tail(text)` reads what follows a compound's name: the building, and apart from it the
unit (2单元, 2门), the floor and the flat (301, 301室).

`N楼` is a building when it follows the compound's name directly (裕中东里3楼: Beijing callers say
楼 for 号楼), and a floor once the building is said (3号楼5楼); `N号` after a compound is a building
(裕中东里3号), after a road a door number (新康街12号: the road)."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from api_client.domain.place_names import normalize_numerals

__all__ = ["Tail", "normalize", "read_tail"]

_DROP = str.maketrans("", "", " \t\r\n,，。.、:：;；()（）「」“”\"'!！?？~～")
_FIRST = re.compile(r"第(?=\d)")
_BUILDING_WORD = re.compile(r"(?<!\d)(\d{1,3})(?:栋楼?|幢楼?|座楼?)")
_DASH3 = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d-])")
_DASH2 = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})(?![\d-])")

#: Words between a compound's name and its building (小区, 院里, 那个 ...).
_FILLER = re.compile(r"^(?:小区|社区|院)?(?:里面|里边|里头|里|内|的|那个|这个|那儿|这儿)*")
_BUILDING = re.compile(r"^(\d{1,3})(?:号楼|号|楼)(?!层)")
_UNIT = re.compile(r"^(?:的)?(\d{1,2})(?:单元|门|门洞)")
_FLOOR = re.compile(r"^(?:的)?(\d{1,2})(?:楼|层)(?!\d*单元)")
_ROOM = re.compile(r"^(?:的)?(\d{3,4})(?:室|号|房间)?")


def normalize(text: str) -> str:
    """One spelling of an address as said or typed (see the module)."""
    text = unicodedata.normalize("NFKC", text).translate(_DROP)
    text = normalize_numerals(text)
    if "第" in text:
        text = _FIRST.sub("", text)
    if "-" in text:
        text = _DASH3.sub(r"\1号楼\2单元\3", text)
        text = _DASH2.sub(r"\1号楼\2单元", text)
    return _BUILDING_WORD.sub(r"\1号楼", text)


class Tail(NamedTuple):
    """What follows a compound's name: its building number, unit, floor and flat (None, "" when
    not said)."""

    building: int | None
    unit: int | None
    floor: int | None
    room: str


def read_tail(text: str) -> Tail:
    """The building, unit, floor and flat at the start of `text` (normalized), after a compound's
    name: `3号楼2单元301` → (3, 2, None, "301"), `3楼` → (3, None, None, "")."""
    rest = _FILLER.sub("", text, count=1)
    building = unit = floor = None
    room = ""
    if (found := _BUILDING.match(rest)) is not None:
        building, rest = int(found.group(1)), rest[found.end() :]
    if (found := _UNIT.match(rest)) is not None:
        unit, rest = int(found.group(1)), rest[found.end() :]
    if building is not None and (found := _FLOOR.match(rest)) is not None:
        floor, rest = int(found.group(1)), rest[found.end() :]
    if (found := _ROOM.match(rest)) is not None:
        room = found.group(1)
    return Tail(building, unit, floor, room)
