"""A rainstorm's calls, labelled with the incident each one reports.

`storm_requests(seed, start=..., hours=..., count=...)` gives `count` new requests received during
the window, oldest first, each with the true incident it belongs to (`None` for a request nothing
else reports). It models the July 2023 storm at the scale of one street office: about half the
requests are roof and house leaks, a quarter waterlogging (roads, underpasses, compounds,
basements), the rest power cuts, fallen trees, blocked drains and stopped lifts, plus the ordinary
requests that keep coming.

An incident is one problem at one place that one fix solves: the roof of one building (reported by
the neighbours of its top floor), one flooded underpass (by many passers-by), one outage over a
compound (by residents of several buildings). Each caller has a name, a phone and wording of their
own: other details, paraphrases, typing slips, the same place spelled differently (德胜里一区3号楼,
德胜里一区小区3号楼2单元, ３号楼 in full-width digits, 三号楼, 3-2-602), and sometimes a category the
call-taker chose differently (a power cut that stopped the lift filed as 电梯故障). A few people call
again about the same thing.

Near-misses are generated on purpose and are *not* duplicates: another problem in the same building,
the same category in another building of the same community, the same caller reporting a second,
different problem. `StormCall.near_miss_of` names the incident each one resembles.

Deterministic: the same arguments give equal output.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from api_client.models import Caller, Channel, Location, NewRequest
from central_api.catalogue import COMMUNITIES, STREET_OFFICE, category_by_code
from central_api.seed import (
    _CALL_TAKERS,
    _CLOSINGS,
    _HOUR_WEIGHTS,
    _MOBILE_PREFIXES,
    _OPENINGS,
    _SPOTS,
    _SURNAMES,
    _TEMPLATES,
    _VULNERABLE,
    BEIJING,
    _coords,
    _request_type,
)


@dataclass(frozen=True)
class StormCall:
    """One storm request and the truth about it.

    `incident` is the id of the incident it reports when at least one other request reports
    it too, else None. `near_miss_of` names an incident it was made to resemble without being
    part of it (another problem in the same building, ...). `actor` is the call-taker.
    """

    new: NewRequest
    incident: str | None
    near_miss_of: str | None = None
    actor: str = "话务-李娜"


# --------------------------------------------------------------------------- places


def _is_compound(street: str) -> bool:
    return any(k in street for k in ("里", "院", "小区", "家园", "村", "丽景"))


#: Every street with the communities it lies in (some roads cross several).
_STREET_COMMUNITIES: dict[str, list[str]] = {}
for _community in COMMUNITIES:
    for _street in _community.streets:
        _STREET_COMMUNITIES.setdefault(_street, []).append(_community.id)
_COMMUNITY_NAMES = {c.id: c.name for c in COMMUNITIES}
_COMPOUNDS = [(c.id, s) for c in COMMUNITIES for s in c.streets if _is_compound(s)]
_ROAD_COMMUNITIES = [(c.id, s) for c in COMMUNITIES for s in c.streets if not _is_compound(s)]


def _compound(rng: random.Random, community: str = "") -> tuple[str, str]:
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
    owners = _STREET_COMMUNITIES[road]
    return owners[number % len(owners)]


def _buildings(street: str) -> int:
    """How many buildings a compound has (a courtyard a few, a named compound many)."""
    return 8 if street.endswith("号院") else 24


_ROADS = [s for s in _STREET_COMMUNITIES if not _is_compound(s)]

#: Where water gathers on public roads: (street, spot), the spot as people name it.
_UNDERPASSES = [
    ("北三环中路", "马甸桥下"),
    ("德胜门外大街", "德胜门桥下"),
    ("北三环中路", "裕中桥下"),
    ("新街口外大街", "铁路桥下"),
    ("黄寺大街", "下穿通道"),
    ("安德路", "铁路桥涵洞"),
]
#: Other ways to say a spot (as callers do).
_SPOT_SAYINGS: dict[str, list[str]] = {
    "路口": ["路口", "十字路口", "交叉口", "路口那儿"],
    "公交站旁边": ["公交站旁边", "公交车站", "公交站附近", "车站边上"],
    "小区南门": ["小区南门", "南门口", "小区南门外"],
    "菜市场门口": ["菜市场门口", "菜市场前面", "菜市场那儿"],
    "便利店门口": ["便利店门口", "便利店前面", "超市门口"],
    "过街天桥下": ["过街天桥下", "天桥底下", "过街桥下面"],
    "学校门口": ["学校门口", "小学门口", "学校大门外"],
    "北口": ["北口", "北边路口", "北头"],
    "东侧": ["东侧", "东边", "东面"],
    "马甸桥下": ["马甸桥下", "马甸桥底下", "马甸桥下面辅路", "马店桥下"],
    "德胜门桥下": ["德胜门桥下", "德胜门桥底下", "德胜门立交桥下"],
    "裕中桥下": ["裕中桥下", "裕中桥底下", "裕中桥那个下凹桥"],
    "铁路桥下": ["铁路桥下", "火车桥底下", "铁道桥下面"],
    "下穿通道": ["下穿通道", "地下通道", "下穿隧道"],
    "铁路桥涵洞": ["铁路桥涵洞", "涵洞", "铁路桥底下涵洞"],
}
#: Typing slips of a pinyin input method: a homophone instead of the right character.
_HOMOPHONES = {
    "德": "得",
    "胜": "盛",
    "区": "去",
    "里": "理",
    "旗": "棋",
    "杆": "竿",
    "甸": "店",
    "寺": "四",
    "裕": "玉",
    "康": "糠",
    "湖": "胡",
    "明": "名",
    "风": "峰",
    "安": "按",
}
_CN_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def _cn_number(n: int) -> str:
    """1..99 in Chinese numerals (三, 十二, 二十四)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


def _slip(rng: random.Random, text: str) -> str:
    """`text` with one homophone slip, when it has a character that invites one."""
    spots = [i for i, ch in enumerate(text) if ch in _HOMOPHONES]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + _HOMOPHONES[text[i]] + text[i + 1 :]


@dataclass(frozen=True)
class _Building:
    """A residential building: `street` is its compound (德胜里一区), `number` the building."""

    community: str
    street: str
    number: int
    floors: int
    units: int

    @property
    def name(self) -> str:
        return f"{self.street}{self.number}号楼"


def _building(rng: random.Random, community: str, street: str, number: int | None = None) -> _Building:
    number = number if number is not None else rng.randint(1, _buildings(street))
    shape = random.Random(f"{community}/{street}/{number}")  # a building keeps its shape
    floors = shape.choice([5, 6, 6, 6, 16, 18, 22])
    return _Building(community, street, number, floors, shape.randint(2, 6) if floors <= 6 else 3)


def _spell_building(
    rng: random.Random, b: _Building, *, unit: int | None = None, floor: int | None = None, flat: int = 0
) -> str:
    """One caller's way of writing an address in building `b` (down to the flat when given)."""
    street = b.street
    roll = rng.random()
    if roll < 0.06:
        street = _COMMUNITY_NAMES[b.community] + street
    elif roll < 0.12:
        street = f"北京市西城区{STREET_OFFICE}{street}"
    if rng.random() < 0.2:
        street += "小区"
    if rng.random() < 0.06:
        street = _slip(rng, street)
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


def _spell_compound(rng: random.Random, community: str, street: str) -> str:
    text = street
    roll = rng.random()
    if roll < 0.1:
        text = _COMMUNITY_NAMES[community] + text
    elif roll < 0.45:
        text += rng.choice(["小区", "小区里", "院里", "小区内"])
    if rng.random() < 0.06:
        text = _slip(rng, text)
    return text


def _spell_spot(rng: random.Random, street: str, spot: str) -> str:
    said = rng.choice(_SPOT_SAYINGS.get(spot, [spot]))
    if rng.random() < 0.15 and spot in ("马甸桥下", "德胜门桥下", "裕中桥下"):
        return said  # a landmark everyone knows, without the road
    text = f"{street}{said}"
    if rng.random() < 0.05:
        text = _slip(rng, text)
    return text


# --------------------------------------------------------------------------- texts

_RAIN_SINCE = ["从下午开始", "刚才", "雨一大就", "从三点多开始", "半个小时前", "这一下午", "昨天夜里开始"]
_LEAK_DETAILS = [
    "用盆接都接不过来",
    "天花板的墙皮都泡掉了",
    "灯口那里也在往下滴水，怕漏电",
    "床和柜子都湿了",
    "墙上全是水印子",
    "屋里地上全是水",
    "家里的电器都拿塑料布盖上了",
    "顺着墙往下流",
]
_ROOF = [
    "{addr}，顶楼漏雨了，{since}雨水顺着天花板往下流，{detail}。",
    "我家住{bld}顶层，这么大雨屋顶漏了，{detail}，麻烦赶紧派人来。",
    "{addr}，楼顶漏水，我们这层好几家都漏了，{detail}。",
    "房顶漏雨，{detail}。地址是{addr}。",
    "{addr}，{since}屋里开始滴水，卧室和客厅都漏，{detail}。",
    "顶层漏雨！{addr}，{detail}，物业电话打不通。",
    "{bld}的楼顶防水不行了，我家{floor}层，{since}一直漏，{detail}。",
]
_HOUSE_LEAK = [
    "{addr}，窗户往屋里渗水，窗台下面全湿了，{detail}。",
    "{addr}，外墙渗水，卧室墙面都湿透了，{detail}。",
    "下大雨我家阳台往里灌水，{detail}，地址{addr}。",
]
_COMPOUND_WATER = [
    "{place}积水特别深，快没过膝盖了，{bldno}门口的水都往楼道里灌了。",
    "我们{place}全是水，下水道排不出去，车都泡了一半。",
    "{place}{bldno}门口积水很深，老人出不了门，{since}一直没退。",
    "{place}里水排不出去，一楼住户家门口都进水了，赶紧来抽水。",
    "{place}积水，地势低，每次下雨都淹，这回更厉害，{bldno}那边最深。",
]
_ROAD_WATER = [
    "{place}积水太深了，有辆车熄火泡在里面了，太危险了。",
    "{place}全淹了，车过不去，行人也过不去，赶紧封路吧。",
    "路过{place}，积水都到车门了，赶紧派人来排水。",
    "{place}的水有半米多深，公交车都停了，请尽快处理。",
    "{place}积水很深，看着有一米了，还有人往里开车，得有人管一管。",
    "我在{place}，水太深了，电动车都被冲倒了。",
]
_BASEMENT = [
    "{bld}地下室进水了，水还在往里灌，里面放着不少东西。",
    "{bld}地下车库进水了，好多车泡在水里，赶紧来抽水。",
    "{bld}的地下室淹了，水快到台阶了，底下还住着人。",
]
_OUTAGE = [
    "{place}整个小区都停电了，{since}就没电，冰箱里的东西都要坏了。",
    "{addr}停电了，问了邻居也都没电，已经{hours}了。",
    "{place}{bldno}没电了，整个院都黑着，家里有老人用制氧机，很着急。",
    "{place}停电了，供电那边说在抢修，到底什么时候能来电？",
    "{addr}，雨下大了以后就停电了，整片都没电。",
]
_OUTAGE_LIFT = [
    "{bld}停电了，电梯也停了，我家老人在{floor}层下不来。",
    "{bld}一停电电梯就停了，有人被困在电梯里了，赶紧来人！",
]
_OUTAGE_WATER = [
    "{place}停电以后水泵也停了，{bldno}楼上都没水了。",
    "{addr}，停电了，二次供水的泵不转，{floor}层一点水都没有。",
]
_TREE = [
    "{place}一棵大树被风刮倒了，横在路上，车过不去。",
    "{place}大树倒了压在一辆车上，树枝还搭在电线上。",
    "{place}有棵树被雨泡倒了，把人行道堵死了。",
    "{place}的大树折了，好大一根树枝掉在路中间。",
]
_DRAIN = [
    "{place}雨水箅子堵了，水下不去，路面全是水。",
    "{place}下水道堵了，脏水往外冒。",
    "{place}雨水口被树叶和垃圾堵住了，水排不走。",
]
_LIFT = [
    "{bld}电梯停了，底坑进水了，{floor}层的老人下不了楼。",
    "{bld}电梯不走了，物业说进水了得等雨停，我们住{floor}层怎么办？",
    "{bld}电梯进水停运了，家里有残疾人出不了门。",
]
_AGAIN = [
    "我一个小时前打过电话了，到现在还没人来，",
    "刚才已经反映过了，再催一下，",
    "第二次打电话了，",
]
_HOURS_SAID = ["一个多小时", "两个小时", "大半天", "好几个小时", "四十分钟"]

# ordinary requests that go on during the storm (and in buildings near the storm's incidents)
_ORDINARY = {
    "noise": 3,
    "parking": 3,
    "property_mgmt": 3,
    "policy_enquiry": 4,
    "door_access": 2,
    "sanitation": 2,
    "street_light": 2,
    "gas": 1,
    "pest": 1,
}
#: Different problems in the same building (near-misses of a building's incident).
_OTHER_IN_BUILDING = ["door_access", "elevator", "gas", "property_mgmt", "sewer", "street_light", "pest"]


# --------------------------------------------------------------------------- incidents


@dataclass
class _Incident:
    ref: str
    kind: str
    category: str
    community: str
    start: datetime
    reports: int
    building: _Building | None = None
    street: str = ""  # the compound or road
    spot: str = ""


#: Kinds of storm incident: (share of storm requests, category, scope).
_KINDS: dict[str, tuple[float, str]] = {
    "roof": (0.36, "roof_leak"),
    "house_leak": (0.13, "roof_leak"),
    "road_water": (0.11, "waterlogging"),
    "compound_water": (0.10, "waterlogging"),
    "basement": (0.04, "waterlogging"),
    "outage": (0.07, "power_outage"),
    "tree": (0.05, "tree_hazard"),
    "drain": (0.04, "sewer"),
    "lift": (0.02, "elevator"),
    "ordinary": (0.08, ""),
}
#: Mean reports per incident of a kind (see `_report_count`).
_MEAN_REPORTS = {
    "roof": 2.3,
    "house_leak": 1.0,
    "road_water": 6.5,
    "compound_water": 3.2,
    "basement": 1.9,
    "outage": 4.5,
    "tree": 1.7,
    "drain": 1.4,
    "lift": 1.5,
    "ordinary": 1.0,
}
#: How long after an incident starts its reports come in (mean minutes of an exponential).
_REPORT_DELAY_MIN = {
    "roof": 35,
    "road_water": 25,
    "compound_water": 30,
    "basement": 30,
    "outage": 15,
    "tree": 25,
    "drain": 30,
    "lift": 25,
}


def _report_count(rng: random.Random, kind: str) -> int:
    if kind in ("house_leak", "ordinary"):
        return 1
    mean = _MEAN_REPORTS[kind]
    # a share of incidents get one call; the rest a geometric tail above 2
    single = {"roof": 0.35, "road_water": 0.15, "compound_water": 0.3, "outage": 0.2}.get(kind, 0.5)
    if rng.random() < single:
        return 1
    tail = max(mean - single, 0.1) / (1 - single) - 2
    extra = int(rng.expovariate(1 / tail)) if tail > 0 else 0
    return 2 + min(extra, 40)


class _Storm:
    def __init__(self, seed: int, start: datetime, hours: float) -> None:
        self.rng = random.Random(f"storm/{seed}")
        self.seed = seed
        self.start = start
        self.span = timedelta(hours=hours)
        rng = self.rng
        # rain cells: times (fractions of the window) when it pours, and how hard
        self.cells = [(rng.uniform(0, 1), rng.uniform(0.03, 0.12), rng.uniform(1, 4)) for _ in range(3)]
        self.calls: list[tuple[datetime, StormCall, int]] = []  # (at, call, incident index or -1)
        self.incidents: list[_Incident] = []
        #: place -> the incident open there (a building's roof leaks once; an underpass floods once)
        self.open_at: dict[tuple[str, ...], int] = {}
        self.next_ref = 0
        self.top = max(self._weight(start + self.span * (i / 96)) for i in range(97)) * 1.05

    # ---- time

    def _weight(self, at: datetime) -> float:
        """The call rate at `at`: the hour of day (people call less at night) times the rain."""
        local = at.astimezone(BEIJING)
        base = 0.4 + _HOUR_WEIGHTS[local.hour] / 12
        frac = (at - self.start) / self.span if self.span else 0.0
        rain = 1.0 + sum(h * math.exp(-(((frac - c) / w) ** 2)) for c, w, h in self.cells)
        return base * rain

    def incident_start(self) -> datetime:
        rng = self.rng
        top = self.top
        for _ in range(200):
            at = self.start + self.span * rng.random()
            if rng.random() * top <= self._weight(at):
                return at
        return self.start + self.span * rng.random()

    # ---- people

    def caller(self) -> Caller:
        rng = self.rng
        surname = rng.choice(_SURNAMES)
        title = rng.choices(["女士", "先生", "阿姨", "大爷"], weights=[46, 46, 4, 4])[0]
        name = "" if rng.random() < 0.02 else surname + title
        phone = rng.choice(_MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
        return Caller(name=name, phone=phone)

    # ---- requests

    def emit(
        self,
        at: datetime,
        category: str,
        community: str,
        address: str,
        text: str,
        caller: Caller,
        *,
        incident: int = -1,
        near_miss_of: int = -1,
        key: str = "",
    ) -> None:
        rng = self.rng
        if not self.start <= at < self.start + self.span:
            return
        vulnerable = rng.random() < 0.06
        opening = rng.choice(_OPENINGS).format(community=_COMMUNITY_NAMES.get(community, ""))
        extra = rng.choice(_VULNERABLE) if vulnerable else ""
        description = f"{opening}{text}{extra}{rng.choice(_CLOSINGS)}"
        lat, long = _coords(community, key or address)
        channel = rng.choices(
            [Channel.phone, Channel.wechat, Channel.app, Channel.web], weights=[90, 5, 3, 2]
        )[0]
        new = NewRequest(
            channel=channel,
            type=_request_type(rng, category),
            category=category,
            description=description,
            location=Location(street=STREET_OFFICE, community=community, address=address, lat=lat, long=long),
            caller=caller,
            vulnerable=vulnerable,
            received_at=at.replace(microsecond=0),
        )
        near = self.incidents[near_miss_of].ref if near_miss_of >= 0 else None
        call = StormCall(new=new, incident=None, near_miss_of=near, actor=rng.choice(_CALL_TAKERS))
        self.calls.append((new.received_at or at, call, incident))

    def new_incident(
        self, kind: str, category: str, *, near: _Incident | None = None, start: datetime | None = None
    ) -> _Incident | None:
        """A new incident of `kind` somewhere (in another building of `near`'s compound when
        given), or None when its place already has one: then its calls add to that one."""
        rng = self.rng
        inc = _Incident(
            ref=f"storm-{self.seed}-{self.next_ref:05d}",
            kind=kind,
            category=category,
            community="",
            start=start or self.incident_start(),
            reports=_report_count(rng, kind),
        )
        if kind in ("house_leak", "ordinary"):  # one call, anywhere: `play` picks the place
            self.incidents.append(inc)
            self.next_ref += 1
            return inc
        if near is not None and near.building is not None:
            number = rng.choice(
                [n for n in range(1, _buildings(near.street) + 1) if n != near.building.number]
            )
            inc.building = _building(rng, near.community, near.street, number)
            inc.community, inc.street = near.community, near.street
            place: tuple[str, ...] = (kind, inc.community, inc.street, str(number))
        elif kind in ("roof", "basement", "lift"):
            community, street = _compound(rng)
            inc.building = _building(rng, community, street)
            inc.community, inc.street = community, street
            place = (kind, community, street, str(inc.building.number))
        elif kind in ("compound_water", "outage"):
            community, street = _compound(rng)
            inc.community, inc.street = community, street
            place = (kind, community, street)
        elif kind == "road_water" or rng.random() < 0.5:  # trees and drains: a road or a compound
            if kind == "road_water" and rng.random() < 0.45:
                inc.street, inc.spot = rng.choice(_UNDERPASSES)
            else:
                inc.street, inc.spot = rng.choice(_ROADS), rng.choice(_SPOTS)
            inc.community = rng.choice(_STREET_COMMUNITIES[inc.street])
            # water on a road spot is one incident, whether it is called a flood or a blocked drain
            place = ("water" if kind in ("road_water", "drain") else kind, inc.street, inc.spot)
        else:
            community, street = _compound(rng)
            inc.building = _building(rng, community, street)
            inc.community, inc.street = community, street
            place = (kind, community, street, str(inc.building.number))
        existing = self.open_at.get(place)
        if existing is not None:
            # the same place again within the storm: more calls about the incident already there
            for _ in range(inc.reports):
                self.report(existing, self.report_time(self.incidents[existing], 1), self.caller())
            return None
        self.open_at[place] = len(self.incidents)
        self.incidents.append(inc)
        self.next_ref += 1
        return inc

    # ---- the calls of one incident

    def report_time(self, inc: _Incident, index: int) -> datetime:
        if index == 0:
            return inc.start
        delay = self.rng.expovariate(1 / _REPORT_DELAY_MIN.get(inc.kind, 30))
        return inc.start + timedelta(minutes=min(delay, 180))

    def report(
        self, idx: int, at: datetime, caller: Caller, *, again: bool = False, near_miss_of: int = -1
    ) -> None:
        """One call about incident `idx`, in the caller's own words."""
        rng = self.rng
        inc = self.incidents[idx]
        kind = inc.kind
        slots = {
            "since": rng.choice(_RAIN_SINCE),
            "detail": rng.choice(_LEAK_DETAILS),
            "hours": rng.choice(_HOURS_SAID),
        }
        category = inc.category
        key = ""
        if inc.building is not None and kind in ("roof", "basement", "lift", "tree", "drain"):
            b = inc.building
            unit = rng.randint(1, b.units)
            floor = b.floors if kind == "roof" else rng.randint(1, b.floors)
            flat = rng.randint(1, 4)
            address = _spell_building(rng, b, unit=unit, floor=floor, flat=flat)
            bld = _spell_building(rng, b)
            key = b.name
            slots |= {"addr": address, "bld": bld, "floor": str(floor), "place": bld}
            if kind == "roof":
                templates = _ROOF
                if rng.random() < 0.06:
                    category = "building_safety"  # the ceiling is coming down: filed as a safety risk
            elif kind == "basement":
                templates, address = _BASEMENT, bld
            elif kind == "lift":
                templates, address = _LIFT, bld
            elif kind == "tree":
                templates, address = _TREE, bld
                slots["place"] = bld + rng.choice(["楼前", "旁边", "门口"])
            else:
                templates, address = _DRAIN, bld
                slots["place"] = bld + rng.choice(["门口", "前面", "单元门口"])
        elif kind in ("compound_water", "outage"):
            b = _building(rng, inc.community, inc.street)
            place = _spell_compound(rng, inc.community, inc.street)
            unit, floor = rng.randint(1, b.units), rng.randint(1, b.floors)
            address = (
                _spell_building(rng, b, unit=unit, floor=floor, flat=rng.randint(1, 4))
                if rng.random() < 0.5
                else place
            )
            bldno = _spell_building(rng, b)[len(b.street) :] if rng.random() < 0.5 else f"{b.number}号楼"
            slots |= {"addr": address, "place": place, "bld": b.name, "bldno": bldno, "floor": str(floor)}
            key = inc.street
            if kind == "compound_water":
                templates = _COMPOUND_WATER
                if rng.random() < 0.1:
                    category = "sewer"
            else:
                roll = rng.random()
                if roll < 0.12:
                    templates, category, address = _OUTAGE_LIFT, "elevator", b.name
                elif roll < 0.2:
                    templates, category = _OUTAGE_WATER, "water_outage"
                else:
                    templates = _OUTAGE
        else:  # road spots
            place = _spell_spot(rng, inc.street, inc.spot)
            address = place if rng.random() < 0.7 else inc.street
            slots |= {"place": place, "addr": address}
            key = inc.street + inc.spot
            templates = {"road_water": _ROAD_WATER, "tree": _TREE, "drain": _DRAIN}[kind]
            if kind == "road_water" and rng.random() < 0.08:
                category = "sewer"
            elif kind == "drain" and rng.random() < 0.25:
                category = "waterlogging"
            elif kind == "tree" and rng.random() < 0.1:
                category = "tree"
        community = inc.community
        if kind in ("road_water", "tree", "drain") and not inc.building and rng.random() < 0.25:
            community = rng.choice(_STREET_COMMUNITIES[inc.street])  # a road between communities
        text = rng.choice(templates).format(**slots)
        if again:
            text = rng.choice(_AGAIN) + text
        if rng.random() < 0.05:
            text = _slip(rng, text)
        self.emit(
            at, category, community, address, text, caller, incident=idx, near_miss_of=near_miss_of, key=key
        )

    def near_misses(self, idx: int, callers: list[Caller]) -> None:
        """Requests that look like incident `idx` and are not part of it."""
        rng = self.rng
        inc = self.incidents[idx]
        at = inc.start + timedelta(minutes=rng.uniform(-40, 90))
        roll = rng.random()
        if inc.building is not None and roll < 0.4:
            # another problem in the same building
            category = rng.choice([c for c in _OTHER_IN_BUILDING if c != inc.category])
            self.ordinary(at, category, inc.building, self.caller(), near_miss_of=idx)
        elif inc.building is not None and roll < 0.8 and inc.kind == "roof":
            # the same kind of leak in another building of the compound, with its own reporters
            if self.new_incident("roof", "roof_leak", near=inc, start=at) is not None:
                self.play(len(self.incidents) - 1, near_miss_of=idx)
        elif callers:
            # one of its callers reports a second, different problem at home
            caller = rng.choice(callers)
            b = inc.building or _building(rng, *_compound(rng, inc.community))
            category = rng.choice(["door_access", "property_mgmt", "gas", "sanitation"])
            self.ordinary(at, category, b, caller, near_miss_of=idx)

    def ordinary(
        self, at: datetime, category: str, b: _Building | None = None, caller: Caller | None = None, **kw: int
    ) -> None:
        """A request of an everyday category, worded as the demo data words it."""
        rng = self.rng
        if b is None:
            community, street = _compound(rng)
            b = _building(rng, community, street)
        unit, floor = rng.randint(1, b.units), rng.randint(1, b.floors)
        address = _spell_building(rng, b, unit=unit, floor=floor, flat=rng.randint(1, 4))
        slots = {
            "addr": address,
            "bld_addr": _spell_building(rng, b, unit=unit),
            "place": b.street,
            "floor": floor,
            "spot": rng.choice(_SPOTS),
            "days": rng.choice(["两天", "三天", "好几天"]),
            "hours": rng.choice(_HOURS_SAID),
            "time": rng.choice(["今天上午", "中午", "刚才"]),
            "night": rng.choice(["晚上十点以后", "半夜"]),
            "temp": 14,
            "age": rng.randint(68, 91),
            "community": _COMMUNITY_NAMES[b.community],
        }
        text = rng.choice(_TEMPLATES[category]).format(**slots)
        self.emit(at, category, b.community, address, text, caller or self.caller(), key=b.name, **kw)

    def play(self, idx: int, near_miss_of: int = -1) -> None:
        """All the calls of incident `idx`."""
        rng = self.rng
        inc = self.incidents[idx]
        if inc.kind == "ordinary":
            self.ordinary(inc.start, inc.category)
            return
        if inc.kind == "house_leak":
            b = _building(rng, *_compound(rng))
            unit, floor = rng.randint(1, b.units), rng.randint(1, b.floors)
            address = _spell_building(rng, b, unit=unit, floor=floor, flat=rng.randint(1, 4))
            text = rng.choice(_HOUSE_LEAK).format(addr=address, detail=rng.choice(_LEAK_DETAILS))
            self.emit(inc.start, "roof_leak", b.community, address, text, self.caller(), key=b.name)
            return
        callers: list[Caller] = []
        for i in range(inc.reports):
            at = self.report_time(inc, i)
            again = bool(callers) and rng.random() < 0.05
            caller = rng.choice(callers) if again else self.caller()
            callers.append(caller)
            self.report(idx, at, caller, again=again, near_miss_of=near_miss_of)
        if near_miss_of < 0 and rng.random() < 0.12:
            self.near_misses(idx, callers)


def storm_requests(seed: int, *, start: datetime, hours: float, count: int) -> list[StormCall]:
    """`count` requests received in [start, start + hours), oldest first, with their incidents.

    `start` must carry a timezone. Each call's `new.received_at` is set; `incident` is shared by
    the calls that report one incident (at least two), None for a request on its own.
    """
    if start.tzinfo is None:
        raise ValueError("start must carry a timezone")
    if count < 0 or hours <= 0:
        raise ValueError("count must not be negative and hours must be positive")
    storm = _Storm(seed, start, hours)
    rng = storm.rng
    kinds = list(_KINDS)
    weights = [_KINDS[k][0] / _MEAN_REPORTS[k] for k in kinds]
    ordinary = list(_ORDINARY)
    while len(storm.calls) < count:
        kind = rng.choices(kinds, weights=weights)[0]
        category = _KINDS[kind][1] or rng.choices(ordinary, weights=list(_ORDINARY.values()))[0]
        inc = storm.new_incident(kind, category)
        if inc is not None:
            storm.play(len(storm.incidents) - 1)
    # keep `count` calls, chosen without regard to time, and label incidents with 2+ calls
    chosen = sorted(rng.sample(range(len(storm.calls)), min(count, len(storm.calls))))
    members: dict[int, int] = {}  # incident index -> calls kept
    for i in chosen:
        inc_idx = storm.calls[i][2]
        if inc_idx >= 0:
            members[inc_idx] = members.get(inc_idx, 0) + 1
    out: list[tuple[datetime, int, StormCall]] = []
    for i in chosen:
        at, call, inc_idx = storm.calls[i]
        incident = storm.incidents[inc_idx].ref if inc_idx >= 0 and members[inc_idx] >= 2 else None
        out.append((at, i, StormCall(call.new, incident, call.near_miss_of, call.actor)))
    out.sort(key=lambda item: (item[0], item[1]))
    return [call for _, _, call in out]


def incident_sizes(calls: list[StormCall]) -> dict[str, int]:
    """How many calls report each incident."""
    sizes: dict[str, int] = {}
    for call in calls:
        if call.incident is not None:
            sizes[call.incident] = sizes.get(call.incident, 0) + 1
    return sizes


assert all(category_by_code(c) is not None for c in (*_OTHER_IN_BUILDING, *_ORDINARY))


class StormFeed:
    """New storm requests written into a running store at `rate` per minute, until `stop()`.

    A background thread (`hotline demo --storm RATE`): it generates an hour of storm calls at a
    time (bursts included) and creates each through `store.create_request` when its moment
    comes, stamped with the current time, as its call-taker. Use as a context manager.
    """

    def __init__(self, store: _Creates, rate: float, *, seed: int = 0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.store = store
        self.rate = rate
        self.seed = seed
        self.created = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hotline-storm", daemon=True)

    def start(self) -> StormFeed:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> StormFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        batch = 0
        while not self._stop.is_set():
            began = time.monotonic()
            start = datetime.now(UTC)
            count = max(1, round(self.rate * 60))
            calls = storm_requests(self.seed * 1000 + batch, start=start, hours=1.0, count=count)
            for call in calls:
                assert call.new.received_at is not None
                due = began + (call.new.received_at - start).total_seconds()
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                new = call.new.model_copy(update={"received_at": datetime.now(UTC)})
                self.store.create_request(new, actor=call.actor, idempotency_key=None)
                self.created += 1
            # the rest of the hour, then the next one
            if self._stop.wait(max(0.0, began + 3600 - time.monotonic())):
                return
            batch += 1


class _Creates(Protocol):
    def create_request(self, new: NewRequest, *, actor: str, idempotency_key: str | None) -> object: ...
