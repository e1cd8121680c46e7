"""The queue: dedup, claim, finish, retry policy, operator actions (DESIGN §3, §5)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from support import SHOP, changes, open_store

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import Change, Claim
from shopodoo_console.engine.queue import LeaseLost, Queue
from shopodoo_console.engine.retry import RetryPolicy, duration
from shopodoo_console.store.db import Store


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path)
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(store: Store, clock: Clock) -> Queue:
    return Queue(store, clock=clock, policy=RetryPolicy(rng=random.Random(1)))


@pytest.fixture
def shop_id(store: Store) -> int:
    return store.sync_shop(SHOP, api_version="2026-07")


def state_of(store: Store, job_id: int) -> str:
    return store.execute("SELECT state FROM job WHERE id = ?", (job_id,)).fetchone()[0]


def test_enqueue_counts_new_and_seen(queue: Queue, shop_id: int, store: Store) -> None:
    first = queue.enqueue(shop_id, SHOP, "test", changes(3))
    assert (first.new, first.seen) == (3, 0)
    again = queue.enqueue(shop_id, SHOP, "test", changes(3))
    assert (again.new, again.seen) == (0, 3)
    counts = [r[0] for r in store.execute("SELECT seen_count FROM job").fetchall()]
    assert counts == [2, 2, 2]


def test_same_key_twice_in_one_batch(queue: Queue, shop_id: int) -> None:
    result = queue.enqueue(shop_id, SHOP, "test", changes(1) + changes(1))
    assert (result.new, result.seen) == (1, 1)


def test_newer_version_supersedes_waiting_older(queue: Queue, shop_id: int, store: Store) -> None:
    old = queue.enqueue(shop_id, SHOP, "test", changes(1, version="2026-01-01T00:00:00Z"))
    new = queue.enqueue(shop_id, SHOP, "test", changes(1, version="2026-01-02T00:00:00Z"))
    assert new.superseded == 1
    (old_id,), (new_id,) = old.job_ids, new.job_ids
    row = store.execute("SELECT state, superseded_by FROM job WHERE id = ?", (old_id,)).fetchone()
    assert row == ("superseded", new_id)
    assert state_of(store, new_id) == "queued"


def test_older_version_arriving_late_is_superseded_itself(
    queue: Queue, shop_id: int, store: Store
) -> None:
    new = queue.enqueue(shop_id, SHOP, "test", changes(1, version="2026-01-02T00:00:00Z"))
    old = queue.enqueue(shop_id, SHOP, "test", changes(1, version="2026-01-01T00:00:00Z"))
    assert state_of(store, old.job_ids[0]) == "superseded"
    assert state_of(store, new.job_ids[0]) == "queued"


def test_claim_respects_priority_and_next_run_at(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    queue.enqueue(
        shop_id, SHOP, "test", [Change("low", "v1", priority=0), Change("high", "v1", priority=5)]
    )
    store.execute("UPDATE job SET next_run_at = ? WHERE source_id = 'high'", (clock.now + 60,))
    first = queue.claim("w1", 30)
    assert first is not None and first.source_id == "low"
    assert queue.claim("w1", 30) is None  # "high" is not due yet
    clock.now += 61
    second = queue.claim("w1", 30)
    assert second is not None and second.source_id == "high"


def test_never_two_running_jobs_for_one_record(queue: Queue, shop_id: int, store: Store) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1, version="a"))
    running = queue.claim("w1", 30)
    assert running is not None
    queue.enqueue(shop_id, SHOP, "test", changes(1, version="b"))  # newer, while running
    assert queue.claim("w2", 30) is None
    assert queue.finish_done(running.claim)
    nxt = queue.claim("w2", 30)
    assert nxt is not None and nxt.source_version == "b"


def test_finish_requires_the_current_claim(queue: Queue, shop_id: int) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    job = queue.claim("w1", 30)
    assert job is not None
    stale = Claim(job.id, job.attempts - 1, "w1")
    assert not queue.finish_done(stale)
    with pytest.raises(LeaseLost):
        queue.record_intent(stale, {"create": "x"})
    assert queue.finish_done(job.claim, "ok")
    assert not queue.finish_done(job.claim, "twice")


def test_temporary_failure_backs_off_then_exhausts(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    cause = Cause(code="odoo.unreachable", missing="connection refused", retry_after=30)
    delays = []
    for _ in range(8):
        job = queue.claim("w", 30)
        assert job is not None
        queue.finish_failed(job.claim, cause)
        state, next_run = store.execute("SELECT state, next_run_at FROM job").fetchone()
        assert state == "retrying"
        delays.append(next_run - clock.now)
        clock.now = next_run
    assert all(d >= 30 for d in delays)  # the server's hint is honoured
    assert delays[-1] > delays[0]  # and backoff grows past it
    job = queue.claim("w", 30)
    assert job is not None
    queue.finish_failed(job.claim, cause)
    state, code, raw = store.execute("SELECT state, cause_code, cause FROM job").fetchone()
    assert (state, code) == ("failed", "retry.exhausted")
    assert "odoo.unreachable" in json.loads(raw)["missing"]  # the last cause is kept
    attempts = store.execute("SELECT count(*), min(cause_code) FROM attempt").fetchone()
    assert attempts == (9, "odoo.unreachable")


def test_configuration_cause_waits_for_operator(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    job = queue.claim("w", 30)
    assert job is not None
    queue.finish_failed(
        job.claim,
        Cause(code="mapping.product_missing", missing="SKU X", blocked_on=("product:X",)),
    )
    assert state_of(store, job.id) == "needs_attention"
    clock.now += 10_000
    assert queue.claim("w", 30) is None  # never retried automatically


def test_requeue_blocked_on_mapping(queue: Queue, shop_id: int, store: Store) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(3))
    for sku in ("A", "B", "A"):
        job = queue.claim("w", 30)
        assert job is not None
        queue.finish_failed(
            job.claim,
            Cause(code="mapping.product_missing", missing=sku, blocked_on=(f"product:{sku}",)),
        )
    moved = queue.requeue_blocked(shop_id, "product:A")
    assert len(moved) == 2
    assert sorted(r[0] for r in store.execute("SELECT state FROM job").fetchall()) == [
        "needs_attention",
        "queued",
        "queued",
    ]
    # A key that merely contains another as a prefix must not match.
    assert queue.requeue_blocked(shop_id, "product:") == []


def test_operator_actions_leave_audit_and_keep_attempts(
    queue: Queue, shop_id: int, store: Store
) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(2))
    ids = []
    for _ in range(2):
        job = queue.claim("w", 30)
        assert job is not None
        queue.finish_failed(job.claim, Cause(code="odoo.permission_missing", missing="no"))
        ids.append(job.id)
    assert queue.retry([ids[0]], reason="rights fixed") == [ids[0]]
    assert queue.resolve([ids[1]], reason="entered by hand in Odoo") == [ids[1]]
    assert queue.retry([ids[1]]) == []  # resolved is final
    events = store.execute("SELECT event, message FROM audit ORDER BY id").fetchall()
    assert events == [
        ("retry", "Retried by the operator: rights fixed"),
        ("resolve", "Resolved by the operator: entered by hand in Odoo"),
    ]
    assert store.execute("SELECT count(*) FROM attempt").fetchone()[0] == 2
    with pytest.raises(ValueError):
        queue.cancel([ids[0]], reason=" ")


def test_bulk_retry_by_cause(queue: Queue, shop_id: int, store: Store) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(4))
    for i in range(4):
        job = queue.claim("w", 30)
        assert job is not None
        code = "odoo.company_access" if i % 2 else "odoo.validation"
        queue.finish_failed(job.claim, Cause(code=code, missing="x"))
    assert len(queue.retry_where(cause_code="odoo.company_access")) == 2
    assert queue.counts_by_state() == {"queued": 2, "needs_attention": 2}


def test_expired_lease_returns_job_to_queue(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    elsewhere = Queue(store, clock=clock)  # the claim of another process
    job = elsewhere.claim("dead-worker", 30)
    assert job is not None
    assert queue.expire_leases() == 0
    clock.now += 31
    assert queue.expire_leases() == 1
    assert state_of(store, job.id) == "queued"
    assert store.execute("SELECT event FROM audit").fetchone()[0] == "lease_expired"
    assert store.execute("SELECT outcome FROM attempt").fetchone()[0] == "lost"
    assert not elsewhere.finish_done(job.claim)  # the late worker cannot finish it
    again = queue.claim("w2", 30)
    assert again is not None and again.id == job.id and again.attempts == 2


def test_review_mode_approval(queue: Queue, shop_id: int, store: Store) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    job = queue.claim("w", 30)
    assert job is not None and not job.approved
    queue.finish_awaiting_approval(job.claim, {"create": "x"}, "would create x")
    assert state_of(store, job.id) == "awaiting_approval"
    assert queue.approve([job.id]) == [job.id]
    again = queue.claim("w", 30)
    assert again is not None and again.approved and again.plan == {"create": "x"}


def test_release_on_shutdown(queue: Queue, shop_id: int, store: Store) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(2))
    claims = [queue.claim("w", 30).claim, queue.claim("w", 30).claim]
    assert queue.held() == claims
    assert queue.release(claims) == 2
    assert queue.held() == []
    assert queue.counts_by_state() == {"queued": 2}
    retries = store.execute("SELECT max(retries) FROM job").fetchone()[0]
    assert retries == 0  # a clean shutdown does not cost a retry


def test_prune_removes_only_old_finished_jobs(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(2))
    job = queue.claim("w", 30)
    assert job is not None
    queue.finish_done(job.claim)
    clock.now += 100
    assert queue.prune(50) == 1
    assert queue.counts_by_state() == {"queued": 1}
    assert store.execute("SELECT count(*) FROM attempt").fetchone()[0] == 0


def test_each_kind_of_trouble_spends_its_own_budget(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    """Seven throttled answers do not make one lost lease (or one crash) fatal."""
    queue.enqueue(shop_id, SHOP, "test", changes(1))

    def fail_with(code: str) -> str:
        job = queue.claim("w", 30)
        assert job is not None
        queue.finish_failed(job.claim, Cause(code=code, missing=f"{code} happened"))
        state, next_run = store.execute("SELECT state, next_run_at FROM job").fetchone()
        clock.now = max(clock.now, next_run)
        return state

    assert [fail_with("shopify.throttled") for _ in range(7)] == ["retrying"] * 7
    elsewhere = Queue(store, clock=clock)
    assert elsewhere.claim("dead", 30) is not None
    clock.now += 31
    assert queue.expire_leases() == 1  # one lost lease: back to the queue, not fatal
    assert fail_with("engine.handler_crashed") == "retrying"
    assert fail_with("odoo.unreachable") == "retrying"
    counts, retries = store.execute("SELECT retry_counts, retries FROM job").fetchone()
    assert json.loads(counts) == {"throttle": 7, "lease": 1, "crash": 1, "network": 1}
    assert retries == 10


def test_retry_exhausted_answers_what_how_often_how_long_and_the_last_cause(
    queue: Queue, shop_id: int, clock: Clock, store: Store
) -> None:
    queue.enqueue(shop_id, SHOP, "test", changes(1))
    started = clock.now
    for _ in range(4):  # a crash budget of 3 retries, then the fourth crash exhausts it
        job = queue.claim("w", 30)
        assert job is not None
        queue.finish_failed(
            job.claim,
            Cause(
                code="engine.handler_crashed",
                missing="the test handler raised KeyError: 'sku'",
                record="Shopify order #1042",
                retry_note="the retry checks links and stamps first",
            ),
        )
        clock.now = store.execute("SELECT next_run_at FROM job").fetchone()[0] + 600
    state, raw = store.execute("SELECT state, cause FROM job").fetchone()
    cause = Cause.from_json(raw)
    assert state == "failed" and cause.code == "retry.exhausted"
    spent = duration(clock.now - 600 - started)
    lines = cause.explain().splitlines()
    assert lines[0] == "Which record: Shopify order #1042"
    assert lines[1] == (
        "What is missing: automatic retries are spent: runs that hit an unexpected error in "
        f"the console (crash) retried 3 time(s) over {spent}; the last "
        "attempt failed with engine.handler_crashed: the test handler raised KeyError: 'sku'"
    )
    assert lines[2] == (
        "Temporary or configuration: retries spent — waits for you: fix the last cause, then retry"
    )
    assert "retried automatically" not in cause.explain()
    assert lines[3] == "Retry safe after the fix: yes — the retry checks links and stamps first"
    assert queue.claim("w", 30) is None  # it waits for a person
    job_id = store.execute("SELECT id FROM job").fetchone()[0]
    assert queue.retry([job_id]) == [job_id]  # by hand: the budgets start afresh
    assert store.execute("SELECT retries, retry_counts, retrying_since FROM job").fetchone() == (
        0,
        None,
        None,
    )
