"""The dispatch dialog suggests who covers the request's place (the street's gazetteer, after the
routing rules): the compound's property company and community office for a request there, marked,
and the place named; in both languages, through the app against a real server, and in the cache's
`suggested_units` alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app_support import open_session, running_app, seeded_server, synced, until
from textual.app import App
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from api_client.domain.lifecycle import intake
from api_client.models import (
    CallerIn,
    Channel,
    LocationIn,
    NewRequest,
    RequestType,
    RoutingRule,
    Tier,
)
from central_api.catalogue import CATEGORIES, COMMUNITIES, UNITS
from central_api.places_seed import demo_places
from local_cache.directory import Directory, suggested_units
from tui.core.i18n import Strings
from tui.core.places.coverage import coverage_of
from tui.ui.screens.dispatch import DispatchDialog

AT = "裕中东里3号楼2单元301"
PLACE = "裕中东里社区 › 裕中东里 › 3号楼"
FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


def directory(**fields: Any) -> Directory:
    return Directory(
        units=UNITS,
        categories=CATEGORIES,
        communities=COMMUNITIES,
        fetched_at=FETCHED,
        places=demo_places(),
        **fields,
    )


def new_leak(address: str = AT, community: str = "c05") -> NewRequest:
    return NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description="顶层漏雨，雨水顺着墙往下流",
        location=LocationIn(street="裕中东里", community=community, address=address),
        caller=CallerIn(name="李先生", phone="13911112222"),
    )


# ---------------------------------------------------------------- the cache's suggestions


def test_the_units_covering_the_place_come_after_the_routing_rule() -> None:
    plain = directory()
    place = "s13-b03"  # 裕中东里 3号楼
    assert suggested_units(plain, "roof_leak", "c05", place)[:2] == ["pm02", "cc05"]
    rule = RoutingRule(
        id="r1",
        category="roof_leak",
        community="c05",
        lead_unit="hm01",
        co_units=[],
        auto_dispatch=False,
        updated_by="陈主任",
        updated_at=FETCHED,
        version=1,
    )
    assert suggested_units(directory(routing_rules=[rule]), "roof_leak", "c05", place)[:3] == [
        "hm01",
        "pm02",
        "cc05",
    ]


def test_a_covering_unit_that_does_not_handle_the_category_is_not_suggested() -> None:
    suggested = suggested_units(directory(), "roof_leak", "c05", "s13-b03")
    assert "ut-water" not in suggested  # it covers the compound, but not roof leaks
    assert suggested_units(directory(), "water_outage", "c05", "s13-b03")[0] == "ut-water"


def test_where_the_place_is_known_other_property_companies_are_not_suggested() -> None:
    at_compound = suggested_units(directory(), "roof_leak", "c05", "s13-b03")
    assert "pm01" not in at_compound and "pm03" not in at_compound
    self_managed = suggested_units(directory(), "roof_leak", "c01", "s02-b05")  # 德胜里二区
    assert self_managed[:2] == ["hm01", "cc01"] and "pm01" not in self_managed
    # without a place, as before
    assert suggested_units(directory(), "roof_leak", "c05")[:2] == ["pm02", "hm01"]
    assert suggested_units(directory(), "roof_leak", "c05", "no-such-place") == suggested_units(
        directory(), "roof_leak", "c05"
    )


def test_a_directory_file_without_places_still_loads() -> None:
    saved = directory().model_dump(mode="json")
    del saved["places"]
    loaded = Directory.model_validate(saved)
    assert loaded.places == [] and loaded.place("s13") is None
    assert suggested_units(loaded, "roof_leak", "c05", "s13-b03") == suggested_units(
        loaded, "roof_leak", "c05"
    )


# ---------------------------------------------------------------- the dialog, both languages


class Host(App[None]):
    def __init__(self, dialog: ModalScreen[Any]) -> None:
        super().__init__()
        self.dialog = dialog

    def on_mount(self) -> None:
        self.push_screen(self.dialog)


async def test_the_dialog_marks_the_covering_units_and_names_the_place() -> None:
    request = intake(new_leak(), request_id="R-000001", tier=Tier.h24, now=FETCHED)
    known = {unit.id for unit in UNITS}
    coverage = coverage_of(demo_places(), request.location, known)
    for lang, covers, at in (("zh", "属地单位", "属地："), ("en", "covers the place", "Place: ")):
        strings = Strings(lang)  # type: ignore[arg-type]
        suggested = suggested_units(
            directory(), request.category, "c05", coverage.place.id if coverage.place else None
        )
        dialog = DispatchDialog(request, UNITS, suggested, strings, coverage=coverage)
        host = Host(dialog)
        async with host.run_test(size=(80, 24)):
            options = dialog.query_one("#matches", OptionList)
            prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
            ids = [option.id for option in options.options]
            assert ids[:2] == ["pm02", "cc05"]
            assert all(covers in prompt for prompt in prompts[:2]), prompts[:2]
            assert covers not in prompts[ids.index("pm01")]
            place = dialog.query_one("#place", Static)
            assert place.display and str(place.content) == at + PLACE


async def test_without_a_place_the_dialog_shows_none() -> None:
    request = intake(new_leak("不知道哪儿", ""), request_id="R-000002", tier=Tier.h24, now=FETCHED)
    dialog = DispatchDialog(request, UNITS, ["hm01"], Strings("en"))
    host = Host(dialog)
    async with host.run_test(size=(80, 24)):
        assert not dialog.query_one("#place", Static).display
        prompts = [str(o.prompt) for o in dialog.query_one("#matches", OptionList).options]
        assert not any("covers the place" in prompt for prompt in prompts)


# ---------------------------------------------------------------- through the app


async def test_the_app_suggests_who_covers_a_request_at_a_compound(tmp_path: Path) -> None:
    server = seeded_server(tmp_path, count=10)
    try:
        request = server.store.create_request(new_leak(), actor="王芳", idempotency_key=None).request
        async with running_app(open_session(server, tmp_path)) as (app, pilot):
            await until(pilot, lambda: synced(app, 11) and app.session.directory is not None, what="sync")
            assert app.session.directory is not None and app.session.directory.places == demo_places()
            await pilot.press("6", "slash", *request.id, "enter")
            await until(pilot, lambda: app.screen.current_request_id() == request.id, what="the request")  # type: ignore[attr-defined]
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DispatchDialog), what="the dispatch dialog")
            dialog = app.screen
            assert isinstance(dialog, DispatchDialog)
            await until(pilot, lambda: dialog.query_one("#matches", OptionList).option_count > 2)
            options = dialog.query_one("#matches", OptionList)
            assert [option.id for option in options.options][:2] == ["pm02", "cc05"]
            assert "covers the place" in str(options.get_option_at_index(0).prompt)
            assert str(dialog.query_one("#place", Static).content) == "Place: " + PLACE
            await pilot.press("enter", "down", "enter", "ctrl+s")
            await until(
                pilot, lambda: server.store.get_request(request.id).lead_unit == "pm02", what="dispatch"
            )
        assert server.store.get_request(request.id).co_units == ["cc05"]
    finally:
        server.stop()
