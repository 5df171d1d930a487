"""`UnitGuard`: what the app hides from a handling unit's own login, and says when its key is
pressed anyway (`tui.core.unit_login` decides what a unit may do).

A command a unit may not use is hidden from the footer, the keys panel and the palette (the app's
`check_action` answers False) and from help (`hides`); its key still reaches `run_action`, which
says so in the interface's language instead of acting. What would record an action is checked
once more where it is recorded (`unit_refuses`), so no key, palette entry or screen's ask records
an action the server would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from textual.actions import ActionParseResult, parse
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen

from api_client.domain.lifecycle import ALLOWED_FROM
from api_client.domain.unit_rules import UNIT_ACTIONS, unit_may
from tui.core.unit_login import UNIT_COMMANDS
from tui.ui.host import HasMarks, HasRequest
from tui.ui.synced_app import SyncedApp

__all__ = ["UnitGuard"]


class UnitGuard(SyncedApp):
    """Mix into the app (before `SyncedApp`): the unit's login's limits on its keys and actions."""

    @cached_property
    def _own_action_names(self) -> frozenset[str]:
        """The actions of the app's own bindings (the commands a unit's login is limited in)."""
        return frozenset(
            parse(binding.action)[1]
            for binding in self.BINDINGS
            if isinstance(binding, Binding) and binding.id
        )

    def unit_forbids(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """For a unit's login, the name of the app's command `action` (with `parameters`) when
        the unit may not use it (a transition's name, else the command's); None when it may, and
        always for the centre's logins."""
        if self.own_unit is None:
            return None
        if action == "transition":
            name = str(parameters[0]) if parameters else ""
            return None if name in UNIT_ACTIONS else name
        if action in UNIT_COMMANDS or action not in self._own_action_names:
            return None
        return action

    def hides(self, binding: Binding) -> bool:
        """Whether help leaves `binding` out (a command the unit's login may not use)."""
        name, parameters = _parsed(binding.action)
        return self.unit_forbids(name, parameters) is not None

    def unit_allows(self, action: str, lead_unit: str | None) -> bool:
        """Whether this login may take `action` on a request led by `lead_unit` (the centre's:
        always; a unit's: `unit_may`)."""
        unit = self.own_unit
        return unit is None or unit_may(action, lead_unit=lead_unit, unit=unit)

    def unit_refuses(self, request_id: str, action: str) -> bool:
        """Before an action is recorded: whether a unit's login may not take it on this request
        (then it says so, and nothing is to be recorded)."""
        unit = self.own_unit
        if unit is None:
            return False
        row = self.model.get(request_id)
        lead = row.lead_unit if row is not None else None
        if unit_may(action, lead_unit=lead, unit=unit):
            return False
        self._say_forbidden(action, lead_unit=lead)
        return True

    def _say_forbidden(self, action: str, *, lead_unit: str | None = None) -> None:
        if action in UNIT_ACTIONS:  # what only the lead does, asked by a co-unit
            lead = self.names.units.get(lead_unit or "", lead_unit or "")
            words = self.strings.action(action)
            self.say(self.strings("unit.lead_only", lead=lead, action=words), severity="warning")
            return
        self.say(self.strings("unit.not_allowed", action=self._command_words(action)), severity="warning")

    def _command_words(self, action: str) -> str:
        """An action or command as the interface names it (`派单`, `疑似重复诉求`)."""
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id and _parsed(binding.action)[0] == action:
                return self.strings(f"key.{binding.id}")
        return self.strings.action(action)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """A key of a command the unit's login may not use says so instead of doing nothing."""
        if (
            isinstance(action, str)
            and default_namespace in (None, self)
            and not isinstance(self.screen, ModalScreen)
        ):
            namespace, name, parameters = parse(action)
            if namespace in ("", "app"):
                refused = self.unit_forbids(name, tuple(parameters))
                if refused is not None:
                    self._say_forbidden(refused)
                    return True
                if name == "transition" and parameters and self._lead_only_here(str(parameters[0])):
                    return True
        return await super().run_action(action, default_namespace, namespaces)

    def _lead_only_here(self, name: str) -> bool:
        """Whether the request on screen is where `name` applies but only its lead unit takes it
        (then it says so): a co-unit's key is not silently ignored."""
        unit, screen = self.own_unit, self.screen
        if unit is None or (isinstance(screen, HasMarks) and screen.bulk_request_ids()):
            return False
        request_id = screen.current_request_id() if isinstance(screen, HasRequest) else None
        row = self.model.get(request_id) if request_id is not None else None
        if row is None or row.state not in ALLOWED_FROM.get(name, ()):
            return False
        return self.unit_refuses(row.id, name)


def _parsed(action: str) -> tuple[str, tuple[object, ...]]:
    _namespace, name, parameters = parse(action)
    return name, tuple(parameters)
