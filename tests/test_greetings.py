"""tui.core.greetings: a row shows what a call is about, past its greetings and filler."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api_client.models import State, Tier
from tui.core.greetings import OPENINGS, substance, substance_start
from tui.core.queue.rows import make_row

#: Openings as call-takers type them, in both languages, and what the row should show.
OPENED = [
    ("喂，您好，我反映个事儿，楼道灯坏了一个月了。", "楼道灯坏了一个月了。"),
    ("您好，我想问一下，低保怎么申请？", "低保怎么申请？"),
    ("你好，是这样的，我家暖气不热。", "我家暖气不热。"),
    ("喂喂，你好。我要反映个问题：小区门口积水。", "小区门口积水。"),
    ("我是马甸社区的居民，北三环中路112号楼下总有车乱停。", "北三环中路112号楼下总有车乱停。"),
    ("您好，我是6号楼的住户，电梯又坏了。", "电梯又坏了。"),
    ("同志您好！打扰一下，想咨询一下，居住证怎么办理", "居住证怎么办理"),
    ("嗯……那个，路灯不亮。", "路灯不亮。"),
    ("Hello, I'd like to report a burst pipe on Desheng Road.", "a burst pipe on Desheng Road."),
    ("Hi there! I’m calling about the noise from the market.", "the noise from the market."),
    ("Good morning. I want to report that the lift is stuck.", "the lift is stuck."),
    ("hello hello, um, the streetlight is out", "the streetlight is out"),
]

#: Texts that open with their substance (or with words that only look like an opening).
KEPT = [
    "楼道灯坏了一个月了。",
    "我是独居老人，子女不在身边，暖气不热。",  # who calls is substance: a vulnerable caller
    "你好多天没来收垃圾了",  # 你好 without a pause is not a greeting
    "那个路灯坏了",
    "反映德胜里的问题：积水。",
    "his car blocks the fire lane",
    "Hilda Road is flooded",
    "",
]


@pytest.mark.parametrize(("text", "shown"), OPENED)
def test_openings_are_skipped(text: str, shown: str) -> None:
    assert substance(text) == shown
    assert text[substance_start(text) :] == shown


@pytest.mark.parametrize("text", KEPT)
def test_text_without_an_opening_is_kept_whole(text: str) -> None:
    assert substance_start(text) == 0 and substance(text) == text


@pytest.mark.parametrize("opening", OPENINGS)
def test_every_opening_is_skipped_and_never_the_whole_text(opening: str) -> None:
    assert substance(f"{opening}，楼道灯坏了") == "楼道灯坏了"
    assert substance(f"{opening}, the lift is stuck") == "the lift is stuck"
    for alone in (opening, f"{opening}，", f"{opening}。{opening}！"):
        assert substance(alone) == alone  # nothing but an opening: shown as it is


@given(st.text(max_size=60))
def test_substance_is_always_a_non_empty_tail_of_the_text(text: str) -> None:
    start = substance_start(text)
    assert 0 <= start <= len(text)
    assert text.endswith(substance(text))
    assert substance(text) or not text


def test_a_row_shows_the_substance_and_searches_the_whole_text() -> None:
    row = make_row(
        id="R-1",
        state=State.new,
        category="c",
        community="m",
        tier=Tier.h24,
        due_at=0,
        received_at=0,
        description="喂，您好，我反映个事儿，楼道灯坏了",
    )
    assert row.substance == "楼道灯坏了"
    assert row.description == "喂，您好，我反映个事儿，楼道灯坏了"
    assert "您好" in row.haystack
