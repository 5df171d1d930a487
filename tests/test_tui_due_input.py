"""tui.core.due_input: the new due time of an extension, as a dispatcher types it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.core.due_input import ERROR_CODES, DueInputError, format_delta, parse_due, to_local

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=BEIJING)
DUE = datetime(2026, 11, 25, 16, 0, tzinfo=BEIJING)


def parse(text: str, *, due: datetime = DUE, now: datetime = NOW) -> datetime:
    return parse_due(text, current_due=due, now=now, tz=BEIJING)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2h", DUE + timedelta(hours=2)),
        ("+3d", DUE + timedelta(days=3)),
        ("+90m", DUE + timedelta(minutes=90)),
        ("+1d12h", DUE + timedelta(days=1, hours=12)),
        (" + 1d 30m ", DUE + timedelta(days=1, minutes=30)),
        ("+2H", DUE + timedelta(hours=2)),
        ("+2小时", DUE + timedelta(hours=2)),
        ("+3天", DUE + timedelta(days=3)),
        ("＋２ｈ", DUE + timedelta(hours=2)),  # full-width, as an input method types it
    ],
)
def test_relative_times_count_from_the_current_due_time(text: str, expected: datetime) -> None:
    assert parse(text) == expected


def test_relative_to_an_overdue_due_time_still_counts_from_it() -> None:
    overdue = NOW - timedelta(hours=5)
    assert parse("+2h", due=overdue) == overdue + timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26 18:00", datetime(2026, 11, 26, 18, 0, tzinfo=BEIJING)),
        ("2026/11/26 9:05", datetime(2026, 11, 26, 9, 5, tzinfo=BEIJING)),
        ("11-26 18:00", datetime(2026, 11, 26, 18, 0, tzinfo=BEIJING)),
        ("11-26  18：00", datetime(2026, 11, 26, 18, 0, tzinfo=BEIJING)),
        ("18:00", datetime(2026, 11, 25, 18, 0, tzinfo=BEIJING)),
    ],
)
def test_absolute_times_are_local(text: str, expected: datetime) -> None:
    due = parse(text)
    assert due == expected
    assert due.utcoffset() == timedelta(hours=8)


def test_a_time_alone_that_has_passed_today_means_tomorrow() -> None:
    evening = datetime(2026, 11, 25, 20, 0, tzinfo=BEIJING)
    assert parse("09:30", now=evening, due=evening) == datetime(2026, 11, 26, 9, 30, tzinfo=BEIJING)


def test_a_month_and_day_that_has_passed_means_next_year() -> None:
    december = datetime(2026, 12, 30, 9, 0, tzinfo=BEIJING)
    assert parse("01-05 18:00", now=december, due=december) == datetime(2027, 1, 5, 18, 0, tzinfo=BEIJING)


def test_now_and_due_in_another_zone_are_read_in_the_local_zone() -> None:
    now_utc = NOW.astimezone(UTC)
    due_utc = DUE.astimezone(UTC)
    assert parse("18:00", now=now_utc, due=due_utc) == datetime(2026, 11, 25, 18, 0, tzinfo=BEIJING)


def test_without_a_zone_the_system_local_zone_is_used() -> None:
    due = parse_due("+2h", current_due=DUE, now=NOW)
    assert due == DUE + timedelta(hours=2)
    local = parse_due("2099-01-01 12:00", current_due=DUE, now=NOW)
    assert local.tzinfo is not None
    assert local.replace(tzinfo=None) == datetime(2099, 1, 1, 12, 0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("tomorrow", "format"),
        ("+2", "format"),
        ("+h", "format"),
        ("2h", "format"),
        ("2026-11-26", "format"),
        ("+2x", "format"),
        ("25:00", "date"),
        ("02-30 10:00", "date"),
        ("2026-13-01 10:00", "date"),
        ("+99999999d", "too_far"),
        ("+1234567890d", "format"),
        ("15:00", "not_later"),  # today 15:00 is later than now but before the due time 16:00
        ("2026-11-25 16:00", "not_later"),  # equal is not later
        ("+0h", "not_later"),
        ("2026-11-20 10:00", "not_later"),
    ],
)
def test_refusals_name_their_problem(text: str, code: str) -> None:
    with pytest.raises(DueInputError) as caught:
        parse(text)
    assert caught.value.code == code
    assert code in ERROR_CODES
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)


def test_not_later_carries_the_current_due_time() -> None:
    with pytest.raises(DueInputError, match="later than the current one") as caught:
        parse("+0m")
    assert caught.value.current_due == DUE


def test_to_local_and_format_delta() -> None:
    assert to_local(DUE.astimezone(UTC), BEIJING) == DUE
    assert to_local(DUE.astimezone(UTC), BEIJING).hour == 16
    assert format_delta(timedelta(days=1, hours=2, minutes=30)) == "1d 2h 30m"
    assert format_delta(timedelta(hours=2)) == "2h"
    assert format_delta(timedelta(seconds=20)) == "0m"
    assert format_delta(-timedelta(minutes=90)) == "-1h 30m"
