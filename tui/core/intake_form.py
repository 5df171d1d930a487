"""The intake form's substance, without widgets: its fields in order, what is required, the keys
that pick a channel or a type, the category type-ahead, a call's `NewRequest`, the dispatch the
form suggests, and the one-line summary.

    draft = Draft(category="roof_leak", address="德胜里一区3号楼", community="dsl", description="漏雨")
    missing(draft)                  # [] when it can be recorded
    build_request(draft)            # the `NewRequest` the outbox records
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from api_client.actions import Dispatch
from api_client.domain import bounds
from api_client.domain.routing import best_rule
from api_client.models import CallerIn, Category, Channel, LocationIn, NewRequest, RequestType
from api_client.places import Place
from local_cache.directory import Directory, suggested_units
from tui.core.i18n import Strings
from tui.core.pinyin import spellings
from tui.core.places.index import PlaceIndex

__all__ = [
    "CHANNEL_KEYS",
    "FIELDS",
    "TYPE_KEYS",
    "CategoryMatcher",
    "Draft",
    "PlaceFinder",
    "PlacePick",
    "build_request",
    "default_type",
    "missing",
    "suggested_dispatch",
    "summary",
]

#: The form's fields, in the order tab moves through them.
FIELDS: Final = ("channel", "type", "category", "place", "name", "phone", "vulnerable", "description")

#: A digit or a letter picks the channel (the digit is its place in the row).
CHANNEL_KEYS: Final[Mapping[str, Channel]] = {
    "1": Channel.phone,
    "2": Channel.wechat,
    "3": Channel.app,
    "4": Channel.web,
    "5": Channel.visit,
    "6": Channel.meeting,
    "p": Channel.phone,
    "w": Channel.wechat,
    "a": Channel.app,
    "b": Channel.web,
    "v": Channel.visit,
    "m": Channel.meeting,
}
#: A digit picks the type; 0 leaves it to the category.
TYPE_KEYS: Final[Mapping[str, RequestType | None]] = {
    "0": None,
    "1": RequestType.enquiry,
    "2": RequestType.help,
    "3": RequestType.complaint,
    "4": RequestType.tip_off,
    "5": RequestType.suggestion,
}

#: Categories whose calls are mostly complaints (投诉) or tip-offs (举报); the rest ask for help.
_COMPLAINTS: Final = frozenset({"noise", "street_vendor", "property_mgmt", "parking", "sanitation"})
_TIP_OFFS: Final = frozenset({"illegal_construction"})


def default_type(category: str) -> RequestType:
    """The type a call of `category` has unless the call-taker says otherwise."""
    if category.endswith("enquiry"):
        return RequestType.enquiry
    if category in _TIP_OFFS:
        return RequestType.tip_off
    if category in _COMPLAINTS:
        return RequestType.complaint
    return RequestType.help


@dataclass(slots=True)
class Draft:
    """What the form holds. `address`, `community` and `place_id` come from a gazetteer pick
    (or `address` as typed when the gazetteer does not know the place)."""

    channel: Channel = Channel.phone
    type: RequestType | None = None  # None: by the category (`default_type`)
    category: str = ""
    address: str = ""
    community: str = ""
    place_id: str = ""
    centre: tuple[float, float] | None = None
    name: str = ""
    phone: str = ""
    vulnerable: bool = False
    description: str = ""

    @property
    def request_type(self) -> RequestType:
        return self.type if self.type is not None else default_type(self.category)


def missing(draft: Draft) -> list[str]:
    """The required fields still empty, in the form's order: the category and the description
    always; the place unless the call is an enquiry (a policy question has none)."""
    empty: list[str] = []
    if not draft.category:
        empty.append("category")
    if not draft.address.strip() and draft.request_type is not RequestType.enquiry:
        empty.append("place")
    if not draft.description.strip():
        empty.append("description")
    return empty


def build_request(draft: Draft) -> NewRequest:
    """The call as the outbox records it (pydantic's ValidationError when a field is out of its
    bounds). The received time is the server's, or the outbox's when it is recorded offline."""
    lat, long = draft.centre if draft.centre is not None else (None, None)
    return NewRequest(
        channel=draft.channel,
        type=draft.request_type,
        category=draft.category,
        description=draft.description.strip(),
        location=LocationIn(address=draft.address.strip(), community=draft.community, lat=lat, long=long),
        caller=CallerIn(name=draft.name.strip(), phone=draft.phone.strip()),
        vulnerable=draft.vulnerable,
    )


# ----- the category type-ahead ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    category: Category
    forms: tuple[str, ...]  # the name, its pinyin, its initials, the code: lower case


class CategoryMatcher:
    """Categories by what is typed: Chinese (`漏雨`), full pinyin (`louyu`), initials (`fwly`),
    the code; a prefix before a match inside, then the catalogue's order."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._entries: list[_Entry] = []
        for category in categories:
            spelled, initials = spellings(category.name)
            forms = (category.name.lower(), spelled, initials, category.code.lower())
            self._entries.append(_Entry(category, forms))

    def search(self, query: str, limit: int | None = None) -> list[Category]:
        wanted = "".join(query.split()).lower()
        if not wanted:
            found = [entry.category for entry in self._entries]
            return found if limit is None else found[:limit]
        scored: list[tuple[int, int, Category]] = []
        for order, entry in enumerate(self._entries):
            if any(form.startswith(wanted) for form in entry.forms):
                scored.append((0, order, entry.category))
            elif any(wanted in form for form in entry.forms):
                scored.append((1, order, entry.category))
        scored.sort(key=lambda item: (item[0], item[1]))
        found = [category for _, _, category in scored]
        return found if limit is None else found[:limit]


# ----- what the form suggests ----------------------------------------------------------------


def suggested_dispatch(directory: Directory | None, draft: Draft) -> Dispatch | None:
    """The dispatch one key makes: the routing rule's lead and co-units when a rule decides;
    otherwise the first unit `local_cache.directory.suggested_units` suggests for the category
    at the place (those covering it first). None when nothing is suggested."""
    if directory is None or not draft.category:
        return None
    rule = best_rule(directory.routing_rules, draft.category, draft.community)
    if rule is not None and directory.unit(rule.lead_unit) is not None:
        co = [u for u in rule.co_units if directory.unit(u) is not None][: bounds.MAX_CO_UNITS]
        return Dispatch(lead_unit=rule.lead_unit, co_units=co)
    suggested = suggested_units(directory, draft.category, draft.community, draft.place_id or None)
    return Dispatch(lead_unit=suggested[0]) if suggested else None


def summary(draft: Draft, strings: Strings, categories: Mapping[str, str]) -> str:
    """The call in one line: channel, type, category and place (for the notices and the form)."""
    return strings(
        "intake.summary",
        channel=strings.channel(draft.channel),
        type=strings(f"intake.type.{draft.request_type.value}"),
        category=categories.get(draft.category, draft.category) or "-",
        place=draft.address.strip() or "-",
    )


# ----- the place type-ahead ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlacePick:
    """A place the type-ahead offers: the place, its path as shown (`德胜里社区 › 德胜里一区 ›
    3号楼`) and its address as the request keeps it (`德胜里一区3号楼`)."""

    place: Place
    label: str
    address: str


class PlaceFinder:
    """The place type-ahead over the gazetteer (`tui.core.places.index.PlaceIndex`: aliases,
    numerals, building forms, landmarks), and who covers a place."""

    def __init__(self, places: Sequence[Place]) -> None:
        self.index = PlaceIndex.from_places(places)

    def search(self, query: str, limit: int = 8) -> list[PlacePick]:
        return [self.pick(hit.place, hit.label) for hit in self.index.search(query, limit=limit)]

    def resolve(self, text: str) -> PlacePick | None:
        """The place a whole address names (as a caller says it), if the gazetteer knows it."""
        place = self.index.resolve(text)
        return self.pick(place) if place is not None else None

    def pick(self, place: Place, label: str = "") -> PlacePick:
        return PlacePick(place, label or self.index.label(place.id), self.index.address(place.id))

    def covering(self, place_id: str) -> list[str]:
        return self.index.covering_units(place_id)

    def address_for(self, pick: PlacePick, typed: str) -> str:
        """The address a call keeps for a place picked from what was typed: the gazetteer's
        (`德胜里一区3号楼` for `德胜里一区三号楼` or `dslyq3`), unless the typed text names the
        same place with more (a house number on a road, a unit and a flat), which is kept."""
        said = " ".join(typed.split())
        if len(said) > len(pick.address) and self.index.resolve(said) == pick.place:
            return said
        return pick.address
