"""LocalStore: the optimistic view, recording, what the sync engine reports, two processes on
one cache, the sync owner, and a cache of 100,000 requests (correctness only, no timing)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from cache_worker import T0, page_of, raw_rows, synthetic

from api_client.actions import Accept, AddNote, Dispatch, Extend, LogCallback, Merge, Resolve
from api_client.domain.lifecycle import TransitionRefused
from api_client.models import Request, Satisfaction, State
from local_cache import LocalStore, UnknownAction, UnknownRequest

REPO = Path(__file__).resolve().parent.parent
WORKER = REPO / "tests" / "cache_worker.py"
SERVER = "http://127.0.0.1:8345"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore.open(tmp_path / "cache", server_url=SERVER, dispatcher="d")
    store.apply_page(page_of([synthetic(i, state=State.new) for i in range(1, 6)], 0))
    return store


def server_copy(request_id: str, *, version: int, change_seq: int, **fields: object) -> Request:
    number = int(request_id.split("-")[1])
    return synthetic(number, version=version, change_seq=change_seq).model_copy(update=fields)


def test_the_view_shows_every_pending_action_in_order(store: LocalStore) -> None:
    store.record("R-000001", Dispatch(lead_unit="u-property", co_units=["u-c01"]), actor="d")
    store.record("R-000001", Accept(), actor="d")
    store.record("R-000001", AddNote(text="called the property office"), actor="d")
    view = store.view("R-000001")
    assert view is not None
    assert view.state is State.accepted and view.lead_unit == "u-property" and view.version == 4
    assert [n.text for n in view.notes] == ["called the property office"]
    pending = store.pending()
    assert [a.base_version for a in pending] == [1, 2, 3]
    assert [a.order for a in pending] == sorted({a.order for a in pending})
    assert store.cache.get("R-000001").state is State.new  # type: ignore[union-attr]
    assert store.counts() == (5, 3, 0)
    assert store.pending_request_ids() == {"R-000001"}


def test_a_refused_transition_records_nothing(store: LocalStore) -> None:
    outbox = store.directory / "outbox.json"
    before = outbox.read_bytes()
    with pytest.raises(TransitionRefused, match="cannot resolve"):
        store.record("R-000002", Resolve(), actor="d")
    assert outbox.read_bytes() == before and store.pending() == []
    store.record("R-000002", Dispatch(lead_unit="u-property"), actor="d")
    store.record("R-000002", Accept(), actor="d")  # checked against the view: dispatched
    with pytest.raises(TransitionRefused, match="must be later"):  # checked against the view: accepted
        store.record("R-000002", Extend(reason="parts on order", new_due_at=T0), actor="d")
    assert [a.action.action for a in store.pending()] == ["dispatch", "accept"]


def test_an_unknown_request_is_refused(store: LocalStore) -> None:
    with pytest.raises(UnknownRequest, match="R-999999"):
        store.record("R-999999", AddNote(text="x"), actor="d")
    assert store.pending() == []


def test_an_action_that_no_longer_applies_is_skipped_in_the_view_not_deleted(store: LocalStore) -> None:
    store.record("R-000003", Dispatch(lead_unit="u-property"), actor="d")
    store.record("R-000003", AddNote(text="mine"), actor="d")
    merged = server_copy("R-000003", version=2, change_seq=50, state=State.merged, merged_into="R-000001")
    store.apply_page(page_of([merged], 5))
    view = store.view("R-000003")
    assert view is not None and view.state is State.merged  # the dispatch is skipped...
    assert [n.text for n in view.notes] == ["mine"]  # ...the note still applies
    assert [a.action.action for a in store.pending()] == ["dispatch", "note"]  # nothing deleted


def test_confirm_takes_the_server_copy_and_forgets_the_action(store: LocalStore) -> None:
    pending = store.record("R-000004", Dispatch(lead_unit="u-property"), actor="d")
    answer = server_copy("R-000004", version=2, change_seq=9, state=State.dispatched, lead_unit="u-property")
    store.confirm(pending.key, answer)
    assert store.pending() == []
    assert store.view("R-000004") == answer
    store.confirm(pending.key, answer)  # a second confirm is harmless


def test_a_crash_between_confirm_and_flush_keeps_the_server_copy(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        store.apply_page(page_of([synthetic(1, state=State.new)], 0))
    answer = server_copy("R-000001", version=2, change_seq=7, state=State.dispatched, lead_unit="u-property")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child dies without flushing the cache
        try:
            victim = LocalStore.open(directory, server_url=SERVER, dispatcher="d")
            pending = victim.record("R-000001", Dispatch(lead_unit="u-property"), actor="d")
            victim.confirm(pending.key, answer)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        assert store.cache.stamp("R-000001") == (1, 1)  # the cache on disk never got the answer...
        assert store.pending() == [] and store.view("R-000001") == answer  # ...the outbox kept it
        note = store.record("R-000001", AddNote(text="next"), actor="d")
        assert note.base_version == 2
        store.apply_page(page_of([answer], 6))  # the pull brings it; the flush drops the copy
        store.flush()
        assert store.outbox.confirmed_copy("R-000001") is None


def test_failures_are_counted_and_kept(store: LocalStore) -> None:
    pending = store.record("R-000004", AddNote(text="x"), actor="d")
    store.note_failure(pending.key, "the server could not be reached")
    store.note_failure(pending.key, "timed out")
    again = store.outbox.get(pending.key)
    assert again is not None and again.attempts == 2 and again.last_error == "timed out"


def test_a_conflict_keeps_both_sides_and_can_be_retried_or_dropped(store: LocalStore) -> None:
    first = store.record("R-000005", Dispatch(lead_unit="u-property"), actor="d")
    second = store.record("R-000005", Accept(), actor="d")
    other = store.record("R-000001", AddNote(text="elsewhere"), actor="d")
    server = server_copy("R-000005", version=2, change_seq=20, state=State.dispatched, lead_unit="u-housing")
    record = store.conflict(first.key, kind="stale", message="changed by someone else", server=server)
    assert record.local is not None and record.local.state is State.new  # the view before the action
    assert record.server == server and record.action == first
    assert store.cache.get("R-000005") == server  # the cache took the newer server copy
    assert store.counts() == (5, 2, 1) and [c.id for c in store.conflicts()] == [record.id]

    retried = store.retry_conflict(record.id)
    assert retried.key not in (first.key, second.key) and retried.action == first.action
    assert retried.order > other.order > second.order and retried.base_version == 2  # the server's
    assert store.conflicts() == [] and store.counts() == (5, 3, 0)
    queue = [(a.key, a.base_version) for a in store.pending()]
    assert queue == [(other.key, 1), (retried.key, 2), (second.key, 3)]  # the accept follows it again
    view = store.view("R-000005")
    assert view is not None and view.state is State.accepted and view.lead_unit == "u-property"

    again = store.conflict(retried.key, kind="refused", message="no", server=None)
    assert store.drop_conflict(again.id) == again
    assert store.counts() == (5, 2, 0)
    with pytest.raises(UnknownAction):
        store.drop_conflict(again.id)


def test_a_conflict_whose_action_no_longer_applies_is_not_retried(store: LocalStore) -> None:
    pending = store.record("R-000002", Merge(parent_id="R-000001"), actor="d")
    closed = server_copy("R-000002", version=5, change_seq=30, state=State.closed)
    record = store.conflict(pending.key, kind="stale", message="closed meanwhile", server=closed)
    with pytest.raises(TransitionRefused):
        store.retry_conflict(record.id)
    assert [c.id for c in store.conflicts()] == [record.id]


def test_a_closing_callback_is_shown_closed(store: LocalStore) -> None:
    resolved = server_copy("R-000001", version=4, change_seq=40, state=State.resolved, lead_unit="u-property")
    store.apply_page(page_of([resolved], 5))
    store.record(
        "R-000001", LogCallback(reached=True, solved=True, satisfaction=Satisfaction.satisfied), actor="d"
    )
    assert store.view("R-000001").state is State.closed  # type: ignore[union-attr]


def test_flush_writes_once_and_another_process_reloads_it(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    owner = LocalStore.open(directory, server_url=SERVER, dispatcher="d")
    reader = LocalStore.open(directory, server_url=SERVER, dispatcher="d")
    assert owner.is_sync_owner and not reader.is_sync_owner
    owner.apply_page(page_of([synthetic(i) for i in range(1, 4)], 0))
    assert owner.flush() is True and owner.flush() is False
    assert reader.reload_if_changed() is True and len(reader.cache) == 3
    reader.record("R-000002", AddNote(text="from the other window"), actor="d")
    assert [a.request_id for a in owner.pending()] == ["R-000002"]  # one outbox for both
    owner.close()
    assert reader.try_become_sync_owner() is True
    reader.close()


def test_the_sync_owner_is_single_across_processes(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        assert store.is_sync_owner
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from local_cache import LocalStore;"
                f"s = LocalStore.open({str(directory)!r}, server_url={SERVER!r}, dispatcher='d');"
                "print(s.is_sync_owner); s.close()",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        assert probe.stdout.strip() == "False"


def test_two_processes_record_300_actions_each_and_none_is_lost(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        store.apply_page(page_of([synthetic(i) for i in range(1, 8)], 0))
    procs = [
        subprocess.Popen(
            [sys.executable, "-u", str(WORKER), str(directory), SERVER, "d", "actions", "300"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _out, err in outputs]
    acked = [
        [line.split()[1] for line in out.splitlines() if line.startswith("ACK ")] for out, _err in outputs
    ]
    assert [len(keys) for keys in acked] == [300, 300]
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        pending = store.pending()
        keys = [a.key for a in pending]
        assert len(keys) == 600 and set(keys) == set(acked[0]) | set(acked[1])
        orders = [a.order for a in pending]
        assert orders == sorted(orders) and len(set(orders)) == 600
        for mine in acked:  # each process's actions are in the order it recorded them
            position = {key: i for i, key in enumerate(keys)}
            assert [position[k] for k in mine] == sorted(position[k] for k in mine)
        for request_id in store.view_ids():  # each base version follows the one before it
            bases = [a.base_version for a in pending if a.request_id == request_id]
            assert bases == list(range(1, len(bases) + 1))
        assert len({a.action.text for a in pending}) == 600  # type: ignore[union-attr]


def test_a_ui_thread_reads_while_a_sync_thread_applies_and_flushes(store: LocalStore) -> None:
    errors: list[BaseException] = []
    done = threading.Event()

    def sync() -> None:
        try:
            for round_ in range(30):
                since = store.cache.cursor
                batch = [synthetic(i, version=round_ + 2, change_seq=since + i) for i in range(1, 6)]
                store.apply_page(page_of(batch, since))
                store.flush()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=sync)
    thread.start()
    reads = 0
    while not done.is_set() or reads < 50:
        for request_id in store.view_ids():
            assert store.view(request_id) is not None
        store.record("R-000001", AddNote(text=f"n{reads}"), actor="d")
        reads += 1
    thread.join(timeout=60)
    assert errors == []
    store.close()
    with LocalStore.open(store.directory, server_url=SERVER, dispatcher="d") as again:
        assert again.cache.stamp("R-000005") == (store.cache.cursor, 31)
        assert len(again.pending()) == reads


def test_a_cache_of_100000_requests(tmp_path: Path) -> None:
    """Correctness at size (timing is measured by hand, not asserted)."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    count = 100_000
    rows = {str(i): row for i, row in enumerate(raw_rows(count), start=1)}
    meta = {"schema": 1, "cursor": count, "server": SERVER, "last_sync": None}
    (directory / "requests.json").write_bytes(orjson.dumps({"requests": rows, "meta": {"1": meta}}))
    (directory / "requests.json").chmod(0o600)
    states = Counter(str(row["state"]) for row in rows.values())
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:  # read whole once
        assert len(store.cache) == count and store.flush() is True
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:  # from the index
        assert store.messages == [] and len(store.cache) == count and store.cache.cursor == count
        assert {state: len(store.cache.by_state(state)) for state in states} == states
        for number in (1, 54_321, count):
            assert store.cache.raw(f"R-{number:06d}") == rows[str(number)]
        pending = store.record("R-054321", AddNote(text="at size"), actor="d")
        assert pending.base_version == 1 and store.view("R-054321").version == 2  # type: ignore[union-attr]
        assert store.view("R-100000").due_at == T0 + timedelta(days=7)  # type: ignore[union-attr]
        store.apply_page(page_of([synthetic(7, version=2, change_seq=count + 1)], count))
        assert store.flush() is True
    with LocalStore.open(directory, server_url=SERVER, dispatcher="d") as store:
        assert store.cache.stamp("R-000007") == (count + 1, 2) and len(store.pending()) == 1


def test_two_conflicts_on_one_request_retried_in_turn_keep_the_dispatcher_order(tmp_path: Path) -> None:
    """Retrying the earlier of two conflicts first, then the later one: the request's actions
    still go out in the order the dispatcher took them."""
    from local_cache.outbox import Outbox

    outbox = Outbox.open(tmp_path / "outbox.json")
    notes = [
        outbox.record("R-000001", AddNote(text=f"note {n}"), base_version=n, actor="d") for n in (1, 2, 3)
    ]
    first = outbox.to_conflict(notes[0].key, kind="stale", message="stale", local=None, server=None)
    second = outbox.to_conflict(notes[1].key, kind="stale", message="stale", local=None, server=None)
    outbox.retry_conflict(first.id, base_version=5)
    outbox.retry_conflict(second.id, base_version=7)
    pending = outbox.pending()
    assert [p.action for p in pending] == [n.action for n in notes]
    assert [p.order for p in pending] == sorted(p.order for p in pending)
