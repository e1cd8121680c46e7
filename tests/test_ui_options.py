"""Every option a cause asks for is editable in Settings, with a picker that searches Odoo,
so `f` never dead-ends; a fixed option or credential re-queues what waited on it."""

from __future__ import annotations

from typing import Any

import pytest
import test_ui_settings
from test_ui_settings import SECRET, SHOP, run
from textual.widgets import Input, OptionList
from ui_harness import RecordingApp, loaded, press, shows, type_text, wait_for

from shopodoo_console.causes import Cause
from shopodoo_console.config import load_config
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import Change
from shopodoo_console.shop_options import SHOP_OPTIONS
from shopodoo_console.ui.checks import Suggestion
from shopodoo_console.ui.messages import OpenFix
from shopodoo_console.ui.reads import fix_for_job
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.widgets.option_editor import OptionEditor
from shopodoo_console.ui.widgets.tables import NavTable


def stop_jobs(engine: Engine, code: str, n: int, prefix: str) -> list[int]:
    shop_id = next(iter(engine.shops))
    engine.queue.enqueue(
        shop_id,
        SHOP,
        "orders",
        [Change(f"gid://shopify/Order/{prefix}{i}", "v1", f"#{prefix}{i}") for i in range(n)],
    )
    ids = []
    while (job := engine.queue.claim("w", 60)) is not None:
        engine.queue.finish_failed(job.claim, Cause(code, missing=f"test {code}"))
        ids.append(job.id)
    return ids


def state(store: Any, job_id: int) -> str:
    return store.execute("SELECT state FROM job WHERE id = ?", (job_id,)).fetchone()[0]


@pytest.fixture
def console(isolated_home: Any) -> Any:
    """The settings tests' console: a real config.toml with comments, a sample engine."""
    yield from test_ui_settings.console.__wrapped__(isolated_home)


def test_every_option_a_cause_names_has_an_editor() -> None:
    from shopodoo_console.ui.fixes import fix_for

    for spec in SHOP_OPTIONS:
        for code in spec.causes:
            fix = fix_for(Cause(code, missing="x"), shop=SHOP)
            assert fix.where in ("mapping", "option"), (code, fix)


def test_f_on_no_customer_opens_the_guest_contact_picker_and_requeues(console) -> None:
    paths, store, engine = console
    waiting = stop_jobs(engine, "mapping.customer_missing", 2, "9")
    searched: list[tuple[str, str, str]] = []

    def record_search(shop: str, model: str, text: str) -> list[Suggestion]:
        searched.append((shop, model, text))
        return [Suggestion(42, "Guest customer"), Suggestion(43, "Guest (B2B)")]

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "3")
        failures = await loaded(app, FailuresScreen)
        await wait_for(lambda: failures.data and failures.data.jobs, what="the group")
        await shows(app, "Fix: set the shop's guest contact (options.guest_partner_id)")
        await press(pilot, "f")
        editor = await wait_for(lambda: isinstance(app.screen, OptionEditor) and app.screen)
        assert editor.spec.key == "guest_partner_id"
        await shows(app, "Guest contact · " + SHOP, "Search Odoo (res.partner)")
        await wait_for(
            lambda: (
                editor.query("#option-search") and app.focused is editor.query_one("#option-search")
            ),
            what="the search field",
        )
        await type_text(pilot, "Guest")
        found = editor.query_one("#option-found", OptionList)
        await wait_for(lambda: found.option_count == 2 and searched[-1][2] == "Guest")
        assert searched[-1] == (SHOP, "res.partner", "Guest")
        found.focus()
        await wait_for(lambda: app.focused is found)
        await wait_for(lambda: found.highlighted == 0, what="the first candidate")
        await press(pilot, "enter")  # pick it
        await wait_for(lambda: editor.query_one("#option-value", Input).value == "42")
        await press(pilot, "enter")  # save
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), what="back in Settings")
        await wait_for(lambda: app.noted("2 waiting jobs queued again"), what="the re-queue")

    run(store, engine, scenario, record_search=record_search)
    text = paths.config_file.read_text()
    assert "guest_partner_id = 42" in text and "# orders come in every 30 s" in text
    assert load_config(paths.config_file).shop(SHOP).options == {"guest_partner_id": 42}
    assert [state(store, j) for j in waiting] == ["queued", "queued"]


def test_a_refused_value_keeps_the_dialog_and_the_file(console) -> None:
    paths, store, engine = console
    before = paths.config_file.read_text()

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        settings = app.screen
        table = settings.query_one("#options", NavTable)
        await wait_for(lambda: f"{SHOP}|initial_days" in table.row_keys)
        settings.edit_option(SHOP, "initial_days")
        editor = await wait_for(lambda: isinstance(app.screen, OptionEditor) and app.screen)
        await wait_for(
            lambda: (
                editor.query("#option-value") and app.focused is editor.query_one("#option-value")
            ),
            what="the value field",
        )
        await type_text(pilot, "99999")
        await press(pilot, "enter")
        await shows(app, "Not saved: expected a whole number from 0 to 3650, got 99999")
        assert app.screen is editor

    run(store, engine, scenario)
    assert paths.config_file.read_text() == before


def test_a_stored_credential_requeues_what_waited_on_it(console, memory_keyring) -> None:
    _, store, engine = console
    rejected = stop_jobs(engine, "shopify.unauthorized", 2, "7")
    other = stop_jobs(engine, "odoo.company_access", 1, "8")

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        job = engine.queue  # noqa: F841 (the engine is not started: states stay visible)
        failures_fix = fix_for_job(
            next(
                j
                for j in __import__("shopodoo_console.engine.queries", fromlist=["x"]).list_jobs(
                    store
                )
                if j.id == rejected[0]
            )
        )
        app.post_message(OpenFix(failures_fix))
        settings = await loaded(app, SettingsScreen)
        table = settings.query_one("#connections", NavTable)
        await wait_for(lambda: table.current_key == f"shopify:{SHOP}", what="the shop row")
        await press(pilot, "c")
        await wait_for(lambda: app.screen is not settings)
        await type_text(pilot, SECRET)
        await press(pilot, "enter")
        await wait_for(lambda: app.noted("2 job(s) waiting on it queued again"), what="requeue")

    run(store, engine, scenario)
    assert [state(store, j) for j in rejected] == ["queued", "queued"]
    assert state(store, other[0]) == "needs_attention"


def test_payment_journals_are_set_from_settings(console) -> None:
    from shopodoo_console.ui.widgets.mapping_editor import MappingEditor

    _, store, engine = console
    shop_id = next(iter(engine.shops))
    engine.queue.enqueue(shop_id, SHOP, "orders", [Change("gid://shopify/Order/5", "v1", "#5")])
    job = engine.queue.claim("w", 60)
    assert job is not None
    engine.queue.finish_failed(
        job.claim,
        Cause(
            "mapping.gateway_missing",
            missing="no journal for 'paypal'",
            blocked_on=("gateway:paypal",),
        ),
    )

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        table = app.screen.query_one("#options", NavTable)
        key = f"{SHOP}|gateway:paypal"
        await wait_for(lambda: key in table.row_keys, what="the PayPal journal row")
        table.focus()
        table.select_key(key)
        await wait_for(lambda: table.current_key == key and app.focused is table)
        await shows(app, "Payment journal: paypal", "missing (1 jobs wait)")
        await press(pilot, "v")
        editor = await wait_for(lambda: isinstance(app.screen, MappingEditor) and app.screen)
        assert (editor.kind, editor.source_key) == ("gateway", "paypal")

    run(store, engine, scenario)
