"""Settings: credentials reach the keyring and nowhere else; modes and intervals are written
to config.toml with the operator's comments kept; no keyring is explained, not a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring
from support import open_store
from ui_harness import (
    RecordingApp,
    loaded,
    make_app,
    press,
    screen_text,
    shows,
    type_text,
    wait_for,
)
from ui_sample import SampleFlow

from shopodoo_console.config import Paths, load_config
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import FlowRegistry
from shopodoo_console.logs import setup_logging
from shopodoo_console.secrets import SERVICE
from shopodoo_console.ui.checks import Verdict
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.widgets.credential import CredentialModal
from shopodoo_console.ui.widgets.tables import NavTable

SHOP = "acme-outdoor.myshopify.com"
CONFIG = f"""\
# Acme's console: edited by hand AND from the Settings screen.
[odoo]
url = "https://acme.odoo.com"   # production
database = "acme"
login = "sync@acme.example"

[[shops]]
domain = "{SHOP}"
# orders come in every 30 s; stock is reviewed by Anna
flows = {{ orders = "auto", stock = "review" }}
poll_seconds = {{ orders = 30 }}
"""
SECRET = "shpat_0123456789abcdef0123456789abcdef"


@pytest.fixture
def console(isolated_home: Path) -> tuple[Paths, Any, Engine]:
    paths = Paths.discover()
    paths.ensure()
    paths.config_file.write_text(CONFIG, encoding="utf-8")
    setup_logging(paths)
    config = load_config(paths.config_file)
    store = open_store(paths.data_dir)
    engine = Engine(store, config, FlowRegistry([SampleFlow("orders"), SampleFlow("stock")]))
    yield paths, store, engine
    store.close()


def run(store: Any, engine: Engine, scenario: Any, **kwargs: Any) -> RecordingApp:
    app = make_app(engine, store, engine.config, **kwargs)

    async def go() -> None:
        async with app.run_test(size=(140, 42)) as pilot:
            await press(pilot, "5")
            await loaded(app, SettingsScreen)
            await scenario(app, pilot)

    asyncio.run(go())
    return app


def test_credential_lands_in_the_keyring_and_nowhere_else(console, memory_keyring) -> None:
    paths, store, engine = console
    seen_on_screen: list[str] = []

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        table = app.screen.query_one("#connections", NavTable)
        await wait_for(lambda: table.row_keys == ["odoo", f"shopify:{SHOP}"])
        await shows(app, "not set (c to enter)")
        await press(pilot, "j", "c")
        await wait_for(lambda: isinstance(app.screen, CredentialModal))
        await type_text(pilot, SECRET)
        seen_on_screen.append(screen_text(app))
        seen_on_screen.append(app.export_screenshot())
        await press(pilot, "enter")
        await wait_for(lambda: (SERVICE, f"shopify:{SHOP}") in memory_keyring.store)
        await shows(app, "stored in keyring")
        seen_on_screen.append(screen_text(app))
        seen_on_screen.append(app.export_screenshot())

    app = run(store, engine, scenario)
    assert memory_keyring.store[(SERVICE, f"shopify:{SHOP}")] == SECRET
    assert not any(SECRET in shown for shown in seen_on_screen)
    assert "•" * 8 in seen_on_screen[0]  # typed, masked
    assert not any(SECRET in message for _, message in app.notes)
    store.close()
    leaks = [
        path
        for path in Path(paths.config_dir).parent.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert leaks == []
    assert paths.database_file.exists() and paths.log_file.exists()


def test_modes_and_intervals_are_written_back_with_comments(console) -> None:
    paths, store, engine = console

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        flows = app.screen.query_one("#flows", NavTable)
        await wait_for(lambda: flows.row_keys == [f"{SHOP}|orders", f"{SHOP}|stock"])
        await press(pilot, "m")  # orders: auto → off
        await wait_for(lambda: app.config.shop(SHOP).mode("orders") == "off")
        await press(pilot, "plus")  # orders: 30 s → 35 s
        await wait_for(lambda: app.config.shop(SHOP).poll_interval("orders") == 35)
        await shows(app, "35 s")
        flows.focus()
        await press(pilot, "j", "minus")  # stock: 60 → 55
        await wait_for(lambda: app.config.shop(SHOP).poll_interval("stock") == 55)

    app = run(store, engine, scenario)
    text = paths.config_file.read_text(encoding="utf-8")
    assert "# Acme's console: edited by hand AND from the Settings screen." in text
    assert "# orders come in every 30 s; stock is reviewed by Anna" in text
    assert 'url = "https://acme.odoo.com"   # production' in text
    saved = load_config(paths.config_file).shop(SHOP)
    assert saved.flows == {"orders": "off", "stock": "review"}
    assert saved.poll_seconds == {"orders": 35, "stock": 55}
    assert app.noted("Applied now")


def test_test_connection_calls_the_injected_tester(console) -> None:
    _paths, store, engine = console
    asked: list[str] = []

    def tester(target: str) -> Verdict:
        asked.append(target)
        return Verdict(False, "Odoo answered 401: the API key was refused")

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await wait_for(lambda: app.screen.data is not None)
        await press(pilot, "t")
        await wait_for(lambda: app.noted("the API key was refused"))

    app = run(store, engine, scenario, tester=tester)
    assert asked == ["odoo"]
    assert ("error", "Odoo answered 401: the API key was refused") in app.notes


def test_no_keyring_is_explained_not_a_crash(console) -> None:
    _paths, store, engine = console
    keyring.set_keyring(FailKeyring())  # the memory_keyring fixture restores the previous one

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await shows(
            app,
            "Credentials cannot be stored here.",
            "No secure credential store",
            "keyring unavailable",
        )
        await press(pilot, "c")
        await wait_for(lambda: app.noted("Plaintext storage is never used"))
        assert not isinstance(app.screen, CredentialModal)

    run(store, engine, scenario)
