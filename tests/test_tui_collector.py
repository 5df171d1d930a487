"""tui.core.collector: survivors of a full collection frozen; everything collected when idle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.core.collector import CollectorPolicy
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
    policy = CollectorPolicy(clock=clock)
    policy.start()
    policy.start()  # once is enough
    assert gc.callbacks.count(policy._collected) == 1
    frozen_after_a_full_collection(policy)
    policy.stop()
    assert policy._collected not in gc.callbacks
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
