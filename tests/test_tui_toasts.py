"""At most two notifications at once: a burst never stacks up over the screen (the conflicts'
words, the history); an error outlasts the information said after it."""

from __future__ import annotations

from pathlib import Path

from app_support import cached_session, seeded_central, until
from snapshot_support import frozen_app
from textual.widget import Widget

from tui.ui.toasts import MAX_SHOWN, Shown, kept


def test_the_least_severe_and_oldest_give_way() -> None:
    shown = [
        Shown(10, "recorded 1", "information"),
        Shown(10, "cannot reach the server", "error"),
        Shown(10, "recorded 2", "information"),
        Shown(2, "expired", "warning"),
        Shown(10, "recorded 3", "information"),
    ]
    assert [item.text for item in kept(shown, now=5)] == ["cannot reach the server", "recorded 3"]
    assert kept(shown[:1], now=5) == shown[:1]
    assert kept(shown, now=11) == []


async def test_a_burst_shows_two_at_most_and_keeps_the_error(tmp_path: Path) -> None:
    central = seeded_central(tmp_path, 5)
    with cached_session(central, tmp_path / "cache") as session:
        app = frozen_app(session, "en")
        async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts drawn
            await until(pilot, lambda: app.loaded)
            app.say("the server refused it", severity="error", timeout=30)
            for n in range(6):
                app.say(f"recorded note {n}", timeout=30)
                await pilot.pause(0.05)

            def shown() -> list[str]:
                return [str(toast.render()) for toast in app.screen.query("Toast").results(Widget)]

            await until(pilot, lambda: any("recorded note 5" in text for text in shown()), what="the newest")
            await pilot.pause(0.3)
            texts = shown()
            assert len(texts) <= MAX_SHOWN, texts
            assert any("the server refused it" in text for text in texts), texts
