"""Static reference data for one street office: 德胜街道 (Desheng subdistrict), 西城区, Beijing.

Twenty communities, the units that handle requests there, and the request categories with
their deadline tiers. Everything here is plain data plus a few pure functions; it never
changes at run time (a unit's duty state lives in the store, not here).

The ids are stable forever: tests, client caches and seeded databases rely on them.
Only ever *add* entries; never renumber, rename an id or reuse one.

- communities: ``c01`` … ``c20``
- units: ``cc01`` … ``cc20`` (the community offices, ``ccNN`` serves ``cNN``), ``pm01`` … ``pm03``
  (property companies), ``hm01`` (the housing authority), ``ut-water``/``ut-power``/``ut-gas``/
  ``ut-heat`` (utilities), ``dc01`` (the district command centre, the fallback for unclear
  orders), ``st-…`` (street office departments). No unit id equals a `UnitKind` value, so a
  `Category.default_units` entry is never ambiguous.
- categories: lower-case codes such as ``roof_leak``.
"""

from __future__ import annotations

from dataclasses import dataclass

from api_client.models import Category, Community, Tier, Unit, UnitKind

CITY = "北京市"
DISTRICT = "西城区"
STREET_OFFICE = "德胜街道"
STREET_OFFICE_EN = "Desheng Subdistrict, Xicheng District, Beijing"
#: The IANA zone of the jurisdiction (a fixed UTC+08:00, no daylight saving).
TIMEZONE = "Asia/Shanghai"

#: The unit that takes an order whose owner is unclear (区指挥中心).
FALLBACK_UNIT = "dc01"
#: The housing authority (房管所).
HOUSING_UNIT = "hm01"

# --------------------------------------------------------------------------- communities

COMMUNITIES: list[Community] = [
    Community(id="c01", name="德胜里社区", streets=["德胜里一区", "德胜里二区", "德胜门外大街"]),
    Community(id="c02", name="新康社区", streets=["新康街", "新康路", "德外新康里"]),
    Community(id="c03", name="双旗杆社区", streets=["双旗杆东里", "双旗杆西里", "黄寺大街"]),
    Community(id="c04", name="裕中西里社区", streets=["裕中西里", "裕民中路", "北三环中路"]),
    Community(id="c05", name="裕中东里社区", streets=["裕中东里", "裕民路", "林业局小区"]),
    Community(id="c06", name="黄寺大街社区", streets=["黄寺大街", "黄寺北巷", "德外黄寺里"]),
    Community(id="c07", name="六铺炕社区", streets=["六铺炕一巷", "六铺炕二巷", "六铺炕三巷", "六铺炕街"]),
    Community(id="c08", name="新外大街社区", streets=["新街口外大街", "新外大街北里", "新外28号院"]),
    Community(id="c09", name="人定湖社区", streets=["人定湖北巷", "人定湖西里", "人定湖东巷"]),
    Community(id="c10", name="马甸社区", streets=["马甸路", "马甸南村", "马甸东路", "北三环中路"]),
    Community(id="c11", name="安德路社区", streets=["安德路", "安德里", "安德路南里"]),
    Community(id="c12", name="新明家园社区", streets=["新明家园", "新明胡同", "新街口外大街"]),
    Community(id="c13", name="阳光丽景社区", streets=["阳光丽景", "德胜门外大街", "德外关厢"]),
    Community(id="c14", name="新风街社区", streets=["新风街", "新风北里", "新风南里"]),
    Community(id="c15", name="德外大街社区", streets=["德胜门外大街", "德外关厢", "德外西巷", "德外东巷"]),
    Community(id="c16", name="六铺炕北小街社区", streets=["六铺炕北小街", "六铺炕北里"]),
    Community(id="c17", name="石油大院社区", streets=["六铺炕石油大院", "六铺炕街", "石油北巷"]),
    Community(id="c18", name="安德里北街社区", streets=["安德里北街", "安德里北街北巷", "安德路北里"]),
    Community(id="c19", name="裕民路社区", streets=["裕民路", "裕民东里", "裕民西巷"]),
    Community(id="c20", name="北三环中路社区", streets=["北三环中路", "三环中路北里", "马甸桥西里"]),
]

#: Approximate centre of each community (lat, long), WGS 84, for maps and demo data.
#: Desheng lies between the 2nd and 3rd ring roads, roughly 39.948–39.968 N, 116.368–116.395 E.
COMMUNITY_CENTRES: dict[str, tuple[float, float]] = {
    "c01": (39.9512, 116.3822),
    "c02": (39.9548, 116.3861),
    "c03": (39.9570, 116.3902),
    "c04": (39.9655, 116.3778),
    "c05": (39.9648, 116.3830),
    "c06": (39.9605, 116.3915),
    "c07": (39.9535, 116.3760),
    "c08": (39.9560, 116.3712),
    "c09": (39.9590, 116.3845),
    "c10": (39.9672, 116.3880),
    "c11": (39.9520, 116.3935),
    "c12": (39.9505, 116.3725),
    "c13": (39.9580, 116.3800),
    "c14": (39.9530, 116.3700),
    "c15": (39.9495, 116.3850),
    "c16": (39.9548, 116.3742),
    "c17": (39.9522, 116.3775),
    "c18": (39.9545, 116.3948),
    "c19": (39.9625, 116.3808),
    "c20": (39.9668, 116.3735),
}

_COMMUNITY_OFFICES = [f"cc{c.id[1:]}" for c in COMMUNITIES]

# --------------------------------------------------------------------------- categories


@dataclass(frozen=True)
class CategoryDetail:
    """What Open311 shows beside a category: its group, a description and search keywords."""

    group: str
    description: str
    keywords: tuple[str, ...] = ()


_PROPERTY = ["pm01", "pm02", "pm03"]

CATEGORIES: list[Category] = [
    # 2 h: emergencies, risk to life or property
    Category(code="waterlogging", name="积水", tier=Tier.h2, default_units=["st-city", *_PROPERTY]),
    Category(code="gas_leak", name="燃气泄漏", tier=Tier.h2, default_units=["ut-gas"]),
    Category(code="building_safety", name="房屋安全隐患", tier=Tier.h2, default_units=["hm01", "st-city"]),
    Category(code="tree_hazard", name="树木倒伏断枝", tier=Tier.h2, default_units=["st-city"]),
    Category(code="manhole", name="井盖缺失破损", tier=Tier.h2, default_units=["st-city"]),
    # 24 h: water, power, gas, heating (and the lift and drains residents depend on)
    Category(code="roof_leak", name="房屋漏雨", tier=Tier.h24, default_units=[*_PROPERTY, "hm01"]),
    Category(code="water_outage", name="停水", tier=Tier.h24, default_units=["ut-water"]),
    Category(code="power_outage", name="停电", tier=Tier.h24, default_units=["ut-power"]),
    Category(code="gas", name="燃气故障", tier=Tier.h24, default_units=["ut-gas"]),
    Category(code="heating", name="供暖不热", tier=Tier.h24, default_units=["ut-heat"]),
    Category(code="sewer", name="下水道堵塞", tier=Tier.h24, default_units=[*_PROPERTY, "hm01", "ut-water"]),
    Category(code="elevator", name="电梯故障", tier=Tier.h24, default_units=[*_PROPERTY, "hm01"]),
    # 7 days: ordinary requests
    Category(code="door_access", name="门禁故障", tier=Tier.d7, default_units=[*_PROPERTY, "st-safety"]),
    Category(code="noise", name="噪音扰民", tier=Tier.d7, default_units=["st-enforce"]),
    Category(code="parking", name="停车管理", tier=Tier.d7, default_units=[*_PROPERTY, "st-city"]),
    Category(code="property_mgmt", name="物业服务", tier=Tier.d7, default_units=["st-commdev"]),
    Category(code="sanitation", name="环境卫生", tier=Tier.d7, default_units=["st-city"]),
    Category(code="tree", name="树木修剪", tier=Tier.d7, default_units=["st-city"]),
    Category(code="road_damage", name="道路破损", tier=Tier.d7, default_units=["st-city"]),
    Category(code="street_light", name="路灯不亮", tier=Tier.d7, default_units=["st-city"]),
    Category(code="pest", name="病媒生物", tier=Tier.d7, default_units=["st-city"]),
    Category(code="street_vendor", name="占道经营", tier=Tier.d7, default_units=["st-enforce"]),
    Category(code="policy_enquiry", name="政策咨询", tier=Tier.d7, default_units=["st-welfare"]),
    # 15 days: complex requests
    Category(code="illegal_construction", name="违法建设", tier=Tier.d15, default_units=["st-enforce"]),
    Category(
        code="neighbour_dispute",
        name="邻里纠纷",
        tier=Tier.d15,
        default_units=[*_COMMUNITY_OFFICES, "st-safety"],
    ),
    Category(code="old_renovation", name="老旧小区改造", tier=Tier.d15, default_units=["st-commdev", "hm01"]),
]

CATEGORY_DETAILS: dict[str, CategoryDetail] = {
    "waterlogging": CategoryDetail(
        "市政设施", "道路、小区或地下空间积水，雨后排水不畅", ("积水", "内涝", "暴雨", "排水")
    ),
    "gas_leak": CategoryDetail("水电气热", "闻到燃气味、燃气管线泄漏等紧急情况", ("燃气", "煤气", "泄漏")),
    "building_safety": CategoryDetail(
        "房屋管理", "外墙脱落、墙体开裂、阳台松动等房屋安全隐患", ("危房", "外墙", "开裂", "脱落")
    ),
    "tree_hazard": CategoryDetail(
        "园林绿化", "树木倒伏、断枝，压住道路、车辆或电线", ("倒树", "断枝", "大风")
    ),
    "manhole": CategoryDetail("市政设施", "井盖缺失、破损、下沉", ("井盖", "窨井")),
    "roof_leak": CategoryDetail("房屋管理", "房顶、外墙、楼道漏雨渗水", ("漏雨", "漏水", "防水", "屋顶")),
    "water_outage": CategoryDetail("水电气热", "停水、水压低、水质问题", ("停水", "自来水", "水压")),
    "power_outage": CategoryDetail("水电气热", "停电、电压不稳、线路故障", ("停电", "断电", "电路")),
    "gas": CategoryDetail("水电气热", "燃气停气、燃气表和管线故障（无泄漏）", ("燃气", "停气", "燃气表")),
    "heating": CategoryDetail("水电气热", "供暖期室温不达标、暖气不热、暖气漏水", ("暖气", "供暖", "采暖")),
    "sewer": CategoryDetail("市政设施", "下水道堵塞、污水返溢、化粪池外溢", ("下水道", "污水", "返水")),
    "elevator": CategoryDetail("房屋管理", "电梯停运、故障、困人后的维修", ("电梯", "停运")),
    "door_access": CategoryDetail("社区管理", "单元门禁损坏、门禁卡办理", ("门禁", "单元门", "门禁卡")),
    "noise": CategoryDetail("城市管理", "施工、商户、娱乐活动噪音扰民", ("噪音", "扰民", "夜间施工")),
    "parking": CategoryDetail("城市管理", "小区和道路停车秩序、乱停车、停车位", ("停车", "车位", "乱停")),
    "property_mgmt": CategoryDetail("社区管理", "物业服务质量、物业费、物业不作为", ("物业", "物业费")),
    "sanitation": CategoryDetail("城市管理", "垃圾清运、环境卫生、垃圾分类", ("垃圾", "卫生", "清运")),
    "tree": CategoryDetail("园林绿化", "树木遮挡采光、树枝碰线、需要修剪", ("树木", "修剪", "遮挡")),
    "road_damage": CategoryDetail("市政设施", "道路坑洼、步道砖松动、路面塌陷", ("道路", "坑", "步道")),
    "street_light": CategoryDetail("市政设施", "路灯、楼道灯不亮", ("路灯", "照明")),
    "pest": CategoryDetail("城市管理", "老鼠、蟑螂、蚊虫等病媒生物", ("老鼠", "蟑螂", "蚊虫")),
    "street_vendor": CategoryDetail("城市管理", "占道经营、游商、店外经营", ("占道", "摆摊", "游商")),
    "policy_enquiry": CategoryDetail(
        "民生保障", "养老、低保、医保、户籍等政策咨询", ("政策", "咨询", "养老", "低保")
    ),
    "illegal_construction": CategoryDetail("城市管理", "私搭乱建、违法建设、楼顶加建", ("违建", "私搭乱建")),
    "neighbour_dispute": CategoryDetail("社区管理", "邻里之间的矛盾纠纷调解", ("邻里", "纠纷", "调解")),
    "old_renovation": CategoryDetail(
        "房屋管理", "老旧小区综合整治、加装电梯、管线改造", ("老旧小区", "改造", "加装电梯")
    ),
}

# --------------------------------------------------------------------------- units

_COMMUNITY_OFFICE_CATEGORIES = [
    "roof_leak",
    "waterlogging",
    "door_access",
    "noise",
    "parking",
    "property_mgmt",
    "sanitation",
    "pest",
    "policy_enquiry",
    "neighbour_dispute",
    "old_renovation",
    "building_safety",
]
_PROPERTY_CATEGORIES = [
    "roof_leak",
    "waterlogging",
    "sewer",
    "elevator",
    "door_access",
    "parking",
    "property_mgmt",
    "sanitation",
    "pest",
    "tree",
    "street_light",
]

#: Community offices that are off duty in the reference data (a change of committee, say).
_OFF_DUTY = frozenset({"cc17"})

UNITS: list[Unit] = [
    *[
        Unit(
            id=office,
            name=f"{community.name}居委会",
            kind=UnitKind.community,
            communities=[community.id],
            categories=list(_COMMUNITY_OFFICE_CATEGORIES),
            on_duty=office not in _OFF_DUTY,
        )
        for office, community in zip(_COMMUNITY_OFFICES, COMMUNITIES, strict=True)
    ],
    Unit(
        id="pm01",
        name="北京德胜物业管理有限公司",
        kind=UnitKind.property,
        communities=["c01", "c02", "c03", "c06", "c15", "c20"],
        categories=list(_PROPERTY_CATEGORIES),
    ),
    Unit(
        id="pm02",
        name="北京裕华物业服务有限公司",
        kind=UnitKind.property,
        communities=["c04", "c05", "c10", "c11", "c18", "c19"],
        categories=list(_PROPERTY_CATEGORIES),
    ),
    Unit(
        id="pm03",
        name="北京京西安居物业管理有限公司",
        kind=UnitKind.property,
        communities=["c08", "c09", "c12", "c13", "c14"],
        categories=list(_PROPERTY_CATEGORIES),
    ),
    Unit(
        id="hm01",
        name="西城区房管中心德胜房管所",
        kind=UnitKind.housing,
        categories=["roof_leak", "building_safety", "sewer", "elevator", "door_access", "old_renovation"],
    ),
    Unit(
        id="ut-water",
        name="北京市自来水集团西城营业分公司",
        kind=UnitKind.utility,
        categories=["water_outage", "sewer"],
    ),
    Unit(id="ut-power", name="国网北京西城供电公司", kind=UnitKind.utility, categories=["power_outage"]),
    Unit(id="ut-gas", name="北京燃气集团西城分公司", kind=UnitKind.utility, categories=["gas", "gas_leak"]),
    Unit(id="ut-heat", name="北京热力集团西城分公司", kind=UnitKind.utility, categories=["heating"]),
    Unit(id=FALLBACK_UNIT, name="西城区城市服务管理指挥中心", kind=UnitKind.district),
    Unit(
        id="st-enforce",
        name="德胜街道城管执法队",
        kind=UnitKind.street,
        categories=["illegal_construction", "street_vendor", "noise", "parking", "sanitation"],
    ),
    Unit(
        id="st-safety",
        name="德胜街道平安建设办公室",
        kind=UnitKind.street,
        categories=["door_access", "neighbour_dispute", "building_safety", "gas_leak", "noise"],
    ),
    Unit(
        id="st-city",
        name="德胜街道城市管理办公室",
        kind=UnitKind.street,
        categories=[
            "waterlogging",
            "tree_hazard",
            "manhole",
            "road_damage",
            "street_light",
            "tree",
            "sanitation",
            "pest",
            "parking",
            "building_safety",
            "sewer",
        ],
    ),
    Unit(
        id="st-commdev",
        name="德胜街道社区建设办公室",
        kind=UnitKind.street,
        categories=["property_mgmt", "old_renovation", "elevator", "door_access"],
    ),
    Unit(
        id="st-welfare",
        name="德胜街道民生保障办公室",
        kind=UnitKind.street,
        categories=["policy_enquiry"],
    ),
]

# --------------------------------------------------------------------------- look-ups

_COMMUNITIES_BY_ID = {c.id: c for c in COMMUNITIES}
_CATEGORIES_BY_CODE = {c.code: c for c in CATEGORIES}
_UNITS_BY_ID = {u.id: u for u in UNITS}


def community_by_id(community_id: str) -> Community | None:
    """The community with this id, or None."""
    return _COMMUNITIES_BY_ID.get(community_id)


def category_by_code(code: str) -> Category | None:
    """The category with this code, or None."""
    return _CATEGORIES_BY_CODE.get(code)


def unit_by_id(unit_id: str) -> Unit | None:
    """The unit with this id, or None."""
    return _UNITS_BY_ID.get(unit_id)


def community_office(community_id: str) -> str | None:
    """The id of the community's own office (居委会), or None for an unknown community."""
    return f"cc{community_id[1:]}" if community_id in _COMMUNITIES_BY_ID else None


def unit_covers(unit: Unit, category: str, community: str) -> bool:
    """Whether `unit` handles `category` in `community` (empty lists mean all).

    With an unknown community (""), only units that cover every community qualify.
    """
    handles = not unit.categories or category in unit.categories
    covers = not unit.communities or (community != "" and community in unit.communities)
    return handles and covers


def suggested_units(category: str, community: str, units: list[Unit] | None = None) -> list[str]:
    """Ids of the units that cover both `category` and `community`, best lead first.

    Order: the category's default units in their listed order, then the other units that
    cover both in catalogue order, then the catch-all units (no category or community limit,
    i.e. the district command centre) last. Duty state is not considered: pass `units` (e.g.
    the store's current list) and filter on `on_duty` yourself if it matters.
    An unknown category yields just the catch-all units.
    """
    pool = UNITS if units is None else units
    cat = _CATEGORIES_BY_CODE.get(category)
    defaults = cat.default_units if cat is not None else []
    rank = {unit_id: i for i, unit_id in enumerate(defaults)}
    candidates = [u for u in pool if unit_covers(u, category, community)]

    def key(item: tuple[int, Unit]) -> tuple[int, int, int]:
        position, unit = item
        if unit.id in rank:
            return (0, rank[unit.id], position)
        if not unit.categories and not unit.communities:
            return (2, 0, position)
        return (1, 0, position)

    return [u.id for _, u in sorted(enumerate(candidates), key=key)]
