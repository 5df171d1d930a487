"""`IntakeHandlers`: what the app does when a screen takes a call in (`asks.TakeIn`).

The call, the actions that follow it on the new request and those on other requests are recorded
in a worker thread as one durable write (`Session.take_in`), under a temporary id until the server
takes the call in; only then is the screen answered (`TakenIn`, or `ActionFailed` with nothing
recorded: the screen says which), the rows shown anew and the sync engine woken. When the server
has taken the call in, the sync engine reports both ids changed: the temporary one's row goes, the
server's comes (and is not announced as a new urgent request to the one who took the call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from textual import work

from api_client.domain.lifecycle import TransitionRefused
from local_cache.errors import CacheError
from tui.core.error_words import describe
from tui.ui.asks import TakeIn
from tui.ui.messages import ActionFailed, RowsChanged, TakenIn
from tui.ui.synced_app import SyncedApp

__all__ = ["IntakeHandlers"]

#: The name an intake goes by in the app's words (`action.intake`).
INTAKE = "intake"


class IntakeHandlers(SyncedApp):
    """The app's handler of `TakeIn` (`HotlineApp` inherits it)."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self._taken_here: set[str] = set()  # temporary ids of calls taken in here, until seen back

    @work(group="intake")
    async def on_take_in(self, ask: TakeIn) -> None:
        """Record the call and what follows it durably, then answer and send it."""
        try:
            temporary = await asyncio.to_thread(self.session.take_in, ask.new, ask.then, ask.elsewhere)
        except TransitionRefused as exc:
            ask.answer(ActionFailed("", INTAKE, describe(exc.code, exc.params, self.strings, str(exc))))
            return
        except CacheError as exc:
            ask.answer(ActionFailed("", INTAKE, str(exc)))
            return
        others = [self.session.resolve(request_id) for request_id, _action in ask.elsewhere]
        batch = await asyncio.to_thread(self.session.rows_for, [temporary, *others])
        self.post_message(RowsChanged(batch, announce=False))
        self._taken_here.add(temporary)
        ask.answer(TakenIn(temporary, batch))
        self.send_soon()

    def _announce(self, fresh: Iterable[object]) -> None:
        """New urgent requests, but not a call taken in here coming back as the server's."""
        if self._taken_here:
            fresh = list(fresh)
            ids = {getattr(row, "id", None) for row in fresh}
            mine = {temporary: self.session.resolve(temporary) for temporary in self._taken_here}
            self._taken_here -= {temporary for temporary, now in mine.items() if now in ids}
            fresh = [row for row in fresh if getattr(row, "id", None) not in mine.values()]
        super()._announce(fresh)
