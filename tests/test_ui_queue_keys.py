"""Queue and Failures keys an operator leans on: skipped jobs say why, `s` reaches every
state, escape clears the filters, `/` finds part of a SKU or an order name; in Failures `r`
names the job it queued again and `R` keeps the cursor where it was."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support import open_store
from ui_harness import (
    RecordingApp,
    loaded,
    make_app,
    press,
    shows,
    type_text,
    utc_timezone,
    wait_for,
)
from ui_sample import NOW, build_sample

from shopodoo_console.store.job_search import search_job_ids
from shopodoo_console.ui.format import STATE_ORDER
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.widgets.tables import NavTable


@pytest.fixture
def sample(tmp_path: Path) -> Any:
    with utc_timezone():
        store = open_store(tmp_path)
        engine = build_sample(store)
        yield store, engine
        store.close()


def run(store: Any, engine: Any, scenario: Any) -> RecordingApp:
    app = make_app(engine, store, engine.config, clock=lambda: NOW)

    async def go() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await scenario(app, pilot)

    asyncio.run(go())
    return app


def test_search_finds_part_of_a_sku_and_takes_wildcards_literally(sample) -> None:
    store, _ = sample
    mug = search_job_ids(store, "UG-RE")  # part of the SKU MUG-RED, from the cause
    assert len(mug) == 3  # two orders waiting on it, and its stock job
    assert search_job_ids(store, "M_G-RED") == [] and search_job_ids(store, "MUG%RED") == []
    assert search_job_ids(store, "unchanged since")  # a skip's reason
    assert search_job_ids(store, "#101", states=("needs_attention",))


def test_queue_skipped_reason_every_state_escape_and_sku_filter(sample) -> None:
    store, engine = sample

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "2")
        queue = await loaded(app, QueueScreen)
        table = queue.query_one("#jobs", NavTable)
        await wait_for(lambda: table.row_count > 10, what="the jobs")
        seen: list[tuple[str, ...]] = []
        for _ in range(len(STATE_ORDER) + 2):
            await press(pilot, "s")
            await wait_for(lambda: queue.data.filters == queue.filters, what="the filter")
            seen.append(tuple(queue.filters.states))
            if queue.filters.states == ("skipped",):
                await shows(app, "unchanged since last sync")  # the reason, in Why
        assert ("skipped",) in seen and ("cancelled",) in seen and ("superseded",) in seen
        await press(pilot, "escape")
        await wait_for(lambda: queue.filters.states == () and table.row_count > 10, what="all")
        await press(pilot, "slash")
        await type_text(pilot, "UG-RE")
        await wait_for(lambda: table.row_count == 3, what="the MUG-RED jobs")
        await shows(app, "Product not mapped")
        await press(pilot, "escape")  # out of the field, filter cleared
        await wait_for(
            lambda: queue.filters.text is None and app.focused is table and table.row_count > 3,
            what="the filter cleared",
        )

    run(store, engine, scenario)


def test_failures_r_names_the_job_and_big_r_keeps_the_cursor(sample) -> None:
    store, engine = sample

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "3")
        screen = await loaded(app, FailuresScreen)
        groups = screen.query_one("#groups", NavTable)
        await wait_for(lambda: len(groups.row_keys) == 3, what="three groups")
        await press(pilot, "j")
        await wait_for(lambda: screen.data.code == groups.row_keys[1], what="the second group")
        second, third = groups.row_keys[1], groups.row_keys[2]
        await press(pilot, "R")
        await wait_for(lambda: groups.row_keys == [groups.row_keys[0], third], what="it leaves")
        # the cursor stays where it was: on the group that moved up into its place
        await wait_for(lambda: screen.code == third and groups.current_key == third)
        assert second not in groups.row_keys
        await press(pilot, "k")
        await wait_for(lambda: screen.data.code == "mapping.product_missing" and screen.data.jobs)
        job = screen.data.jobs[0]
        jobs = screen.query_one("#group-jobs", NavTable)
        await wait_for(lambda: jobs.current_key == str(job.id), what="the group's jobs shown")
        await press(pilot, "tab")  # to the group's jobs
        await press(pilot, "r")
        await wait_for(lambda: app.noted(f"Job {job.id} ({job.label}) queued again"))

    run(store, engine, scenario)
