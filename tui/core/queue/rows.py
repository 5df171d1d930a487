"""`QueueRow`: one request as the queues see it, built once per version of the request.

Text is cleaned for one line, names are resolved and the description's substance is found
(`tui.core.greetings`) when a row is built (`make_row`, `row_from_request`); a new version of the
request is a new row.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple

from api_client.domain.states import CALLBACK_STATES
from api_client.domain.untrusted_text import one_line
from api_client.models import Request, State, Tier
from tui.core.greetings import substance_start
from tui.core.queue.kinds import ATTENTION_BIT, kinds_of

__all__ = ["Names", "QueueRow", "fold", "make_row", "row_from_request"]


class Names(NamedTuple):
    """Display names by id, for the table and for free-text search. Missing ids show as the id."""

    categories: Mapping[str, str] = {}
    communities: Mapping[str, str] = {}
    units: Mapping[str, str] = {}


_FULL_WIDTH_ALNUM: Final = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _half_width(match: re.Match[str]) -> str:
    return chr(ord(match.group()) - 0xFEE0)


def fold(s: str) -> str:
    """Text as search compares it: lower case, full-width letters and digits as ASCII (`１２`
    typed in an IME's full-width mode finds `12`)."""
    if not s.isascii():
        s = _FULL_WIDTH_ALNUM.sub(_half_width, s)
    return s.lower()


class QueueRow(NamedTuple):
    """One request as the queues see it. Build with `make_row` or `row_from_request`.

    Times are epoch seconds. Text fields are cleaned for one line (`untrusted_text.one_line`);
    `kinds` is derived from the state and flags.
    """

    id: str
    state: State
    category: str
    category_name: str
    community: str
    community_name: str
    lead_unit: str  # "" while undispatched
    lead_unit_name: str
    co_units: tuple[str, ...]
    channel: str
    tier: Tier
    due_at: float
    received_at: float
    vulnerable: bool
    unsent: bool  # actions recorded here and not yet confirmed by the server
    conflict: bool  # an action the server refused, waiting for the dispatcher
    description: str
    address: str
    caller: str
    kinds: int  # bit mask of the queues the row is in (`tui.core.queue.kinds`)
    resolved_at: float = 0.0  # when it was resolved, while it awaits its callback; else 0
    substance_at: int = 0  # where the description says something, past its greetings
    chases: int = 0  # how many times it was chased (催办)

    @property
    def substance(self) -> str:
        """The description from where it says something (`tui.core.greetings`)."""
        return self.description[self.substance_at :] if self.substance_at else self.description

    @property
    def haystack(self) -> str:
        """What free-text search looks in: id, description, address, caller, category,
        community and lead unit names, folded (`fold`) and joined by newlines (which no search
        word contains, so a word never matches across two fields)."""
        return fold(
            "\n".join(
                (
                    self.id,
                    self.description,
                    self.address,
                    self.caller,
                    self.category_name,
                    self.community_name,
                    self.lead_unit_name,
                )
            )
        )

    def with_flags(self, *, unsent: bool, conflict: bool) -> QueueRow:
        """The same row with new outbox flags (the request itself unchanged)."""
        kinds = self.kinds & ~ATTENTION_BIT | (ATTENTION_BIT if unsent or conflict else 0)
        return self._replace(unsent=unsent, conflict=conflict, kinds=kinds)


_NO_NAMES: Final = Names()
_NEVER: Final = 0.0


def make_row(
    *,
    id: str,
    state: State | str,
    category: str,
    community: str,
    tier: Tier | str,
    due_at: float,
    received_at: float,
    description: str,
    address: str = "",
    caller: str = "",
    lead_unit: str | None = None,
    co_units: Iterable[str] = (),
    channel: str = "",
    vulnerable: bool = False,
    unsent: bool = False,
    conflict: bool = False,
    resolved_at: float | None = None,
    chases: int = 0,
    names: Names = _NO_NAMES,
    own_unit: str | None = None,
) -> QueueRow:
    """A `QueueRow` from plain values: cleans the text, resolves names, derives `kinds`, finds
    the description's substance; `resolved_at` is kept while the request awaits its callback.
    `own_unit` is the unit of a unit's login that shows the row (None: the centre's)."""
    lead = lead_unit or ""
    known_state = State(state)
    text = one_line(description)
    return QueueRow(
        id=one_line(id),
        state=known_state,
        category=category,
        category_name=one_line(names.categories.get(category, category)),
        community=community,
        community_name=one_line(names.communities.get(community, community)),
        lead_unit=lead,
        lead_unit_name=one_line(names.units.get(lead, lead)),
        co_units=tuple(co_units),
        channel=sys.intern(str(channel)),  # one string per channel, not one per row
        tier=Tier(tier),
        due_at=float(due_at),
        received_at=float(received_at),
        vulnerable=vulnerable,
        unsent=unsent,
        conflict=conflict,
        description=text,
        address=one_line(address),
        caller=one_line(caller),
        kinds=kinds_of(
            known_state, unsent, conflict, chases=chases, leads=own_unit is None or lead == own_unit
        ),
        resolved_at=float(resolved_at) if resolved_at and known_state in CALLBACK_STATES else _NEVER,
        substance_at=substance_start(text),
        chases=chases,
    )


def row_from_request(
    request: Request,
    *,
    unsent: bool = False,
    conflict: bool = False,
    names: Names = _NO_NAMES,
    own_unit: str | None = None,
) -> QueueRow:
    """The queue row of a request (as the local cache's optimistic view shows it), for the login
    of `own_unit` (None: the centre's)."""
    return make_row(
        id=request.id,
        state=request.state,
        category=request.category,
        community=request.location.community,
        tier=request.tier,
        due_at=request.due_at.timestamp(),
        received_at=request.received_at.timestamp(),
        description=request.description,
        address=request.location.address,
        caller=request.caller.name,
        lead_unit=request.lead_unit,
        co_units=request.co_units,
        channel=request.channel,
        vulnerable=request.vulnerable,
        unsent=unsent,
        conflict=conflict,
        resolved_at=request.resolved_at.timestamp() if request.resolved_at else None,
        chases=request.chases,
        names=names,
        own_unit=own_unit,
    )
