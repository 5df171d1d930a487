"""Helpers for the server tests: request bodies, actions over HTTP, and an SSE reader thread."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from typing import Any

import httpx


def new_request(**overrides: Any) -> dict[str, Any]:
    """A valid `NewRequest` body (roof leak in community c01), with overrides."""
    body: dict[str, Any] = {
        "channel": "phone",
        "type": "help",
        "category": "roof_leak",
        "description": "Water is coming through the ceiling.",
        "location": {"street": "德胜里一区", "community": "c01", "address": "德胜里一区 3-2-401"},
        "caller": {"name": "王女士", "phone": "13800000000"},
    }
    body.update(overrides)
    return body


def intake(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/requests", json=new_request(**overrides))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def act(
    client: httpx.Client, request: dict[str, Any], action: dict[str, Any], *, expect: int = 200
) -> dict[str, Any]:
    """Apply `action` to `request` (at its version); returns the new request (or the error body)."""
    response = client.post(
        f"/v1/requests/{request['id']}/actions", json=action, headers={"If-Match": f'"{request["version"]}"'}
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


class SSEReader:
    """Reads `/v1/events` in a background thread; parsed events and comments land in `items`."""

    def __init__(self, url: str, token: str, *, last_event_id: int | None = None) -> None:
        self.items: queue.Queue[tuple[float, dict[str, str]]] = queue.Queue()
        self.status: int | None = None
        self.connected = threading.Event()
        self.finished = threading.Event()
        self._headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            self._headers["Last-Event-ID"] = str(last_event_id)
        self._url = url
        self._socket: socket.socket | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "the SSE stream did not connect"

    def _run(self) -> None:
        try:
            with self._client.stream("GET", f"{self._url}/v1/events", headers=self._headers) as response:
                self.status = response.status_code
                stream = response.extensions.get("network_stream")
                self._socket = stream.get_extra_info("socket") if stream is not None else None
                self.content_type = response.headers.get("content-type", "")
                self.connected.set()
                event: dict[str, str] = {}
                for line in response.iter_lines():
                    if line == "":
                        if event:
                            self.items.put((time.monotonic(), event))
                        event = {}
                    elif line.startswith(":"):
                        self.items.put((time.monotonic(), {"comment": line[1:].strip()}))
                    else:
                        field, _, value = line.partition(":")
                        event[field] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        finally:
            self.connected.set()
            self.finished.set()

    def next(self, timeout: float) -> dict[str, str] | None:
        try:
            return self.items.get(timeout=timeout)[1]
        except queue.Empty:
            return None

    def next_event(self, timeout: float) -> dict[str, str] | None:
        """The next `change` event (skipping comments), or None after `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            item = self.next(left)
            if item is not None and "comment" not in item:
                return item
        return None

    def drain(self, quiet: float = 0.3) -> list[dict[str, str]]:
        """Everything that arrives until nothing has come for `quiet` seconds."""
        items = []
        while (item := self.next(quiet)) is not None:
            items.append(item)
        return items

    def close(self) -> None:
        """Disconnect (shutting the socket down unblocks the reading thread at once)."""
        if self._socket is not None and not self.finished.is_set():
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._client.close()
