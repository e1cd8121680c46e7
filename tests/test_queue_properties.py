"""Property tests: enqueue dedup and the job state machine (no illegal transition reachable)."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from support import SHOP

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import Change, Claim
from shopodoo_console.engine.keys import job_key
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.engine.states import TERMINAL, TRANSITIONS, State
from shopodoo_console.store.db import Store

RECORDS = ["r1", "r2", "r3", "r:4"]
VERSIONS = ["2026-01-01", "2026-01-02", "2026-01-03"]
sighting = st.tuples(st.sampled_from(RECORDS), st.sampled_from(VERSIONS))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(sighting, max_size=12), max_size=6))
def test_enqueue_counts_every_sighting_once(batches: list[list[tuple[str, str]]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "q.db")
        try:
            queue = Queue(store)
            shop_id = store.sync_shop(SHOP, api_version="2026-07")
            new = seen = 0
            for batch in batches:
                result = queue.enqueue(shop_id, SHOP, "test", [Change(r, v) for r, v in batch])
                new += result.new
                seen += result.seen
            sightings = Counter(job_key(SHOP, "test", r, v) for b in batches for r, v in b)
            assert new == len(sightings)
            assert new + seen == sum(sightings.values())
            rows = dict(store.execute("SELECT key, seen_count FROM job").fetchall())
            assert rows == dict(sightings)
            # Of each record's versions, only the newest may still wait.
            waiting = store.execute(
                "SELECT source_id, count(*), max(source_version) FROM job "
                "WHERE state = 'queued' GROUP BY source_id"
            ).fetchall()
            newest = {
                r: max(v for rr, v in (k for b in batches for k in b) if rr == r)
                for r, _, _ in waiting
            }
            for source_id, count, version in waiting:
                assert count == 1
                assert version == newest[source_id]
        finally:
            store.close()


CAUSES = [
    "odoo.unreachable",
    "shopify.throttled",
    "mapping.product_missing",
    "odoo.permission_missing",
    "conflict.edited_in_odoo",
]


class QueueMachine(RuleBasedStateMachine):
    """Drive the queue with any sequence of engine and operator actions; after each step,
    every job's change of state must be one the transition table allows."""

    @initialize()
    def setup(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.now = 1_800_000_000.0
        self.store = Store(Path(self.folder.name) / "m.db")
        self.queue = Queue(
            self.store,
            clock=lambda: self.now,
            policy=RetryPolicy(base=1, cap=8, rng=random.Random(0)),
        )
        self.shop_id = self.store.sync_shop(SHOP, api_version="2026-07")
        self.states: dict[int, str] = {}
        self.running: dict[int, Claim] = {}

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()
            self.folder.cleanup()

    def _ids(self) -> list[int]:
        return sorted(self.states)

    @rule(batch=st.lists(sighting, min_size=1, max_size=4))
    def enqueue(self, batch: list[tuple[str, str]]) -> None:
        self.queue.enqueue(self.shop_id, SHOP, "test", [Change(r, v) for r, v in batch])

    @rule(worker=st.sampled_from(["w1", "w2"]))
    def claim(self, worker: str) -> None:
        job = self.queue.claim(worker, 30)
        if job is not None:
            self.running[job.id] = job.claim

    @rule(
        data=st.data(),
        outcome=st.sampled_from(["done", "skip", "review", "fail"]),
        cause=st.sampled_from(CAUSES),
    )
    def finish(self, data: st.DataObject, outcome: str, cause: str) -> None:
        if not self.running:
            return
        job_id = data.draw(st.sampled_from(sorted(self.running)))
        claim = self.running.pop(job_id)
        if outcome == "done":
            self.queue.finish_done(claim)
        elif outcome == "skip":
            self.queue.finish_skipped(claim, "unchanged")
        elif outcome == "review":
            self.queue.finish_awaiting_approval(claim, {"p": 1})
        else:
            self.queue.finish_failed(
                claim, Cause(code=cause, missing="x", blocked_on=("product:A",))
            )

    @rule(seconds=st.sampled_from([1, 10, 40, 100]))
    def time_passes(self, seconds: int) -> None:
        self.now += seconds

    @rule()
    def expire(self) -> None:
        # as another process would: this one never expires its own claims
        Queue(self.store, clock=lambda: self.now, policy=self.queue.policy).expire_leases()

    @rule(data=st.data(), action=st.sampled_from(["retry", "cancel", "resolve", "approve"]))
    def operator(self, data: st.DataObject, action: str) -> None:
        if not self.states:
            return
        job_id = data.draw(st.sampled_from(self._ids()))
        if action == "retry":
            self.queue.retry([job_id])
        elif action == "cancel":
            self.queue.cancel([job_id], reason="test")
        elif action == "resolve":
            self.queue.resolve([job_id], reason="test")
        else:
            self.queue.approve([job_id])

    @rule(cause=st.sampled_from(CAUSES))
    def bulk_retry(self, cause: str) -> None:
        self.queue.retry_where(cause_code=cause)

    @rule()
    def mapping_saved(self) -> None:
        self.queue.requeue_blocked(self.shop_id, "product:A")

    @invariant()
    def transitions_are_legal(self) -> None:
        if not hasattr(self, "store"):
            return
        rows = self.store.execute(
            "SELECT id, state, lease_owner, shop_id, flow, source_id FROM job"
        ).fetchall()
        running_records = Counter()
        for job_id, state, owner, shop_id, flow, source_id in rows:
            before = self.states.get(job_id)
            if before is not None and before != state:
                assert State(state) in TRANSITIONS[State(before)], (job_id, before, state)
                assert State(before) not in TERMINAL
            if before is None:
                assert state in ("queued", "superseded")
            self.states[job_id] = state
            if state == "running":
                assert owner is not None
                running_records[(shop_id, flow, source_id)] += 1
            else:
                assert owner is None
                self.running.pop(job_id, None)
        assert all(n == 1 for n in running_records.values())


QueueMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestQueueMachine = QueueMachine.TestCase
