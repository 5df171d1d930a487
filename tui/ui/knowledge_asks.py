"""The knowledge picker's ask and its answer: the knowledge base, indexed for search in a worker
(`tui.ui.knowledge_answering.KnowledgeAnswering` answers it)."""

from __future__ import annotations

from datetime import date

from textual.message import Message

from tui.core.knowledge_search import KnowledgeIndex
from tui.ui.asks import Ask

__all__ = ["KnowledgeLoaded", "LoadKnowledge"]


class LoadKnowledge(Ask):
    """The cached knowledge base, indexed: answered with `KnowledgeLoaded`."""


class KnowledgeLoaded(Message):
    """The knowledge base to search (None: none cached yet) and the day entries must be in force on."""

    def __init__(self, index: KnowledgeIndex | None, today: date) -> None:
        super().__init__()
        self.index = index
        self.today = today
