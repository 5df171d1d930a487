"""Key bindings: their words in the user's language, and the keymap from the config file.

Every binding of the app has an id (`app.quit`, `request.dispatch`, `queue_table.cursor_down`,
…). The config file's `[keys]` table maps ids to keys (`"request.dispatch" = "D"`, several keys
separated by commas); Textual's keymap then rebinds them wherever they are defined. The
description a binding shows in the footer, the keys panel and the help screen is the message
`key.<id>` of `tui.core.i18n`, so it follows the interface language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import ActiveBinding, Binding, BindingType, Keymap
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import Screen

from tui.core.i18n import MESSAGES, Strings

__all__ = ["KeyHelp", "KeymapApp", "Translated", "describe_bindings", "keymap_of", "translated"]


def translated(binding: Binding, strings: Strings) -> Binding:
    """`binding` with its description in the language of `strings` (as it is when it has no words)."""
    key = f"key.{binding.id}"
    if not binding.id or key not in MESSAGES:
        return binding
    return replace(binding, description=strings(key))


if TYPE_CHECKING:
    _ScreenMixin = Screen[Any]
else:  # a mixin at run time: Textual takes a screen's CSS type names through its first base
    _ScreenMixin = DOMNode


class Translated(_ScreenMixin):
    """Mix into a screen (before the Textual base class): its active keys (its own, the focused
    widget's, the app's) are described in the app's language (the app must have `strings`)
    wherever Textual shows them, as the footer and the keys panel read `active_bindings`."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        active = super().active_bindings
        strings = getattr(self.app, "strings", None)
        if not isinstance(strings, Strings):
            return active
        return {
            key: ActiveBinding(bound.node, translated(bound.binding, strings), bound.enabled, bound.tooltip)
            for key, bound in active.items()
        }


class KeymapApp(App[None]):
    """An app that can tell the keymap it runs with (`keymap`): Textual applies a keymap but does
    not show it, and the help screen and the palette name the keys it binds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys_by_id: dict[str, str] = {}

    @property
    def keymap(self) -> Mapping[str, str]:
        """Binding id → keys, as given to `set_keymap`/`update_keymap`."""
        return MappingProxyType(self._keys_by_id)

    def set_keymap(self, keymap: Keymap) -> None:
        super().set_keymap(keymap)
        self._keys_by_id = dict(keymap)

    def update_keymap(self, keymap: Keymap) -> None:
        super().update_keymap(keymap)
        self._keys_by_id = {**self._keys_by_id, **keymap}


def keymap_of(app: App[Any]) -> Mapping[str, str]:
    """The keymap `app` runs with (none unless it is a `KeymapApp`)."""
    return app.keymap if isinstance(app, KeymapApp) else {}


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
    """What a person presses: `!` for `exclamation_mark`, `*` for `asterisk`, `esc`, `ctrl+s`."""
    return "enter" if key == "enter" else format_key(key)
