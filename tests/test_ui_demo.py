"""The console on the demo's world: real orders flow, both simulators, real suggestions."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ui_harness import loaded, make_app, press, shows, wait_for

from shopodoo_console import demo
from shopodoo_console.launch import build_engine, ui_hooks
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor

SIZE = (130, 40)


def test_fix_the_demo_sku_with_a_suggestion_in_four_keys(tmp_path: Path) -> None:
    world = demo.start_world(seed=7, orders=30, odoo_version=19)
    try:
        facts = world.facts()
        paths = demo.demo_home(tmp_path / "home")
        config = demo.write_config(paths, facts)
        engine, store, connections = build_engine(
            paths, config, secret_source=demo.secret_source(facts)
        )
        demo.seed_mappings(engine.queue, next(iter(engine.shops)), facts)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the lost answer's retry has run
            engine.sync_once()
            if not store.execute(
                "SELECT 1 FROM job WHERE state IN ('queued', 'retrying')"
            ).fetchone():
                break
            time.sleep(0.2)

        def waiting() -> int:
            return store.execute(
                "SELECT count(*) FROM job WHERE cause_code = "
                "'mapping.product_missing' AND blocked_on LIKE "
                "'%OT-XL-001%' AND state = 'needs_attention'"
            ).fetchone()[0]

        blocked = [
            r[0]
            for r in store.execute(
                "SELECT id FROM job WHERE state = 'needs_attention' AND blocked_on LIKE "
                "'%OT-XL-001%'"
            ).fetchall()
        ]
        assert blocked and waiting() == len(blocked)
        engine.start()

        async def scenario() -> None:
            app = make_app(engine, store, config, **ui_hooks(engine, connections))
            async with app.run_test(size=SIZE) as pilot:
                keys = ["3", "f"]
                await press(pilot, "3")
                screen = await loaded(app, FailuresScreen)
                await wait_for(lambda: screen.data and screen.data.jobs, what="the jobs")
                await shows(app, "Product not mapped", "OT-XL-001")
                await press(pilot, "f")
                editor = await wait_for(
                    lambda: isinstance(app.screen, MappingEditor) and app.screen, what="the editor"
                )
                await shows(app, "Organic T-Shirt (XL)", "name matches")
                await wait_for(
                    lambda: app.focused is editor.query_one("#map-suggestions"),
                    what="the cursor on the first suggestion",
                )
                keys += ["enter", "enter"]
                await press(pilot, "enter")  # take the suggestion
                await wait_for(
                    lambda: editor.query_one("#map-odoo").value != "", what="the id filled in"
                )
                await press(pilot, "enter")  # save: re-queues the waiting orders
                await wait_for(lambda: waiting() == 0, timeout=30, what="the orders to go")
                assert len(keys) == 4

        asyncio.run(scenario())
        engine.stop()
        marks = ", ".join("?" * len(blocked))
        states = {
            r[0]
            for r in store.execute(
                f"SELECT state FROM job WHERE id IN ({marks})", blocked
            ).fetchall()
        }
        assert states == {"done"}
        xl = world.odoo.env["product.product"].search([("name", "=", "Organic T-Shirt (XL)")])
        lines = world.odoo.env["sale.order.line"].search_count([("product_id", "in", xl)])
        assert lines >= len(blocked)
        store.close()
    finally:
        world.stop()
