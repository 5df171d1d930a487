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

Places and how callers spell them are in `storm_places`, the words and shares in `storm_data`;
`storm_feed` writes a storm into a running store. Deterministic: the same arguments give equal
output.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from api_client.models import CallerIn, Channel, LocationIn, NewRequest
from central_api.catalogue import STREET_OFFICE, category_by_code
from central_api.seed import coords, request_type
from central_api.seed_data import (
    BEIJING,
    CALL_TAKERS,
    CLOSINGS,
    HOUR_WEIGHTS,
    MOBILE_PREFIXES,
    OPENINGS,
    SPOTS,
    SURNAMES,
    TEMPLATES,
    VULNERABLE,
)
from central_api.storm_data import (
    AGAIN,
    BASEMENT,
    COMPOUND_WATER,
    DRAIN,
    HOURS_SAID,
    HOUSE_LEAK,
    KINDS,
    LEAK_DETAILS,
    LIFT,
    MEAN_REPORTS,
    ORDINARY,
    OTHER_IN_BUILDING,
    OUTAGE,
    OUTAGE_LIFT,
    OUTAGE_WATER,
    RAIN_SINCE,
    REPORT_DELAY_MIN,
    ROAD_WATER,
    ROOF,
    TREE,
    UNDERPASSES,
)
from central_api.storm_places import (
    COMMUNITY_NAMES,
    ROADS,
    STREET_COMMUNITIES,
    Building,
    building_at,
    building_count,
    pick_compound,
    slip,
    spell_building,
    spell_compound,
    spell_spot,
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


# --------------------------------------------------------------------------- incidents


@dataclass
class _Incident:
    ref: str
    kind: str
    category: str
    community: str
    start: datetime
    reports: int
    building: Building | None = None
    street: str = ""  # the compound or road
    spot: str = ""


def _report_count(rng: random.Random, kind: str) -> int:
    if kind in ("house_leak", "ordinary"):
        return 1
    mean = MEAN_REPORTS[kind]
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
        base = 0.4 + HOUR_WEIGHTS[local.hour] / 12
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

    def caller(self) -> CallerIn:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        title = rng.choices(["女士", "先生", "阿姨", "大爷"], weights=[46, 46, 4, 4])[0]
        name = "" if rng.random() < 0.02 else surname + title
        phone = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
        return CallerIn(name=name, phone=phone)

    # ---- requests

    def emit(
        self,
        at: datetime,
        category: str,
        community: str,
        address: str,
        text: str,
        caller: CallerIn,
        *,
        incident: int = -1,
        near_miss_of: int = -1,
        key: str = "",
    ) -> None:
        rng = self.rng
        if not self.start <= at < self.start + self.span:
            return
        vulnerable = rng.random() < 0.06
        opening = rng.choice(OPENINGS).format(community=COMMUNITY_NAMES.get(community, ""))
        extra = rng.choice(VULNERABLE) if vulnerable else ""
        description = f"{opening}{text}{extra}{rng.choice(CLOSINGS)}"
        lat, long = coords(community, key or address)
        channel = rng.choices(
            [Channel.phone, Channel.wechat, Channel.app, Channel.web], weights=[90, 5, 3, 2]
        )[0]
        new = NewRequest(
            channel=channel,
            type=request_type(rng, category),
            category=category,
            description=description,
            location=LocationIn(
                street=STREET_OFFICE, community=community, address=address, lat=lat, long=long
            ),
            caller=caller,
            vulnerable=vulnerable,
            received_at=at.replace(microsecond=0),
        )
        near = self.incidents[near_miss_of].ref if near_miss_of >= 0 else None
        call = StormCall(new=new, incident=None, near_miss_of=near, actor=rng.choice(CALL_TAKERS))
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
                [n for n in range(1, building_count(near.street) + 1) if n != near.building.number]
            )
            inc.building = building_at(rng, near.community, near.street, number)
            inc.community, inc.street = near.community, near.street
            place: tuple[str, ...] = (kind, inc.community, inc.street, str(number))
        elif kind in ("roof", "basement", "lift"):
            community, street = pick_compound(rng)
            inc.building = building_at(rng, community, street)
            inc.community, inc.street = community, street
            place = (kind, community, street, str(inc.building.number))
        elif kind in ("compound_water", "outage"):
            community, street = pick_compound(rng)
            inc.community, inc.street = community, street
            place = (kind, community, street)
        elif kind == "road_water" or rng.random() < 0.5:  # trees and drains: a road or a compound
            if kind == "road_water" and rng.random() < 0.45:
                inc.street, inc.spot = rng.choice(UNDERPASSES)
            else:
                inc.street, inc.spot = rng.choice(ROADS), rng.choice(SPOTS)
            inc.community = rng.choice(STREET_COMMUNITIES[inc.street])
            # water on a road spot is one incident, whether it is called a flood or a blocked drain
            place = ("water" if kind in ("road_water", "drain") else kind, inc.street, inc.spot)
        else:
            community, street = pick_compound(rng)
            inc.building = building_at(rng, community, street)
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
        delay = self.rng.expovariate(1 / REPORT_DELAY_MIN.get(inc.kind, 30))
        return inc.start + timedelta(minutes=min(delay, 180))

    def report(
        self, idx: int, at: datetime, caller: CallerIn, *, again: bool = False, near_miss_of: int = -1
    ) -> None:
        """One call about incident `idx`, in the caller's own words."""
        rng = self.rng
        inc = self.incidents[idx]
        kind = inc.kind
        slots = {
            "since": rng.choice(RAIN_SINCE),
            "detail": rng.choice(LEAK_DETAILS),
            "hours": rng.choice(HOURS_SAID),
        }
        category = inc.category
        key = ""
        if inc.building is not None and kind in ("roof", "basement", "lift", "tree", "drain"):
            b = inc.building
            unit = rng.randint(1, b.units)
            floor = b.floors if kind == "roof" else rng.randint(1, b.floors)
            flat = rng.randint(1, 4)
            address = spell_building(rng, b, unit=unit, floor=floor, flat=flat)
            bld = spell_building(rng, b)
            key = b.name
            slots |= {"addr": address, "bld": bld, "floor": str(floor), "place": bld}
            if kind == "roof":
                templates = ROOF
                if rng.random() < 0.06:
                    category = "building_safety"  # the ceiling is coming down: filed as a safety risk
            elif kind == "basement":
                templates, address = BASEMENT, bld
            elif kind == "lift":
                templates, address = LIFT, bld
            elif kind == "tree":
                templates, address = TREE, bld
                slots["place"] = bld + rng.choice(["楼前", "旁边", "门口"])
            else:
                templates, address = DRAIN, bld
                slots["place"] = bld + rng.choice(["门口", "前面", "单元门口"])
        elif kind in ("compound_water", "outage"):
            b = building_at(rng, inc.community, inc.street)
            place = spell_compound(rng, inc.community, inc.street)
            unit, floor = rng.randint(1, b.units), rng.randint(1, b.floors)
            address = (
                spell_building(rng, b, unit=unit, floor=floor, flat=rng.randint(1, 4))
                if rng.random() < 0.5
                else place
            )
            bldno = spell_building(rng, b)[len(b.street) :] if rng.random() < 0.5 else f"{b.number}号楼"
            slots |= {"addr": address, "place": place, "bld": b.name, "bldno": bldno, "floor": str(floor)}
            key = inc.street
            if kind == "compound_water":
                templates = COMPOUND_WATER
                if rng.random() < 0.1:
                    category = "sewer"
            else:
                roll = rng.random()
                if roll < 0.12:
                    templates, category, address = OUTAGE_LIFT, "elevator", b.name
                elif roll < 0.2:
                    templates, category = OUTAGE_WATER, "water_outage"
                else:
                    templates = OUTAGE
        else:  # road spots
            place = spell_spot(rng, inc.street, inc.spot)
            address = place if rng.random() < 0.7 else inc.street
            slots |= {"place": place, "addr": address}
            key = inc.street + inc.spot
            templates = {"road_water": ROAD_WATER, "tree": TREE, "drain": DRAIN}[kind]
            if kind == "road_water" and rng.random() < 0.08:
                category = "sewer"
            elif kind == "drain" and rng.random() < 0.25:
                category = "waterlogging"
            elif kind == "tree" and rng.random() < 0.1:
                category = "tree"
        community = inc.community
        if kind in ("road_water", "tree", "drain") and not inc.building and rng.random() < 0.25:
            community = rng.choice(STREET_COMMUNITIES[inc.street])  # a road between communities
        text = rng.choice(templates).format(**slots)
        if again:
            text = rng.choice(AGAIN) + text
        if rng.random() < 0.05:
            text = slip(rng, text)
        self.emit(
            at, category, community, address, text, caller, incident=idx, near_miss_of=near_miss_of, key=key
        )

    def near_misses(self, idx: int, callers: list[CallerIn]) -> None:
        """Requests that look like incident `idx` and are not part of it."""
        rng = self.rng
        inc = self.incidents[idx]
        at = inc.start + timedelta(minutes=rng.uniform(-40, 90))
        roll = rng.random()
        if inc.building is not None and roll < 0.4:
            # another problem in the same building
            category = rng.choice([c for c in OTHER_IN_BUILDING if c != inc.category])
            self.ordinary(at, category, inc.building, self.caller(), near_miss_of=idx)
        elif inc.building is not None and roll < 0.8 and inc.kind == "roof":
            # the same kind of leak in another building of the compound, with its own reporters
            if self.new_incident("roof", "roof_leak", near=inc, start=at) is not None:
                self.play(len(self.incidents) - 1, near_miss_of=idx)
        elif callers:
            # one of its callers reports a second, different problem at home
            caller = rng.choice(callers)
            b = inc.building or building_at(rng, *pick_compound(rng, inc.community))
            category = rng.choice(["door_access", "property_mgmt", "gas", "sanitation"])
            self.ordinary(at, category, b, caller, near_miss_of=idx)

    def ordinary(
        self,
        at: datetime,
        category: str,
        b: Building | None = None,
        caller: CallerIn | None = None,
        **kw: int,
    ) -> None:
        """A request of an everyday category, worded as the demo data words it."""
        rng = self.rng
        if b is None:
            community, street = pick_compound(rng)
            b = building_at(rng, community, street)
        unit, floor = rng.randint(1, b.units), rng.randint(1, b.floors)
        address = spell_building(rng, b, unit=unit, floor=floor, flat=rng.randint(1, 4))
        slots = {
            "addr": address,
            "bld_addr": spell_building(rng, b, unit=unit),
            "place": b.street,
            "floor": floor,
            "spot": rng.choice(SPOTS),
            "days": rng.choice(["两天", "三天", "好几天"]),
            "hours": rng.choice(HOURS_SAID),
            "time": rng.choice(["今天上午", "中午", "刚才"]),
            "night": rng.choice(["晚上十点以后", "半夜"]),
            "temp": 14,
            "age": rng.randint(68, 91),
            "community": COMMUNITY_NAMES[b.community],
        }
        text = rng.choice(TEMPLATES[category]).format(**slots)
        self.emit(at, category, b.community, address, text, caller or self.caller(), key=b.name, **kw)

    def play(self, idx: int, near_miss_of: int = -1) -> None:
        """All the calls of incident `idx`."""
        rng = self.rng
        inc = self.incidents[idx]
        if inc.kind == "ordinary":
            self.ordinary(inc.start, inc.category)
            return
        if inc.kind == "house_leak":
            b = building_at(rng, *pick_compound(rng))
            unit, floor = rng.randint(1, b.units), rng.randint(1, b.floors)
            address = spell_building(rng, b, unit=unit, floor=floor, flat=rng.randint(1, 4))
            text = rng.choice(HOUSE_LEAK).format(addr=address, detail=rng.choice(LEAK_DETAILS))
            self.emit(inc.start, "roof_leak", b.community, address, text, self.caller(), key=b.name)
            return
        callers: list[CallerIn] = []
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
    kinds = list(KINDS)
    weights = [KINDS[k][0] / MEAN_REPORTS[k] for k in kinds]
    ordinary = list(ORDINARY)
    while len(storm.calls) < count:
        kind = rng.choices(kinds, weights=weights)[0]
        category = KINDS[kind][1] or rng.choices(ordinary, weights=list(ORDINARY.values()))[0]
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


assert all(category_by_code(c) is not None for c in (*OTHER_IN_BUILDING, *ORDINARY))
