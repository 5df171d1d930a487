"""The keys that work on every screen: the transitions on the current request and the app-wide
bindings (the app's `BINDINGS`).

Apart from the app so that the help screen lists them without importing the app.
"""

from __future__ import annotations

from typing import Final

from textual.binding import Binding, BindingType

__all__ = ["APP_BINDINGS", "OWN_ACTIONS", "TRANSITIONS"]

#: The transition keys: (binding id / action name, key). The action name is the lifecycle's.
TRANSITIONS: Final[tuple[tuple[str, str], ...]] = (
    ("dispatch", "d"),
    ("accept", "a"),
    ("return", "r"),
    ("extend", "e"),
    ("resolve", "s"),
    ("callback", "c"),
    ("close", "x"),
    ("reopen", "o"),
    ("note", "n"),
    ("escalate", "exclamation_mark"),
    ("chase", "h"),  # 催办: "hurry"
)

#: Transitions the footer leaves out so that the others fit 80 columns (help and ctrl+p list them).
_NOT_IN_FOOTER: Final = frozenset({"escalate", "close", "chase"})

#: The actions of the app's own bindings (not Textual's focus and palette actions).
OWN_ACTIONS: Final = frozenset(
    {
        "transition",
        "merge",
        "unmerge",
        "answer",
        "intake",
        "duplicates",
        "conflicts",
        "dashboard",
        "help",
        "quit",
    }
)

APP_BINDINGS: Final[list[BindingType]] = [
    *(
        Binding(key, f"transition('{name}')", name, show=name not in _NOT_IN_FOOTER, id=f"request.{name}")
        for name, key in TRANSITIONS
    ),
    Binding("m", "merge", "Merge", id="request.merge"),
    Binding("u", "unmerge", "Unmerge", show=False, id="request.unmerge"),
    Binding("K", "answer", "Answer directly", show=False, id="request.answer"),  # 直接答复 from the 知识库
    Binding("i", "intake", "Take a call", show=False, id="app.intake"),
    Binding("C", "conflicts", "Conflicts", show=False, id="app.conflicts"),
    Binding("D", "duplicates", "Duplicates", show=False, id="app.duplicates"),
    Binding("b", "dashboard", "Dashboard", show=False, id="app.dashboard"),
    Binding("question_mark", "help", "Help", id="app.help"),
    Binding("q", "quit", "Quit", id="app.quit"),
]
