"""Unit type-ahead: Chinese, full pinyin, initials; suggested units first; duty shown."""

from __future__ import annotations

from api_client.models import Unit, UnitKind
from central_api.catalogue import UNITS, suggested_units
from tui.core.unit_search import UnitMatcher

MATCHER = UnitMatcher(UNITS)


def names(query: str, **kwargs: object) -> list[str]:
    return [m.unit.name for m in MATCHER.search(query, **kwargs)]  # type: ignore[arg-type]


def test_pinyin_initials_find_the_street_office_units() -> None:
    found = names("dsj")
    assert found and all(name.startswith("德胜街道") for name in found)


def test_full_pinyin_chinese_and_id() -> None:
    assert "西城区房管中心德胜房管所" in names("fangguan")
    assert "西城区房管中心德胜房管所" in names("房管")
    assert names("hm01") == ["西城区房管中心德胜房管所"]
    assert names("gongdian")[0] == "国网北京西城供电公司"


def test_spaces_and_case_are_ignored() -> None:
    assert names("D S J") == names("dsj")


def test_suggested_units_come_first_in_their_order() -> None:
    suggested = suggested_units("roof_leak", "c01")
    matches = MATCHER.search("", suggested=suggested)
    assert [m.unit.id for m in matches[: len(suggested)]] == suggested
    assert all(m.suggested for m in matches[: len(suggested)])
    assert not any(m.suggested for m in matches[len(suggested) :])
    assert len(matches) == len(UNITS)


def test_prefix_beats_substring_and_on_duty_beats_off_duty() -> None:
    units = [
        Unit(id="a", name="北京德胜物业", kind=UnitKind.property, on_duty=True),
        Unit(id="b", name="德胜物业二部", kind=UnitKind.property, on_duty=False),
        Unit(id="c", name="德胜物业一部", kind=UnitKind.property, on_duty=True),
    ]
    matcher = UnitMatcher(units)
    assert [m.unit.id for m in matcher.search("dswy")] == ["c", "b", "a"]
    assert [m.unit.id for m in matcher.search("dswy", limit=1)] == ["c"]


def test_no_match_is_empty() -> None:
    assert MATCHER.search("zzzzqqq") == []


def test_a_weak_match_of_a_suggested_unit_does_not_outrank_a_unit_named_by_the_initials() -> None:
    # `ygl` is the start of 阳光丽景; it is only inside 物业管理 (wygl) of the suggested companies
    suggested = ["pm01", "pm03"]
    assert names("ygl", suggested=suggested)[0] == "阳光丽景社区居委会"
    # with nothing typed, the suggested units still come first
    assert [m.unit.id for m in MATCHER.search("", suggested=suggested)[:2]] == suggested


def test_the_whole_distinctive_name_beats_a_longer_name_that_starts_the_same() -> None:
    # 安德路社区居委会 is named by `adl` whole; 安德里北街社区居委会 only starts with it
    assert names("adl")[:2] == ["安德路社区居委会", "安德里北街社区居委会"]
    assert names("安德路")[0] == "安德路社区居委会"
    assert names("xinfengjie")[0] == "新风街社区居委会"


def test_among_equal_matches_the_shorter_name_comes_first() -> None:
    units = [
        Unit(id="a", name="德胜里一区北门物业服务中心", kind=UnitKind.property, on_duty=True),
        Unit(id="b", name="德胜里物业", kind=UnitKind.property, on_duty=True),
    ]
    assert [m.unit.id for m in UnitMatcher(units).search("dsl")] == ["b", "a"]
