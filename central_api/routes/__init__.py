"""The /v1 routers, one module per concern; `ROUTERS` lists them in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from central_api.routes import (
    callers,
    changes,
    directory,
    events,
    health,
    knowledge,
    places,
    requests,
    routing,
    stats,
    tokens,
)

ROUTERS: list[APIRouter] = [
    health.router,
    requests.router,
    callers.router,
    changes.router,
    events.router,
    directory.router,
    places.router,
    routing.router,
    knowledge.router,
    stats.router,
    tokens.router,
]
