"""The backfill: orders older than the cursor through the same job keys as the live poll,
20,000 of them through the bulk path with real CLI processes killed mid-way and resumed
(issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reconcile_support import SINCE, UNTIL, reconcile_world
from test_orders_crash import prepare_home

from shopodoo_console import demo
from shopodoo_console.engine.keys import job_key
from shopodoo_console.sim.seed_orders import shopify_orders
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store import reconcile as runs
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.orders.poll import iso


def test_backfill_makes_the_live_polls_job_keys_and_never_twice(tmp_path: Path) -> None:
    with reconcile_world(tmp_path / "home", 19) as s:
        seeded = shopify_orders(s.world.shopify, 30, since=SINCE, until=UNTIL)
        console = s.console
        # The live poll sees them first (its first poll looks back initial_days = 60).
        poll = console.engine.poll_all()[0]
        assert poll.ok and poll.new == 30
        polled = dict(
            console.store.execute("SELECT key, seen_count FROM job ORDER BY key").fetchall()
        )
        first = s.reconcile.backfill(s.domain, SINCE, UNTIL)
        assert (first.state, first.method, first.new, first.seen) == ("done", "paged", 0, 30)
        after = dict(
            console.store.execute("SELECT key, seen_count FROM job ORDER BY key").fetchall()
        )
        assert set(after) == set(polled)  # the same keys: nothing new
        assert all(n == 2 for n in after.values())  # each counted as seen again
        order = s.world.shopify.store.nodes[seeded[0].gid]
        assert job_key(s.domain, "orders", seeded[0].gid, order["updatedAt"]) in after
        # Orders created before the poll looked: new jobs, queued below live work.
        older = shopify_orders(
            s.world.shopify, 5, since=SINCE - timedelta(days=5), until=SINCE, seed=11
        )
        second = s.reconcile.backfill(s.domain, SINCE - timedelta(days=5), UNTIL)
        assert (second.new, second.seen) == (5, 30)
        rows = console.store.execute(
            "SELECT source_id, priority FROM job WHERE seen_count = 1"
        ).fetchall()
        assert {r[0] for r in rows} == {o.gid for o in older}
        assert {r[1] for r in rows} == {-1}


def test_backfill_until_defaults_to_the_cursor_and_nothing_before_it_is_left(
    tmp_path: Path,
) -> None:
    with reconcile_world(tmp_path / "home", 17) as s:
        seeded = shopify_orders(s.world.shopify, 12, since=SINCE, until=UNTIL)
        cursor = SINCE + (UNTIL - SINCE) / 2
        s.console.engine.poller.set_position(s.console.shop_id, "orders", iso(cursor))
        result = s.reconcile.backfill(s.domain, SINCE)
        assert result.until == iso(cursor)
        before = [o for o in seeded if o.created_at < iso(cursor)]
        assert result.new == len(before) == 6
        queued = {r[0] for r in s.console.store.execute("SELECT source_id FROM job")}
        assert queued == {o.gid for o in before}


def _backfill(env: dict[str, str], argv: list[str], crash_at: str | None = None):
    env = dict(env)
    if crash_at:
        env["SHOPODOO_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "shopodoo_console", "backfill", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_backfill_of_20000_orders_killed_twice_resumes_and_queues_each_once(
    tmp_path: Path,
) -> None:
    shopify, odoo = build_scenarios(orders=0, customers=8, products=10)
    now = datetime.now(UTC).replace(microsecond=0)
    since, until = now - timedelta(days=40), now - timedelta(days=1)
    with World(shopify, odoo, odoo_version=19) as world:
        seeded = shopify_orders(world.shopify, 20_000, since=since, until=until)
        env = prepare_home(world, tmp_path / "home")
        domain = world.shopify.domain
        argv = ["--shop", domain, "--since", iso(since), "--until", iso(until), "--json"]
        # 1. Killed right after the bulk export started (its id is saved).
        killed = _backfill(env, argv, crash_at="backfill.bulk_started")
        assert killed.returncode == -9, killed.stderr
        # 2. Resumed: picks the same export up by its id; killed after 40 of 80 batches.
        killed = _backfill(env, argv, crash_at="backfill.after_batch.40")
        assert killed.returncode == -9, killed.stderr
        store = Store(demo.demo_home(tmp_path / "home").database_file)
        middle = store.execute("SELECT count(*) FROM job").fetchone()[0]
        assert middle == 40 * 250  # committed with the resume point, batch by batch
        store.close()
        # 3. Resumed again: reads on from the saved byte offset, to the end.
        done = _backfill(env, argv)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert report["state"] == "done" and report["resumed"] is True
        assert report["method"] == "bulk" and report["orders"] == 20_000
        assert report["new_jobs"] == 20_000 and report["already_known"] == 0
        assert world.shopify.counters.operations.get("BulkRun") == 1  # one export, adopted
        store = Store(demo.demo_home(tmp_path / "home").database_file)
        count, distinct, seen = store.execute(
            "SELECT count(*), count(DISTINCT source_id), max(seen_count) FROM job"
        ).fetchone()
        assert (count, distinct, seen) == (20_000, 20_000, 1)  # every order once
        ids = {r[0] for r in store.execute("SELECT source_id FROM job").fetchall()}
        assert ids == {o.gid for o in seeded}
        (run,) = runs.runs(store, kind="backfill")
        assert run.state == "done" and run.done == 20_000
        store.close()
        # 4. A fourth run of the same period is a new run that finds everything known.
        again = _backfill(env, argv)
        assert json.loads(again.stdout)["already_known"] == 20_000
