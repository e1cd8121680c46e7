"""Render one SVG per console screen into ``screenshots/`` from the running demo.

Exactly what `shopodoo demo` runs: the simulated shop and Odoo (same seed), the real engine
started (scheduler running, polling every 5 s), the demo's credentials held in memory (the
keyring is never touched), the real suggestions from Odoo. The script waits until the queue
has settled (the lost Odoo answer recovered, the throttled burst ridden out), then drives the
console with keys and saves each screen. The first-run screen is taken from a console with no
config. (The snapshot tests use the fixed-clock sample in tests/ui_sample.py instead, so
their SVGs never change by themselves.)

Usage: .venv/bin/python scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the key-driving helpers live with the tests

from ui_harness import loaded, press, screen_text, wait_for  # noqa: E402

from shopodoo_console.ui.app import ShopodooApp  # noqa: E402
from shopodoo_console.ui.messages import OpenJob  # noqa: E402
from shopodoo_console.ui.screens.dashboard import DashboardScreen  # noqa: E402
from shopodoo_console.ui.screens.failures import FailuresScreen  # noqa: E402
from shopodoo_console.ui.screens.help import HelpScreen  # noqa: E402
from shopodoo_console.ui.screens.job import JobScreen  # noqa: E402
from shopodoo_console.ui.screens.mappings import MappingsScreen  # noqa: E402
from shopodoo_console.ui.screens.queue import QueueScreen  # noqa: E402
from shopodoo_console.ui.screens.settings import SettingsScreen  # noqa: E402
from shopodoo_console.ui.screens.setup import SetupScreen  # noqa: E402
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor  # noqa: E402

SIZE = (130, 36)


def start_demo(folder: Path) -> tuple[Any, Any, Any, Any]:
    """The demo as `shopodoo demo` starts it: (world, engine, store, connections)."""
    from shopodoo_console import demo
    from shopodoo_console.launch import build_engine

    world = demo.start_world(seed=7, orders=60, odoo_version=19)
    facts = world.facts()
    paths = demo.demo_home(folder)
    config = demo.write_config(paths, facts, options=demo.DEMO_OPTIONS, flows=demo.DEMO_FLOWS)
    engine, store, connections = build_engine(
        paths, config, secret_source=demo.secret_source(facts)
    )
    demo.seed_mappings(engine.queue, next(iter(engine.shops)), facts)
    demo.seed_location_mappings(
        engine.queue, next(iter(engine.shops)), facts, list(demo.DEMO_MAPPED_LOCATIONS)
    )
    engine.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # settled: polled, nothing queued, running or retrying
        busy = store.execute(
            "SELECT count(*) FROM job WHERE state IN ('queued', 'running', 'retrying')"
        ).fetchone()[0]
        polled = store.execute("SELECT count(*) FROM cursor WHERE last_poll_ok = 1").fetchone()
        if polled[0] and not busy:
            break
        time.sleep(0.5)  # a script watching a live demo, not a test
    return world, engine, store, connections


def first_job(store: Any, state: str) -> int:
    row = store.execute(
        "SELECT min(job.id) FROM job JOIN attempt ON attempt.job_id = job.id "
        "WHERE job.state = ? AND attempt.outcome = 'failed'",
        (state,),
    ).fetchone()
    if row[0] is None:
        row = store.execute("SELECT min(id) FROM job WHERE state = ?", (state,)).fetchone()
    return int(row[0] or 1)


def shipped_some(store: Any) -> None:
    """Wait until the warehouse's deliveries met the fulfillments flow: the seeded held,
    split and 3PL orders explained, and a few shipments fulfilled."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        causes = {
            row[0]
            for row in store.execute(
                "SELECT cause_code FROM job WHERE flow = 'fulfillments' AND cause_code IS NOT NULL"
            ).fetchall()
        }
        (done,) = store.execute(
            "SELECT count(*) FROM job WHERE flow = 'fulfillments' AND state = 'done'"
        ).fetchone()
        wanted = {"fulfillment.on_hold", "fulfillment.other_location", "fulfillment.service"}
        if wanted <= causes and done >= 3:
            return
        time.sleep(0.5)  # a script watching a live demo, not a test


def fulfilled_job(store: Any) -> int:
    """A delivery that became a fulfillment with its tracking number."""
    row = store.execute(
        "SELECT min(id) FROM job WHERE flow = 'fulfillments' AND state = 'done' "
        "AND result LIKE 'Fulfilled%tracking%'"
    ).fetchone()
    return int(row[0] or 1)


async def settle(app: Any, pilot: Any, screen_type: type) -> Any:
    screen = await loaded(app, screen_type)
    await wait_for(lambda: not screen._loading, what="the load")
    # The footer is drawn a moment after the screen: wait, or it comes out blank.
    await wait_for(lambda: "palette" in (screen_text(app).splitlines() or [""])[-1], what="footer")
    await pilot.pause(0.2)
    return screen


async def save(app: Any, out: Path, name: str, written: list[Path]) -> None:
    """Save once the footer is drawn (it is recomposed once more after a screen opens)."""

    def footer() -> bool:
        lines = screen_text(app).splitlines()
        return bool(lines) and "palette" in lines[-1]

    await wait_for(footer, what=f"{name}: the footer")
    await asyncio.sleep(0.3)
    await wait_for(footer, what=f"{name}: the footer, still")
    path = out / f"{name}.svg"
    path.write_text(app.export_screenshot(title=f"shopodoo — {name}"), encoding="utf-8")
    written.append(path)


async def shoot_demo(out: Path, folder: Path) -> list[Path]:
    from shopodoo_console import demo
    from shopodoo_console.launch import ui_hooks
    from shopodoo_console.sim.world import WarehouseActivity

    world, engine, store, connections = start_demo(folder)
    activity = demo.ShopActivity(world, seed=7, every=3.0).start()  # new orders keep coming
    warehouse = WarehouseActivity(world, seed=7, every=1.0).start()  # and the warehouse ships
    shipped_some(store)
    app = ShopodooApp(
        engine=engine,
        store=store,
        config=engine.config,
        paths=demo.demo_home(folder),
        demo=True,
        **ui_hooks(engine, connections),
    )
    written: list[Path] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            dashboard = await settle(app, pilot, DashboardScreen)
            await wait_for(lambda: "done/min" in screen_text(app), what="the chart")
            await wait_for(  # a live demo: the gauges' history builds up over some seconds
                lambda: (
                    dashboard.query_one("#budget-spark").data
                    and dashboard.query_one("#latency-spark").data
                ),
                timeout=90,
                what="a history for the sparklines",
            )
            await wait_for(
                lambda: "palette" in screen_text(app).splitlines()[-1], what="the footer again"
            )
            await pilot.pause(0.3)
            await save(app, out, "1-dashboard", written)
            for key, name, screen_type in (
                ("2", "2-queue", QueueScreen),
                ("3", "3-failures", FailuresScreen),
                ("4", "5-mappings", MappingsScreen),
                ("5", "6-settings", SettingsScreen),
            ):
                await press(pilot, key)
                await settle(app, pilot, screen_type)
                await save(app, out, name, written)
            # 3b: f on the unmapped SKU, with Odoo's suggestions
            await press(pilot, "3")
            failures = await settle(app, pilot, FailuresScreen)
            failures.select_group("mapping.product_missing")
            await wait_for(
                lambda: failures.data.code == "mapping.product_missing" and failures.data.jobs,
                what="the unmapped SKU group",
            )
            await press(pilot, "f")
            editor = await wait_for(lambda: isinstance(app.screen, MappingEditor) and app.screen)
            await wait_for(
                lambda: app.focused is editor.query_one("#map-suggestions"),
                what="the suggestions",
            )
            editor.query_one("#map-odoo").cursor_blink = False
            await pilot.pause(0.2)
            await save(app, out, "3b-fix-unmapped-sku", written)
            await press(pilot, "escape")
            app.post_message(OpenJob(first_job(store, "done")))
            await settle(app, pilot, JobScreen)
            await save(app, out, "4-job-detail", written)
            # 10, 11: the fulfillments the warehouse's deliveries became, and the awkward ones
            await press(pilot, "escape", "3")
            failures = await settle(app, pilot, FailuresScreen)
            failures.select_group("fulfillment.on_hold")
            await wait_for(
                lambda: failures.data.code == "fulfillment.on_hold" and failures.data.jobs,
                what="the held order's group",
            )
            await pilot.pause(0.3)
            await save(app, out, "10-fulfillment-on-hold", written)
            app.post_message(OpenJob(fulfilled_job(store)))
            job = await settle(app, pilot, JobScreen)
            timeline = job.query_one("#job-timeline")  # the delivery, the fulfillment, tracking
            job.query_one("#job").scroll_to_widget(timeline, top=True, animate=False)
            await pilot.pause(0.3)
            await save(app, out, "11-fulfillment-job", written)
            await press(pilot, "escape", "question_mark")
            await wait_for(lambda: isinstance(app.screen, HelpScreen))
            await pilot.pause(0.2)
            await save(app, out, "7-help", written)
            await press(pilot, "escape")
            await shoot_stock(app, pilot, store, out, written)
    finally:
        activity.stop()
        warehouse.stop()
        engine.stop()
        store.close()
        world.stop()
    return written


async def shoot_stock(app: Any, pilot: Any, store: Any, out: Path, written: list[Path]) -> None:
    """The stock flow: its locations, its plans in review, one plan, a resync under way."""
    await press(pilot, "4")
    mappings = await settle(app, pilot, MappingsScreen)
    mappings.set_kind("location")
    await wait_for(lambda: "Lyon Store" in screen_text(app), timeout=30, what="suggestions")
    await save(app, out, "12-stock-locations", written)
    await press(pilot, "2")
    queue = await settle(app, pilot, QueueScreen)
    queue.set_filter(flow="stock", states=("awaiting_approval",))
    await wait_for(lambda: "awaiting approval" in screen_text(app), what="stock plans")
    await pilot.pause(0.3)
    await save(app, out, "13-stock-review", written)
    app.post_message(OpenJob(first_stock_plan(store)))
    await settle(app, pilot, JobScreen)
    await save(app, out, "14-stock-plan", written)
    await press(pilot, "escape", "1")
    await settle(app, pilot, DashboardScreen)
    await press(pilot, "R")
    await wait_for(lambda: "Resync the stock of" in screen_text(app), what="the question")
    await press(pilot, "y")
    await wait_for(lambda: "Stock resync" in screen_text(app), timeout=60, what="the bar")
    await pilot.pause(0.5)
    await save(app, out, "15-stock-resync", written)


def first_stock_plan(store: Any) -> int:
    row = store.execute(
        "SELECT min(id) FROM job WHERE flow = 'stock' AND state = 'awaiting_approval'"
    ).fetchone()
    return int(row[0] or 1)


async def shoot_first_run(out: Path, folder: Path) -> list[Path]:
    from shopodoo_console.config import Paths, load_config
    from shopodoo_console.launch import build_engine, ui_hooks

    paths = Paths(folder / "config", folder / "data", folder / "state", folder / "logs")
    config = load_config(paths.config_file, required=False)
    engine, store, connections = build_engine(paths, config)
    app = ShopodooApp(
        engine=engine, store=store, config=config, paths=paths, **ui_hooks(engine, connections)
    )
    written: list[Path] = []
    engine.start()  # as `shopodoo` does: running, with nothing to poll yet
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot, SetupScreen)
            await save(app, out, "8-first-run", written)
    finally:
        engine.stop()
        store.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shopodoo-shots-") as tmp:
        os.environ["SHOPODOO_HOME"] = tmp
        written = asyncio.run(shoot_demo(args.out, Path(tmp) / "demo"))
        written += asyncio.run(shoot_first_run(args.out, Path(tmp) / "first-run"))
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
