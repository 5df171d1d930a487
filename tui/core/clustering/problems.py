"""The problem a request reports and how far it reaches: related categories (`RELATED`,
`WIDE_CATEGORIES`), the problem read from the description's words (`problem_of`), its scope (one
flat, one building, an area) and its family (problems that are one incident at one place)."""

from __future__ import annotations

import re

from tui.core.clustering.places import Place

__all__ = [
    "AREA",
    "BUILDING",
    "FLAT",
    "OTHER",
    "RELATED",
    "WIDE_CATEGORIES",
    "category_group",
    "family_of",
    "problem_of",
    "scope_of",
]

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


def scope_of(problem: str, place: Place) -> str:
    if not problem:
        return OTHER
    if problem in _SCOPES:
        return _SCOPES[problem]
    if problem in ("drain", "tree") and place.building:
        return BUILDING
    return AREA


#: Problems that are one incident whatever they are called at one place: a flooded road spot and
#: a blocked drain there are one (the water on the road).
_FAMILY = {"drain": "water"}


def family_of(problem: str) -> str:
    return _FAMILY.get(problem, problem)
