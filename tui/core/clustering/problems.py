"""The problem a request reports and how far it reaches.

`read_problem` reads the description's words (`lexicon`, what the caller denies left out) within
what the category allows: a lift stopped by a power cut is the power cut as well (`causes`), a
lift, a pump or the lights stopped with no cause said may be (`maybe_power`); water in a garage
is the garage's whatever the category. `reach` is how far a problem reaches at a place: one flat,
one lift (a building's unit), one building, a compound, or a spot on a road. `family` joins
problems that are one incident at one place (a flooded spot and its blocked drain)."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

from tui.core.clustering.lexicon import (
    AFTER,
    CAUSED_BY_POWER,
    CHRONIC,
    ELECTRIC_HEAT,
    FAULT,
    GAS_LEAK,
    GAS_METER,
    HEAT_FAILED,
    HEAT_NOUN,
    HEAT_PIPE,
    LEAK,
    LIFT_FAULT,
    MAYBE_POWER,
    ONE_BUILDING,
    ONE_HOME,
    ROOF,
    UPSTAIRS,
    mentioned,
)
from tui.core.clustering.negation import without_negated
from tui.core.clustering.places import Place, is_road

__all__ = [
    "BUILDING",
    "COMPOUND",
    "FLAT",
    "OTHER",
    "SPOT",
    "UNIT",
    "Problem",
    "category_group",
    "family_of",
    "problem_of",
    "reach",
    "read_problem",
]

#: Categories that callers and call-takers use for one problem. A category not listed is related
#: only to itself.
RELATED: dict[str, str] = {
    "roof_leak": "leak",
    "building_safety": "leak",
    "waterlogging": "water",
    "sewer": "water",
    "manhole": "water",
    "road_damage": "water",
    "power_outage": "power",
    "elevator": "power",
    "water_outage": "power",
    "street_light": "power",
    "heating": "heat",
    "tree_hazard": "tree",
    "tree": "tree",
    "gas_leak": "gas",
    "gas": "gas",
}


def category_group(code: str) -> str:
    """A category's group (related categories share one)."""
    return RELATED.get(code, code)


#: What each category's calls are about, most likely first: the first of these the words name
#: is the problem; with none named, the first (the category says it).
_NATURAL: dict[str, tuple[str, ...]] = {
    "waterlogging": ("water", "drain", "sewage", "manhole"),
    "sewer": ("sewage", "drain", "water"),
    "manhole": ("manhole", "drain", "sewage", "water"),
    "road_damage": ("collapse", "manhole", "water", "ice"),
    "power_outage": ("outage", "wire", "tree"),
    "elevator": ("lift",),
    "water_outage": ("no_water", "pipe"),
    "street_light": ("lights", "wire"),
    "tree_hazard": ("tree", "wire"),
    "tree": ("tree", "wire"),
    "gas": ("gas",),
    "gas_leak": ("gas",),
    "heating": ("heat", "pipe"),
    "building_safety": ("fixture", "sign", "wall", "wire", "tree", "ice"),
    "door_access": ("door",),
    "sanitation": ("snow", "ice", "sewage", "drain", "water"),
}
#: The problem of a category's calls that name none (房屋安全隐患: a wall).
_DEFAULT = {"building_safety": "wall", "sanitation": ""}
#: Categories whose calls may be about an incident when their words say so (挪车 from a flooded
#: garage, 投诉物业 about it), unless the incident came before what they ask (车库进水后 …).
_ANY = (
    "ice",
    "snow",
    "garage",
    "basement",
    "water",
    "sewage",
    "drain",
    "outage",
    "heat",
    "no_water",
    "pipe",
    "tree",
)
#: Categories never part of an incident: an enquiry about damages, the noise of the pumps.
_NEVER = frozenset({"noise", "pest", "neighbour_dispute", "street_vendor"})
#: Enquiries: about a supply failure going on (when it comes back, the bill) they are part of it;
#: about damage done (a flooded car, compensation) they are not.
_ASKING = frozenset({"policy_enquiry"})
_ASKED_ABOUT = frozenset({"heat", "outage", "no_water", "gas"})
#: Where the water is decides the problem for these: a flooded garage or basement.
_UNDERGROUND_FIRST = frozenset({"waterlogging", "sewer", "parking", "property_mgmt", "sanitation", "manhole"})


class Problem(NamedTuple):
    """What a request reports: `kind` ("" when none of an event's), the other problems it is
    part of (`causes`: the power cut that stopped a lift, the tree on the line), whether it may
    be a power cut's effect with no cause said, and whether it is one home's or one building's
    only."""

    kind: str
    causes: frozenset[str] = frozenset()
    maybe_power: bool = False
    one_home: bool = False
    one_building: bool = False


def read_problem(category: str, description: str) -> Problem:
    """The problem a request reports, read from its words within what its category allows."""
    if category in _NEVER:
        return Problem("")
    if category in _ASKING:  # an enquiry about a failure going on is part of it
        asked = read_problem("", description)
        failed = asked.kind != "heat" or HEAT_FAILED.search(description) is not None
        return asked if asked.kind in _ASKED_ABOUT and failed else Problem("")
    if not unicodedata.is_normalized("NFKC", description):
        description = unicodedata.normalize("NFKC", description)
    text = without_negated(description)
    natural = _NATURAL.get(category)
    if natural is None:
        text = AFTER.sub("", text)
    said = mentioned(text)
    kind = _choose(category, text, said, natural)
    if kind == "no_water" and HEAT_NOUN.search(text):
        kind = "heat"  # 暖气里头没水了
    if not kind:
        return Problem("")
    causes = _causes(kind, said, text)
    maybe = kind in MAYBE_POWER and "outage" not in causes and not CHRONIC.search(text)
    if kind in ("lift", "door") and LIFT_FAULT.search(text):
        maybe = False  # a fault of its own
    if kind == "no_water" and not UPSTAIRS.search(text):
        maybe = False  # the pumps lift the water to the upper floors only
    one_home, one_building = _one(kind, text)
    return Problem(kind, causes, maybe and not one_home, one_home, one_building)


def _causes(kind: str, said: list[str], text: str) -> frozenset[str]:
    """The problems a request names as the cause of its own (or as its effect, for a power cut
    and the tree on its line): one incident with them."""
    causes: set[str] = set()
    if kind in CAUSED_BY_POWER and "outage" in said:
        causes.add("outage")
    if kind in ("outage", "wire") and "tree" in said:
        causes.add("tree")
    if kind == "tree" and "outage" in said:
        causes.add("outage")
    if kind in ("tree", "outage") and "wire" in said:
        causes.add("wire")
    if kind in ("manhole", "sewage") and "drain" in said:
        causes.add("drain")
    if kind == "manhole" and "water" in said:
        causes.add("water")
    if "manhole" in said:
        causes.add("manhole")  # 下水井盖被顶开，污水外冒
    if "pipe" in said:
        causes.add("pipe")  # the water, the ice, the empty taps of a burst pipe
    if "heat" in said and kind != "heat" and HEAT_PIPE.search(text):
        causes.add("heat")  # a burst heating main: its water, its steam, its ice
    if kind == "heat" and ("lights" in said or "outage" in said) and ELECTRIC_HEAT.search(text):
        causes.add("outage")  # an electric heater and the lights out: the power
    return frozenset(cause for cause in causes if family_of(cause) != family_of(kind))


#: Problems that may be one home's only (就我们一家没电, 我家厨房下水返水).
_MAY_BE_ONE_HOME = frozenset(
    {"outage", "sewage", "no_water", "heat", "gas", "lift", "lights", "door", "roof"}
)


def _one(kind: str, text: str) -> tuple[bool, bool]:
    """Whether a problem is one home's only, and whether it is one building's only (全楼停水, gas
    smelt at one building)."""
    if kind not in _MAY_BE_ONE_HOME:
        return False, False
    one_home = ONE_HOME.search(text) is not None or (kind == "heat" and FAULT.search(text) is not None)
    if kind == "gas":
        return one_home or GAS_METER.search(text) is not None, GAS_LEAK.search(text) is not None
    return one_home, kind == "no_water" and ONE_BUILDING.search(text) is not None


def _choose(category: str, text: str, said: list[str], natural: tuple[str, ...] | None) -> str:
    """The problem of a request: a leak for the leak categories (the roof's unless a window's or
    wall's); water where it is underground (a garage, a basement); else the first of its
    category's problems the words name, any problem named, or the category's own."""
    structural = category == "building_safety" and any(k in said for k in ("fixture", "sign", "wall"))
    if category in ("roof_leak", "building_safety") and LEAK.search(text) and not structural:
        return "flat_leak" if "flat_leak" in said and not ROOF.search(text) else "roof"
    if category == "roof_leak":
        return "roof"
    if (category in _UNDERGROUND_FIRST or natural is None) and "ice" not in said:
        for kind in ("basement", "garage"):
            if kind in said:
                return kind
    if natural is not None:
        default = _DEFAULT.get(category, natural[0])
        return next((kind for kind in natural if kind in said), said[0] if said else default)
    return next((kind for kind in _ANY if kind in said), "")


def problem_of(category: str, description: str) -> str:
    """The kind of problem a request reports ("" when none of an event's)."""
    return read_problem(category, description).kind


#: Problems that are one incident whatever they are called at one place: a flooded road spot and
#: a blocked drain there, snow and the ice it leaves.
_FAMILY = {"drain": "water", "snow": "ice"}


def family_of(kind: str) -> str:
    """The problem a kind counts as when two reports are compared (a blocked drain as water)."""
    return _FAMILY.get(kind, kind)


#: How far a problem reaches (the place two reports of one incident share).
FLAT, UNIT, BUILDING, COMPOUND, SPOT, OTHER = "flat", "unit", "building", "compound", "spot", "other"
_COMPOUND_WIDE = frozenset({"outage", "no_water", "heat", "gas"})
_AT_A_SPOT = frozenset(
    {"tree", "wall", "sign", "fixture", "wire", "lights", "ice", "manhole", "collapse", "pipe", "door"}
)


def reach(problem: Problem, place: Place) -> str:
    """How far a problem reaches at a place: `FLAT`, `UNIT` (a lift), `BUILDING`, `COMPOUND`
    (a power cut, a heat source, a compound's water), `SPOT` (on a road or in a compound's open
    ground), or `OTHER` for a request that reports none of an event's problems."""
    kind = problem.kind
    if not kind:
        return OTHER
    if problem.one_home or kind == "flat_leak":
        return FLAT
    if kind == "no_water" and (problem.one_building or "pipe" in problem.causes) and place.building:
        return BUILDING  # 全楼停水, a building's burst pipe
    if kind == "gas" and problem.one_building:
        return BUILDING  # gas smelt at one building
    if kind == "lift":
        return UNIT
    if kind in _COMPOUND_WIDE:
        return COMPOUND
    if kind in ("roof", "basement", "garage"):
        return BUILDING if place.building or kind != "garage" else COMPOUND
    if kind in ("water", "drain"):
        if is_road(place) or place.spot:
            return SPOT
        return BUILDING if kind == "drain" and place.building else COMPOUND
    if kind == "sewage":
        return BUILDING if place.building else (SPOT if is_road(place) or place.spot else COMPOUND)
    return BUILDING if place.building and kind in _AT_A_SPOT else SPOT
