"""`create_app(store)`: the central API's FastAPI application (/v1 and Open311 GeoReport v2).

The app keeps the store in `app.state.store` and the SSE `Notifier` in `app.state.notifier`; its
lifespan starts the notifier and, when the store offers `add_listener` (SqlStore does), has it
woken by every committed write in this process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol, runtime_checkable

from fastapi import FastAPI

from central_api.body_limit import BodyLimitMiddleware
from central_api.errors import install_error_handlers
from central_api.notifier import Notifier
from central_api.open311.routes import router as open311_router
from central_api.routes import ROUTERS
from central_api.store import Store


@runtime_checkable
class ChangeListening(Protocol):
    def add_listener(self, listener: Callable[[int], None]) -> None: ...

    def remove_listener(self, listener: Callable[[int], None]) -> None: ...


def create_app(store: Store, *, max_body_bytes: int = 1 << 20) -> FastAPI:
    """The application over `store`; request bodies over `max_body_bytes` get 413."""
    notifier = Notifier(store.head)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await notifier.start()
        source = store if isinstance(store, ChangeListening) else None
        if source is not None:
            source.add_listener(notifier.notify)
        try:
            yield
        finally:
            if source is not None:
                source.remove_listener(notifier.notify)
            await notifier.stop()

    app = FastAPI(
        title="hotline central API",
        version="1",
        summary="Citizen-hotline (12345) requests, dispatch, change feed and Open311 GeoReport v2.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.notifier = notifier
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(open311_router)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    return app
