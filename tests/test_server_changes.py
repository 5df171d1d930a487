"""The change feed: paging, exact `ChangesPage` shape, and no gap/duplicate under concurrent writes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import orjson
from pg_support import Db
from server_helpers import act, intake, new_request

from api_client.models import ChangesPage, NewRequest
from central_api.routes.changes import page_json
from central_api.server import LiveServer
from central_api.sql_store import SqlStore

Api = Callable[..., httpx.Client]


def test_paging(api: Api) -> None:
    client = api()
    empty = client.get("/v1/changes").json()
    assert empty == {"changes": [], "next_since": 0, "head": 0, "has_more": False}
    a = intake(client)
    b = intake(client)
    act(client, a, {"action": "dispatch", "lead_unit": "cc01"})
    page = ChangesPage.model_validate(client.get("/v1/changes", params={"limit": 2}).json())
    assert [c.seq for c in page.changes] == [1, 2]
    assert [c.action for c in page.changes] == ["intake", "intake"]
    assert page.next_since == 2 and page.head == 3 and page.has_more
    assert page.changes[1].request.id == b["id"] and page.changes[1].request.change_seq == 2
    page = ChangesPage.model_validate(client.get("/v1/changes", params={"since": 2}).json())
    assert [(c.seq, c.action, c.request.state) for c in page.changes] == [(3, "dispatch", "dispatched")]
    assert page.next_since == 3 and not page.has_more
    # Each change carries the request as it stood then, not as it stands now.
    first = ChangesPage.model_validate(client.get("/v1/changes", params={"limit": 1}).json())
    assert first.changes[0].request.state == "new" and first.changes[0].request.version == 1
    beyond = client.get("/v1/changes", params={"since": 99}).json()
    assert beyond == {"changes": [], "next_since": 99, "head": 3, "has_more": False}


def test_bad_paging_parameters(api: Api) -> None:
    client = api()
    for params in (
        {"since": -1},
        {"since": 2**63},
        {"since": 10**30},
        {"since": "abc"},
        {"since": "1.5"},
        {"limit": 0},
        {"limit": 1001},
        {"limit": -5},
    ):
        r = client.get("/v1/changes", params=params)
        assert r.status_code == 422, params
        assert r.json()["errors"][0]["field"] in ("since", "limit")


def test_a_cursor_past_any_seq_gets_an_empty_page(api: Api) -> None:
    client = api()
    intake(client)
    for since in (2**31, 2**63 - 1):  # past a 32-bit column (PostgreSQL's), and the largest allowed
        page = client.get("/v1/changes", params={"since": since}).json()
        assert page == {"changes": [], "next_since": since, "head": 1, "has_more": False}


def test_spliced_page_is_exactly_a_changes_page(live_server: LiveServer) -> None:
    store = live_server.store
    new = NewRequest.model_validate(new_request(description='quotes " and \\ and 中文 and \u2028'))
    store.create_request(new, actor="t", idempotency_key=None)
    rows, head = store.changes_raw(0, 10)
    raw = page_json(rows, head, 0)
    changes, head2 = store.changes(0, 10)
    expected = ChangesPage(changes=changes, next_since=1, head=head2, has_more=False)
    assert orjson.loads(raw) == orjson.loads(expected.model_dump_json())
    assert ChangesPage.model_validate_json(raw) == expected


def test_no_gap_no_duplicate_under_concurrent_writes(api: Api, live_server: LiveServer, tmp_db: Db) -> None:
    writers = [api() for _ in range(4)]
    reader = api()
    # A second store on the same file, as another server process would have: its own lock,
    # so only the database (BEGIN IMMEDIATE) serializes it against the server's writes.
    other = SqlStore.open(tmp_db)
    per_writer = 25
    stop = threading.Event()
    errors: list[str] = []

    def write(client: httpx.Client) -> None:
        try:
            for _ in range(per_writer):
                req = intake(client)
                act(client, req, {"action": "note", "text": "x"})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))

    def write_other() -> None:
        new = NewRequest.model_validate(new_request())
        for _ in range(per_writer):
            other.create_request(new, actor="other-process", idempotency_key=None)

    seen: list[int] = []

    def read() -> None:
        since = 0
        while True:
            done = stop.is_set()
            page = reader.get("/v1/changes", params={"since": since, "limit": 7}).json()
            seqs = [c["seq"] for c in page["changes"]]
            # Every page continues exactly where the last one ended.
            if seqs != list(range(since + 1, since + 1 + len(seqs))):
                errors.append(f"page after {since} was {seqs}")
                return
            for change in page["changes"]:
                if change["request"]["change_seq"] != change["seq"]:
                    errors.append(
                        f"change {change['seq']} carries change_seq {change['request']['change_seq']}"
                    )
            seen.extend(seqs)
            since = page["next_since"]
            if done and not page["has_more"]:
                return

    threads = [threading.Thread(target=write, args=(c,)) for c in writers]
    threads.append(threading.Thread(target=write_other))
    reading = threading.Thread(target=read)
    reading.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    reading.join(60)
    other.close()
    assert not errors, errors
    total = len(writers) * per_writer * 2 + per_writer
    assert seen == list(range(1, total + 1))
    assert live_server.store.head() == total
