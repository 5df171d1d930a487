"""`create_app(store)`: the central API's FastAPI application (/v1 and Open311 GeoReport v2).

The app keeps the store in `app.state.store`, the SSE `Notifier` in `app.state.notifier`, the
event streams' descriptor budget in `app.state.stream_admission` and whether Open311 reads are
public in `app.state.open311_public`. Its lifespan sizes the threadpool (`WORKER_THREADS`, which
the connection pool is sized to), starts the notifier and, when the store offers `add_listener`
(SqlStore does), has it woken by every committed write in this process. Over PostgreSQL the writes
of other processes are heard by LISTEN/NOTIFY (`central_api.pg_notify`); over SQLite by the
notifier's poll of the head.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, runtime_checkable

import anyio.to_thread
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as HttpRequest
from starlette.responses import Response

from central_api.body_limit import BodyLimitMiddleware
from central_api.errors import install_error_handlers
from central_api.notifier import Notifier
from central_api.open311.routes import router as open311_router
from central_api.openapi import install_document
from central_api.pg_notify import NoticeListener, is_postgres
from central_api.routes import ROUTERS
from central_api.sql.engine import WORKER_THREADS
from central_api.store import Store
from central_api.stream_admission import StreamAdmission

#: Over PostgreSQL the notifier polls the head only as a safety net, should a notice be lost.
PG_POLL_SECONDS = 30.0


@runtime_checkable
class ChangeListening(Protocol):
    def add_listener(self, listener: Callable[[int], None]) -> None: ...

    def remove_listener(self, listener: Callable[[int], None]) -> None: ...


def create_app(store: Store, *, max_body_bytes: int = 1 << 20, open311_public: bool = False) -> FastAPI:
    """The application over `store`; request bodies over `max_body_bytes` get 413. With
    `open311_public`, anyone may read Open311 services and service requests without a key (what
    is public carries no personal data: `central_api.open311.mapping.public_service_request`)."""
    url: str = getattr(store, "url", "")
    postgres = is_postgres(url)
    notifier = Notifier(store.head, read_tokens_version=store.tokens_version)
    if postgres:
        notifier.poll_interval = PG_POLL_SECONDS

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        await notifier.start()
        source = store if isinstance(store, ChangeListening) else None
        if source is not None:
            source.add_listener(notifier.notify)
        listener = None
        if postgres:
            listener = NoticeListener(url, on_head=notifier.notify, on_tokens=notifier.tokens_changed)
            await anyio.to_thread.run_sync(listener.start)
        try:
            yield
        finally:
            if listener is not None:
                await anyio.to_thread.run_sync(listener.stop)
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
    app.state.open311_public = open311_public
    app.state.stream_admission = StreamAdmission()
    install_error_handlers(app)
    _allow_every_method(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(open311_router)
    install_document(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    return app


def _allow_every_method(app: FastAPI) -> None:
    """A 405's `Allow` names every method of the path, as the OpenAPI document lists them
    (Starlette names those of one route, and a path's methods may be routes of their own)."""
    answer = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: HttpRequest, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException) and exc.status_code == 405:
            methods = _methods(app.openapi(), request.url.path)
            if methods:
                exc.headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(methods))}
        response = answer(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, http_error)


def _methods(document: dict[str, Any], path: str) -> set[str]:
    """The methods the document lists for `path` (HEAD with GET); none for a path it lacks."""
    for template, operations in document.get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)), path):
            methods = {method.upper() for method in operations}
            return methods | {"HEAD"} if "GET" in methods else methods
    return set()
