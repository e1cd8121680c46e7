"""Fencing per claim, as a property: no interleaving lets a stale claim touch a newer one.

Two processes (two queues on one database, one shared clock) claim, heartbeat, expire,
finish and release in any order, each holding on to every claim it ever took — including
stale ones, like a laptop that slept past its lease and wakes up still running a handler.
One process may hold two successive claims of the same job under the same owner name.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from support import SHOP

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import Change, Claim
from shopodoo_console.engine.queue import LeaseLost, Queue
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.store.db import Store

LEASE = 30.0
PROCESSES = ("a", "b")


class FencingMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.now = 1_800_000_000.0
        self.store = Store(Path(self.folder.name) / "f.db")
        policy = RetryPolicy(base=1, cap=4, rng=random.Random(0))
        self.queues = {
            p: Queue(self.store, clock=lambda: self.now, policy=policy) for p in PROCESSES
        }
        self.shop_id = self.store.sync_shop(SHOP, api_version="2026-07")
        # Every claim each process ever took, stale ones included; the owner name is the
        # process's, so a process holding two successive claims of a job cannot tell them
        # apart by owner — only the token can.
        self.taken: dict[str, list[Claim]] = {p: [] for p in PROCESSES}
        self.current: dict[int, Claim] = {}  # the newest claim of every running job

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()
            self.folder.cleanup()

    def row(self, job_id: int) -> tuple:
        return self.store.execute(
            "SELECT state, attempts, lease_owner, lease_expires_at, intent, retries "
            "FROM job WHERE id = ?",
            (job_id,),
        ).fetchone()

    def stale(self, claim: Claim) -> bool:
        return self.current.get(claim.job_id) != claim

    @rule(records=st.lists(st.sampled_from(["r1", "r2", "r3"]), min_size=1, max_size=3))
    def enqueue(self, records: list[str]) -> None:
        self.queues["a"].enqueue(self.shop_id, SHOP, "test", [Change(r, "v1") for r in records])

    @rule(process=st.sampled_from(PROCESSES))
    def claim(self, process: str) -> None:
        job = self.queues[process].claim(process, LEASE)
        if job is not None:
            assert job.owner == process
            previous = [c.token for c in self.taken[process] if c.job_id == job.id]
            assert all(t < job.attempts for t in previous)  # a fresh, newer token
            self.taken[process].append(job.claim)
            self.current[job.id] = job.claim

    @precondition(lambda self: any(self.taken.values()))
    @rule(data=st.data(), process=st.sampled_from(PROCESSES))
    def heartbeat(self, data: st.DataObject, process: str) -> None:
        if not self.taken[process]:
            return
        claim = data.draw(st.sampled_from(self.taken[process]))
        before = self.row(claim.job_id)
        alive = self.queues[process].heartbeat([claim], LEASE)
        if self.stale(claim):
            assert alive == set() and self.row(claim.job_id) == before
        else:
            assert alive == {claim.job_id}

    @precondition(lambda self: any(self.taken.values()))
    @rule(data=st.data(), process=st.sampled_from(PROCESSES))
    def record_intent(self, data: st.DataObject, process: str) -> None:
        if not self.taken[process]:
            return
        claim = data.draw(st.sampled_from(self.taken[process]))
        before = self.row(claim.job_id)
        try:
            self.queues[process].record_intent(claim, {"create": claim.token})
        except LeaseLost:
            assert self.stale(claim) and self.row(claim.job_id) == before
        else:
            assert not self.stale(claim)

    @precondition(lambda self: any(self.taken.values()))
    @rule(
        data=st.data(),
        process=st.sampled_from(PROCESSES),
        outcome=st.sampled_from(["done", "failed", "release"]),
    )
    def finish_or_release(self, data: st.DataObject, process: str, outcome: str) -> None:
        if not self.taken[process]:
            return
        claim = data.draw(st.sampled_from(self.taken[process]))
        queue = self.queues[process]
        before = self.row(claim.job_id)
        if outcome == "done":
            ok = queue.finish_done(claim)
        elif outcome == "failed":
            ok = queue.finish_failed(claim, Cause(code="odoo.unreachable", missing="down"))
        else:
            ok = queue.release([claim]) == 1
        if self.stale(claim):
            assert not ok and self.row(claim.job_id) == before
        else:
            assert ok
            del self.current[claim.job_id]

    @rule(seconds=st.sampled_from([5.0, 20.0, 40.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @rule(process=st.sampled_from(PROCESSES))
    def expire(self, process: str) -> None:
        queue = self.queues[process]
        own = {c.job_id: self.row(c.job_id) for c in queue.held()}
        queue.expire_leases()
        for job_id, before in own.items():
            assert self.row(job_id) == before  # a process never expires its own claims
        for job_id in list(self.current):
            if self.row(job_id)[0] != "running":
                del self.current[job_id]

    @invariant()
    def running_jobs_carry_their_newest_claim(self) -> None:
        if not hasattr(self, "store"):
            return
        running = self.store.execute(
            "SELECT id, attempts, lease_owner FROM job WHERE state = 'running'"
        ).fetchall()
        assert {r[0]: Claim(*r) for r in running} == self.current


FencingMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestFencing = FencingMachine.TestCase
