"""The store's read models for the Dashboard, the review and the audit (issue 9, item 5): what
they return, and that the ones reading large tables stay index-driven now that peewee builds
them (each statement a function runs is recorded and explained)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.store import activity, history, jobs, reconcile, review
from shopodoo_console.store.db import Store

DOMAIN = "acme.myshopify.com"
T0 = 1_760_000_000.0  # a fixed clock: minutes and days come out the same on every run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "reads.db")
    yield opened
    opened.close()


# ---------------------------------------------------------------- query plans


def statements(store: Store, call: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Every statement ``call`` runs through the store's database, with its parameters."""
    seen: list[tuple[str, Any]] = []
    real = store.db.execute_sql

    def spy(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        seen.append((sql, params))
        return real(sql, params, *args, **kwargs)

    store.db.execute_sql = spy  # type: ignore[method-assign]
    try:
        call()
    finally:
        del store.db.execute_sql
    return seen


def plans(store: Store, call: Callable[[], Any]) -> list[str]:
    """SQLite's plan of each statement ``call`` runs, one line per statement."""
    return [
        " | ".join(row[-1] for row in store.execute(f"EXPLAIN QUERY PLAN {sql}", params or ()))
        for sql, params in statements(store, call)
    ]


def scans(plan: str) -> list[str]:
    """The steps that read a whole table or index (json_each's virtual table aside)."""
    return [
        step.strip()
        for step in plan.split("|")
        if step.strip().startswith("SCAN") and "VIRTUAL TABLE" not in step
    ]


WINDOWS = [review.Window(T0, T0 + 86400), review.Window(T0, T0 + 86400, shop_id=1)]


@pytest.mark.parametrize("window", WINDOWS, ids=["all shops", "one shop"])
@pytest.mark.parametrize(
    "figure", ["waits_for_a_person", "edits_by_people", "operator_closes", "mappings_added"]
)
def test_review_reads_the_timeline_by_event_and_time(store: Store, figure: str, window) -> None:
    (plan,) = plans(store, lambda: getattr(review, figure)(store, window))
    assert "INDEX audit_event (event=? AND at>? AND at<?)" in plan, plan
    assert not [s for s in scans(plan) if " ev" in s], plan  # the timeline is never scanned


@pytest.mark.parametrize("window", WINDOWS, ids=["all shops", "one shop"])
def test_review_reads_failed_attempts_by_when_they_ended(store: Store, window) -> None:
    (plan,) = plans(store, lambda: review.failures_by_day(store, window))
    assert "INDEX attempt_ended (ended_at>? AND ended_at<?)" in plan, plan
    assert not scans(plan), plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # grouped in day order: one sort


def test_the_activity_feed_reads_one_page_of_the_time_index(store: Store) -> None:
    (plan,) = plans(store, lambda: activity.recent_audit(store, limit=80, since=T0))
    assert "INDEX audit_at (at>?)" in plan and not scans(plan), plan
    assert "TEMP B-TREE" not in plan, plan  # newest first straight from the index: no sort
    (labels,) = plans(store, lambda: activity.job_labels(store, [1, 2, 3]))
    assert not scans(labels), labels


def test_the_dashboard_charts_read_only_their_window(store: Store) -> None:
    (failed,) = plans(store, lambda: history.failed_per_minute(store, T0))
    assert "INDEX attempt_ended (ended_at>?)" in failed and not scans(failed), failed
    (finished,) = plans(store, lambda: history.finished_per_minute(store, T0))
    assert "INDEX job_finished (finished_at>?)" in finished and not scans(finished), finished


def test_findings_and_runs_are_read_by_their_indexes(store: Store) -> None:
    (page,) = plans(store, lambda: reconcile.findings(store, 1, kind="missing", limit=50))
    assert "INDEX finding_run (run_id=? AND kind=?)" in page and not scans(page), page
    (counts,) = plans(store, lambda: reconcile.finding_counts(store, 1))
    assert "COVERING INDEX finding_run (run_id=?)" in counts and not scans(counts), counts
    (runs,) = plans(store, lambda: reconcile.runs(store, kind="audit", shop_id=1))
    assert "INDEX reconcile_run_shop (shop_id=? AND kind=?)" in runs, runs


# ---------------------------------------------------------------- what they return


@dataclass
class Clock:
    t: float

    def __call__(self) -> float:
        return self.t


class Jobs:
    """Jobs driven through the real queue at chosen moments."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.queue = Queue(store, clock=clock, policy=RetryPolicy(base=1, cap=2))
        self.shop_id = store.sync_shop(DOMAIN, api_version="2026-07")
        self.n = 0

    def job(self, label: str = "") -> int:
        self.n += 1
        change = Change(f"gid://shopify/Order/{self.n}", "v1", label=label or f"#{self.n}")
        (job_id,) = self.queue.enqueue(self.shop_id, DOMAIN, "orders", [change]).job_ids
        return job_id

    def run(self, job_id: int, at: float, outcome: str) -> None:
        self.clock.t = at
        claimed = self.queue.claim("worker", 60)
        assert claimed is not None and claimed.id == job_id
        if outcome == "done":
            assert self.queue.finish_done(claimed.claim, "ok")
        elif outcome == "skipped":
            assert self.queue.finish_skipped(claimed.claim, "unchanged")
        else:
            assert self.queue.finish_failed(
                claimed.claim, Cause(code="odoo.unreachable", missing="Odoo is down")
            )


def test_per_minute_series_count_each_minute_of_the_window(store: Store) -> None:
    now = T0 + 3 * 3600
    j = Jobs(store, Clock(T0))  # in time order: a job runs once it is due
    j.run(j.job(), now - 2 * 3600, "done")  # before the window: not counted
    j.run(j.job(), now - 59.5 * 60, "done")  # the oldest minute
    flaky = j.job()
    j.run(flaky, now - 10 * 60 - 30, "failed")
    j.run(flaky, now - 10 * 60 - 20, "failed")  # the same minute, counted twice
    j.queue.cancel([flaky], reason="Odoo is being moved")  # no third attempt
    j.run(j.job(), now - 30, "skipped")  # the newest minute: skipped counts as finished
    j.run(j.job(), now - 30, "done")
    finished = history.finished_per_minute(store, now)
    assert len(finished) == 60 and finished[0] == 1 and finished[59] == 2 and sum(finished) == 3
    failed = history.failed_per_minute(store, now)
    assert failed[49] == 2 and sum(failed) == 2
    assert history.failed_per_minute(store, now, minutes=5) == [0] * 5


def test_recent_audit_is_newest_first_with_shop_and_job_label(store: Store) -> None:
    j = Jobs(store, Clock(T0))
    job_id = j.job("Shopify order #1056")
    store.audit(system="odoo", event="created", message="S00059", job_id=job_id, at=T0 + 2)
    store.audit(system="console", event="poll", message="page", shop_id=j.shop_id, at=T0 + 3)
    store.audit(system="console", event="started", message="up", at=T0 - 100)
    entries = activity.recent_audit(store, since=T0)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert [(e.event, e.shop, e.label) for e in entries[:2]] == [
        ("poll", DOMAIN, ""),  # a shop's event, no job
        ("created", "", "Shopify order #1056"),  # a job's event, no shop named
    ]
    assert all(e.at >= T0 for e in entries)
    assert len(activity.recent_audit(store, limit=1)) == 1


def test_job_labels_name_each_known_job_in_any_number(store: Store) -> None:
    j = Jobs(store, Clock(T0))
    ids = [j.job(f"order {i}") for i in range(3)]
    asked = ids + list(range(10_000, 10_000 + jobs.IN_CHUNK + 5))  # more than one IN list
    assert activity.job_labels(store, asked) == {
        job_id: (DOMAIN, f"order {i}") for i, job_id in enumerate(ids)
    }
    assert activity.job_labels(store, []) == {}


def test_edits_by_people_count_unnamed_fields_and_distinct_codes(store: Store) -> None:
    j = Jobs(store, Clock(T0))
    a, b = j.job(), j.job()
    events = [
        (a, {"code": "conflict.edited_in_odoo", "model": "sale.order", "fields": ["note"]}),
        (b, {"code": "conflict.order_locked", "model": "sale.order", "fields": ["note", "state"]}),
        (b, {"code": "conflict.order_locked", "model": "sale.order", "fields": ["note"]}),
        (a, {"code": "conflict.edited_in_odoo"}),  # names no field and no model
    ]
    for at, (job_id, data) in enumerate(events):
        store.audit(
            system="console", event="conflict", message="edited", job_id=job_id,
            shop_id=j.shop_id, at=T0 + at, data=data,
        )  # fmt: skip
    edits = review.edits_by_people(store, review.Window(T0, T0 + 60))
    assert [(e.field, e.model, e.events, e.jobs, e.codes) for e in edits] == [
        ("note", "sale.order", 3, 2, ("conflict.edited_in_odoo", "conflict.order_locked")),
        ("(not named)", "", 1, 1, ("conflict.edited_in_odoo",)),
        ("state", "sale.order", 1, 1, ("conflict.order_locked",)),
    ]


def test_a_run_is_moved_only_by_its_owner_and_keeps_what_a_save_leaves_out(
    store: Store,
) -> None:
    shop_id = store.sync_shop(DOMAIN, api_version="2026-07")
    run_id = reconcile.start_run(
        store, shop_id=shop_id, kind="backfill", since="2026-01-01", until=None, owner="a"
    )
    position = {"operation": "gid://shopify/BulkOperation/1", "offset": 1024}
    assert reconcile.save_progress(store, run_id, "a", done=5, found=1, position=position, total=9)
    assert reconcile.save_progress(store, run_id, "a", done=7, found=1)  # position kept
    assert not reconcile.save_progress(store, run_id, "b", done=99, found=0)  # not b's run
    run = reconcile.get_run(store, run_id)
    assert run is not None and (run.done, run.position, run.total) == (7, position, 9)
    assert reconcile.finish_run(store, run_id, "a", reconcile.STOPPED)
    stopped = reconcile.unfinished_run(
        store, shop_id=shop_id, kind="backfill", since="2026-01-01", until=None
    )
    assert stopped is not None and stopped.finished_at is None and stopped.state == "stopped"
    assert reconcile.take_over(store, stopped, "b")  # resumed by another process...
    assert not reconcile.take_over(store, stopped, "c")  # ...once: the owner moved on
    assert not reconcile.finish_run(store, run_id, "a", reconcile.DONE)  # a lost it
    assert reconcile.finish_run(store, run_id, "b", reconcile.DONE, "token shpat_" + "f" * 32)
    done = reconcile.get_run(store, run_id)
    assert done is not None and done.state == "done" and done.finished_at is not None
    assert "shpat_" not in done.message  # redacted on the way in
    assert (
        reconcile.unfinished_run(
            store, shop_id=shop_id, kind="backfill", since="2026-01-01", until=None
        )
        is None
    )
