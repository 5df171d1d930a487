"""`KnowledgeAnswering`: the app's key for a direct answer (直接答复) from the knowledge base, and
its answer to the knowledge picker's `LoadKnowledge` (`HotlineApp` inherits it).

On a new enquiry (the current request): the picker (`tui.ui.screens.knowledge.KnowledgePicker`)
opens on the request's description and category, the call-taker picks an entry in force, says
yes, and `AnswerDirectly` is recorded like any action (offline too: it is sent when the server is
back). The state machine has the last word; its refusal is worded as any other.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import TYPE_CHECKING

from textual import work

from api_client.actions import Action, AnswerDirectly
from api_client.domain.lifecycle import ALLOWED_FROM, ANSWERABLE_TYPES
from api_client.knowledge import KnowledgeEntry
from api_client.models import Request
from local_cache.knowledge_file import KnowledgeCache
from tui.core.knowledge_search import KnowledgeIndex
from tui.ui.host import HasRequest
from tui.ui.knowledge_asks import KnowledgeLoaded, LoadKnowledge
from tui.ui.synced_app import SyncedApp

__all__ = ["KnowledgeAnswering"]


class KnowledgeAnswering(SyncedApp):
    """The app's `action_answer` and `on_load_knowledge`."""

    _knowledge_index: tuple[KnowledgeCache, KnowledgeIndex] | None = None

    if TYPE_CHECKING:

        def record(self, request_id: str, action: Action) -> None:
            """`HotlineApp.record`: the action recorded durably, then said so."""

    def today(self) -> date:
        """The day here (entries must be in force on it to answer with)."""
        return datetime.fromtimestamp(self.clock()).date()

    def _request_on_screen(self) -> str | None:
        screen = self.screen
        return screen.current_request_id() if isinstance(screen, HasRequest) else None

    def answer_allowed(self) -> bool:
        """Whether the key applies: the request on screen is new (whether it is an enquiry is
        said when the key is pressed)."""
        request_id = self._request_on_screen()
        row = self.model.get(request_id) if request_id is not None else None
        return row is not None and row.state in ALLOWED_FROM["answer"]

    def action_answer(self) -> None:
        request_id = self._request_on_screen()
        if request_id is not None:
            self.answer_directly(request_id)

    @work(group="transition")
    async def answer_directly(self, request_id: str) -> None:
        """Pick an entry, confirm, record the answer (see the module docstring)."""
        from tui.ui.screens.knowledge import KnowledgePicker
        from tui.ui.screens.transitions import ConfirmDialog

        t = self.strings
        request = await asyncio.to_thread(self.session.view, request_id)
        if request is None:
            self.say(t("app.not_cached", id=request_id), severity="error")
            return
        refusal = _refusal(request)
        if refusal is not None:
            self.say(t(refusal, id=request.id), severity="error", timeout=10)
            return
        picker = KnowledgePicker(query=request.description, category=request.category or None)
        entry: KnowledgeEntry | None = await self.push_screen_wait(picker)
        if entry is None:
            return
        question = t("knowledge.confirm_title", id=request.id)
        body = t("knowledge.confirm_body", title=entry.title)
        if not await self.push_screen_wait(ConfirmDialog(question, body, t, request=request)):
            return
        self.record(request.id, AnswerDirectly(entry_id=entry.id))

    @work(group="knowledge")
    async def on_load_knowledge(self, ask: LoadKnowledge) -> None:
        """The cached knowledge base, indexed in a thread (once per fetch)."""
        knowledge = self.session.knowledge
        if knowledge is None:
            ask.answer(KnowledgeLoaded(None, self.today()))
            return
        cached = self._knowledge_index
        if cached is None or cached[0] is not knowledge:
            index = await asyncio.to_thread(KnowledgeIndex, knowledge.entries)
            cached = self._knowledge_index = (knowledge, index)
        ask.answer(KnowledgeLoaded(cached[1], self.today()))


def _refusal(request: Request) -> str | None:
    """Why the request cannot be answered directly (the words' key), or None."""
    if request.type not in ANSWERABLE_TYPES:
        return "knowledge.not_enquiry"
    if request.state not in ALLOWED_FROM["answer"]:
        return "knowledge.not_new"
    return None
