"""The engine end to end with a test flow: poll → jobs → handlers → outcomes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from support import ScriptedFlow, changes, make_config, open_store

from shopodoo_console.engine import events as ev
from shopodoo_console.engine.core import Engine, LeaseHeld
from shopodoo_console.engine.flows import Change, FlowRegistry, Page
from shopodoo_console.engine.lease import SchedulerLease
from shopodoo_console.store.db import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path)
    yield s
    s.close()


def make_engine(store: Store, tmp_path: Path, flow: ScriptedFlow, **kw) -> Engine:
    return Engine(store, make_config(tmp_path, **kw), FlowRegistry([flow]))


def states(store: Store) -> dict[str, int]:
    return dict(store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall())


def test_sync_once_polls_and_works_every_outcome(store: Store, tmp_path: Path) -> None:
    pages = [
        Page(changes(3, prefix="ok"), cursor="2026-01-01T00:00:00Z"),
        Page(
            changes(1, prefix="skip", do="skip")
            + changes(1, prefix="map", do="fail:mapping.product_missing")
            + changes(1, prefix="net", do="fail:odoo.unreachable")
            + changes(1, prefix="bug", do="crash"),
            cursor="2026-01-02T00:00:00Z",
        ),
    ]
    flow = ScriptedFlow(pages)
    engine = make_engine(store, tmp_path, flow)
    summary = engine.sync_once()
    assert [(p.new, p.pages, p.cursor) for p in summary.polls] == [(7, 2, "2026-01-02T00:00:00Z")]
    assert summary.drain.claimed == 7
    assert states(store) == {"done": 3, "skipped": 1, "needs_attention": 1, "retrying": 2}
    assert summary.problems == 1
    crash = store.execute("SELECT cause_code, cause FROM job WHERE source_id = 'bug0'").fetchone()
    assert crash[0] == "engine.handler_crashed" and "RuntimeError: handler bug" in crash[1]
    assert store.execute("SELECT count(*) FROM audit WHERE event = 'created'").fetchone()[0] == 3


def test_second_poll_continues_from_the_cursor_and_counts_repeats(
    store: Store, tmp_path: Path
) -> None:
    flow = ScriptedFlow([Page(changes(2), cursor="c1")])
    engine = make_engine(store, tmp_path, flow)
    engine.sync_once()
    summary = engine.sync_once()
    assert flow.poll_calls == [None, "c1"]
    assert (summary.polls[0].new, summary.polls[0].seen) == (0, 2)
    assert store.execute("SELECT sum(seen_count) FROM job").fetchone()[0] == 4
    assert flow.handled and len(flow.handled) == 2  # seen twice, handled once


def test_poll_failure_keeps_cursor_and_reports(store: Store, tmp_path: Path) -> None:
    from shopodoo_console.causes import Cause, CauseError

    class FailingAfterFirstPage(ScriptedFlow):
        def poll(self, shop, since):
            yield Page(changes(1), cursor="p1")
            raise CauseError(Cause(code="shopify.unavailable", missing="Shopify answered 503"))

    engine = make_engine(store, tmp_path, FailingAfterFirstPage())
    summary = engine.sync_once()
    poll = summary.polls[0]
    assert not poll.ok and poll.cause_code == "shopify.unavailable"
    assert poll.cursor == "p1"  # the stored page moved the cursor; nothing after it did
    row = store.execute("SELECT position, last_poll_ok, last_poll_message FROM cursor").fetchone()
    assert row[0] == "p1" and row[1] == 0 and "503" in row[2]
    # a poll is not a job: its message says what happens next without job talk
    assert row[2] == (
        "Shopify answered 503. Check the network; the poll is tried again on its own."
    )


def test_flow_mode_off_is_not_polled(store: Store, tmp_path: Path) -> None:
    flow = ScriptedFlow([Page(changes(1), cursor="x")])
    engine = make_engine(store, tmp_path, flow, flows={"test": "off"})
    engine.sync_once()
    assert flow.poll_calls == []


def test_sync_refuses_when_another_process_polls(store: Store, tmp_path: Path) -> None:
    other = SchedulerLease(store, "console@elsewhere:1:abc")
    other.host = "elsewhere"  # a different host: its pid cannot be checked
    assert other.acquire() is None
    engine = make_engine(store, tmp_path, ScriptedFlow())
    with pytest.raises(LeaseHeld, match="elsewhere"):
        engine.sync_once()


def test_dead_local_holder_is_taken_over_at_once(store: Store, tmp_path: Path) -> None:
    dead = SchedulerLease(store, "console@here:999999:abc")
    dead.pid = 2**22 + 12345  # no such process
    assert dead.acquire() is None
    mine = SchedulerLease(store, "me")
    assert mine.acquire() is None
    assert mine.holder().owner == "me"


def test_background_engine_runs_jobs_and_stops_cleanly(store: Store, tmp_path: Path) -> None:
    flow = ScriptedFlow([Page(changes(5) + changes(1, prefix="slow", do="block"), cursor="c")])
    engine = make_engine(store, tmp_path, flow, workers=2)
    seen_states: list[str] = []
    all_done = threading.Event()
    blocked_started = threading.Event()

    def on_event(event: ev.Event) -> None:
        if event.kind == ev.SCHEDULER:
            seen_states.append(event.data["state"])
        if len(flow.handled) >= 5:
            all_done.set()

    flow.on_handle = lambda ctx: blocked_started.set() if ctx.job.source_id == "slow0" else None
    engine.events.subscribe(on_event)
    assert engine.start() is None
    assert blocked_started.wait(10) and all_done.wait(10)
    second = Engine(store, make_config(tmp_path), FlowRegistry([ScriptedFlow()]))
    holder = second.start()
    assert holder is not None and second.state == "read_only"
    released = engine.stop(timeout=0.2)  # the blocked job cannot finish in time
    assert released == 0  # ...and is not handed to anyone while its handler runs
    assert states(store) == {"done": 5, "running": 1}
    assert seen_states == ["running", "stopped"]
    assert SchedulerLease(store, "x").holder() is None
    third = Engine(store, make_config(tmp_path), FlowRegistry([ScriptedFlow()]))
    assert third.runner.drain().claimed == 0  # another console cannot take it either
    flow.release.set()  # the handler returns after all: its outcome is recorded
    assert engine.runner.lingering is not None
    engine.runner.lingering.join(10)
    assert states(store) == {"done": 6}
    assert store.execute(
        "SELECT outcome FROM attempt JOIN job ON job.id = attempt.job_id "
        "WHERE job.source_id = 'slow0'"
    ).fetchall() == [("done",)]


def test_a_handler_outliving_stop_keeps_its_lease_renewed(store: Store, tmp_path: Path) -> None:
    from support import wait_until

    flow = ScriptedFlow([Page(changes(1, prefix="slow", do="block"), cursor="c")])
    engine = make_engine(store, tmp_path, flow, workers=1, lease_seconds=0.3)
    started = threading.Event()
    flow.on_handle = lambda ctx: started.set()
    assert engine.start() is None
    try:
        assert started.wait(10)
        assert engine.stop(timeout=0.05) == 0
        (expires,) = store.execute("SELECT lease_expires_at FROM job").fetchone()
        assert wait_until(
            lambda: store.execute("SELECT lease_expires_at FROM job").fetchone()[0] > expires + 0.1
        ), "the lingering handler's lease was not renewed"
    finally:
        flow.release.set()
        if engine.runner.lingering is not None:
            engine.runner.lingering.join(10)
    assert states(store) == {"done": 1}


def test_newer_version_during_run_waits_then_runs(store: Store, tmp_path: Path) -> None:
    flow = ScriptedFlow()
    engine = make_engine(store, tmp_path, flow)
    shop_id = next(iter(engine.shops))
    engine.queue.enqueue(shop_id, "s", "test", [Change("r", "1", payload={"do": "done"})])
    job = engine.queue.claim("w", 30)
    engine.queue.enqueue(shop_id, "s", "test", [Change("r", "2", payload={"do": "done"})])
    assert engine.runner.drain().claimed == 0  # the record is busy
    engine.queue.finish_done(job.claim)
    assert engine.runner.drain().claimed == 1


class BatchFlow(ScriptedFlow):
    """Handles many jobs at once, like the orders flow fetching a page of orders."""

    batch_size = 4

    def __init__(self, *args, explode: bool | str = False, **kw) -> None:
        super().__init__(*args, **kw)
        self.batches: list[list[str]] = []
        self.explode = explode

    def handle_batch(self, contexts):
        from shopodoo_console.causes import Cause
        from shopodoo_console.engine.flows import Failed

        self.batches.append([c.job.source_id for c in contexts])
        if self.explode == "failed":
            cause = Cause(code="shopify.unavailable", missing="Shopify answered 503")
            return [Failed(cause)] * len(contexts)
        if self.explode:
            raise RuntimeError("a bug that takes the whole batch down")
        results = []
        for ctx in contexts:
            do = ctx.job.payload["do"]
            if do == "done":
                results.append(self.handle(ctx))
            elif do.startswith("fail:"):
                results.append(Failed(Cause(code=do[5:], missing="per-order problem")))
            else:
                results.append(Cause(code="data.invalid_payload", missing="a bare cause"))
        return results


def test_batch_flow_gets_jobs_together_with_per_job_outcomes(store: Store, tmp_path: Path) -> None:
    flow = BatchFlow(
        [
            Page(
                changes(6)
                + changes(1, prefix="map", do="fail:mapping.product_missing")
                + changes(1, prefix="bad", do="oops"),
                cursor="c",
            )
        ]
    )
    engine = make_engine(store, tmp_path, flow, workers=1)
    summary = engine.sync_once()
    assert [len(b) for b in flow.batches] == [4, 4]
    assert summary.drain.claimed == 8
    assert states(store) == {"done": 6, "needs_attention": 1, "retrying": 1}
    codes = dict(store.execute("SELECT source_id, cause_code FROM job").fetchall())
    assert codes["map0"] == "mapping.product_missing"
    assert codes["bad0"] == "engine.handler_crashed"


def test_a_batch_wide_failure_is_recorded_on_every_job(store: Store, tmp_path: Path) -> None:
    flow = BatchFlow([Page(changes(3), cursor="c")], explode="failed")
    engine = make_engine(store, tmp_path, flow, workers=1)
    engine.sync_once()
    rows = store.execute("SELECT state, cause_code FROM job").fetchall()
    assert rows == [("retrying", "shopify.unavailable")] * 3


def test_an_exception_escaping_a_flow_is_a_crash_on_every_job_of_the_batch(
    store: Store, tmp_path: Path
) -> None:
    flow = BatchFlow([Page(changes(3), cursor="c")], explode=True)
    engine = make_engine(store, tmp_path, flow, workers=1)
    engine.sync_once()
    rows = store.execute("SELECT state, cause_code, cause FROM job").fetchall()
    assert [(state, code) for state, code, _ in rows] == [
        ("retrying", "engine.handler_crashed")
    ] * 3
    assert all("RuntimeError: a bug that takes the whole batch down" in c for *_, c in rows)


def test_apply_config_changes_modes_and_intervals_without_a_restart(
    store: Store, tmp_path: Path
) -> None:
    flow = ScriptedFlow()
    engine = make_engine(store, tmp_path, flow)
    assert engine.start() is None
    try:
        scheduler = engine._scheduler
        assert scheduler is not None
        (poll,) = [j for j in scheduler.get_jobs() if j.id.startswith("poll:")]
        assert poll.trigger.interval.total_seconds() == 60
        shop = engine.config.shops[0]
        faster = make_config(tmp_path).__class__(
            path=engine.config.path,
            odoo=None,
            engine=engine.config.engine,
            shops=(
                shop.__class__(
                    domain=shop.domain, flows={"test": "review"}, poll_seconds={"test": 15}
                ),
            ),
        )
        engine.apply_config(faster)
        (poll,) = [j for j in scheduler.get_jobs() if j.id.startswith("poll:")]
        assert poll.trigger.interval.total_seconds() == 15
        assert engine.runner.shops[next(iter(engine.shops))].config.mode("test") == "review"
        off = faster.__class__(
            path=faster.path,
            odoo=None,
            engine=faster.engine,
            shops=(faster.shops[0].__class__(domain=shop.domain, flows={"test": "off"}),),
        )
        engine.apply_config(off)
        assert [j for j in scheduler.get_jobs() if j.id.startswith("poll:")] == []
    finally:
        engine.stop()


def test_a_long_sync_keeps_its_lease(store: Store, tmp_path: Path) -> None:
    import time

    from shopodoo_console.engine.lease import LeaseKeeper

    lease = SchedulerLease(store, "long-sync", ttl=0.3)
    assert lease.acquire() is None
    first = lease.holder().expires_at
    with LeaseKeeper(lease):
        deadline = time.monotonic() + 10
        while lease.holder().expires_at < first + 0.3 and time.monotonic() < deadline:
            time.sleep(0.02)  # wait on the condition: the keeper has renewed
        assert lease.holder().expires_at >= first + 0.3
        other = SchedulerLease(store, "second-console")
        other.host = "elsewhere"
        assert other.acquire() is not None  # refused while the long sync runs


def test_a_batch_whose_outcomes_cannot_be_recorded_is_given_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = BatchFlow([Page(changes(3), cursor="c")])
    engine = make_engine(store, tmp_path, flow, workers=1)

    def locked(items):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(engine.queue, "finish_many", locked)
    with pytest.raises(RuntimeError, match="database is locked"):
        engine.sync_once()  # the fault is raised once the batch in flight is over
    assert states(store) == {"queued": 3}  # given back, not left running
    assert store.execute("SELECT outcome, count(*) FROM attempt").fetchone() == ("released", 3)
    assert flow.batches == [[f"rec{i}" for i in range(3)]]  # no claiming after the fault


def test_when_even_giving_back_fails_the_lease_returns_the_jobs(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = BatchFlow([Page(changes(3), cursor="c")])
    engine = make_engine(store, tmp_path, flow, workers=1)

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(engine.queue, "finish_many", locked)
    monkeypatch.setattr(engine.queue, "release", locked)
    with pytest.raises(RuntimeError):
        engine.sync_once()
    assert states(store) == {"running": 3}
    assert engine.queue.held() == []  # no longer in flight here: expiry may return them
    monkeypatch.undo()
    engine.queue.clock = lambda: time.time() + 3600
    assert engine.queue.expire_leases() == 3
    assert states(store) == {"queued": 3}


def test_jobs_of_a_removed_shop_wait_untouched(store: Store, tmp_path: Path) -> None:
    from shopodoo_console.config import Config

    engine = make_engine(store, tmp_path, ScriptedFlow())
    gone = store.sync_shop("gone.myshopify.com", api_version="2026-07")  # no longer configured
    engine.queue.enqueue(gone, "gone.myshopify.com", "test", changes(2))
    shop_id = next(iter(engine.shops))
    engine.queue.enqueue(shop_id, "s", "test", changes(1, prefix="here"))
    assert engine.runner.drain().claimed == 1  # only the configured shop's job
    assert dict(
        store.execute("SELECT shop_id, state FROM job WHERE shop_id = ?", (gone,)).fetchall()
    ) == {gone: "queued"}
    none = Config(path=engine.config.path, odoo=None, shops=(), engine=engine.config.engine)
    engine.apply_config(none)
    engine.queue.enqueue(shop_id, "s", "test", changes(1, prefix="later"))
    assert engine.runner.drain().claimed == 0  # nothing configured: nothing claimed
