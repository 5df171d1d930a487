"""Storm requests written into a running store as they come (`hotline demo --storm RATE`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

from api_client.models import NewRequest
from central_api.storm import storm_requests


class StormFeed:
    """New storm requests written into a running store at `rate` per minute, until `stop()`.

    A background thread (`hotline demo --storm RATE`): it generates an hour of storm calls at a
    time (bursts included) and creates each through `store.create_request` when its moment
    comes, stamped with the current time, as its call-taker. Use as a context manager.
    """

    def __init__(self, store: _Creates, rate: float, *, seed: int = 0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.store = store
        self.rate = rate
        self.seed = seed
        self.created = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hotline-storm", daemon=True)

    def start(self) -> StormFeed:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def __enter__(self) -> StormFeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        batch = 0
        while not self._stop.is_set():
            began = time.monotonic()
            start = datetime.now(UTC)
            count = max(1, round(self.rate * 60))
            calls = storm_requests(self.seed * 1000 + batch, start=start, hours=1.0, count=count)
            for call in calls:
                assert call.new.received_at is not None
                due = began + (call.new.received_at - start).total_seconds()
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                new = call.new.model_copy(update={"received_at": datetime.now(UTC)})
                self.store.create_request(new, actor=call.actor, idempotency_key=None)
                self.created += 1
            # the rest of the hour, then the next one
            if self._stop.wait(max(0.0, began + 3600 - time.monotonic())):
                return
            batch += 1


class _Creates(Protocol):
    def create_request(self, new: NewRequest, *, actor: str, idempotency_key: str | None) -> object: ...
