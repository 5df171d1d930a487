"""Reading the report's inputs: the local cache (`read_local`) and the server's numbers through the
client (`fetch_server_numbers`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tui.core.report.model import LocalData, ServerNumbers
from tui.core.report.periods import PERIODS, period_starts

if TYPE_CHECKING:
    from api_client.client import HotlineClient
    from local_cache.local_store import LocalStore

__all__ = ["fetch_server_numbers", "read_local"]


def read_local(store: LocalStore) -> LocalData:
    """Every cached request as the dispatcher sees it, the unsent actions and the conflicts
    (reads and validates every request: call it from a thread)."""
    requests = list(store.views())
    _cached, unsent, _conflicts = store.counts()
    conflicts = sorted({record.action.request_id for record in store.conflicts()})
    return LocalData(requests, unsent, conflicts)


async def fetch_server_numbers(client: HotlineClient, now: datetime) -> ServerNumbers:
    """The server's stats for each period and every unit's for this month (HotlineError
    propagates)."""
    starts = period_starts(now)
    periods = {period: await client.stats(since=starts[period]) for period in PERIODS}
    units = await client.unit_stats(since=starts["month"])
    return ServerNumbers(periods, units)
