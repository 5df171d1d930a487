"""Cached requests validated when first read, not when pulled.

A pulled request is kept as the JSON the server sent, checked only for its stamp; `Validated`
turns it into a `Request` when it is first asked for, keeps the newest models in a small LRU,
and remembers which requests were pulled by this process and not yet checked: one of those that
fails is the server's copy, not a file another version of hotline wrote.
"""

from __future__ import annotations

from collections import OrderedDict

from pydantic import ValidationError

from api_client.models import Request
from local_cache.storage import Document

LRU_SIZE = 4096


class Validated:
    """The requests validated so far (an LRU), and those pulled as JSON and not yet checked."""

    def __init__(self, size: int = LRU_SIZE) -> None:
        self.size = size
        self._lru: OrderedDict[str, Request] = OrderedDict()
        self._unchecked: set[str] = set()

    def get(self, request_id: str) -> Request | None:
        """The model already validated, if the LRU still holds it."""
        model = self._lru.get(request_id)
        if model is not None:
            self._lru.move_to_end(request_id)
        return model

    def validate(self, request_id: str, raw: Document) -> Request:
        """`raw` as a `Request` (kept); raises ValidationError when it is not one."""
        model = Request.model_validate(raw)
        self._unchecked.discard(request_id)
        self.remember(model)
        return model

    def taken(self, model: Request) -> None:
        """A request taken as a model (already valid)."""
        self._unchecked.discard(model.id)
        self.remember(model)

    def pulled(self, request_id: str) -> None:
        """A request taken as pulled JSON: checked when first read."""
        self._lru.pop(request_id, None)
        self._unchecked.add(request_id)

    def remember(self, model: Request) -> None:
        self._lru[model.id] = model
        self._lru.move_to_end(model.id)
        while len(self._lru) > self.size:
            self._lru.popitem(last=False)

    def forget_models(self) -> None:
        """Drop every model (the requests were replaced from a file); what is unchecked stays."""
        self._lru.clear()

    def clear(self) -> None:
        self._lru.clear()
        self._unchecked.clear()

    def invalid(self, request_id: str, exc: ValidationError) -> tuple[bool, str]:
        """A request that failed validation, forgotten here: whether it is the server's copy
        (pulled by this process, so pulling it again brings the same one), and the message
        for the dispatcher."""
        if request_id in self._unchecked:
            self._unchecked.discard(request_id)
            first = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or "the request"
            return True, (
                f"the central API sent request {request_id} with an invalid field '{field}'"
                f" ({first['msg']}); it is left out of the cache until the server sends a valid copy."
            )
        return False, (
            f"the cached request {request_id} could not be read ({exc.error_count()} problem(s));"
            " it was dropped and the cache will be downloaded again."
        )
