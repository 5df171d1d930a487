"""tui.core.queue.layout: which columns a width shows, and the columns a dispatcher chooses in the
config file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.core.queue.layout import OUTBOX, VULNERABLE, Column, Slot, columns_from_names, plan
from tui.core.settings import ConfigError, load_settings


def names(slots: tuple[Slot, ...]) -> list[str]:
    return [slot.name for slot in slots if slot.name not in (VULNERABLE, OUTBOX)]


def text_width(slots: tuple[Slot, ...]) -> int:
    return next(slot.width for slot in slots if slot.name == Column.text)


@pytest.mark.parametrize("width", range(50, 241))
def test_every_width_is_filled_exactly_and_the_text_is_never_starved(width: int) -> None:
    slots = plan(width)
    assert sum(slot.width + slot.gap for slot in slots) == width
    assert text_width(slots) >= 20
    assert names(slots)[:2] == [Column.id, Column.due] and Column.state in names(slots)


def test_the_plan_per_width() -> None:
    at_80 = plan(79)  # an 80-column terminal, beside the scrollbar
    assert names(at_80) == ["id", "due", "state", "category", "community", "text"]
    assert (
        text_width(at_80) >= 31
    )  # was 24: the tier column went, the text got its cells (one went to the due column's words)
    assert names(plan(119)) == ["id", "due", "state", "category", "community", "address", "text"]
    assert names(plan(139)) == ["id", "due", "state", "unit", "category", "community", "address", "text"]
    at_160 = plan(159)
    assert names(at_160) == ["id", "due", "tier", "state", "unit", "category", "community", "address", "text"]
    assert text_width(at_160) >= 60
    narrow = plan(59)  # a narrow pane drops columns rather than the text
    assert names(narrow) == ["id", "due", "state", "text"] and text_width(narrow) >= 29


def test_marks_stay_beside_the_deadline_and_before_the_text() -> None:
    order = [slot.name for slot in plan(79)]
    assert order.index(VULNERABLE) == order.index(Column.due) + 1
    assert order.index(OUTBOX) == order.index(Column.text) - 1


def test_the_callback_queue_shows_the_time_waited_where_the_deadline_was() -> None:
    waiting = [slot.name for slot in plan(79, waiting=True)]
    assert Column.waited in waiting and Column.due not in waiting
    assert waiting.index(Column.waited) == 1
    chosen = (Column.id, Column.due, Column.waited, Column.text)  # both chosen: both stay
    assert names(plan(79, chosen, waiting=True)) == ["id", "due", "waited", "text"]


def test_chosen_columns_keep_their_order_at_every_width() -> None:
    chosen = columns_from_names(["id", "due", "state", "category", "address", "unit", "text"])
    for width in (79, 119, 159):
        assert names(plan(width, chosen)) == ["id", "due", "state", "category", "address", "unit", "text"]
    without_text = plan(79, (Column.unit, Column.id))
    assert [slot.name for slot in without_text] == ["unit", "id", VULNERABLE, OUTBOX]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["id", "dew"], "unknown column 'dew': the columns are id, due, waited"),
        (["id", "ID"], "column 'ID' is listed twice"),
        ([], "name at least one column"),
    ],
)
def test_unknown_or_repeated_names_are_refused_clearly(given: list[str], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        columns_from_names(given)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HOTLINE_"):
            monkeypatch.delenv(key)


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.usefixtures("clean_env")
def test_columns_from_the_config_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(tmp_path / "none.toml").columns is None  # by width
    path = config(tmp_path, 'columns = ["id", "due", "state", "category", "address", "unit", "text"]\n')
    assert load_settings(path).columns == (
        Column.id,
        Column.due,
        Column.state,
        Column.category,
        Column.address,
        Column.unit,
        Column.text,
    )
    monkeypatch.setenv("HOTLINE_COLUMNS", "id, due, unit, text")
    assert load_settings(path).columns == (Column.id, Column.due, Column.unit, Column.text)
    monkeypatch.setenv("HOTLINE_COLUMNS", '["id", "text"]')
    assert load_settings(path).columns == (Column.id, Column.text)


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('columns = ["id", "adress"]', "columns: .*unknown column 'adress': the columns are id, due"),
        ('columns = ["text", "text"]', "columns: .*column 'text' is listed twice"),
        ("columns = [1, 2]", 'columns: .*a list of column names, e.g. \\["id"'),
    ],
)
def test_a_wrong_column_in_the_config_says_which_and_what_exists(
    tmp_path: Path, line: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said):
        load_settings(config(tmp_path, line + "\n"))
