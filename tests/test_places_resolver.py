"""The street's gazetteer on the client: what a caller says of where, resolved to one place
(`tui.core.places`), type-ahead over it, and who covers each place; over the demo's gazetteer
(`central_api.places_seed`) and the hand-written addresses of `bench/handwritten/addresses.jsonl`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api_client.domain.place_names import normalize_numerals
from api_client.models import Location
from api_client.places import Place, PlaceKind
from central_api.catalogue import COMMUNITIES, UNITS
from central_api.places_seed import SELF_MANAGED, demo_places
from tui.core.places.address_forms import Tail, normalize, read_tail
from tui.core.places.coverage import coverage_of
from tui.core.places.index import PlaceIndex

HANDWRITTEN = Path(__file__).resolve().parent.parent / "bench" / "handwritten" / "addresses.jsonl"
#: Of the hand-written addresses, how many resolve to the place their writer meant (measured: 70
#: of 72; the two missed are 林业局那个院2号楼, where 院 stands between the name and the building, and
#: 德胜门外公交车站那儿, where 公交车站 is no spelling of the stop's name, so the road is found).
HANDWRITTEN_RESOLVED = 70

PLACES = demo_places()
INDEX = PlaceIndex.from_places(PLACES)


def named(path: str) -> Place:
    """The demo place with this label (`裕中东里社区 › 裕中东里 › 3号楼`)."""
    (place,) = [p for p in PLACES if INDEX.label(p.id) == path]
    return place


# ---------------------------------------------------------------- acceptance 5: the forms


BUILDING_3 = "裕中东里社区 › 裕中东里 › 3号楼"

#: What callers say for building 3 of 裕中东里, every form to the same place.
SAID_FOR_BUILDING_3 = [
    "裕中东里3号楼",  # as written
    "北京市西城区德胜街道裕中东里3号楼2单元301",  # full, with the unit and flat
    "裕中东里三号楼",  # Chinese numerals
    "裕中东里3#",  # 3#
    "裕中东里3#楼",
    "裕中东里3栋",  # 3栋
    "裕中东里三栋",
    "裕中东里3幢",
    "裕中东里3号",  # 3号 after a compound
    "裕中东里3楼",  # 3楼 right after the compound's name
    "裕中东里第三栋",
    "裕中东里小区3号楼",
    "裕中东里 3-2-301",  # dashes: building, unit, flat
    "裕中东里３号楼",  # full-width digits
    "玉中东里3号楼",  # a homophone slip
    "裕中东里社区裕中东里3号楼二单元",  # the community before the compound
]


@pytest.mark.parametrize("said", SAID_FOR_BUILDING_3)
def test_every_way_of_saying_a_building_resolves_to_it(said: str) -> None:
    place = INDEX.resolve(said)
    assert place is not None and INDEX.label(place.id) == BUILDING_3, said


#: Abbreviations, a compound without its area's name before it, numerals.
SAID_FOR_XINKANG_7 = ["德外新康里7号楼", "德胜门外新康里七号楼", "新康里7号楼", "新康里七栋", "德外新康里7#"]


@pytest.mark.parametrize("said", SAID_FOR_XINKANG_7)
def test_abbreviated_and_unprefixed_names_resolve_to_one_compound(said: str) -> None:
    place = INDEX.resolve(said)
    assert place is not None and INDEX.label(place.id) == "新康社区 › 德外新康里 › 7号楼", said


@pytest.mark.parametrize(
    ("said", "path"),
    [
        ("德外大街", "德胜门外大街"),  # 德外 = 德胜门外
        ("德胜门外大街", "德胜门外大街"),
        ("德外", "德胜门外大街"),
        ("石油大院5号楼", "石油大院社区 › 六铺炕石油大院 › 5号楼"),  # without 六铺炕
        ("新外北里9号楼", "新外大街社区 › 新外大街北里 › 9号楼"),  # 新外 = 新街口外
        ("新街口外大街北里9号楼", "新外大街社区 › 新外大街北里 › 9号楼"),
        ("德胜里1区11号楼", "德胜里社区 › 德胜里一区 › 11号楼"),
        ("德胜里一区十一号楼", "德胜里社区 › 德胜里一区 › 11号楼"),
        ("林业局2号楼", "裕中东里社区 › 林业局小区 › 2号楼"),  # without 小区
        ("新康街12号", "新康社区 › 新康街"),  # a door number on a road: the road
    ],
)
def test_abbreviations_and_numerals(said: str, path: str) -> None:
    place = INDEX.resolve(said)
    assert place is not None and INDEX.label(place.id) == path, said


@pytest.mark.parametrize(
    ("said", "path"),
    [
        ("德胜门", "德外大街社区 › 德胜门"),
        ("箭楼底下", "德外大街社区 › 德胜门"),  # an alias
        ("马甸桥下", "马甸桥"),
        ("马甸立交桥那儿", "马甸桥"),
        ("马店桥底下", "马甸桥"),  # a homophone slip
        ("人定湖公园东门", "人定湖社区 › 人定湖公园"),
        ("德胜门外大街德胜公园门口", "德外大街社区 › 德胜公园"),  # the landmark is the more specific
    ],
)
def test_a_landmark_only(said: str, path: str) -> None:
    place = INDEX.resolve(said)
    assert place is not None and INDEX.label(place.id) == path, said


def test_what_names_no_place_resolves_to_none() -> None:
    assert INDEX.resolve("") is None
    assert INDEX.resolve("我也不知道在哪儿") is None
    assert INDEX.resolve("3号楼") is None


def test_a_building_the_compound_does_not_have_is_the_compound() -> None:
    place = INDEX.resolve("新外28号院30号楼")  # a courtyard has 8 buildings
    assert place is not None and INDEX.label(place.id) == "新外大街社区 › 新外28号院"


# ---------------------------------------------------------------- address forms


@pytest.mark.parametrize(
    ("tail", "read"),
    [
        ("3号楼2单元301", Tail(3, 2, None, "301")),
        ("3楼", Tail(3, None, None, "")),  # 楼 right after the compound: the building
        ("3号楼5楼", Tail(3, None, 5, "")),  # ... once the building is said: the floor
        ("3号楼2门5层502室", Tail(3, 2, 5, "502")),
        ("小区里3号2单元", Tail(3, 2, None, "")),
        ("", Tail(None, None, None, "")),
    ],
)
def test_a_tail_keeps_the_unit_floor_and_flat_apart(tail: str, read: Tail) -> None:
    assert read_tail(normalize(tail)) == read


def test_normalize_writes_one_spelling() -> None:
    assert normalize("裕中东里 三栋 二单元") == "裕中东里3号楼2单元"
    assert normalize("德胜里一区11-3-402") == "德胜里1区11号楼3单元402"
    assert normalize("新外28号院3#") == "新外28号院3号楼"
    assert normalize("ＡＢ３号楼") == "AB3号楼"


def test_every_place_is_found_again_from_its_address() -> None:
    """A request keeps its place as its address: reading the address finds the place again."""
    for place in PLACES:
        assert INDEX.resolve(INDEX.address(place.id)) is place, place.id


def test_a_community_hint_breaks_no_tie_it_should_not() -> None:
    place = INDEX.resolve("德外关厢", community="c13")
    assert place is not None and place.name == "德外关厢" and place.kind is PlaceKind.road


# ---------------------------------------------------------------- type-ahead


def test_type_ahead_by_initials_and_a_building_number() -> None:
    hits = INDEX.search("yzdl3")
    assert hits[0].label == BUILDING_3
    assert hits[0].place.kind is PlaceKind.building


@pytest.mark.parametrize("query", ["yzdl", "yuzhongdongli", "裕中东里", "YZDL"])
def test_type_ahead_by_chinese_pinyin_and_initials(query: str) -> None:
    assert INDEX.search(query)[0].label == "裕中东里社区 › 裕中东里"


def test_type_ahead_lists_the_buildings_a_number_begins() -> None:
    labels = [hit.label.rsplit(" › ", 1)[-1] for hit in INDEX.search("裕中东里1", limit=20)]
    assert labels[:3] == ["1号楼", "10号楼", "11号楼"]


@pytest.mark.parametrize("query", ["dsl1", "德胜里1"])
def test_a_number_in_a_name_is_the_name_before_the_buildings(query: str) -> None:
    hits = INDEX.search(query)
    assert hits[0].label == "德胜里社区 › 德胜里一区"
    assert hits[1].place.kind is PlaceKind.building


def test_a_name_typed_before_its_counter_is_found() -> None:
    assert INDEX.search("德胜里一")[0].label == "德胜里社区 › 德胜里一区"


def test_type_ahead_reads_a_whole_address_first() -> None:
    assert INDEX.search("德胜门外新康里七号楼2单元")[0].label == "新康社区 › 德外新康里 › 7号楼"


def test_type_ahead_finds_landmarks_and_is_bounded() -> None:
    hits = INDEX.search("dsm")
    assert hits[0].label == "德外大街社区 › 德胜门"
    assert len(INDEX.search("d", limit=5)) == 5
    assert INDEX.search("   ") == []
    assert INDEX.search("zzzzzz") == []


def test_the_index_is_made_once_per_list() -> None:
    assert PlaceIndex.from_places(PLACES) is INDEX
    assert PlaceIndex.from_places(list(PLACES)) is not INDEX


# ---------------------------------------------------------------- who covers a place


def test_a_building_is_covered_as_its_compound() -> None:
    building, compound = named(BUILDING_3), named("裕中东里社区 › 裕中东里")
    assert building.units == []
    assert INDEX.covering_units(building.id) == INDEX.covering_units(compound.id)
    assert INDEX.covering_units(building.id)[:2] == ["cc05", "pm02"]


def test_a_self_managed_compound_has_no_property_company() -> None:
    covering = INDEX.covering_units(named("德胜里社区 › 德胜里二区").id)
    assert covering[0] == "cc01" and "hm01" in covering
    assert not [u for u in covering if u.startswith("pm")]


def test_the_coverage_of_a_requests_location() -> None:
    location = Location(street="裕中东里", community="c05", address="裕中东里3号楼2单元301")
    coverage = coverage_of(PLACES, location, known={"cc05", "pm02", "ut-water"})
    assert coverage.label == BUILDING_3
    assert coverage.units == ("cc05", "pm02", "ut-water")
    assert coverage_of(PLACES, Location(address="不知道")).place is None
    assert coverage_of([], location).place is None


# ---------------------------------------------------------------- the demo gazetteer


def test_the_demo_gazetteer_is_consistent() -> None:
    ids = [p.id for p in PLACES]
    assert len(ids) == len(set(ids))
    seen: set[str] = set()
    for place in PLACES:
        assert place.parent is None or place.parent in seen, place.id
        seen.add(place.id)
    units = {u.id: u for u in UNITS}
    assert {u for p in PLACES for u in p.units} <= set(units)
    streets = {s for c in COMMUNITIES for s in c.streets}
    assert streets <= {p.name for p in PLACES}
    for place in PLACES:
        if place.kind is not PlaceKind.compound:
            continue
        assert f"cc{place.community[1:]}" == place.units[0], place.name
        managers = [u for u in place.units if units[u].kind.value == "property"]
        if place.name in SELF_MANAGED:
            assert managers == [], place.name
        else:
            assert len(managers) == 1 and place.community in units[managers[0]].communities, place.name
        buildings = [p for p in PLACES if p.parent == place.id]
        assert buildings and all(p.kind is PlaceKind.building for p in buildings)


def test_the_names_are_normalized_once() -> None:
    assert normalize_numerals("新外二十八号院十一号楼三门") == "新外28号院11号楼3门"


# ---------------------------------------------------------------- hand-written addresses


def test_handwritten_addresses_resolve_at_the_measured_rate() -> None:
    lines = [json.loads(line) for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) >= 60
    assert {line["place"] for line in lines} <= {p.id for p in PLACES}
    resolved = sum(
        1 for line in lines if (p := INDEX.resolve(line["said"])) is not None and p.id == line["place"]
    )
    assert resolved >= HANDWRITTEN_RESOLVED, f"{resolved} of {len(lines)}"
