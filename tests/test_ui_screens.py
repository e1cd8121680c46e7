"""Every screen and action of the console, on deterministic sample data (engine not started:
what an action changes stays visible in the store for the test to check)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support import open_store
from ui_harness import (
    RecordingApp,
    loaded,
    make_app,
    press,
    screen_text,
    shows,
    type_text,
    utc_timezone,
    wait_for,
)
from ui_sample import NOW, SHOP, build_sample

from shopodoo_console.causes import Cause
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.mappings import get_mapping
from shopodoo_console.store.db import Store
from shopodoo_console.ui.checks import MappingProposal, Verdict
from shopodoo_console.ui.commands import ScreenActions
from shopodoo_console.ui.reads import DashboardData
from shopodoo_console.ui.screens.dashboard import DashboardScreen, idle_reason, scheduler_banner
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.screens.help import HelpScreen, help_sections
from shopodoo_console.ui.screens.job import JobScreen
from shopodoo_console.ui.screens.mappings import MappingsScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor
from shopodoo_console.ui.widgets.modals import ConfirmModal, ReasonModal
from shopodoo_console.ui.widgets.tables import NavTable

SIZE = (140, 42)
Scenario = Callable[[RecordingApp, Any], Awaitable[None]]


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    with utc_timezone():
        yield


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Store, Engine]:
    store = open_store(tmp_path)
    engine = build_sample(store)
    yield store, engine
    store.close()


def run(store: Store, engine: Engine, scenario: Scenario, **kwargs: Any) -> RecordingApp:
    app = make_app(engine, store, engine.config, clock=lambda: NOW, **kwargs)

    async def go() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await scenario(app, pilot)

    asyncio.run(go())
    return app


def job_state(store: Store, job_id: int) -> str:
    return store.execute("SELECT state FROM job WHERE id = ?", (job_id,)).fetchone()[0]


# ---------------------------------------------------------------- dashboard


def test_dashboard_shows_streams_counts_metrics_and_causes(sample) -> None:
    store, engine = sample

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await loaded(app, DashboardScreen)
        await shows(
            app,
            "● Running",
            "4 needs attention",  # totals, attention first
            "11 done",
            "orders",
            "stock",
            "20:25:10",  # cursor, in local (here UTC) time
            "912/1000 points",  # Shopify budget from engine.metrics
            "p50 84 ms, p95 210 ms",  # Odoo latency
            "Product not mapped",  # top cause
            "done/min",  # the hour chart's legend
            "S00043 created",  # the activity feed, from the timeline
        )
        assert "40s ago" in screen_text(app)  # last poll, against the fixed clock
        # a stream in review shows the plans waiting for approval
        (waiting,) = store.execute(
            "SELECT count(*) FROM job WHERE flow = 'stock' AND state = 'awaiting_approval'"
        ).fetchone()
        assert waiting
        table = app.screen.query_one("#streams", NavTable)
        column = [c.key for c in table._column_spec].index("awaiting_approval")
        await wait_for(lambda: f"{SHOP}|stock" in table.row_keys, what="the stock stream")
        assert str(table._cells[f"{SHOP}|stock"][column]) == str(waiting)
        assert "Approval" in screen_text(app)
        # enter on a cause opens Failures on that group: wait for each state, not for time
        screen = app.screen
        causes = screen.query_one("#causes", NavTable)
        await wait_for(lambda: len(causes.row_keys) >= 2, what="the causes")
        causes.focus()
        await wait_for(lambda: app.focused is causes, what="focus on the causes")
        await press(pilot, "j")
        await wait_for(lambda: causes.cursor_row == 1, what="the second cause")
        wanted = causes.row_keys[1]
        await press(pilot, "enter")
        failures = await loaded(app, FailuresScreen)
        await wait_for(lambda: failures.code == wanted, what="its group selected")
        await press(pilot, "1")
        dashboard = await loaded(app, DashboardScreen)
        streams = dashboard.query_one("#streams", NavTable)
        await wait_for(lambda: streams.row_keys, what="the streams")
        streams.focus()
        await wait_for(lambda: app.focused is streams, what="focus on the streams")
        await press(pilot, "enter")  # a stream opens the queue filtered to it
        queue = await loaded(app, QueueScreen)
        await wait_for(
            lambda: queue.filters.shop == SHOP and queue.filters.flow == "orders",
            what="the queue filtered to the stream",
        )

    run(store, engine, scenario)


def test_dashboard_says_when_there_is_nothing_to_poll() -> None:
    none = DashboardData(
        now=NOW,
        scheduler="running",
        holder=None,
        streams=[],
        totals={},
        throughput=[],
        causes=[],
        budgets={},
        odoo_latency=None,
    )
    assert scheduler_banner("running", None, idle_reason(none)).plain == (
        "● Running — nothing to poll: no shop is configured (5 Settings, A adds one)"
    )
    all_off = replace(none, shops=2)
    assert idle_reason(all_off) == "every flow is off (5 Settings, m turns one on)"
    assert idle_reason(replace(all_off, polled=1)) == ""
    assert scheduler_banner("running", None, "").plain.endswith("polling and working the queue")
    assert scheduler_banner("paused", None, idle_reason(none)).plain.startswith("❚❚ Paused")


# ---------------------------------------------------------------- queue


def test_queue_pages_filters_and_opens_a_job(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    engine = build_sample(store)
    shop_id = next(iter(engine.shops))
    engine.queue.enqueue(
        shop_id,
        SHOP,
        "orders",
        [
            Change(f"gid://shopify/Order/{9000 + i}", "v1", f"Shopify order #{9000 + i}")
            for i in range(230)
        ],
    )

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "2")
        queue = await loaded(app, QueueScreen)
        table = queue.query_one("#jobs", NavTable)
        await wait_for(lambda: table.row_count == 100, what="the first page")
        assert table.row_keys[0] == "251"  # newest first
        await press(pilot, "G")  # to the bottom: the next page loads (keyset)
        await wait_for(lambda: table.row_count == 200, what="the second page")
        assert table.row_keys[100] == "151"
        await press(pilot, "s")  # state filter: problems
        await wait_for(lambda: table.row_count == 6, what="problem jobs only")
        await press(pilot, "slash")
        await wait_for(lambda: app.focused is queue.query_one("#filter-text"), what="focus")
        await type_text(pilot, "#1016")
        await wait_for(lambda: table.row_keys == ["16"], what="the text filter")
        await press(pilot, "enter")  # back to the table
        await wait_for(lambda: app.focused is table, what="focus")
        await press(pilot, "enter")  # open the job
        job = await loaded(app, JobScreen)
        assert job.job_id == 16
        await shows(app, "payment gateway 'klarna' has no Odoo journal")
        await press(pilot, "escape")
        await wait_for(lambda: app.screen is queue, what="back to the queue")
        await press(pilot, "r")  # retry the selected job
        await wait_for(lambda: job_state(store, 16) == "queued", what="the retry")
        await wait_for(lambda: table.row_count == 0, what="it to leave the problems view")
        await shows(app, "No jobs match.")
        for _ in range(12):  # `s` cycles every state, skipped and cancelled included
            if queue.filters.states == ("queued",):
                break
            await press(pilot, "s")
            await wait_for(lambda: queue.data.filters == queue.filters, what="the next state")
        assert queue.filters.states == ("queued",)
        await wait_for(lambda: table.row_keys == ["16"], what="the queued job")
        await press(pilot, "x")
        modal = await wait_for(lambda: isinstance(app.screen, ReasonModal) and app.screen)
        await press(pilot, "enter")  # empty reason is refused
        await shows(app, "A reason is required.")
        assert app.screen is modal
        await type_text(pilot, "dup")
        await press(pilot, "escape")
        await wait_for(lambda: app.screen is queue, what=f"the queue, not {app.screen}")
        assert job_state(store, 16) == "queued"

    run(store, engine, scenario)


# ---------------------------------------------------------------- failures


def test_failures_group_actions_retry_resolve_cancel(sample) -> None:
    store, engine = sample

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "3")
        screen = await loaded(app, FailuresScreen)
        await shows(
            app,
            "Product not mapped — 3 job(s)",
            "Which record: Shopify order #1015",
            "What is missing: no Odoo product is mapped to SKU CAP-BLK",
            "Temporary or configuration: configuration",
            "Retry safe after the fix: yes — nothing was created in Odoo yet",
            "Waiting on: MUG-RED (2 jobs), CAP-BLK (1 job)",
        )
        groups = screen.query_one("#groups", NavTable)
        assert groups.row_keys[0] == "mapping.product_missing"
        # the Odoo-down group: retry it as a whole
        await press(pilot, "j")
        await wait_for(
            lambda: screen.code == groups.row_keys[1] and screen.data.code == screen.code,
            what="the second group",
        )
        code = screen.code
        assert code in ("mapping.gateway_missing", "retry.exhausted")
        await press(pilot, "R")
        await wait_for(lambda: app.noted(f"with cause {code} queued again"), what="group retry")
        # one job of the product group: retry one, resolve one, cancel one
        await press(pilot, "k")
        await wait_for(
            lambda: screen.data.code == "mapping.product_missing" and len(screen.data.jobs) == 3,
            what="the product group",
        )
        jobs = screen.query_one("#group-jobs", NavTable)
        first = int(jobs.row_keys[0])
        await press(pilot, "r")
        await wait_for(lambda: job_state(store, first) == "queued", what="retry one")
        await wait_for(lambda: len(screen.data.jobs) == 2, what="two jobs left")
        second = int(jobs.row_keys[0])
        await press(pilot, "x")
        await wait_for(lambda: isinstance(app.screen, ReasonModal))
        await type_text(pilot, "fixed in Odoo")
        await press(pilot, "enter")
        await wait_for(lambda: job_state(store, second) == "resolved", what="resolve")
        reason = store.execute(
            "SELECT message FROM audit WHERE job_id = ? AND event = 'resolve'", (second,)
        ).fetchone()[0]
        assert reason.endswith("fixed in Odoo")
        await wait_for(lambda: len(screen.data.jobs) == 1, what="one job left")
        third = int(jobs.row_keys[0])
        await press(pilot, "c")
        await wait_for(lambda: isinstance(app.screen, ReasonModal))
        await type_text(pilot, "test order")
        await press(pilot, "enter")
        await wait_for(lambda: job_state(store, third) == "cancelled", what="cancel")

    run(store, engine, scenario)


def test_failures_fix_for_a_credential_opens_settings_on_that_connection(sample) -> None:
    store, engine = sample
    shop_id = next(iter(engine.shops))
    engine.queue.enqueue(shop_id, SHOP, "orders", [Change("gid://shopify/Order/77", "v1", "#77")])
    job = engine.queue.claim("w", 60)
    while job is not None and job.source_id != "gid://shopify/Order/77":
        engine.queue.finish_done(job.claim)
        job = engine.queue.claim("w", 60)
    assert job is not None
    engine.queue.finish_failed(
        job.claim, Cause("shopify.unauthorized", missing="Shopify answered 401")
    )

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "3")
        screen = await loaded(app, FailuresScreen)
        screen.select_group("shopify.unauthorized")
        await wait_for(lambda: screen.data.code == "shopify.unauthorized" and screen.data.jobs)
        await shows(app, "Fix: check shopify:" + SHOP + " in Settings (f)")
        await press(pilot, "f")
        settings = await loaded(app, SettingsScreen)
        table = settings.query_one("#connections", NavTable)
        await wait_for(
            lambda: table.current_key == f"shopify:{SHOP}" and app.focused is table,
            what="the shop's connection selected",
        )

    run(store, engine, scenario)


# ---------------------------------------------------------------- job detail


def test_job_detail_shows_plan_timeline_attempts_links_and_approves(sample) -> None:
    store, engine = sample

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        app.post_message(
            __import__("shopodoo_console.ui.messages", fromlist=["OpenJob"]).OpenJob(1)
        )
        await loaded(app, JobScreen)
        await shows(
            app,
            "Job 1 · Shopify order #1001",
            "Seen 2 time(s)",
            "Odoo sale.order S00043 created",
            "sale.order 43",
            "S00043",
            "done",
            "worker@ops-laptop",
        )
        await press(pilot, "escape")
        app.post_message(
            __import__("shopodoo_console.ui.messages", fromlist=["OpenJob"]).OpenJob(21)
        )
        screen = await wait_for(
            lambda: (
                isinstance(app.screen, JobScreen)
                and app.screen.job_id == 21
                and app.screen.loads
                and app.screen
            )
        )
        await shows(app, "awaiting approval", '"Main warehouse"', "Approve plan")
        await press(pilot, "a")
        await wait_for(lambda: job_state(store, 21) == "queued", what="the approval")
        await wait_for(lambda: screen.data.job.state == "queued")
        await wait_for(lambda: "Approve plan" not in screen_text(app), what="approve hidden")
        await press(pilot, "escape")
        app.post_message(
            __import__("shopodoo_console.ui.messages", fromlist=["OpenJob"]).OpenJob(13)
        )
        await wait_for(
            lambda: (
                isinstance(app.screen, JobScreen) and app.screen.job_id == 13 and app.screen.loads
            )
        )
        await shows(app, "Why it stopped", "no Odoo product is mapped to SKU MUG-RED")
        await press(pilot, "f")
        editor = await wait_for(lambda: isinstance(app.screen, MappingEditor) and app.screen)
        # mounted to the end (its selects too) before the test closes the app
        await wait_for(lambda: app.focused is editor.query_one("#map-odoo"), what="the editor")
        assert editor.query_one("#map-key").value == "MUG-RED"

    run(store, engine, scenario)


# ---------------------------------------------------------------- mappings


def test_mappings_missing_first_add_edit_remove(sample) -> None:
    store, engine = sample
    shop_id = next(iter(engine.shops))

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "4")
        screen = await loaded(app, MappingsScreen)
        table = screen.query_one("#mapping-table", NavTable)
        await wait_for(lambda: table.row_count == 3)
        assert table.row_keys == [
            f"{SHOP}|product|MUG-RED",
            f"{SHOP}|product|CAP-BLK",
            f"{SHOP}|product|TENT-2P",
        ]
        await shows(
            app,
            "Products (2 missing)",
            "Payment gateways (1 missing)",
            "missing",
            "[TENT-2P] Tent 2 persons",
        )
        await press(pilot, "enter")  # missing MUG-RED: the editor, pre-filled
        editor = await wait_for(lambda: isinstance(app.screen, MappingEditor) and app.screen)
        assert editor.query_one("#map-key").value == "MUG-RED"
        await type_text(pilot, "55")
        await press(pilot, "enter")
        await wait_for(lambda: app.noted("2 waiting jobs queued again"), what="the save")
        assert job_state(store, 13) == job_state(store, 14) == "queued"
        await wait_for(lambda: table.row_count == 3 and table.row_keys[0].endswith("CAP-BLK"))
        # remove TENT-2P, after confirming
        await press(pilot, "G", "d")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        await press(pilot, "y")
        await wait_for(lambda: get_mapping(store, shop_id, "product", "TENT-2P") is None)
        # another kind
        await press(pilot, "right_square_bracket")
        await wait_for(lambda: screen.kind == "location")
        await press(pilot, "right_square_bracket")
        await wait_for(
            lambda: (
                screen.kind == "gateway" and screen.data.kind == "gateway" and table.row_count == 2
            )
        )
        assert table.row_keys[0] == f"{SHOP}|gateway|klarna"
        # add a new one from scratch
        await press(pilot, "G", "a")
        editor = await wait_for(lambda: isinstance(app.screen, MappingEditor) and app.screen)
        assert str(editor.query_one("#map-kind").value) == "gateway"
        await type_text(pilot, "paypal")
        await press(pilot, "tab")
        await type_text(pilot, "9")
        await press(pilot, "enter")
        await wait_for(lambda: get_mapping(store, shop_id, "gateway", "paypal") is not None)

    run(store, engine, scenario)


def test_mapping_validator_can_refuse_and_nothing_is_saved(sample) -> None:
    store, engine = sample
    shop_id = next(iter(engine.shops))
    asked: list[MappingProposal] = []

    def validator(proposal: MappingProposal) -> Verdict:
        asked.append(proposal)
        if proposal.odoo_id == 404:
            return Verdict(False, "product.product 404 does not exist in Odoo")
        return Verdict(True, "found in Odoo", label="[MUG-RED] Red mug")

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "4")
        await loaded(app, MappingsScreen)
        await press(pilot, "a")
        await wait_for(lambda: isinstance(app.screen, MappingEditor))
        await type_text(pilot, "404")
        await press(pilot, "enter")
        await shows(app, "Not saved: product.product 404 does not exist in Odoo")
        assert get_mapping(store, shop_id, "product", "MUG-RED") is None
        await press(pilot, "backspace", "backspace", "backspace", "1", "2", "enter")
        await wait_for(lambda: get_mapping(store, shop_id, "product", "MUG-RED") is not None)
        assert get_mapping(store, shop_id, "product", "MUG-RED").label == "[MUG-RED] Red mug"

    run(store, engine, scenario, validator=validator)
    assert [(p.shop, p.kind, p.source_key, p.odoo_model, p.odoo_id) for p in asked] == [
        (SHOP, "product", "MUG-RED", "product.product", 404),
        (SHOP, "product", "MUG-RED", "product.product", 12),
    ]


# ---------------------------------------------------------------- help, palette, errors


def test_help_lists_every_screen_and_palette_offers_screen_actions(sample) -> None:
    store, engine = sample

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await loaded(app, DashboardScreen)
        await press(pilot, "question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        await shows(app, "Morning routine", "Everywhere", "Pause/resume")
        sections = dict(help_sections())
        assert ("R", "Retry group") in sections["Failures (3)"]
        assert ("c", "Set credential…") in sections["Settings (5)"]
        await press(pilot, "escape")
        await press(pilot, "3")
        screen = await loaded(app, FailuresScreen)
        provider = ScreenActions(screen)
        titles = [t for t, *_ in provider._commands()]
        assert "Failures: Retry group" in titles and "Failures: Fix it" in titles
        assert "Console: Queue" in titles
        assert not any(t.startswith("Settings:") for t in titles)  # only what fits here
        # through the real palette: type, enter, the action runs
        await press(pilot, "ctrl+p")
        await type_text(pilot, "Retry group")
        await wait_for(lambda: "Failures: Retry group" in screen_text(app), what="the hit")
        await press(pilot, "enter")
        await wait_for(
            lambda: app.noted("with cause mapping.product_missing queued again"),
            what="the palette action",
        )

    run(store, engine, scenario)


def test_a_failing_read_is_a_notification_not_a_crash(sample, monkeypatch) -> None:
    store, engine = sample
    import shopodoo_console.ui.screens.queue as queue_screen

    def broken(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(queue_screen, "list_jobs", broken)

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "2")
        await wait_for(lambda: app.noted("database is locked"), what="the notification")
        await press(pilot, "1")
        await loaded(app, DashboardScreen)  # still alive and working

    app = run(store, engine, scenario)
    assert ("error", "Could not read the data for this screen: database is locked") in app.notes


def test_run_console_starts_and_stops_the_engine(sample, monkeypatch) -> None:
    from shopodoo_console.ui import app as app_module

    store, engine = sample
    calls: list[str] = []
    monkeypatch.setattr(engine, "start", lambda: calls.append("start"))
    monkeypatch.setattr(engine, "stop", lambda: calls.append("stop"))
    monkeypatch.setattr(app_module.ShopodooApp, "run", lambda self: calls.append("run") or 0)
    assert app_module.run_console(engine, store, engine.config, None) == 0  # type: ignore[arg-type]
    assert calls == ["start", "run", "stop"]


def test_queue_approves_every_plan_shown_in_bulk(sample) -> None:
    """`A` in the Queue: review mode in bulk — every plan waiting for approval that the
    filters show is approved (here: the stock flow's), and nothing else moves."""
    store, engine = sample
    waiting = [
        r[0]
        for r in store.execute(
            "SELECT id FROM job WHERE state = 'awaiting_approval' ORDER BY id"
        ).fetchall()
    ]
    others = dict(store.execute("SELECT id, state FROM job").fetchall())
    assert waiting

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "2")
        await loaded(app, QueueScreen)
        await press(pilot, "A")
        await shows(app, f"Approve {len(waiting)} plan(s) awaiting approval (every flow)?")
        assert all(job_state(store, i) == "awaiting_approval" for i in waiting)
        await press(pilot, "y")
        await wait_for(
            lambda: all(job_state(store, i) == "queued" for i in waiting), what="the approvals"
        )
        await wait_for(
            lambda: app.noted(f"{len(waiting)} plan(s) approved (every flow)"), what="the note"
        )

    run(store, engine, scenario)
    after = dict(store.execute("SELECT id, state FROM job").fetchall())
    assert {i: s for i, s in after.items() if i not in waiting} == {
        i: s for i, s in others.items() if i not in waiting
    }
