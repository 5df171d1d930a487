"""The filter dialog's lists: `[x]`/`[ ]` so a choice reads without colour, type-ahead by name or
pinyin initials, ctrl+a for all or none."""

from __future__ import annotations

from textual.app import App, ComposeResult

from central_api.catalogue import COMMUNITIES
from tui.ui.widgets.choice_list import ChoiceList

CHOICES = [(c.id, c.name) for c in COMMUNITIES]


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChoiceList(CHOICES, frozenset({"c02"}), id="choices")


def rows(choices: ChoiceList) -> list[str]:
    return [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]


async def test_chosen_rows_say_so_in_text_and_typing_jumps_by_pinyin_initials() -> None:
    app = ListApp()
    async with app.run_test(size=(60, 30)) as pilot:
        choices = app.query_one(ChoiceList)
        choices.focus()
        names = dict(CHOICES)
        assert rows(choices)[1] == f"[x] {names['c02']}" and rows(choices)[0] == f"[ ] {names['c01']}"
        target = next(i for i, (_, name) in enumerate(CHOICES) if name == "安德路社区")
        await pilot.press("a", "d", "l")
        assert choices.highlighted == target
        await pilot.press("space")
        await pilot.pause()
        assert set(choices.selected) == {"c02", CHOICES[target][0]}
        assert rows(choices)[target] == "[x] 安德路社区"
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert len(choices.selected) == len(CHOICES) and all(r.startswith("[x]") for r in rows(choices))
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert choices.selected == [] and all(r.startswith("[ ]") for r in rows(choices))
