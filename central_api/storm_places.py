"""Where the storm's incidents happen and how each caller writes the place.

Compounds and roads come from the street office's directory (`central_api.catalogue`); a
building keeps its shape (floors, units) whoever calls about it. Callers spell one place many
ways: the community's name before it, 小区 after it, a homophone slip, 三号楼 for 3号楼, full-width
digits, 3-2-602.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from central_api.catalogue import COMMUNITIES, STREET_OFFICE
from central_api.storm_data import HOMOPHONES, SPOT_SAYINGS


def _is_compound(street: str) -> bool:
    return any(k in street for k in ("里", "院", "小区", "家园", "村", "丽景"))


#: Every street with the communities it lies in (some roads cross several).
STREET_COMMUNITIES: dict[str, list[str]] = {}
for _community in COMMUNITIES:
    for _street in _community.streets:
        STREET_COMMUNITIES.setdefault(_street, []).append(_community.id)
COMMUNITY_NAMES = {c.id: c.name for c in COMMUNITIES}
_COMPOUNDS = [(c.id, s) for c in COMMUNITIES for s in c.streets if _is_compound(s)]
_ROAD_COMMUNITIES = [(c.id, s) for c in COMMUNITIES for s in c.streets if not _is_compound(s)]


def pick_compound(rng: random.Random, community: str = "") -> tuple[str, str]:
    """A residential compound (in `community` when given): a named one (德胜里一区), or as often
    a courtyard on a road (新康街12号院), as the demo data's addresses have them."""
    named = [p for p in _COMPOUNDS if p[0] == community] if community else _COMPOUNDS
    roads = [p for p in _ROAD_COMMUNITIES if p[0] == community] if community else _ROAD_COMMUNITIES
    if named and (not roads or rng.random() < 0.5):
        return rng.choice(named)
    _, road = rng.choice(roads)
    if community:
        number = rng.choice([n for n in range(1, 121) if _courtyard_community(road, n) == community])
    else:
        number = rng.randint(1, 120)
    return _courtyard_community(road, number), f"{road}{number}号院"


def _courtyard_community(road: str, number: int) -> str:
    """The community a courtyard lies in: one of its road's, the same every time (新街口外大街49号院
    is one place, whichever community's call-taker files it)."""
    owners = STREET_COMMUNITIES[road]
    return owners[number % len(owners)]


def building_count(street: str) -> int:
    """How many buildings a compound has (a courtyard a few, a named compound many)."""
    return 8 if street.endswith("号院") else 24


ROADS = [s for s in STREET_COMMUNITIES if not _is_compound(s)]


_CN_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def _cn_number(n: int) -> str:
    """1..99 in Chinese numerals (三, 十二, 二十四)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def slip(rng: random.Random, text: str) -> str:
    """`text` with one homophone slip, when it has a character that invites one."""
    spots = [i for i, ch in enumerate(text) if ch in HOMOPHONES]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + HOMOPHONES[text[i]] + text[i + 1 :]


@dataclass(frozen=True)
class Building:
    """A residential building: `street` is its compound (德胜里一区), `number` the building."""

    community: str
    street: str
    number: int
    floors: int
    units: int

    @property
    def name(self) -> str:
        return f"{self.street}{self.number}号楼"


def building_at(rng: random.Random, community: str, street: str, number: int | None = None) -> Building:
    number = number if number is not None else rng.randint(1, building_count(street))
    shape = random.Random(f"{community}/{street}/{number}")  # a building keeps its shape
    floors = shape.choice([5, 6, 6, 6, 16, 18, 22])
    return Building(community, street, number, floors, shape.randint(2, 6) if floors <= 6 else 3)


def spell_building(
    rng: random.Random, b: Building, *, unit: int | None = None, floor: int | None = None, flat: int = 0
) -> str:
    """One caller's way of writing an address in building `b` (down to the flat when given)."""
    street = b.street
    roll = rng.random()
    if roll < 0.06:
        street = COMMUNITY_NAMES[b.community] + street
    elif roll < 0.12:
        street = f"北京市西城区{STREET_OFFICE}{street}"
    if rng.random() < 0.2:
        street += "小区"
    if rng.random() < 0.06:
        street = slip(rng, street)
    number = _cn_number(b.number) if rng.random() < 0.08 else str(b.number)
    building = f"{street}{number}" + rng.choices(["号楼", "栋", "楼"], weights=[90, 5, 5])[0]
    tail = ""
    if unit is not None and rng.random() < 0.7:
        word = rng.choices(["单元", "门"], weights=[75, 25])[0]
        tail = f"{unit}{word}"
        if floor is not None and flat and rng.random() < 0.7:
            tail += f"{floor}{flat:02d}" + ("室" if rng.random() < 0.2 else "")
    text = building + tail
    if unit is not None and floor is not None and flat and number.isdigit() and rng.random() < 0.08:
        text = f"{street}{b.number}-{unit}-{floor}{flat:02d}"
    if rng.random() < 0.1:
        text = text.translate(_FULL_WIDTH)
    return text


def spell_compound(rng: random.Random, community: str, street: str) -> str:
    text = street
    roll = rng.random()
    if roll < 0.1:
        text = COMMUNITY_NAMES[community] + text
    elif roll < 0.45:
        text += rng.choice(["小区", "小区里", "院里", "小区内"])
    if rng.random() < 0.06:
        text = slip(rng, text)
    return text


def spell_spot(rng: random.Random, street: str, spot: str) -> str:
    said = rng.choice(SPOT_SAYINGS.get(spot, [spot]))
    if rng.random() < 0.15 and spot in ("马甸桥下", "德胜门桥下", "裕中桥下"):
        return said  # a landmark everyone knows, without the road
    text = f"{street}{said}"
    if rng.random() < 0.05:
        text = slip(rng, text)
    return text
