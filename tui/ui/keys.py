"""Key bindings: their words in the user's language, and the keymap from the config file.

Every binding of the app has an id (`app.quit`, `request.dispatch`, `queue_table.cursor_down`,
…). The config file's `[keys]` table maps ids to keys (`"request.dispatch" = "D"`, several keys
separated by commas); Textual's keymap then rebinds them wherever they are defined. The
description a binding shows in the footer and the help screen is the message `key.<id>` of
`tui.core.i18n`, so it follows the interface language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from textual.binding import Binding, BindingType
from textual.dom import DOMNode

from tui.core.i18n import MESSAGES, Strings

__all__ = ["KeyHelp", "Translated", "describe_bindings", "translate_bindings"]


def translate_bindings(node: DOMNode, strings: Strings) -> None:
    """Give the bindings of `node` their descriptions in the language of `strings`."""
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [
            replace(b, description=strings(f"key.{b.id}")) if b.id and f"key.{b.id}" in MESSAGES else b
            for b in bindings
        ]


class Translated(DOMNode):
    """A node whose bindings speak the app's language (the app must have `strings`)."""

    def on_mount(self) -> None:
        strings = getattr(self.app, "strings", None)
        if isinstance(strings, Strings):
            translate_bindings(self, strings)


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One line of the help screen."""

    id: str
    keys: str
    description: str


def describe_bindings(
    bindings: Iterable[BindingType], keymap: Mapping[str, str], strings: Strings
) -> list[KeyHelp]:
    """The bindings that have an id, with the keys the keymap gives them and their words."""
    lines: list[KeyHelp] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.id:
            continue
        keys = keymap.get(binding.id, binding.key)
        shown = ", ".join(_key_name(key.strip()) for key in keys.split(","))
        lines.append(KeyHelp(binding.id, shown, strings(f"key.{binding.id}")))
    return lines


def _key_name(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "escape": "esc", "space": "space"}.get(key, key)
