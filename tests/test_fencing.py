"""Fencing per claim in the runner: a laptop that sleeps past its leases, the stale finish.

The regression sequence from issue 9: a laptop sleeps longer than the lease; on resume the
monotonic clock has not moved, so no heartbeat was due by it, but wall-clock housekeeping
expired the in-flight job; the same runner claimed it again; the stale execution then
finished the new claim, and a third claim succeeded. Each step is now impossible.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support import SHOP, ScriptedFlow, changes, make_config, open_store, wait_until

from shopodoo_console.causes import Cause
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import Failed, FlowRegistry, JobContext, Page
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.runner import Runner
from shopodoo_console.store.db import Store

LEASE = 30.0


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FirstAttemptBlocks(ScriptedFlow):
    """Attempt #1 of each job waits for ``release``; later attempts finish at once."""

    def handle(self, ctx: JobContext):
        if ctx.job.attempts == 1:
            self.first_started.set()
            assert self.release.wait(10)
        return super().handle(ctx)

    def __init__(self) -> None:
        super().__init__()
        self.first_started = threading.Event()


class NeedsShopConfig(ScriptedFlow):
    """Like the orders flow: a job whose shop has no config cannot run."""

    def handle(self, ctx: JobContext):
        if ctx.shop.config is None:
            return Failed(Cause("engine.flow_unknown", missing=f"no config for {ctx.shop}"))
        return super().handle(ctx)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path)
    yield s
    s.close()


def job_row(store: Store) -> tuple:
    return store.execute("SELECT state, attempts, lease_expires_at FROM job").fetchone()


def test_a_wall_clock_jump_renews_the_lease_and_never_expires_own_jobs(store: Store) -> None:
    clock, frozen = Clock(), Clock(100.0)  # wall clock; monotonic clock (stops during sleep)
    queue = Queue(store, clock=clock)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    queue.enqueue(shop_id, SHOP, "test", changes(1, do="block"))
    flow = ScriptedFlow()
    started = threading.Event()
    flow.on_handle = lambda ctx: started.set()
    runner = Runner(queue, FlowRegistry([flow]), {}, lease_seconds=LEASE, monotonic=frozen)
    drained: list[object] = []
    worker = threading.Thread(target=lambda: drained.append(runner.drain()))
    worker.start()
    try:
        assert started.wait(10)
        clock.now += 2 * 3600  # the laptop slept for two hours; the monotonic clock did not move
        assert queue.expire_leases() == 0  # housekeeping never expires its own in-flight job
        runner.wake()
        assert wait_until(lambda: job_row(store)[2] >= clock.now + LEASE - 1), (
            "no heartbeat fell due by the wall clock"
        )
        elsewhere = Queue(store, clock=clock)  # another process sees a live lease
        assert elsewhere.expire_leases() == 0
    finally:
        flow.release.set()
        worker.join(10)
    assert job_row(store)[:2] == ("done", 1)


def test_a_stale_execution_never_finishes_the_newer_claim(store: Store) -> None:
    clock = Clock()
    queue = Queue(store, clock=clock)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    flow = FirstAttemptBlocks()
    runner = Runner(queue, FlowRegistry([flow]), {}, owner="laptop", lease_seconds=LEASE)

    def claim() -> list:
        return queue.claim_next(
            "laptop", LEASE, flows=["test"], shop_ids=None, batch_size=lambda _: 1
        )

    first = claim()
    results: list[list[str]] = []
    stale = threading.Thread(target=lambda: results.append(runner.run_batch(first)))
    stale.start()
    assert flow.first_started.wait(10)
    clock.now += 2 * LEASE  # the laptop sleeps past its lease...
    assert Queue(store, clock=clock).expire_leases() == 1  # ...and another process expires it
    runner._maybe_heartbeat()  # on waking, the heartbeat finds the claim lost
    assert queue.held() == []
    second = claim()  # the same runner (same owner name) claims the job again
    assert [j.attempts for j in second] == [2]
    assert runner.run_batch(second) == ["done"]
    flow.release.set()
    stale.join(10)
    assert results == [["lost"]]  # the stale execution's result is discarded...
    assert job_row(store)[:2] == ("done", 2)
    assert claim() == []  # ...and no third claim exists
    assert store.execute("SELECT number, outcome FROM attempt ORDER BY id").fetchall() == [
        (1, "lost"),
        (2, "done"),
    ]
    (message,) = store.execute(
        "SELECT message FROM audit WHERE event = 'late_result_discarded'"
    ).fetchone()
    assert "Attempt #1 (laptop)" in message and "(done) was discarded" in message


def test_settings_saved_while_jobs_are_claimed_never_leave_a_job_without_its_flow(
    store: Store, tmp_path: Path
) -> None:
    """apply_config swaps shops and flows in one step: a batch claimed at any moment of a
    save runs with a whole setup, never a shop without config or a flow without handler."""
    from shopodoo_console.config import Config

    flow_a = NeedsShopConfig([Page(changes(60), cursor="c")])
    engine = Engine(store, make_config(tmp_path, workers=2), FlowRegistry([flow_a]))
    engine.poll_all()
    with_shop = engine.config
    without = Config(path=with_shop.path, odoo=None, shops=(), engine=with_shop.engine)
    stop = threading.Event()

    def save_settings_repeatedly() -> None:
        with store.thread_connection():
            while not stop.is_set():
                engine.apply_config(without, FlowRegistry([NeedsShopConfig()]))
                engine.apply_config(with_shop, FlowRegistry([NeedsShopConfig()]))

    saver = threading.Thread(target=save_settings_repeatedly)
    saver.start()
    try:
        while engine.runner.drain().claimed:
            pass
    finally:
        stop.set()
        saver.join(10)
    engine.apply_config(with_shop)
    engine.runner.drain()
    rows = store.execute("SELECT state, cause_code, count(*) FROM job GROUP BY 1, 2").fetchall()
    assert rows == [("done", None, 60)]
