"""The demo's gazetteer of 德胜街道: `demo_places()`, built from the catalogue.

Every community, then the streets of the catalogue (`catalogue.COMMUNITIES`: a road that crosses
several communities is one place, of none of them), the buildings of each compound (as many as
`storm_places.building_count` says, so the demo's addresses name buildings that exist), and the
landmarks callers give when they give nothing else (gates, bridges, schools, markets, parks, bus
stops). Each community, compound and landmark names the units covering it: the community office
(居委会), the compound's property company (one of the directory's, of the compound's community;
none for the old compounds that manage themselves), and the utilities of its area. A building is
covered as its compound is.

Ids are stable, like the catalogue's: communities keep theirs (`c01`), streets are `s01`… in the
catalogue's order, buildings `s05-b03`, landmarks `lm01`…; only ever add."""

from __future__ import annotations

from api_client.domain.place_names import COMPOUND, street_kind
from api_client.places import Place, PlaceKind
from central_api.catalogue import COMMUNITIES, COMMUNITY_CENTRES, HOUSING_UNIT, community_office
from central_api.seed import coords
from central_api.storm_places import building_count

__all__ = ["LANDMARKS", "SELF_MANAGED", "demo_places"]

#: Each property company and the compounds it manages (each of its own communities'; see
#: `catalogue.UNITS`). A compound of none manages itself (`SELF_MANAGED`) or has no company.
_PROPERTY: dict[str, tuple[str, ...]] = {
    "pm01": ("德胜里一区", "德外新康里", "双旗杆东里", "三环中路北里", "马甸桥西里"),
    "pm02": ("裕中西里", "裕中东里", "马甸南村", "安德路南里", "安德路北里", "裕民东里"),
    "pm03": ("新外大街北里", "新外28号院", "人定湖西里", "新明家园", "阳光丽景", "新风北里"),
}
#: Old compounds without a property company (老旧小区, 自管): the community office and the
#: housing authority look after them.
SELF_MANAGED: frozenset[str] = frozenset(
    {"德胜里二区", "双旗杆西里", "德外黄寺里", "林业局小区", "安德里", "新风南里", "六铺炕北里"}
    | {"六铺炕石油大院"}
)
#: Compounds heated by their own boiler room, not the heating company's network.
_OWN_BOILER: frozenset[str] = frozenset({"林业局小区", "六铺炕石油大院"})
_UTILITIES = ("ut-water", "ut-power", "ut-heat", "ut-gas")

#: Landmarks: name, community ("" for one between several), the other names callers use.
LANDMARKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("德胜门", "c15", ("德胜门箭楼", "箭楼", "德胜门城楼")),
    ("马甸桥", "", ("马甸立交",)),
    ("裕中桥", "c04", ("裕中下凹桥",)),
    ("人定湖公园", "c09", ("人定湖",)),
    ("德胜公园", "c15", ()),
    ("裕中小学", "c04", ()),
    ("六铺炕小学", "c07", ("六铺炕学校",)),
    ("德胜中学", "c01", ()),
    ("新康幼儿园", "c02", ()),
    ("双旗杆菜市场", "c03", ("双旗杆农贸市场",)),
    ("新康菜市场", "c02", ("新康农贸市场",)),
    ("物美超市德外店", "c13", ("德外物美", "物美超市")),
    ("德胜社区卫生服务中心", "c01", ("德胜卫生服务中心", "社区医院")),
    ("德胜街道办事处", "c13", ("街道办", "德胜街道办")),
    ("马甸桥西公交站", "c20", ("马甸桥西站",)),
    ("德胜门外公交站", "c15", ("德外公交站", "德胜门外站")),
    ("安德路北口公交站", "c18", ("安德路北口站",)),
    ("裕民路东口公交站", "c19", ("裕民路东口站",)),
    ("新康路公交站", "c02", ("新康路站",)),
    ("黄寺公交站", "c06", ("黄寺站",)),
)


def _street_communities() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for community in COMMUNITIES:
        for street in community.streets:
            where.setdefault(street, []).append(community.id)
    return where


def _compound_units(street: str, community: str) -> list[str]:
    office = community_office(community)
    managers = [unit for unit, compounds in _PROPERTY.items() if street in compounds]
    if street in SELF_MANAGED:
        managers.append(HOUSING_UNIT)
    heat = () if street in _OWN_BOILER else ("ut-heat",)
    utilities = [u for u in _UTILITIES if u != "ut-heat" or heat]
    return [*([office] if office else []), *managers, *utilities]


def demo_places() -> list[Place]:
    """The gazetteer of the demo street office, parents before their children."""
    places = [
        Place(
            id=c.id,
            name=c.name,
            kind=PlaceKind.community,
            community=c.id,
            units=[office] if (office := community_office(c.id)) else [],
            centre=COMMUNITY_CENTRES.get(c.id),
        )
        for c in COMMUNITIES
    ]
    for number, (street, communities) in enumerate(_street_communities().items(), start=1):
        street_id = f"s{number:02d}"
        one = communities[0] if len(communities) == 1 else ""
        if street_kind(street) == COMPOUND:
            community = communities[0]
            places.append(
                Place(
                    id=street_id,
                    name=street,
                    kind=PlaceKind.compound,
                    community=community,
                    parent=community,
                    units=_compound_units(street, community),
                    centre=coords(community, street),
                )
            )
            places.extend(
                Place(
                    id=f"{street_id}-b{building:02d}",
                    name=f"{building}号楼",
                    kind=PlaceKind.building,
                    community=community,
                    parent=street_id,
                    centre=coords(community, f"{street}{building}号楼"),
                )
                for building in range(1, building_count(street) + 1)
            )
        else:
            places.append(
                Place(
                    id=street_id,
                    name=street,
                    kind=PlaceKind.road,
                    community=one,
                    parent=one or None,
                    units=[office] if one and (office := community_office(one)) else [],
                )
            )
    for number, (name, community, aliases) in enumerate(LANDMARKS, start=1):
        places.append(
            Place(
                id=f"lm{number:02d}",
                name=name,
                kind=PlaceKind.landmark,
                community=community,
                parent=community or None,
                aliases=list(aliases),
                units=[office] if community and (office := community_office(community)) else [],
                centre=coords(community, name) if community else None,
            )
        )
    return places
