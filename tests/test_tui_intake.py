"""Taking a call (key `i`): the intake form by keys alone, against a real server, driven with
Pilot — type-ahead, required fields, recording online and offline, one-key dispatch, linking a
repeat call, a direct answer, a repeat caller's earlier requests, paste; and the form's pure parts
(`tui.core.intake_form`, `tui.core.intake_matches`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from app_support import (
    Central,
    cached_session,
    open_session,
    running_app,
    seeded_central,
    seeded_server,
    synced,
    until,
)
from snapshot_support import Lang, frozen_app
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TextArea

from api_client.actions import Accept, Dispatch, Resolve
from api_client.models import CallerIn, Channel, LocationIn, NewRequest, Request, RequestType, State
from central_api.catalogue import CATEGORIES
from central_api.places_seed import demo_places
from central_api.server import LiveServer
from central_api.store import RequestFilter
from local_cache.directory import Directory
from tui.core.intake_form import CategoryMatcher, Draft, PlaceFinder, build_request, default_type, missing
from tui.core.intake_matches import candidates, draft_item, likely_same
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import make_row
from tui.core.session import Session
from tui.ui.app import HotlineApp
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.intake import IntakeScreen
from tui.ui.screens.knowledge import KnowledgePicker

LEAK_PLACE = "德胜里一区3号楼"
CALLER_PHONE = "13911112222"


# ----- the pure parts ------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["漏雨", "louyu", "fwly", "FWLY", "roof"])
def test_a_category_is_found_by_chinese_pinyin_initials_or_code(typed: str) -> None:
    assert CategoryMatcher(CATEGORIES).search(typed)[0].code == "roof_leak"


def test_the_place_type_ahead_reads_what_callers_say() -> None:
    finder = PlaceFinder(demo_places())
    for said in ("德胜里一区3号楼", "德胜里一区三号楼", "德胜里一区3#"):
        pick = finder.search(said)[0]
        assert (pick.address, pick.place.community) == (LEAK_PLACE, "c01"), said
    assert "›" in finder.search("德胜里一区3号楼")[0].label
    assert finder.covering(finder.search("德胜里一区3号楼")[0].place.id)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("德胜里一区3号楼", LEAK_PLACE),
        ("德胜里一区三号楼", LEAK_PLACE),
        ("dslyq3", LEAK_PLACE),
        ("德胜里一区3号楼2单元401", "德胜里一区3号楼2单元401"),  # the caller said more: kept
        ("北三环中路118号", "北三环中路118号"),  # a road's house number
        ("德外", "德胜门外大街"),  # an alias: the gazetteer's name
    ],
)
def test_the_address_kept_is_the_gazetteers_unless_the_caller_said_more(typed: str, kept: str) -> None:
    finder = PlaceFinder(demo_places())
    assert finder.address_for(finder.search(typed)[0], typed) == kept


def test_what_a_call_needs_before_it_is_recorded() -> None:
    assert missing(Draft()) == ["category", "place", "description"]
    assert missing(Draft(category="policy_enquiry", description="低保怎么申请")) == []  # no place
    draft = Draft(category="roof_leak", address=LEAK_PLACE, community="c01", description=" 漏雨 ")
    assert missing(draft) == []
    new = build_request(draft)
    assert (new.type, new.description, new.location.address) == (RequestType.help, "漏雨", LEAK_PLACE)
    assert default_type("policy_enquiry") is RequestType.enquiry
    assert default_type("noise") is RequestType.complaint
    assert build_request(Draft(type=RequestType.suggestion, category="noise", description="x")).type == (
        RequestType.suggestion
    )


def test_an_open_request_at_the_same_place_about_the_same_problem_is_likely_the_same() -> None:
    now = 1_800_000_000.0

    def row(request_id: str, address: str, description: str, state: State = State.dispatched) -> Any:
        return make_row(
            id=request_id,
            state=state,
            category="roof_leak",
            community="c01",
            tier="24h",
            due_at=now + 3600,
            received_at=now - 3600,
            description=description,
            address=address,
        )

    model = QueueModel(
        [
            row("R-000001", LEAK_PLACE, "三号楼顶楼漏雨，往屋里滴水"),
            row("R-000002", "德胜里一区5号楼", "五号楼顶楼漏雨"),
            row("R-000003", LEAK_PLACE, "三号楼漏雨", State.closed),
        ],
        freeze=False,
    )
    draft = Draft(category="roof_leak", address=LEAK_PLACE, community="c01", description="楼顶漏雨了")
    rows = candidates(model, draft, now)
    assert [r.id for r in rows] == ["R-000001", "R-000002"]  # a closed request takes no repeat call
    found = likely_same(draft_item(draft, now), rows)
    assert [m.request_id for m in found] == ["R-000001"]


# ----- the form, driven by keys --------------------------------------------------------------


class Keys:
    """Presses keys and counts those that are not typed text (what acceptance 1 counts)."""

    def __init__(self, pilot: Pilot[Any]) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> None:
        self.count += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        await self.pilot.press(*text)


def the_form(app: HotlineApp) -> IntakeScreen:
    screen = app.screen
    assert isinstance(screen, IntakeScreen)
    return screen


async def open_form(keys: Keys, app: HotlineApp) -> IntakeScreen:
    await until(keys.pilot, lambda: app.loaded, what="the cache")
    await keys.press("i")
    await until(keys.pilot, lambda: isinstance(app.screen, IntakeScreen), what="the intake form")
    return the_form(app)


async def fill_leak(keys: Keys, form: IntakeScreen, description: str = "三号楼顶层漏雨往下滴水") -> None:
    """The roof leak at 德胜里一区3号楼 by keys: the category and place by type-ahead, the
    caller, the description."""
    await keys.type("fwly")
    await until(keys.pilot, lambda: form.category_hits[:1] and form.category_hits[0].code == "roof_leak")
    await keys.press("enter")
    await keys.type(LEAK_PLACE)
    await until(keys.pilot, lambda: form.place_hits[:1] and form.place_hits[0].address == LEAK_PLACE)
    await keys.press("enter")
    await keys.type("李建国")
    await keys.press("tab")
    await keys.type(CALLER_PHONE)
    await keys.press("tab", "tab")
    await keys.type(description)
    assert (form.draft.category, form.draft.address, form.draft.community) == ("roof_leak", LEAK_PLACE, "c01")
    assert (form.draft.name, form.draft.phone, form.draft.description) == (
        "李建国",
        CALLER_PHONE,
        description,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    running = seeded_server(tmp_path, 5)
    try:
        yield running
    finally:
        running.stop()


def offline_session(server: LiveServer, tmp_path: Path) -> Session:
    """A session that never syncs, with the server's directory and gazetteer cached (as after an
    earlier shift online)."""
    session = open_session(server, tmp_path, sync=False)
    store = server.store
    session.set_directory(
        Directory(
            units=store.units(),
            categories=store.categories(),
            communities=store.communities(),
            places=store.places(),
            fetched_at=datetime.now(UTC),
        )
    )
    return session


def taken_in(server: LiveServer, phone_last4: str = CALLER_PHONE[-4:]) -> list[Request]:
    """The requests on the server whose caller's phone ends so (the calls taken in by the test)."""
    found = server.store.list_requests(RequestFilter())
    return [r for r in found if r.caller.phone.endswith(phone_last4)]


def sent(app: HotlineApp, server: LiveServer, state: State) -> bool:
    """Whether the call taken in is on the server in `state` and nothing waits to be sent."""
    return synced(app) and [r.state for r in taken_in(server)] == [state]


def open_leak(server: LiveServer, *, dispatched: bool = True) -> Request:
    """An open roof leak at 德胜里一区3号楼, with a unit (dispatched) or not yet."""
    new = NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category="roof_leak",
        description="德胜里一区3号楼顶层漏雨，屋里往下滴水",
        location=LocationIn(community="c01", address=LEAK_PLACE),
        caller=CallerIn(name="王秀兰", phone="13800001111"),
    )
    request = server.store.create_request(new, actor="话务员", idempotency_key=None).request
    if dispatched:
        action = Dispatch(lead_unit="pm01")
        request = server.store.apply(
            request.id, action, actor="话务员", if_match=request.version, idempotency_key=None
        ).request
    return request


async def test_a_call_by_keys_is_recorded_and_dispatched_with_one_more_key(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    async with running_app(session, lang="zh", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        await until(pilot, lambda: synced(app), what="the first sync")
        form = await open_form(keys, app)
        await fill_leak(keys, form)
        await keys.press("ctrl+s")
        await until(pilot, lambda: form.saved_id is not None, what="the call recorded")
        assert keys.count < 25, keys.count
        assert form.saved_id is not None and form.saved_id in form.message_text
        await keys.press("ctrl+g")
        await until(pilot, lambda: form.dispatched, what="the dispatch recorded")
        await until(pilot, lambda: sent(app, server, State.dispatched), what="both sent")
        [request] = taken_in(server)
        assert request.state is State.dispatched
        assert (request.category, request.location.address, request.location.community) == (
            "roof_leak",
            LEAK_PLACE,
            "c01",
        )
        assert request.lead_unit == "pm01"  # the property company of 德胜里一区, which covers the place
        assert [step.action for step in request.history] == ["intake", "dispatch"]


async def test_offline_the_call_and_its_dispatch_wait_in_the_outbox(
    server: LiveServer, tmp_path: Path
) -> None:
    session = offline_session(server, tmp_path)
    async with running_app(session, lang="en", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        form = await open_form(keys, app)
        await fill_leak(keys, form)
        await keys.press("ctrl+g")  # before it is recorded: one write, the call then its dispatch
        await until(pilot, lambda: form.dispatched, what="the call and its dispatch recorded")
        assert "offline" in form.message_text
        pending = session.store.pending()
        assert [p.action.action for p in pending] == ["intake", "dispatch"]
        assert {p.request_id for p in pending} == {form.saved_id}
        assert taken_in(server) == []


async def test_what_is_missing_is_said_and_nothing_is_recorded(server: LiveServer, tmp_path: Path) -> None:
    session = offline_session(server, tmp_path)
    async with running_app(session, lang="en", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        form = await open_form(keys, app)
        await keys.press("ctrl+s")
        await pilot.pause()
        assert "Category" in form.message_text and "Request" in form.message_text
        assert form.saved_id is None and session.store.pending() == []
        await keys.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, IntakeScreen), what="the form closed")


async def test_a_repeat_call_is_linked_to_the_open_request_with_one_key(
    server: LiveServer, tmp_path: Path
) -> None:
    leak = open_leak(server)
    session = open_session(server, tmp_path)
    async with running_app(session, lang="zh", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        await until(pilot, lambda: synced(app) and leak.id in app.model, what="the leak in the cache")
        form = await open_form(keys, app)
        await fill_leak(keys, form, "楼顶漏雨好几天了")
        await until(pilot, lambda: [m.request_id for m in form.matches][:1] == [leak.id], what="the offer")
        await keys.press("ctrl+l")
        await until(pilot, lambda: form.saved_id is not None, what="the call linked")
        assert leak.id in form.message_text
        await until(
            pilot, lambda: sent(app, server, State.merged), what="the call, its merge and the chase sent"
        )
        [call] = taken_in(server)
        assert (call.state, call.merged_into) == (State.merged, leak.id)
        parent = server.store.get_request(leak.id)
        assert parent.chases == 1 and parent.history[-1].action == "chase"

        # The request shows both callers (the repeat call's masked, with its id) and the chase.
        await keys.press("escape")
        await app.push_screen(DetailScreen(leak.id))
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await until(
            pilot, lambda: detail.request is not None and detail.request.chases == 1, what="the detail"
        )
        shown = str(detail.query_one("#detail", Static).render())
        assert "王**" in shown and "138****1111" in shown
        assert call.id in shown and "李**" in shown and "139****2222" in shown
        assert app.strings.action("chase") in shown

    # Both callers get their callback: resolving the request resolves the call merged into it.
    for action in (Accept(), Resolve(summary="屋顶已修补")):
        now = server.store.get_request(leak.id)
        server.store.apply(leak.id, action, actor="pm01", if_match=now.version, idempotency_key=None)
    assert server.store.get_request(call.id).state is State.resolved


async def test_an_enquiry_is_answered_directly_from_the_knowledge_base(
    server: LiveServer, tmp_path: Path
) -> None:
    session = open_session(server, tmp_path)
    async with running_app(session, lang="zh", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        await until(pilot, lambda: synced(app) and session.knowledge is not None, what="the knowledge base")
        form = await open_form(keys, app)
        await keys.type("zcz")
        await until(pilot, lambda: form.category_hits[:1] and form.category_hits[0].code == "policy_enquiry")
        await keys.press("enter", "tab")  # an enquiry needs no place
        await keys.type("王大妈")
        await keys.press("tab")
        await keys.type(CALLER_PHONE)
        await keys.press("tab", "tab")
        await keys.type("低保怎么申请")
        assert form.draft.request_type is RequestType.enquiry
        assert (form.draft.name, form.draft.phone, form.draft.description) == (
            "王大妈",
            CALLER_PHONE,
            "低保怎么申请",
        )
        await keys.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, KnowledgePicker), what="the knowledge picker")
        picker = app.screen
        assert isinstance(picker, KnowledgePicker)
        await until(pilot, lambda: picker.matches, what="entries for the description")
        entry = picker.matches[0]
        await keys.press("enter")
        await until(pilot, lambda: form.saved_id is not None, what="the call recorded with its answer")
        assert entry.title in form.message_text
        await until(pilot, lambda: sent(app, server, State.closed), what="the call and its answer sent")
        [request] = taken_in(server)
        assert (request.state, request.answered_with) == (State.closed, entry.id)
        assert request.history[-1].action == "answer" and request.history[-1].entry == entry.id
        assert request.lead_unit is None  # not dispatched


async def test_a_repeat_callers_earlier_requests_are_shown_and_offline_it_says_why(
    server: LiveServer, tmp_path: Path
) -> None:
    first = server.store.create_request(
        NewRequest(
            channel=Channel.phone,
            type=RequestType.help,
            category="heating",
            description="暖气不热",
            location=LocationIn(community="c01", address=LEAK_PLACE),
            caller=CallerIn(name="李建国", phone=CALLER_PHONE),
        ),
        actor="话务员",
        idempotency_key=None,
    ).request
    session = open_session(server, tmp_path)
    async with running_app(session, lang="en", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        await until(pilot, lambda: synced(app) and first.id in app.model, what="the first call cached")
        form = await open_form(keys, app)
        await keys.press("tab", "tab")  # category → place → caller's name
        await keys.press("tab")
        await keys.type(CALLER_PHONE)
        await keys.press("tab")  # leaving the phone looks the caller up (the server records it)
        await until(pilot, lambda: form.earlier == [first.id], what="the earlier request")
        panel = form.query_one("#panel-title", Static)
        assert "(the caller's earlier: 1)" in str(panel.render())
        await keys.press("shift+tab")  # back on the phone: the earlier requests themselves
        await until(pilot, lambda: form.mode == "earlier", what="the earlier requests shown")
        listed = form.query_one("#panel", OptionList).get_option_at_index(0).prompt
        assert first.id in str(listed)

    offline = offline_session(server, tmp_path)
    async with running_app(offline, lang="en", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        form = await open_form(keys, app)
        await keys.press("tab", "tab", "tab")
        await keys.type(CALLER_PHONE)
        await keys.press("enter")
        await pilot.pause()
        assert form.earlier is None and "Offline" in form.lookup_note


async def test_a_paste_into_the_description_keeps_its_lines_and_drops_escape_sequences(
    server: LiveServer, tmp_path: Path
) -> None:
    session = offline_session(server, tmp_path)
    async with running_app(session, lang="en", size=(80, 24)) as (app, pilot):
        keys = Keys(pilot)
        form = await open_form(keys, app)
        area = form.query_one("#description", TextArea)
        area.focus()
        await pilot.pause()
        area.post_message(events.Paste("楼顶漏雨\n\x1b[31m往下滴水\x1b[0m\x1b]0;owned\x07\n三号楼"))
        await until(pilot, lambda: form.draft.description != "", what="the paste")
        assert form.draft.description == "楼顶漏雨\n往下滴水\n三号楼"
        assert form.query_one("#category", Input).value == ""


async def test_the_intake_keys_follow_the_keymap(server: LiveServer, tmp_path: Path) -> None:
    session = offline_session(server, tmp_path)
    keymap = {"app.intake": "I", "intake.save": "f2"}
    async with running_app(session, lang="en", size=(80, 24), keymap=keymap) as (app, pilot):
        await until(pilot, lambda: app.loaded)
        await pilot.press("i")
        await pilot.pause()
        assert not isinstance(app.screen, IntakeScreen)
        keys = Keys(pilot)
        await keys.press("I")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen), what="the form on I")
        form = the_form(app)
        assert "f2 record" in str(form.query_one("#hint", Static).render())
        await fill_leak(keys, form)
        await keys.press("f2")
        await until(pilot, lambda: form.saved_id is not None, what="the call recorded with f2")


async def test_the_key_is_in_help_and_the_palette_in_both_languages(
    server: LiveServer, tmp_path: Path
) -> None:
    from tui.core.i18n import Strings
    from tui.ui.palette import palette_commands
    from tui.ui.screens.help import help_text

    for lang, words in (("zh", "接线受理"), ("en", "Take a call")):
        strings = Strings(lang)  # type: ignore[arg-type]
        shown = help_text(strings, {}).plain
        assert "app.intake" in shown and words in shown and "intake.link" in shown
    session = offline_session(server, tmp_path)
    async with running_app(session, lang="zh") as (app, pilot):
        await until(pilot, lambda: app.loaded)
        titles = [c.title for c in palette_commands(app, app.screen)]
        assert "接线受理 (i)" in titles


# ----- what the call-taker sees --------------------------------------------------------------


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Central:
    """The demo data (fixed seed and now) with the demo's gazetteer in its directory."""
    seeded = seeded_central(tmp_path_factory.mktemp("central"), 60)
    d = seeded.directory
    places = Directory(
        units=d.units,
        categories=d.categories,
        communities=d.communities,
        fetched_at=d.fetched_at,
        places=demo_places(),
    )
    return Central(page=seeded.page, directory=places)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_form_at_80x24(
    snap_compare: Any, central: Central, tmp_path: Path, fixed_zone: None, lang: Lang
) -> None:
    """A roof leak typed in by keys: the category and the place picked (their tier, suggested and
    covering units), the caller, the description; the panel of likely same requests."""
    with cached_session(central, tmp_path / "cache") as session:
        app = frozen_app(session, lang)

        async def run_before(pilot: Pilot[Any]) -> None:
            keys = Keys(pilot)
            form = await open_form(keys, app)
            await fill_leak(keys, form, "楼顶漏雨往下滴水")
            wanted = (form.draft.category, form.draft.address, form.draft.description)
            await until(pilot, lambda: form.compared == wanted, what="the likely same requests")
            await pilot.pause()

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
