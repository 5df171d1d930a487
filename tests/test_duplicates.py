"""Duplicate clusters: one incident's calls grouped, near-misses kept apart, addresses normalized."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api_client.lifecycle import intake
from api_client.models import Caller, Channel, Location, NewRequest, RequestType, State, Tier
from central_api.storm import storm_requests
from tui.duplicates import Item, find_clusters, normalize_address, parse_place, same_base

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


def test_on_a_storm_most_clusters_are_true() -> None:
    calls = storm_requests(
        5, start=datetime(2023, 7, 31, 15, tzinfo=timezone(timedelta(hours=8))), hours=1, count=600
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
    clusters = find_clusters(items)
    assert clusters
    pure = sum(
        1
        for c in clusters
        if len({calls[int(m)].incident for m in c.member_ids}) == 1 and calls[int(c.member_ids[0])].incident
    )
    assert pure >= 0.6 * len(clusters)
