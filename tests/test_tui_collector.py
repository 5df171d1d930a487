"""tui.core.collector: survivors of a full collection frozen; everything collected when idle."""

from __future__ import annotations

import ast
import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

import pytest

from tui.core.collector import CollectorPolicy, freeze_survivors, paused
from tui.core.session import Session
from tui.ui.app import HotlineApp


class Cycle:
    """An object only the cycle collector can free."""

    def __init__(self) -> None:
        self.me = self


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def policy(clock: Clock) -> Iterator[CollectorPolicy]:
    policy = CollectorPolicy(idle_after=10, every=60, longest=300, clock=clock)
    policy.start()
    yield policy
    policy.stop()


def frozen_after_a_full_collection(policy: CollectorPolicy) -> weakref.ref[Cycle]:
    """A cycle alive through a full collection, frozen by the next tick, then dropped."""
    cycle = Cycle()
    gc.collect()
    assert policy.tick() is False
    assert gc.get_freeze_count() > 0
    ref = weakref.ref(cycle)
    del cycle
    return ref


def test_the_survivors_of_a_full_collection_are_frozen_at_the_next_tick(policy: CollectorPolicy) -> None:
    gc.unfreeze()
    assert policy.tick() is False
    assert gc.get_freeze_count() == 0  # no full collection yet: nothing to freeze
    ref = frozen_after_a_full_collection(policy)
    gc.collect()
    assert ref() is not None  # a frozen cycle is not walked by the next full collection


def test_an_idle_dispatcher_gets_the_whole_collection(policy: CollectorPolicy, clock: Clock) -> None:
    ref = frozen_after_a_full_collection(policy)
    clock.now += 59
    assert policy.tick() is False and ref() is not None  # idle, but the last one is too recent
    clock.now += 1
    assert policy.tick() is True
    assert ref() is None and policy.whole_collections == 1
    assert gc.get_freeze_count() > 0  # what lives on is frozen again


def test_typing_puts_the_whole_collection_off_until_the_longest_wait(
    policy: CollectorPolicy, clock: Clock
) -> None:
    ref = frozen_after_a_full_collection(policy)
    for _ in range(299):
        clock.now += 1
        policy.touched()
        assert policy.tick() is False
    clock.now += 1
    assert policy.tick() is True and ref() is None


def test_stop_gives_the_collector_back(clock: Clock) -> None:
    callbacks = len(gc.callbacks)
    policy = CollectorPolicy(clock=clock)
    policy.start()
    policy.start()  # once is enough
    assert len(gc.callbacks) == callbacks + 1
    frozen_after_a_full_collection(policy)
    policy.stop()
    assert len(gc.callbacks) == callbacks
    assert gc.get_freeze_count() == 0 and not policy.active
    assert policy.tick() is False


async def test_the_app_runs_the_policy_and_keys_count_as_activity(tmp_path: Path) -> None:
    session = Session.open(tmp_path / "cache", api_url="http://127.0.0.1:9", dispatcher="张敏", token=None)
    app = HotlineApp(session, sync=False)
    try:
        async with app.run_test() as pilot:
            assert app.collector.active
            await pilot.pause(0.2)
            before = app.collector.idle_for()
            await pilot.press("j")
            assert app.collector.idle_for() < before
        assert not app.collector.active
    finally:
        session.close()


# --------------------------------------------------------------------------- pausing

WAIT = 30.0  # seconds before a stuck thread fails the test (never reached when it works)


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_a_pause_turns_automatic_collection_off_and_back_on(collector_on: None) -> None:
    with paused():
        assert not gc.isenabled()
        with paused():  # nested
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused():
        raise RuntimeError("a failed load")
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off(collector_on: None) -> None:
    gc.disable()
    with paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


class Pauser(threading.Thread):
    """A thread inside `paused()` from `inside` until `leave` is set."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.inside, self.leave, self.left = threading.Event(), threading.Event(), threading.Event()

    def run(self) -> None:
        with paused():
            self.inside.set()
            self.leave.wait(WAIT)
        self.left.set()

    def let_go(self) -> None:
        self.leave.set()
        assert self.left.wait(WAIT)
        self.join(WAIT)


@pytest.mark.parametrize("first_out", [0, 1], ids=["first-in-first-out", "first-in-last-out"])
def test_two_threads_pausing_at_once_get_the_collector_back_when_both_are_done(
    collector_on: None, first_out: int
) -> None:
    pausers = [Pauser(), Pauser()]
    for pauser in pausers:  # one after the other: the second enters while the first is inside
        pauser.start()
        assert pauser.inside.wait(WAIT)
    assert not gc.isenabled()
    pausers[first_out].let_go()
    assert not gc.isenabled()  # the other one is still inside
    pausers[1 - first_out].let_go()
    assert gc.isenabled()


def test_many_threads_pausing_and_leaving_in_any_order_get_the_collector_back(collector_on: None) -> None:
    start = threading.Barrier(8)
    collector_on_inside: list[bool] = []

    def pause_often() -> None:
        start.wait(WAIT)
        for _ in range(500):
            with paused():
                if gc.isenabled():
                    collector_on_inside.append(True)

    threads = [threading.Thread(target=pause_often) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert collector_on_inside == []
    assert gc.isenabled()


def test_freezing_the_survivors_hides_them_from_full_collections() -> None:
    gc.unfreeze()
    try:
        cycle = Cycle()
        freeze_survivors()
        assert gc.get_freeze_count() > 0
        ref = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert ref() is not None  # frozen: a full collection does not walk it
        gc.unfreeze()
        gc.collect()
        assert ref() is None
    finally:
        gc.unfreeze()


# --------------------------------------------------------------------------- one owner

PRODUCT = ("api_client", "central_api", "local_cache", "tui")
OWNER = Path("tui/core/collector.py")
REPO = Path(__file__).resolve().parent.parent


def touches_gc(node: ast.AST) -> TypeGuard[ast.stmt | ast.expr]:
    """`import gc`, `from gc import ...`, or `gc.<attribute>`."""
    if isinstance(node, ast.Import):
        return any(alias.name == "gc" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.module == "gc"
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "gc"


def uses_gc(tree: ast.AST) -> list[int]:
    """The lines that import `gc` or read an attribute of it."""
    return [node.lineno for node in ast.walk(tree) if touches_gc(node)]


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import gc\n", True),
        ("from gc import freeze\n", True),
        ("y = gc.isenabled()\n", True),
        ("x.gc = 1\n", False),
        ("gcd = 1\n", False),
    ],
)
def test_the_check_finds_every_use_of_gc(source: str, found: bool) -> None:
    assert bool(uses_gc(ast.parse(source))) is found


def test_only_the_collector_module_touches_the_garbage_collector() -> None:
    offenders: dict[str, list[int]] = {}
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO)
            if relative == OWNER:
                continue
            lines = uses_gc(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            if lines:
                offenders[str(relative)] = lines
    assert offenders == {}, f"use tui.core.collector instead of gc in {offenders}"
    assert uses_gc(ast.parse((REPO / OWNER).read_text(encoding="utf-8")))
