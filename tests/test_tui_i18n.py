"""Every message exists in both languages with the same placeholders; every key id has words."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from api_client.models import Channel, Satisfaction, State, Tier
from tui.core.i18n import MESSAGES, Lang, Strings, placeholders
from tui.ui.app import HotlineApp
from tui.ui.screens.bulk import BulkScreen
from tui.ui.screens.conflicts import ConflictsScreen
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.duplicates import DuplicatesScreen
from tui.ui.screens.filters import FilterDialog, SavedQueuesDialog
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.queues import QueuesScreen
from tui.ui.widgets.queue_table import QueueTable


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_both_languages_have_the_same_placeholders(key: str) -> None:
    zh, en = MESSAGES[key]
    assert zh.strip() and en.strip()
    assert placeholders(zh) == placeholders(en)


def test_every_bound_key_of_the_app_has_words_in_both_languages() -> None:
    for owner in (
        HotlineApp,
        QueuesScreen,
        QueueTable,
        DetailScreen,
        ConflictsScreen,
        HelpScreen,
        FilterDialog,
        SavedQueuesDialog,
        BulkScreen,
        DuplicatesScreen,
    ):
        for binding in owner.BINDINGS:
            binding_id = getattr(binding, "id", None)
            assert binding_id, f"{owner.__name__} has a binding without an id: {binding}"
            assert f"key.{binding_id}" in MESSAGES, binding_id


def test_the_domain_vocabulary_is_complete() -> None:
    for prefix, values in (
        ("state", State),
        ("tier", Tier),
        ("channel", Channel),
        ("satisfaction", Satisfaction),
    ):
        for value in values:
            assert f"{prefix}.{value}" in MESSAGES


def test_an_unknown_word_from_a_server_is_shown_cleaned_not_as_a_key() -> None:
    strings = Strings("en")
    assert strings.state("accepted") == "accepted"
    assert strings.action("escalate\x1b[2J") == "escalate␛[2J"
    assert strings("no.such.key") == "no.such.key"
    assert Strings("zh").state(State.new) == "新诉求"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_search_field_says_all_it_says_at_80_columns(lang: Lang) -> None:
    # The field has one cell of padding each side: 78 cells for its words.
    assert cell_len(Strings(lang)("queues.search_placeholder")) <= 78
