"""The Audit and Review screens over a seeded world: the audit runs in a worker thread with a
live progress bar, findings open their job or records, a backfill queues jobs; the Review
shows its charts and figures (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reconcile_support import SINCE, UNTIL, link_seeded, reconcile_world
from test_review import DAY, record
from ui_harness import loaded, make_app, press, shows, wait_for

from shopodoo_console.sim.mismatches import Mismatches
from shopodoo_console.sim.seed_orders import shopify_orders, synced_orders
from shopodoo_console.store import reconcile as runs
from shopodoo_console.ui.screens.audit import AuditScreen, RecordsModal
from shopodoo_console.ui.screens.job import JobScreen
from shopodoo_console.ui.screens.review import ReviewScreen

SIZE = (150, 45)


def test_audit_screen_runs_in_a_thread_shows_findings_and_opens_them(tmp_path: Path) -> None:
    with reconcile_world(tmp_path / "home", 19) as s:
        seeded = synced_orders(s.world.shopify, s.world.odoo, 40, since=SINCE, until=UNTIL)
        link_seeded(s.console, seeded)
        mm = Mismatches(s.world.shopify, s.world.odoo)
        amount = mm.amount(seeded[5].gid, "total")
        app = make_app(s.console.engine, s.console.store, s.console.config, reconcile=s.reconcile)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await press(pilot, "7")
                screen = await loaded(app, AuditScreen)
                await shows(app, "No audit yet: press a.")
                since = screen.query_one("#audit-since")
                since.value = SINCE.strftime("%Y-%m-%dT%H:%M:%SZ")
                screen.query_one("#audit-until").value = UNTIL.strftime("%Y-%m-%dT%H:%M:%SZ")
                await press(pilot, "a")
                assert screen.running == "audit"
                # The event loop stays free while the audit works in its thread.
                started = asyncio.get_running_loop().time()
                await asyncio.sleep(0)
                assert asyncio.get_running_loop().time() - started < 0.5
                await wait_for(lambda: screen.running is None, 60, "the audit to finish")
                text = await shows(app, "1 finding(s)", "1 amount", amount.shopify_name)
                assert "audit [####" in text and "Shopify budget" in text
                # No job explains the planted edit: enter shows the records in both systems.
                await press(pilot, "enter")
                await wait_for(lambda: isinstance(app.screen, RecordsModal))
                await shows(app, f"/web#id={amount.odoo_ids[0]}&model=sale.order", "total +5.00")
                await press(pilot, "escape")
                await wait_for(lambda: isinstance(app.screen, AuditScreen))

        asyncio.run(scenario())
        (run,) = runs.runs(s.console.store, kind="audit")
        assert run.state == "done" and run.found == 1


def test_backfill_from_the_console_and_a_finding_opens_its_job(tmp_path: Path) -> None:
    with reconcile_world(tmp_path / "home", 19) as s:
        seeded = shopify_orders(s.world.shopify, 12, since=SINCE, until=UNTIL)
        app = make_app(s.console.engine, s.console.store, s.console.config, reconcile=s.reconcile)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await press(pilot, "7")
                screen = await loaded(app, AuditScreen)
                screen.query_one("#audit-since").value = SINCE.strftime("%Y-%m-%dT%H:%M:%SZ")
                screen.query_one("#audit-until").value = UNTIL.strftime("%Y-%m-%dT%H:%M:%SZ")
                await press(pilot, "b")
                await shows(app, "Queue the orders of")
                await press(pilot, "y")
                await wait_for(lambda: app.noted("Backfill"), 60, "the backfill to end")
                assert app.noted("12 new jobs")
                # Audit now: every order is missing, each with its queued job.
                await press(pilot, "a")
                await wait_for(lambda: app.noted("Audit "), 60, "the audit to end")
                await shows(app, "12 missing")
                await press(pilot, "enter")
                await wait_for(lambda: isinstance(app.screen, JobScreen))

        asyncio.run(scenario())
        jobs = {r[0] for r in s.console.store.execute("SELECT source_id FROM job")}
        assert jobs == {o.gid for o in seeded}


def test_review_screen_shows_the_charts_and_figures(tmp_path: Path) -> None:
    with reconcile_world(tmp_path / "home", 19) as s:
        import time

        record(s.console.store, time.time() - 6 * DAY)
        app = make_app(s.console.engine, s.console.store, s.console.config)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await press(pilot, "6")
                await loaded(app, ReviewScreen)
                await shows(
                    app,
                    "Failed attempts per day, by cause",
                    "Retries per job",
                    "2× resolve: fixed in Odoo by hand",
                    "2× sale.order.order_line",
                    "product MUG-9 → product.product 42 Mug (1 job(s) re-queued)",
                    "mapping.product_missing",
                )
                await press(pilot, "[")
                await shows(app, "Last 14 days")
                await press(pilot, "enter")  # the job still waiting
                await wait_for(lambda: isinstance(app.screen, JobScreen))

        asyncio.run(scenario())
