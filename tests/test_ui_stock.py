"""The console's stock pieces on a real world (both simulators over real HTTP).

* Mappings › Locations lists every Shopify location; the unmapped one shows the Odoo stock
  location at its address, and is mapped in three keys (enter, enter takes the suggestion,
  enter saves);
* Mappings › Products lists what the stock flow leaves alone, with the reason;
* review mode: the stock plans wait; the Queue approves every one shown in bulk (A, y);
* Dashboard: R, y starts a resync; its bar and ETA show until it is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stock_support import MAIN, OUTLET, make_world, open_console
from ui_harness import loaded, make_app, press, shows, wait_for

from shopodoo_console.engine import mappings
from shopodoo_console.launch import ui_hooks
from shopodoo_console.sim.world import World
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.mappings import MappingsScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor

SIZE = (140, 40)


@pytest.fixture
def world() -> Iterator[World]:
    with make_world(19) as w:
        yield w


def _app(console: Any) -> Any:
    flow = console.engine.flows.get("stock")
    return make_app(
        console.engine,
        console.store,
        console.config,
        demo=True,
        **ui_hooks(console.engine, flow.connections),
    )


def test_locations_are_listed_and_the_unmapped_one_is_mapped_by_its_address(
    world: World, tmp_path: Path
) -> None:
    c = open_console(world, tmp_path / "home", locations=[MAIN])
    outlet = world.shopify.store.location(OUTLET)["id"]
    lyon = c.facts["stock_locations"][outlet]

    async def scenario() -> None:
        app = _app(c)
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "4")
            screen = await loaded(app, MappingsScreen)
            screen.set_kind("location")
            await shows(app, OUTLET, "not mapped", "Lyon Store — LYO/Stock", "same address")
            await shows(app, MAIN, "mapped", "ShipFast 3PL", "Old Depot", "inactive")
            rows = screen.data.entries
            target = next(e for e in rows if e.source_key == outlet)
            table = screen.query_one("#mapping-table")
            table.move_cursor(row=rows.index(target))
            await press(pilot, "enter")
            editor = await wait_for(lambda: isinstance(app.screen, MappingEditor) and app.screen)
            await shows(app, "Lyon Store — LYO/Stock")
            await wait_for(lambda: app.focused is editor.query_one("#map-suggestions"))
            await press(pilot, "enter")  # take the suggestion
            await wait_for(lambda: editor.query_one("#map-odoo").value == str(lyon))
            await press(pilot, "enter")  # save
            await wait_for(
                lambda: mappings.get_mapping(c.store, c.shop_id, "location", outlet),
                what="the mapping saved",
            )

    asyncio.run(scenario())
    saved = mappings.get_mapping(c.store, c.shop_id, "location", outlet)
    assert saved is not None and saved.odoo_id == lyon and saved.odoo_model == "stock.location"
    c.close()


def test_products_list_what_the_stock_flow_leaves_alone_with_the_reason(
    world: World, tmp_path: Path
) -> None:
    world.shopify.control.set_tracked("CM-BLU-000", False)
    c = open_console(world, tmp_path / "home")
    c.sync()

    async def scenario() -> None:
        app = _app(c)
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "4")
            await loaded(app, MappingsScreen)
            await shows(app, "left alone", "does not track", "archived in Shopify")

    asyncio.run(scenario())
    c.close()


def test_review_plans_are_approved_in_bulk_from_the_queue(world: World, tmp_path: Path) -> None:
    c = open_console(world, tmp_path / "home", mode="review")
    c.odoo_stock("CM-RED-000", MAIN, 21)
    c.sync()
    waiting = c.jobs("AND state = 'awaiting_approval'")
    assert len(waiting) >= 2  # ours, and the scenario's drift
    assert c.adjustments() == []
    c.engine.start()

    async def scenario() -> None:
        app = _app(c)
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "2")
            queue = await loaded(app, QueueScreen)
            queue.set_filter(flow="stock", states=("awaiting_approval",))
            await shows(app, "awaiting approval", "CM-RED-000")
            await press(pilot, "A")
            await shows(app, f"Approve {len(waiting)} plan(s) awaiting approval (stock)?")
            await press(pilot, "y")
            await wait_for(
                lambda: not c.jobs("AND state IN ('awaiting_approval', 'queued', 'running')"),
                timeout=30,
                what="every approved plan run",
            )

    try:
        asyncio.run(scenario())
    finally:
        c.engine.stop()
    assert c.available("CM-RED-000") == 21
    approved = {j["id"] for j in waiting}
    assert {j["state"] for j in c.jobs() if j["id"] in approved} == {"done"}
    c.close()


def test_a_resync_started_from_the_dashboard_shows_its_bar_until_done(
    world: World, tmp_path: Path
) -> None:
    c = open_console(world, tmp_path / "home")
    c.engine.start()

    async def scenario() -> None:
        app = _app(c)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, DashboardScreen)
            await press(pilot, "R")
            await shows(app, "Resync the stock of")
            await press(pilot, "y")
            text = await shows(app, "Stock resync", "100%", "variants", "done", timeout=60)
            assert "█" in text
            await wait_for(lambda: app.noted("Stock resync of"), what="the resync's notice")

    try:
        asyncio.run(scenario())
    finally:
        c.engine.stop()
    row = c.store.execute("SELECT state, variants FROM stock_resync").fetchone()
    assert row[0] == "done" and row[1] == len(world.shopify.store.variants)
    c.close()


def test_a_refused_stock_level_is_a_failure_group_with_its_record(
    world: World, tmp_path: Path
) -> None:
    from shopodoo_console.ui.screens.failures import FailuresScreen

    c = open_console(world, tmp_path / "home")
    c.odoo_stock("CM-RED-000", MAIN, 2_000_000_000)  # more than Shopify takes
    c.sync()

    async def scenario() -> None:
        app = _app(c)
        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "3")
            await loaded(app, FailuresScreen)
            await shows(app, "Shopify refused the change", "CM-RED-000")

    asyncio.run(scenario())
    c.close()
