"""Duplicate clusters: one incident's calls grouped, near-misses kept apart, addresses normalized."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api_client.domain.lifecycle import intake
from api_client.models import Caller, Channel, Location, NewRequest, RequestType, State, Tier
from central_api.storm import storm_requests
from tui.core.clustering.clusters import find_clusters
from tui.core.clustering.items import Item
from tui.core.clustering.places import normalize_address, parse_place
from tui.core.clustering.problems import problem_of
from tui.core.clustering.slips import same_base

T0 = datetime(2023, 7, 31, 15, 0, tzinfo=UTC).timestamp()


def item(
    rid: str,
    category: str,
    address: str,
    text: str,
    minutes: float = 0,
    community: str = "c01",
    state: State = State.new,
) -> Item:
    return Item(rid, state, category, community, address, text, T0 + minutes * 60)


LEAK_A = item(
    "a",
    "roof_leak",
    "德胜里一区3号楼2单元602",
    "德胜里一区3号楼2单元602，顶楼漏雨了，雨水顺着天花板往下流，用盆接都接不过来。",
)
LEAK_B = item(
    "b",
    "roof_leak",
    "德胜里一区小区３号楼１门６０１",
    "我家住德胜里一区3号楼顶层，这么大雨屋顶漏了，床和柜子都湿了，麻烦赶紧派人来。",
    25,
)
LEAK_C = item(
    "c",
    "roof_leak",
    "德胜里一区三号楼",
    "房顶漏雨，天花板的墙皮都泡掉了。地址是德胜里一区三号楼，顶楼漏水。",
    70,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("德胜里一区3号楼", "德胜里一区3号楼"),
        ("德胜里一区小区3号楼2单元", "德胜里一区3号楼2单元"),
        ("北京市西城区德胜街道德胜里一区３号楼２门６０２室", "德胜里一区3号楼2单元602"),
        ("德胜里一区3-2-602", "德胜里一区3号楼2单元602"),
        ("德胜里一区十二栋", "德胜里一区12号楼"),
        ("德胜里社区德胜里一区3号楼", "德胜里一区3号楼"),
        ("新康街12号院3号楼", "新康街12号院3号楼"),
    ],
)
def test_normalize_address(raw: str, normal: str) -> None:
    assert normalize_address(raw) == normal


def test_places_and_bases() -> None:
    assert parse_place("德胜里一区３号楼2门").building == 3
    assert parse_place("德胜里一区3号楼").base == parse_place("德胜里一区小区三号楼").base
    assert parse_place("新康路", "路过新康路公交站附近，积水都到车门了").rest == "公交站"
    assert same_base("德胜里一区", "得胜里一区") > 0  # a typing slip
    assert same_base("双旗杆东里", "双旗杆西里") == 0  # two compounds
    assert same_base("新康街", "新康路") == 0
    assert same_base("新康路", "新康路107号院") == 0  # a courtyard is not the road


def test_one_roof_reported_by_neighbours_is_one_cluster() -> None:
    clusters = find_clusters([LEAK_A, LEAK_B, LEAK_C])
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster.parent_id == "a" and set(cluster.member_ids) == {"a", "b", "c"}
    assert 0 < cluster.score <= 1 and "same building" in cluster.reasons


def test_near_misses_stay_apart() -> None:
    other_building = item(
        "d",
        "roof_leak",
        "德胜里一区5号楼2单元602",
        "德胜里一区5号楼2单元602，顶楼漏雨了，雨水顺着天花板往下流。",
        10,
    )
    other_problem = item(
        "e", "door_access", "德胜里一区3号楼2单元", "德胜里一区3号楼2单元门禁刷卡没反应，老人进不了门。", 15
    )
    other_compound = item(
        "f",
        "roof_leak",
        "德胜里二区3号楼2单元602",
        "德胜里二区3号楼2单元602，顶楼漏雨了，雨水顺着天花板往下流。",
        5,
    )
    clusters = find_clusters([LEAK_A, LEAK_B, other_building, other_problem, other_compound])
    assert [set(c.member_ids) for c in clusters] == [{"a", "b"}]


def test_an_outage_over_a_compound_joins_buildings() -> None:
    calls = [
        item(
            "o1",
            "power_outage",
            "德胜里一区",
            "德胜里一区整个小区都停电了，刚才就没电，冰箱里的东西都要坏了。",
        ),
        item(
            "o2",
            "power_outage",
            "德胜里一区7号楼2单元301",
            "德胜里一区7号楼2单元301停电了，问了邻居也都没电，整个小区都停电了。",
            8,
        ),
        item(
            "o3",
            "power_outage",
            "德胜里一区小区里",
            "德胜里一区小区里整个小区都停电了，半个小时前就没电，冰箱里的东西都要坏了。",
            20,
        ),
        item(
            "x",
            "power_outage",
            "双旗杆东里",
            "双旗杆东里整个小区都停电了，刚才就没电，冰箱里的东西都要坏了。",
            5,
            "c03",
        ),
    ]
    clusters = find_clusters(calls)
    assert [set(c.member_ids) for c in clusters] == [{"o1", "o2", "o3"}]


def test_window_merged_and_closed() -> None:
    late = LEAK_B._replace(received_at=T0 + 7 * 3600)
    assert find_clusters([LEAK_A, late]) == []
    assert find_clusters([LEAK_A, late], window=timedelta(hours=8)) != []
    assert find_clusters([LEAK_A, LEAK_B._replace(state=State.merged)]) == []
    assert find_clusters([LEAK_A, LEAK_B._replace(state=State.closed)]) == []
    assert find_clusters([LEAK_A, LEAK_B._replace(state=State.dispatched)]) != []


def test_from_request() -> None:
    new = NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description=LEAK_A.description,
        location=Location(community="c01", address=LEAK_A.address),
        caller=Caller(name="王女士", phone="13800000000"),
    )
    at = datetime.fromtimestamp(T0, UTC)
    request = intake(new, request_id="R1", tier=Tier.h24, now=at)
    got = Item.from_request(request)
    assert got.id == "R1" and got.received_at == T0 and got.address == LEAK_A.address
    assert Item.from_request(request.model_copy(update={"merged_into": "R0"})).state is State.merged


def groups(items: list[Item]) -> list[set[str]]:
    return sorted((set(c.member_ids) for c in find_clusters(items)), key=lambda g: sorted(g))


def test_roads_spots_and_compounds() -> None:
    assert parse_place("新街口外大街") == parse_place("新街口外大街")._replace(base="新街口外大街", rest="")
    assert parse_place("新街口外大街铁道桥下面")[:3] == ("新街口外大街", 0, "铁路桥")
    assert parse_place("北三环中路马甸桥下面辅路")[:3] == ("北三环中路", 0, "马甸桥")
    landmark = parse_place("马甸桥下")
    assert landmark.base == "" and landmark.rest == "马甸桥" and landmark.landmark
    assert parse_place("马甸桥西里").base == "马甸桥西里"  # a compound named after the bridge
    assert parse_place("安德路南里小区内").base == "安德路南里"
    assert parse_place("黄寺大街下穿隧道").rest == parse_place("黄寺大街地下通道").rest
    assert parse_place("裕民路学校大门外").rest == parse_place("裕民路小学门口").rest
    assert parse_place("安德路18号院").base == parse_place("安德路18号院8号楼4门").base
    # a bare road: the spot is in the description, even with the road mistyped there
    assert parse_place("新风街", "新峰街北边路口积水太深了").rest == "北口"
    assert parse_place("北三环中路", "我在马店桥下，水太深了").rest == "马店桥"
    flat = parse_place("人定湖西里23号楼2门1802")
    assert (flat.building, flat.unit, flat.flat) == (23, 2, "1802")


def test_problems() -> None:
    assert problem_of("roof_leak", "我家住3号楼顶层，这么大雨屋顶漏了") == "roof"
    assert problem_of("roof_leak", "3号楼2单元602，窗户往屋里渗水，窗台下面全湿了") == "flat_leak"
    assert problem_of("building_safety", "3号楼，顶楼漏雨了，天花板往下掉") == "roof"
    assert problem_of("waterlogging", "3号楼地下车库进水了") == "basement"
    assert problem_of("sewer", "新康路公交站雨水箅子堵了") == "drain"
    assert problem_of("sewer", "厨房下水返水，楼上一用水我家就往外冒") == ""  # one flat's drain
    assert problem_of("elevator", "7号楼停电了，电梯也停了") == "outage"
    assert problem_of("elevator", "7号楼电梯停了，底坑进水了") == "lift"


WATER = "积水很深，看着有一米了，还有人往里开车"


def test_a_landmark_alone_and_with_its_road_is_one_place() -> None:
    calls = [
        item(
            "w1", "waterlogging", "北三环中路马甸桥下面辅路", f"北三环中路马甸桥下面辅路{WATER}。", 0, "c10"
        ),
        item("w2", "waterlogging", "马甸桥下", "我在马甸桥下，水太深了，电动车都被冲倒了。", 5, "c10"),
        item("w3", "sewer", "北三环中路", "北三环中路马店桥下的水有半米多深，公交车都停了。", 9, "c04"),
        item("w4", "waterlogging", "北三环中路裕中桥下", f"北三环中路裕中桥下{WATER}。", 3, "c04"),
        item("w5", "waterlogging", "北三环中路", f"北三环中路裕中桥那个下凹桥{WATER}。", 12, "c20"),
    ]
    assert groups(calls) == [{"w1", "w2", "w3"}, {"w4", "w5"}]


def test_a_road_named_alone_does_not_join_two_spots() -> None:
    calls = [
        item("a1", "waterlogging", "新风街公交站旁边", f"新风街公交站旁边{WATER}。", 0, "c14"),
        item("a2", "waterlogging", "新风街车站边上", "我在新风街车站边上，水太深了。", 4, "c14"),
        item("b1", "waterlogging", "新风街菜市场门口", f"新风街菜市场门口{WATER}。", 2, "c14"),
        item(
            "b2",
            "sewer",
            "新风街菜市场那儿",
            "新风街菜市场那儿雨水口被树叶和垃圾堵住了，水排不走。",
            6,
            "c14",
        ),
        item("x", "waterlogging", "新风街", "新风街这边积水太深了，赶紧派人来排水。", 8, "c14"),
    ]
    found = groups(calls)
    assert {"a1", "a2"} <= found[0] and {"b1", "b2"} <= found[1]
    assert not ({"a1", "b1"} <= found[0] or {"a1", "b1"} <= found[1])


def test_leaks_roof_is_the_building_window_is_the_flat() -> None:
    roof_other_unit = item(
        "r2",
        "roof_leak",
        "德胜里一区3号楼4单元601",
        "德胜里一区3号楼4单元601，楼顶漏水，我们这层好几家都漏了。",
        30,
    )
    window = item(
        "w",
        "roof_leak",
        "德胜里一区3号楼2单元302",
        "德胜里一区3号楼2单元302，窗户往屋里渗水，窗台下面全湿了。",
        10,
    )
    other_flat = item(
        "v",
        "roof_leak",
        "德胜里一区3号楼1单元201",
        "德胜里一区3号楼1单元201，外墙渗水，卧室墙面都湿透了。",
        12,
    )
    same_flat = item(
        "w2", "roof_leak", "德胜里一区3-2-302", "下大雨我家阳台往里灌水，地址德胜里一区3-2-302。", 40
    )
    assert groups([LEAK_A, LEAK_B, roof_other_unit, window, other_flat, same_flat]) == [
        {"a", "b", "r2"},
        {"w", "w2"},
    ]


def test_a_basement_is_its_building_an_outage_the_compound() -> None:
    calls = [
        item("b1", "waterlogging", "新风南里23号楼", "新风南里23号楼地下室进水了，水还在往里灌。", 0, "c14"),
        item("b2", "waterlogging", "新风南里17号楼", "新风南里17号楼地下室进水了，水还在往里灌。", 5, "c14"),
        item("b3", "waterlogging", "新风南里23号楼", "新风南里23号楼的地下室淹了，水快到台阶了。", 20, "c14"),
        item(
            "c1", "waterlogging", "新风南里", "我们新风南里全是水，下水道排不出去，车都泡了一半。", 3, "c14"
        ),
        item(
            "c2", "sewer", "新风南里5号楼2单元", "新风南里积水特别深，5号楼门口的水都往楼道里灌了。", 9, "c14"
        ),
        item("o1", "power_outage", "新风南里", "新风南里整个小区都停电了，冰箱里的东西都要坏了。", 1, "c14"),
        item(
            "o2",
            "elevator",
            "新风南里4号楼",
            "新风南里4号楼停电了，电梯也停了，我家老人在5层下不来。",
            8,
            "c14",
        ),
        item(
            "o3",
            "water_outage",
            "新风南里9号楼",
            "新风南里停电以后水泵也停了，9号楼楼上都没水了。",
            15,
            "c14",
        ),
        item(
            "l1", "elevator", "新风南里4号楼", "新风南里4号楼电梯停了，底坑进水了，老人下不了楼。", 30, "c14"
        ),
    ]
    assert groups(calls) == [{"b1", "b3"}, {"c1", "c2"}, {"o1", "o2", "o3"}]


def test_two_compounds_a_character_apart_are_two_places() -> None:
    text = "我们{}全是水，下水道排不出去，车都泡了一半。"
    calls = [
        item("a1", "waterlogging", "裕中东里", text.format("裕中东里"), 0, "c05"),
        item("a2", "waterlogging", "裕中东里小区", text.format("裕中东里"), 5, "c05"),
        item("b1", "waterlogging", "裕民东里", text.format("裕民东里"), 2, "c19"),
        item("b2", "waterlogging", "裕民东里", text.format("裕民东里"), 7, "c19"),
        # a typing slip in the same community is the same compound
        item("a3", "waterlogging", "玉中东里", text.format("玉中东里"), 9, "c05"),
    ]
    assert groups(calls) == [{"a1", "a2", "a3"}, {"b1", "b2"}]


def storm_items(seed: int, count: int) -> tuple[list[Item], list[str | None]]:
    calls = storm_requests(
        seed, start=datetime(2023, 7, 31, 15, tzinfo=timezone(timedelta(hours=8))), hours=1, count=count
    )
    items = []
    for i, call in enumerate(calls):
        n = call.new
        assert n.received_at is not None
        items.append(
            Item(
                str(i),
                State.new,
                n.category,
                n.location.community,
                n.location.address,
                n.description,
                n.received_at.timestamp(),
            )
        )
    return items, [c.incident for c in calls]


def test_on_a_storm_pairs_meet_the_targets() -> None:
    items, labels = storm_items(5, 800)
    predicted = {
        (a, b) for c in find_clusters(items) for a in c.member_ids for b in c.member_ids if int(a) < int(b)
    }
    true = {
        (str(i), str(j))
        for i, x in enumerate(labels)
        for j, y in enumerate(labels)
        if i < j and x is not None and x == y
    }
    hits = len(predicted & true)
    assert hits >= 0.9 * len(predicted) and hits >= 0.8 * len(true)


def test_a_courtyard_is_in_one_community() -> None:
    """A label the clustering relies on: 新街口外大街49号院 is one place, so its roof is one incident
    whichever community's call-taker files the call."""
    items, _labels = storm_items(2023, 3000)
    where: dict[str, set[str]] = {}
    for it in items:
        place = parse_place(it.address)
        if place.base.endswith("号院"):
            where.setdefault(place.base, set()).add(it.community)
    assert where and all(len(c) == 1 for c in where.values())
