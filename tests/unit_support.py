"""Helpers for the tests of units' tokens: a unit's token and a dispatcher's on a live server, and
requests in every relation to the unit (leads, co-handles, another unit's, taken away, new)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from conftest import bearer
from server_helpers import act, intake

from api_client.models import Role
from central_api.server import LiveServer

UNIT, OTHER, CO = "cc01", "cc02", "pm01"


@dataclass
class Cases:
    """Request ids, by their relation to `UNIT`."""

    lead: str  # UNIT leads it
    co: str  # OTHER leads it, UNIT co-handles it
    other: str  # OTHER's alone
    returned: str  # UNIT had it and returned it
    new: str  # dispatched to nobody yet

    @property
    def mine(self) -> set[str]:
        return {self.lead, self.co}

    @property
    def not_mine(self) -> set[str]:
        return {self.other, self.returned, self.new}


@dataclass
class Clients:
    dispatcher: httpx.Client
    unit: httpx.Client
    unit_token: str


@contextmanager
def clients(live_server: LiveServer, name: str = "德胜里社区居委会") -> Iterator[Clients]:
    """A dispatcher's client and `UNIT`'s (its token named `name`); closed after."""
    store = live_server.store
    dispatcher_token = store.create_token(f"dispatcher for {name}", Role.dispatcher)
    unit_token = store.create_token(name, Role.unit, unit=UNIT)
    with (
        httpx.Client(base_url=live_server.url, headers=bearer(dispatcher_token), timeout=30) as dispatcher,
        httpx.Client(base_url=live_server.url, headers=bearer(unit_token), timeout=30) as unit,
    ):
        yield Clients(dispatcher, unit, unit_token)


def dispatch(
    client: httpx.Client, lead: str, co: list[str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """A new request, dispatched to `lead` (and `co`) by `client`."""
    return act(
        client, intake(client, **overrides), {"action": "dispatch", "lead_unit": lead, "co_units": co or []}
    )


def make_cases(c: Clients) -> Cases:
    lead = dispatch(c.dispatcher, UNIT, [CO])
    co = dispatch(c.dispatcher, OTHER, [UNIT])
    other = dispatch(c.dispatcher, OTHER)
    returned = dispatch(c.dispatcher, UNIT)
    act(c.unit, returned, {"action": "return", "code": "wrong_address", "reason": "不在本社区辖区"})
    new = intake(c.dispatcher)
    return Cases(lead=lead["id"], co=co["id"], other=other["id"], returned=returned["id"], new=new["id"])
