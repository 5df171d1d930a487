"""The detail's history, read offline from the cache: every step says who, when, what and why
(reasons and their codes, units, the new due time, the reply, the callback's answers), in both
languages, with no server to ask; a request cached before requests kept their history falls back
to the server's audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import Central, cached_session, until
from history_support import (
    EXTEND_REASON,
    FIRST_REPLY,
    RETURN_REASON,
    SECOND_REPLY,
    UNHAPPY,
    full_history_central,
)
from textual.widgets import Static

from api_client.models import State
from tui.core.i18n import Strings
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.detail_view import render_request, step_line
from tui.ui.screens.detail import DetailScreen


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> tuple[Central, str]:
    return full_history_central(tmp_path_factory.mktemp("history"))


@pytest.fixture
def session(central: tuple[Central, str], tmp_path: Path) -> Iterator[Session]:
    with cached_session(central[0], tmp_path / "cache") as opened:
        yield opened


async def shown_detail(session: Session, request_id: str, lang: str) -> str:
    """The detail of `request_id` as an offline app shows it (wide enough for one step a line)."""
    app = HotlineApp(
        session, strings=Strings("zh" if lang == "zh" else "en"), sync=False, announce_urgent=False
    )
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, lambda: app.loaded, what="the cache")
        screen = DetailScreen(request_id)
        await app.push_screen(screen)
        history = app.strings("detail.audit")
        await until(pilot, lambda: screen.request is not None, what="the request from the cache")
        text = str(screen.query_one("#detail", Static).render())
        assert history in text
        return text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_offline_detail_shows_every_step_and_why(
    session: Session, central: tuple[Central, str], lang: str
) -> None:
    request_id = central[1]
    text = await shown_detail(session, request_id, lang)
    t = Strings("zh" if lang == "zh" else "en")
    for piece in (
        RETURN_REASON,
        t("return_code.needs_other_unit"),
        EXTEND_REASON,
        t("history.reply", text=FIRST_REPLY),
        t("history.reply", text=SECOND_REPLY),
        UNHAPPY,
        t("detail.not_reached"),
        t.satisfaction("not_satisfied"),
        t("history.lead", unit="西城区房管中心德胜房管所"),
        t("history.co_units", units="德胜里社区居委会"),
        "接线员李娜",
        "回访员王芳",
    ):
        assert piece in text, piece
    assert t("detail.audit_offline") not in text  # nothing is missing: no server needed
    lines = [line.strip() for line in text.splitlines()]
    history = lines[lines.index(t("detail.audit")) + 1 :]
    cached = session.store.view(request_id)
    assert cached is not None and len(history) == len(cached.history) == 13
    assert f"→ {t.state(State.reopened)}" in history[9]  # the unsatisfied callback reopened it
    assert f"→ {t.state(State.closed)}" in history[-1]


async def test_a_request_cached_before_it_kept_a_history_reads_the_audit_trail(
    session: Session, central: tuple[Central, str]
) -> None:
    request_id = central[1]
    cached = session.store.view(request_id)
    assert cached is not None
    older = cached.model_copy(update={"history": [], "history_dropped": 0})
    t = Strings("en")
    offline = str(render_request(older, strings=t, names=session.names, audit=None, audit_error="offline"))
    assert "offline" in offline and t("detail.callbacks") in offline  # as before: its callbacks, notes
    first = step_line(cached.history[0], None, t, session.names)
    assert " 接线员李娜 intake → new: tier 24 hours; due " in first
