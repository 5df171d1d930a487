"""The app's side of taking a call in (`asks.TakeIn`): the call and what follows it are durable
before the screen is answered; its row shows at once under the temporary id, unsent, and is
replaced by the server's request once the server has taken it in."""

from __future__ import annotations

from pathlib import Path

from app_support import open_session, running_app, seeded_server, synced, until
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from api_client.actions import Chase, Dispatch
from api_client.models import CallerIn, Channel, LocationIn, NewRequest, RequestType, State
from central_api.store import RequestFilter
from local_cache.intakes import is_temporary
from tui.ui.asks import TakeIn
from tui.ui.messages import ActionFailed, TakenIn


class Asker(Screen[None]):
    """A screen that takes calls in and keeps the answers."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[TakenIn] = []
        self.failed: list[ActionFailed] = []

    def compose(self) -> ComposeResult:
        yield Static("intake")

    def on_taken_in(self, message: TakenIn) -> None:
        self.taken.append(message)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.failed.append(message)


def leak(text: str, category: str = "roof_leak") -> NewRequest:
    return NewRequest(
        channel=Channel.phone,
        type=RequestType.help,
        category=category,
        description=text,
        location=LocationIn(street="德胜街道", community="c01", address="德胜里一区3号楼"),
        caller=CallerIn(name="李建国", phone="13911112222"),
    )


async def test_a_call_taken_in_offline_shows_at_once_unsent(tmp_path: Path) -> None:
    server = seeded_server(tmp_path, 5)
    try:
        session = open_session(server, tmp_path, sync=False)
        async with running_app(session) as (app, pilot):
            await until(pilot, lambda: app.loaded)
            asker = Asker()
            await app.push_screen(asker)
            asker.post_message(TakeIn(asker, leak("三号楼楼顶漏水"), then=[Dispatch(lead_unit="cc01")]))
            await until(pilot, lambda: asker.taken, what="TakenIn")
            [answer] = asker.taken
            temporary = answer.request_id
            assert is_temporary(temporary)
            [row] = answer.batch.rows
            assert (row.id, row.state, row.unsent) == (temporary, State.dispatched, True)
            await until(pilot, lambda: temporary in app.model, what="the row in the model")
            assert [p.action.action for p in session.store.pending()] == ["intake", "dispatch"]

            # All or nothing: a chase of the new request (no unit has it yet) is refused, and the
            # call with it.
            asker.post_message(TakeIn(asker, leak("又一个"), then=[Chase()]))
            await until(pilot, lambda: asker.failed, what="ActionFailed")
            assert asker.failed[0].action == "intake"
            assert len(session.store.pending()) == 2
    finally:
        server.stop()


async def test_a_call_taken_in_online_becomes_the_servers_request(tmp_path: Path) -> None:
    server = seeded_server(tmp_path, 5)
    try:
        session = open_session(server, tmp_path)
        async with running_app(session) as (app, pilot):
            await until(pilot, lambda: synced(app, 5), what="the first sync")
            said: list[str] = []
            say = app.say
            app.say = lambda text, **options: (said.append(text), say(text, **options))[1]  # type: ignore[method-assign]
            asker = Asker()
            await app.push_screen(asker)
            # An urgent call (积水: 2 hours), not announced back to the one who took it in.
            asker.post_message(TakeIn(asker, leak("五号楼漏水", "waterlogging")))
            await until(pilot, lambda: asker.taken, what="TakenIn")
            temporary = asker.taken[0].request_id

            def taken_in() -> list[str]:
                return [
                    r.id for r in server.store.list_requests(RequestFilter()) if r.description == "五号楼漏水"
                ]

            await until(pilot, lambda: taken_in() and synced(app), what="the server took it in")
            [request_id] = taken_in()
            await until(
                pilot, lambda: request_id in app.model and temporary not in app.model, what="the rename"
            )
            row = app.model.get(request_id)
            assert row is not None and row.state is State.new and not row.unsent
            assert session.resolve(temporary) == request_id
            assert [e.action for e in server.store.audit(request_id)] == ["intake"]
            assert not any(request_id in text for text in said)
    finally:
        server.stop()
