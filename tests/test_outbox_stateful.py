"""local_cache.outbox under random use, against a reference model (hypothesis).

The machine records actions on a few requests (one at a time and in batches, some refused),
takes calls in (an intake under a temporary id, with actions on it and on other requests; all or
nothing), confirms them (an intake: the server's id replaces the temporary one on everything
behind it), fails them, turns them into conflicts, retries and drops conflicts and forgets
confirmed copies, through two `Outbox` objects on one real file (as two hotline processes of one
dispatcher), reopening either from disk at random. It sends as the sync engine does: only the
first pending action of a request without a conflict.

The reference is a plain list of the actions in the order the dispatcher took them, each with
where it is now. After every step both objects must show: the pending actions in the reference's
send order, each request's in the order they were taken, with their keys, base versions, attempts
and last errors; the conflicts; the confirmed copies. Every key ever handed out is unique.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cache_worker import synthetic
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api_client.actions import Accept, Action, AddNote, Resolve, Return
from api_client.domain.lifecycle import TransitionRefused
from api_client.models import Channel, LocationIn, NewRequest, Request, RequestType, Tier
from local_cache.intakes import Intake, is_temporary
from local_cache.outbox import Outbox, PendingAction

REQUESTS = 4
request_numbers = st.integers(1, REQUESTS)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(AddNote, text=st.sampled_from(["打过电话，住户不在家", "稍后回访", "note"])),
    st.just(Accept()),
    st.builds(Resolve, summary=st.sampled_from(["", "已修好"])),
    st.builds(Return, reason=st.just("不属本单位")),
)
actors = st.sampled_from(["d-wang", "d-li"])
handles = st.integers(0, 1)  # which of the two Outbox objects acts
change_seqs = st.integers(1, 30)
#: Why a send failed; the outbox keeps the first 2,000 characters.
messages = st.one_of(st.sampled_from(["timed out", "503"]), st.integers(1990, 2010).map(lambda n: "x" * n))
Place = Literal["pending", "conflict", "confirmed", "dropped"]
#: The call every intake here takes in.
NEW = NewRequest(
    channel=Channel.phone,
    type=RequestType.help,
    category="roof_leak",
    description="楼顶漏水",
    location=LocationIn(community="c01", address="德胜里一区3号楼"),
)


def rid(number: int) -> str:
    return f"R-{number:06d}"


@dataclass
class Taken:
    """One action as the dispatcher took it, and where it is now."""

    request_id: str
    action: Action | Intake
    actor: str
    key: str
    base_version: int
    attempts: int = 0
    last_error: str = ""
    place: Place = "pending"
    conflict_id: str = ""


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="outbox-"))
        self.path = self.dir / "outbox.json"
        self.outboxes = [Outbox.open(self.path), Outbox.open(self.path)]
        self.taken: list[Taken] = []  # in the order the dispatcher took them
        self.queue: list[Taken] = []  # the pending ones, in the order they are sent
        self.keys: set[str] = set()  # every key ever handed out
        self.copies: dict[str, tuple[int, int]] = {}  # request id -> (change_seq, version)
        self.renamed: dict[str, str] = {}  # temporary id -> the server's

    def teardown(self) -> None:
        for outbox in self.outboxes:
            outbox.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the reference

    def issued(self, pending: PendingAction) -> None:
        assert pending.key not in self.keys, "a key was handed out twice"
        self.keys.add(pending.key)

    def pending_on(self, request_id: str) -> list[Taken]:
        return [t for t in self.taken if t.request_id == request_id and t.place == "pending"]

    def blocked(self) -> set[str]:
        return {t.request_id for t in self.taken if t.place == "conflict"}

    def sendable(self, sent: Sequence[Taken] = ()) -> list[Taken]:
        """What the sync engine sends next (after `sent`): each unblocked request's first
        pending action."""
        heads: dict[str, Taken] = {}
        for taken in self.queue:
            if taken.request_id not in self.blocked() and taken not in sent:
                heads.setdefault(taken.request_id, taken)
        return list(heads.values())

    def conflicts(self) -> list[Taken]:
        return [t for t in self.taken if t.place == "conflict"]

    def sendable_actions(self, sent: Sequence[Taken] = ()) -> list[Taken]:
        return [t for t in self.sendable(sent) if not isinstance(t.action, Intake)]

    def sendable_intakes(self) -> list[Taken]:
        return [t for t in self.sendable() if isinstance(t.action, Intake)]

    # -- recording

    @rule(
        handle=handles,
        number=request_numbers,
        action=actions,
        actor=actors,
        base=st.integers(1, 9),
        refused=st.integers(0, 4).map(lambda n: n == 0),
    )
    def record(self, handle: int, number: int, action: Action, actor: str, base: int, refused: bool) -> None:
        """One action; a refused one (`prepare` raises) writes nothing."""

        def prepare(pending: list[PendingAction]) -> int:
            assert [p.key for p in pending] == [t.key for t in self.pending_on(rid(number))]
            if refused:
                raise TransitionRefused("not in this state")
            return base

        try:
            pending = self.outboxes[handle].record_checked(rid(number), action, actor=actor, prepare=prepare)
        except TransitionRefused:
            assert refused
            return
        assert not refused and (pending.request_id, pending.action, pending.base_version) == (
            rid(number),
            action,
            base,
        )
        self.issued(pending)
        taken = Taken(rid(number), action, actor, pending.key, base)
        self.taken.append(taken)
        self.queue.append(taken)

    @rule(
        handle=handles,
        items=st.lists(st.tuples(request_numbers, actions, st.booleans()), min_size=1, max_size=5),
        actor=actors,
    )
    def record_batch(self, handle: int, items: list[tuple[int, Action, bool]], actor: str) -> None:
        """A bulk action: the items `prepare` refuses are left out, the others written at once;
        `prepare` sees the actions pending on the request, the batch's earlier ones included."""
        calls = iter(range(len(items)))
        earlier: dict[str, int] = {}  # the batch's items recorded so far, per request

        def prepare(request_id: str, _action: Action, pending: list[PendingAction]) -> int:
            index = next(calls)
            before = [t.key for t in self.pending_on(request_id)]
            assert [p.key for p in pending[: len(before)]] == before
            assert len(pending) == len(before) + earlier.get(request_id, 0)
            if items[index][2]:
                raise TransitionRefused("not in this state")
            earlier[request_id] = earlier.get(request_id, 0) + 1
            return 10 + index

        recorded, refused = self.outboxes[handle].record_batch(
            [(rid(number), action) for number, action, _ in items], actor=actor, prepare=prepare
        )
        assert [index for index, _ in refused] == [n for n, item in enumerate(items) if item[2]]
        wanted = [
            (rid(number), action, 10 + n) for n, (number, action, refuse) in enumerate(items) if not refuse
        ]
        assert [(p.request_id, p.action, p.base_version) for p in recorded] == wanted
        for pending in recorded:
            self.issued(pending)
            taken = Taken(pending.request_id, pending.action, actor, pending.key, pending.base_version)
            self.taken.append(taken)
            self.queue.append(taken)

    @rule(
        handle=handles,
        then=st.lists(actions, max_size=2),
        elsewhere=st.lists(st.tuples(request_numbers, actions), max_size=2),
        actor=actors,
        refused=st.integers(0, 4).map(lambda n: n == 0),
    )
    def take_in(
        self,
        handle: int,
        then: list[Action],
        elsewhere: list[tuple[int, Action]],
        actor: str,
        refused: bool,
    ) -> None:
        """A call taken in under a new temporary id, with actions on it and on other requests, in
        one write; `prepare` sees the intake ahead of the actions on the new request. One refusal
        records nothing."""
        intake = Intake(new=NEW, tier=Tier.d7)
        items = [*then, *(action for _number, action in elsewhere)]
        calls = iter(range(len(items)))

        def prepare(request_id: str, _action: Action, pending: list[PendingAction]) -> int:
            index = next(calls)
            if index < len(then):
                assert is_temporary(request_id) and pending[0].action == intake
                assert len(pending) == 1 + index
            if refused:
                raise TransitionRefused("not in this state")
            return 10 + index

        try:
            recorded = self.outboxes[handle].record_intake(
                intake, then, [(rid(n), a) for n, a in elsewhere], actor=actor, prepare=prepare
            )
        except TransitionRefused:
            assert refused and items
            return
        temporary = recorded[0].request_id
        assert is_temporary(temporary) and temporary not in {t.request_id for t in self.taken}
        wanted: list[tuple[str, Action | Intake, int]] = [(temporary, intake, 0)]
        wanted += [(temporary, action, 10 + n) for n, action in enumerate(then)]
        wanted += [(rid(number), action, 10 + len(then) + n) for n, (number, action) in enumerate(elsewhere)]
        assert [(p.request_id, p.action, p.base_version) for p in recorded] == wanted
        for pending in recorded:
            self.issued(pending)
            taken = Taken(pending.request_id, pending.action, actor, pending.key, pending.base_version)
            self.taken.append(taken)
            self.queue.append(taken)

    # -- sending

    @precondition(lambda self: self.sendable_intakes())
    @rule(handle=handles, data=st.data(), version=st.integers(1, 2), change_seq=change_seqs)
    def taken_in(self, handle: int, data: st.DataObject, version: int, change_seq: int) -> None:
        """The server took a call in (as version 1, or 2 when a rule dispatched it at once): its
        temporary id becomes the server's on everything behind it, base versions moved along."""
        taken = data.draw(st.sampled_from(self.sendable_intakes()))
        server = synthetic(100 + len(self.renamed), version=version, change_seq=change_seq)
        temporary = taken.request_id
        assert self.outboxes[handle].confirm_intake(taken.key, server) == temporary
        for other in self.taken:
            if (
                other.request_id == temporary
                and other.place in ("pending", "conflict")
                and other is not taken
            ):
                other.request_id, other.base_version = server.id, other.base_version + version - 1
        taken.request_id = server.id
        self.sent(taken, server)
        self.renamed[temporary] = server.id

    @precondition(lambda self: self.sendable_actions())
    @rule(handle=handles, data=st.data(), count=st.integers(1, 4), one_by_one=st.booleans())
    def confirm(self, handle: int, data: st.DataObject, count: int, one_by_one: bool) -> None:
        """The server applied some actions, sent in order (a request's second one after its
        first): confirmed one at a time (with or without the server's copy) or in one write."""
        sent: list[Taken] = []
        while len(sent) < count and self.sendable_actions(sent):
            sent.append(data.draw(st.sampled_from(self.sendable_actions(sent))))
        answers = [(t, self.server_copy(t, data.draw(change_seqs))) for t in sent]
        if one_by_one:
            for taken, server in answers:
                copy = server if data.draw(st.booleans()) else None
                self.outboxes[handle].confirm(taken.key, server=copy)
                self.sent(taken, copy)
        else:
            self.outboxes[handle].confirm_many([(t.key, server) for t, server in answers])
            for taken, server in answers:
                self.sent(taken, server)

    @staticmethod
    def server_copy(taken: Taken, change_seq: int) -> Request:
        return synthetic(int(taken.request_id[2:]), version=taken.base_version + 1, change_seq=change_seq)

    def sent(self, taken: Taken, server: Request | None) -> None:
        taken.place = "confirmed"
        self.queue.remove(taken)
        stamp = (server.change_seq, server.version) if server else (-1, -1)
        if stamp > self.copies.get(taken.request_id, (-1, -1)):
            self.copies[taken.request_id] = stamp

    @precondition(lambda self: self.sendable())
    @rule(handle=handles, data=st.data(), message=messages)
    def fail(self, handle: int, data: st.DataObject, message: str) -> None:
        taken = data.draw(st.sampled_from(self.sendable()))
        self.outboxes[handle].note_failure(taken.key, message)
        taken.attempts += 1
        taken.last_error = message[:2000]

    @precondition(lambda self: self.sendable())
    @rule(
        handle=handles, data=st.data(), kind=st.sampled_from(["stale", "refused"]), with_server=st.booleans()
    )
    def conflict(
        self, handle: int, data: st.DataObject, kind: Literal["stale", "refused"], with_server: bool
    ) -> None:
        taken = data.draw(st.sampled_from(self.sendable()))
        with_server = with_server and not is_temporary(taken.request_id)
        server = synthetic(int(taken.request_id[2:]), version=taken.base_version + 3) if with_server else None
        record = self.outboxes[handle].to_conflict(
            taken.key, kind=kind, message="changed meanwhile", local=None, server=server
        )
        assert record.action.key == taken.key and record.kind == kind and record.server == server
        taken.place, taken.conflict_id = "conflict", record.id
        self.queue.remove(taken)

    # -- the dispatcher decides

    @precondition(lambda self: self.conflicts())
    @rule(handle=handles, data=st.data(), base=st.integers(1, 20))
    def retry(self, handle: int, data: st.DataObject, base: int) -> None:
        """Retried on the server's version with a new key; the request's actions taken after it
        follow it again, their base versions following on."""
        taken = data.draw(st.sampled_from(self.conflicts()))
        pending = self.outboxes[handle].retry_conflict(taken.conflict_id, base_version=base)
        self.issued(pending)
        assert (pending.request_id, pending.action, pending.actor) == (
            taken.request_id,
            taken.action,
            taken.actor,
        )
        taken.key, taken.base_version, taken.attempts, taken.last_error = pending.key, base, 0, ""
        taken.place, taken.conflict_id = "pending", ""
        later = [
            t for t in self.pending_on(taken.request_id) if self.taken.index(t) > self.taken.index(taken)
        ]
        for step, follower in enumerate(later, start=1):
            follower.base_version = base + step
            self.queue.remove(follower)
        self.queue += [taken, *later]

    @precondition(lambda self: self.conflicts())
    @rule(handle=handles, data=st.data())
    def drop(self, handle: int, data: st.DataObject) -> None:
        taken = data.draw(st.sampled_from(self.conflicts()))
        record = self.outboxes[handle].drop_conflict(taken.conflict_id)
        assert record.id == taken.conflict_id and record.action.key == taken.key
        taken.place, taken.conflict_id = "dropped", ""
        if isinstance(taken.action, Intake):  # the call given up takes what waits behind it along
            for follower in self.pending_on(taken.request_id):
                follower.place = "dropped"
                self.queue.remove(follower)

    @rule(handle=handles, saved_up_to=st.integers(0, 30))
    def forget_confirmed(self, handle: int, saved_up_to: int) -> None:
        """The request cache reached disk with every copy up to some change."""
        gone = self.outboxes[handle].forget_confirmed(lambda copy: copy.change_seq <= saved_up_to)
        kept = {rid: stamp for rid, stamp in self.copies.items() if stamp[0] > saved_up_to}
        assert gone == len(self.copies) - len(kept)
        self.copies = kept

    @rule(handle=handles)
    def reopen(self, handle: int) -> None:
        """A new process: everything comes back from the file."""
        self.outboxes[handle].close()
        self.outboxes[handle] = Outbox.open(self.path)
        assert self.outboxes[handle].messages == []

    # -- what both objects must show

    @invariant()
    def pending_in_order(self) -> None:
        for outbox in self.outboxes:
            pending = outbox.pending()
            assert [p.key for p in pending] == [t.key for t in self.queue]
            orders = [p.order for p in pending]
            assert orders == sorted(orders) and len(set(orders)) == len(orders)
            for p, t in zip(pending, self.queue, strict=True):
                assert (p.request_id, p.action, p.actor, p.base_version) == (
                    t.request_id,
                    t.action,
                    t.actor,
                    t.base_version,
                )
                assert (p.attempts, p.last_error) == (t.attempts, t.last_error)
            for number in range(1, REQUESTS + 1):
                wanted = [t.key for t in self.pending_on(rid(number))]
                assert [p.key for p in outbox.pending_for(rid(number))] == wanted
            assert outbox.pending_request_ids() == {t.request_id for t in self.queue}

    @invariant()
    def conflicts_kept(self) -> None:
        wanted = {t.conflict_id: t for t in self.conflicts()}
        for outbox in self.outboxes:
            records = outbox.conflicts()
            assert {r.id for r in records} == set(wanted)
            assert [r.action.order for r in records] == sorted(r.action.order for r in records)
            for record in records:
                taken = wanted[record.id]
                assert (record.action.key, record.action.request_id, record.action.action) == (
                    taken.key,
                    taken.request_id,
                    taken.action,
                )
            assert outbox.counts() == (len(self.queue), len(wanted))

    @invariant()
    def keys_found_and_gone(self) -> None:
        outbox = self.outboxes[0]
        live = {t.key for t in self.queue}
        for key in self.keys:
            found = outbox.get(key)
            assert (found is not None) == (key in live)

    @invariant()
    def renamed_kept(self) -> None:
        for outbox in self.outboxes:
            for temporary, server_id in self.renamed.items():
                assert outbox.renamed(temporary) == server_id

    @invariant()
    def confirmed_copies_kept(self) -> None:
        for outbox in self.outboxes:
            copies = {rid: (r.change_seq, r.version) for rid, r in outbox.confirmed_copies().items()}
            assert copies == self.copies


OutboxMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.too_slow],
)
test_outbox_matches_the_reference = OutboxMachine.TestCase
