"""The console end to end with a real engine: fix an unmapped SKU from Failures and watch
the waiting jobs go done; pause and resume; read-only when another console polls."""

from __future__ import annotations

import asyncio
from pathlib import Path

from support import ScriptedFlow, changes, make_config, open_store
from ui_harness import loaded, make_app, press, screen_text, shows, wait_for

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import FlowRegistry, JobContext, Page
from shopodoo_console.engine.lease import SchedulerLease
from shopodoo_console.engine.mappings import get_mapping
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor

SIZE = (140, 40)


def states(engine: Engine) -> dict[str, int]:
    return engine.queue.counts_by_state()


def test_fix_unmapped_sku_from_failures_in_five_keys_and_jobs_go_done(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    flow = ScriptedFlow([Page(changes(3, prefix="mug") + changes(2, prefix="ok"), cursor="c1")])

    def needs_mug_red(ctx: JobContext) -> None:
        if ctx.job.source_id.startswith("mug") and (
            get_mapping(store, ctx.shop.id, "product", "MUG-RED") is None
        ):
            raise CauseError(
                Cause(
                    "mapping.product_missing",
                    missing="no Odoo product is mapped to SKU MUG-RED",
                    blocked_on=("product:MUG-RED",),
                )
            )

    flow.on_handle = needs_mug_red
    engine = Engine(store, make_config(tmp_path), FlowRegistry([flow]))
    engine.start()

    async def scenario() -> None:
        app = make_app(engine, store, engine.config)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                lambda: states(engine) == {"needs_attention": 3, "done": 2},
                what="three jobs blocked on MUG-RED",
            )
            keys: list[str] = []

            async def key(*names: str) -> None:
                keys.extend(names)
                await press(pilot, *names)

            await key("3")  # open Failures
            screen = await loaded(app, FailuresScreen)
            await wait_for(lambda: screen.data and screen.data.jobs, what="the group's jobs")
            await shows(app, "Product not mapped", "MUG-RED (3 jobs)")
            await key("f")  # jump to the fix: the mapping editor, pre-filled
            editor = await wait_for(
                lambda: isinstance(app.screen, MappingEditor) and app.screen, what="the editor"
            )
            assert editor.query_one("#map-key").value == "MUG-RED"
            await wait_for(
                lambda: app.focused is editor.query_one("#map-odoo"),
                what="the cursor in the Odoo id field",
            )
            await key("4", "2", "enter")  # the Odoo product id, save (re-queues the jobs)
            await wait_for(
                lambda: states(engine) == {"done": 5},
                timeout=10,
                what="the three waiting jobs to finish",
            )
            assert len(keys) <= 10, keys
            assert len(keys) == 5
            await wait_for(lambda: app.noted("3 waiting jobs queued again"), what="the notice")
            await shows(app, "Nothing needs attention")

    try:
        asyncio.run(scenario())
    finally:
        engine.stop()
    mapping = get_mapping(store, next(iter(engine.shops)), "product", "MUG-RED")
    assert mapping is not None and mapping.odoo_id == 42


def test_pause_and_resume_from_the_keyboard(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    engine = Engine(store, make_config(tmp_path), FlowRegistry([ScriptedFlow()]))
    engine.start()

    async def scenario() -> None:
        app = make_app(engine, store, engine.config)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, DashboardScreen)
            assert "scheduler running" in app.sub_title
            await press(pilot, "p")
            await wait_for(lambda: engine.state == "paused", what="the pause")
            await shows(app, "Paused")
            assert "PAUSED" in app.sub_title
            await press(pilot, "p")
            await wait_for(lambda: engine.state == "running", what="the resume")
            await shows(app, "● Running")

    try:
        asyncio.run(scenario())
    finally:
        engine.stop()


def test_read_only_console_names_who_holds_the_lease(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    other = SchedulerLease(store, "console@elsewhere:77:abc")
    other.host, other.pid = "elsewhere", 77
    assert other.acquire() is None
    engine = Engine(store, make_config(tmp_path), FlowRegistry([ScriptedFlow()]))
    assert engine.start() is not None and engine.state == "read_only"

    async def scenario() -> None:
        app = make_app(engine, store, engine.config)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, DashboardScreen)
            await shows(app, "Read-only", "process 77 on elsewhere")
            assert "READ-ONLY" in app.sub_title
            await press(pilot, "p")  # nothing to pause: the binding is not offered
            assert engine.state == "read_only"
            assert "Pause/resume" not in screen_text(app)

    try:
        asyncio.run(scenario())
    finally:
        engine.stop()
