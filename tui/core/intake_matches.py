""" "The same as …?": the open requests a call being taken in likely repeats, found with the storm
clustering engine (`tui.core.clustering`) while the form fills in.

The candidates are few, picked by the queue model's indexes before any text is read: the open
requests of the call's community (else of its category), newest first, at most
`MAX_CANDIDATES`, received within `WITHIN` (a repeat call comes while the request is open, which
may be days). Each is scored against the draft as a pair of the clustering (`pair_score`): one
problem at one place for its reach, or, for other requests, the place, the category and similar
text.

    rows = candidates(model, draft, now)               # on the UI thread (the model is not shared)
    likely_same(draft_item(draft, now), rows)          # in a worker: the matches, best first
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from api_client.domain.states import OPEN_STATES
from api_client.models import State
from tui.core.clustering.clusters import DEFAULT_THRESHOLD
from tui.core.clustering.items import Item
from tui.core.clustering.prepared import prepare
from tui.core.clustering.problems import OTHER
from tui.core.clustering.scoring import apart, conflict, pair_score
from tui.core.clustering.text import NGRAM
from tui.core.collector import paused
from tui.core.intake_form import Draft
from tui.core.queue.filters import Filter
from tui.core.queue.kinds import QueueKind
from tui.core.queue.model import QueueModel
from tui.core.queue.rows import QueueRow
from tui.core.queue.sorts import Sort

__all__ = ["DRAFT_ID", "MAX_CANDIDATES", "WITHIN", "Match", "candidates", "draft_item", "likely_same"]

#: At most this many open requests are compared with a call.
MAX_CANDIDATES: Final = 400
#: How long ago a request the call repeats may have come in.
WITHIN: Final = timedelta(days=15)
#: The id the draft has while it is compared.
DRAFT_ID: Final = "\0draft"
#: A request may take a repeat call while it is in one of these states.
LINKABLE: Final = OPEN_STATES - {State.merged}


@dataclass(frozen=True, slots=True)
class Match:
    """An open request the call likely repeats: its id, how surely (0..1), and why."""

    request_id: str
    score: float
    reasons: tuple[str, ...]


def draft_item(draft: Draft, now: float) -> Item:
    """The call as clustering reads it, received `now` (epoch seconds)."""
    return Item(DRAFT_ID, State.new, draft.category, draft.community, draft.address, draft.description, now)


def ready(draft: Draft) -> bool:
    """Whether the draft says enough to be compared: a place, or a category and some text."""
    return bool(draft.address.strip() or (draft.category and draft.description.strip()))


def candidates(model: QueueModel, draft: Draft, now: float, *, exclude: Sequence[str] = ()) -> list[QueueRow]:
    """The open requests the call may repeat (see the module docstring); `exclude`: ids left out
    (the call itself, once recorded)."""
    if draft.community:
        narrow = Filter(communities=frozenset({draft.community}))
    elif draft.category:
        narrow = Filter(categories=frozenset({draft.category}))
    else:
        return []
    since = now - WITHIN.total_seconds()
    skip = set(exclude)
    found: list[QueueRow] = []
    for row in model.apply(QueueKind.all, narrow, Sort.newest, now=now):
        if row.received_at < since or len(found) >= MAX_CANDIDATES:
            break
        if row.state in LINKABLE and row.id not in skip:
            found.append(row)
    return found


def likely_same(
    draft: Item, rows: Sequence[QueueRow], *, threshold: float = DEFAULT_THRESHOLD, limit: int = 5
) -> list[Match]:
    """The rows likely about the draft's incident, best first (at most `limit`)."""
    if not rows:
        return []
    with paused():
        prepared = prepare([draft, *(Item.from_row(row) for row in rows)], NGRAM)
    call, others = prepared[0], prepared[1:]
    found: list[Match] = []
    for other in others:
        if (call.reach == OTHER or other.reach == OTHER) and apart(call, other):
            continue
        if conflict(call, other):
            continue
        score, reasons = pair_score(call, other, NGRAM)
        if score >= threshold:
            found.append(Match(other.item.id, round(score, 3), tuple(reasons)))
    found.sort(key=lambda m: (-m.score, m.request_id))
    return found[:limit]
