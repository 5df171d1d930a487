"""Routing rules in the app: the rule's units are the dispatch dialog's first suggestion, and a
request auto-dispatched at intake shows up dispatched, its history naming the rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import open_session, running_app, seeded_server, server_request, synced, until
from pg_support import Db
from textual.widgets import OptionList

from api_client.models import Channel, Location, NewRequest, RequestType, RoutingRuleIn, State
from central_api.server import LiveServer
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.queues import QueuesScreen


@pytest.fixture
def server(tmp_path: Path, tmp_db: Db) -> Iterator[LiveServer]:
    made = seeded_server(tmp_path, 10, db=tmp_db)
    try:
        made.store.put_routing_rule(
            "leaks-c01",
            RoutingRuleIn(category="roof_leak", community="c01", lead_unit="hm01", co_units=["pm01"]),
            actor="值班长",
            if_match=None,
        )
        made.store.put_routing_rule(
            "water",
            RoutingRuleIn(category="waterlogging", lead_unit="st-city", auto_dispatch=True),
            actor="值班长",
            if_match=None,
        )
        yield made
    finally:
        made.stop()


def intake(server: LiveServer, category: str, text: str) -> str:
    return server.store.create_request(
        NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category=category,
            description=text,
            location=Location(community="c01", address="德胜里5号楼"),
        ),
        actor="话务-测试",
        idempotency_key=None,
    ).request.id


@pytest.mark.stores("sqlite", "postgres")
async def test_the_rule_s_units_come_first_and_auto_dispatch_is_audited(
    server: LiveServer, tmp_path: Path
) -> None:
    leak = intake(server, "roof_leak", "德胜里5号楼顶层漏雨")
    session = open_session(server, tmp_path)
    async with running_app(session) as (app, pilot):
        await until(pilot, lambda: synced(app, 11) and session.directory is not None)
        assert session.directory is not None and len(session.directory.routing_rules) == 2
        screen = app.screen
        assert isinstance(screen, QueuesScreen)
        await pilot.press("6", "slash", *leak, "enter")
        await until(pilot, lambda: screen.current_request_id() == leak)
        await pilot.press("d")
        await until(pilot, lambda: type(app.screen).__name__ == "DispatchDialog")
        options = app.screen.query_one("#matches", OptionList)
        assert [o.id for o in options.options][:2] == ["hm01", "pm01"]  # the rule's lead, then co-unit
        await pilot.press("enter", "down", "enter", "ctrl+s")
        await until(pilot, lambda: server_request(server, leak).state is State.dispatched)
        request = server_request(server, leak)
        assert (request.lead_unit, request.co_units) == ("hm01", ["pm01"])

        # With auto-dispatch on for waterlogging, a new report is dispatched at intake.
        water = intake(server, "waterlogging", "德胜里5号楼门口积水没过脚踝")
        await until(pilot, lambda: water in app.model, what="the auto-dispatched request")
        row = app.model.get(water)
        assert row is not None and row.state is State.dispatched and row.lead_unit == "st-city"
        await pilot.press("escape", "6", "slash", *water, "enter")
        await until(pilot, lambda: screen.current_request_id() == water)
        await pilot.press("enter")

        def shown() -> str:
            """The detail's text once it shows the audit timeline (no longer loading it), else ""."""
            detail = app.screen
            text = str(detail.query_one("#detail").render()) if isinstance(detail, DetailScreen) else ""
            loaded = app.strings("detail.audit") in text and app.strings("detail.audit_loading") not in text
            return text if loaded else ""

        await until(pilot, shown, what="the audit timeline")
        history = shown()
        assert "auto:water" in history
        # and a dispatcher can undo it: return puts it back in the new queue
        await pilot.press("r")
        await until(pilot, lambda: type(app.screen).__name__ == "ReturnDialog")
        await pilot.press("1")  # the code (not our duty); the reason field takes the focus
        await until(pilot, lambda: type(app.focused).__name__ == "TextField", what="the reason field")
        await pilot.press(*"wrong", "enter")
        await until(pilot, lambda: server_request(server, water).state is State.returned)
