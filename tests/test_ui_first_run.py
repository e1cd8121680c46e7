"""`shopodoo` with no config opens on the first-run screen, and the whole setup is done from
it without leaving the console: Odoo, its API key, a shop, its token, a test of both against
the simulators over real HTTP, and the orders flow on in review mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import Input
from ui_harness import loaded, make_app, press, shows, type_text, wait_for

from shopodoo_console import secrets
from shopodoo_console.config import Paths, load_config
from shopodoo_console.launch import build_engine, ui_hooks
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.setup import SetupScreen
from shopodoo_console.ui.widgets.connection_editors import OdooEditor, ShopEditor
from shopodoo_console.ui.widgets.credential import CredentialModal


async def fill(app: Any, pilot: Any, screen: Any, values: dict[str, str]) -> None:
    """Type into each field of a dialog, by id, focusing it first."""
    for field, value in values.items():
        widget = screen.query_one(field, Input)
        widget.focus()
        await wait_for(lambda w=widget: app.focused is w, what=f"focus on {field}")
        await type_text(pilot, value)


async def give_credential(app: Any, pilot: Any, secret: str) -> None:
    modal = await wait_for(lambda: isinstance(app.screen, CredentialModal) and app.screen)
    await wait_for(lambda: app.focused is modal.query_one("#secret"), what="the secret field")
    await type_text(pilot, secret)
    await press(pilot, "enter")


def test_first_run_sets_everything_up_from_the_console(isolated_home: Path, memory_keyring) -> None:
    shopify, odoo = build_scenarios(seed=3, orders=4)
    world = World(shopify, odoo, odoo_version=19).start()
    try:
        facts = world.facts()
        paths = Paths.discover()
        config = load_config(paths.config_file, required=False)
        engine, store, connections = build_engine(paths, config)
        app = make_app(engine, store, config, **ui_hooks(engine, connections))

        async def scenario(pilot: Any) -> None:
            setup = await loaded(app, SetupScreen)
            await shows(app, "Welcome to shopodoo", "Next: press o")
            await press(pilot, "o")
            editor = await wait_for(lambda: isinstance(app.screen, OdooEditor) and app.screen)
            await fill(
                app,
                pilot,
                editor,
                {
                    "#odoo-url": facts["odoo_url"],
                    "#odoo-database": facts["odoo_database"],
                    "#odoo-login": facts["odoo_login"],
                },
            )
            await press(pilot, "ctrl+s")
            await give_credential(app, pilot, facts["odoo_api_key"])  # asked at once
            await wait_for(lambda: app.screen is setup, what="back on the checklist")
            await shows(app, "Next: press a")
            await press(pilot, "a")
            editor = await wait_for(lambda: isinstance(app.screen, ShopEditor) and app.screen)
            await fill(
                app,
                pilot,
                editor,
                {"#shop-domain": facts["shop_domain"], "#shop-base-url": facts["shop_base_url"]},
            )
            await press(pilot, "ctrl+s")
            await give_credential(app, pilot, facts["shop_token"])
            await wait_for(lambda: app.screen is setup, what="back on the checklist")
            await shows(app, "Next: press t")
            await press(pilot, "t")
            await shows(app, "Connected to Odoo", "every required scope is granted", timeout=30)
            await press(pilot, "r")
            await shows(app, "Done: the first orders arrive as plans to review")
            await press(pilot, "escape")
            await loaded(app, DashboardScreen)

        async def go() -> None:
            async with app.run_test(size=(120, 36)) as pilot:
                await scenario(pilot)

        engine.start()
        try:
            asyncio.run(go())
        finally:
            engine.stop()
            store.close()
    finally:
        world.stop()
    config = load_config(paths.config_file)
    assert config.odoo is not None and config.odoo.url == facts["odoo_url"]
    shop = config.shop(facts["shop_domain"])
    assert shop.base_url == facts["shop_base_url"] and shop.mode("orders") == "review"
    stored = {name for (_, name) in memory_keyring.store}
    assert stored == {config.odoo.secret_name, shop.secret_name}
    assert facts["shop_token"] not in paths.config_file.read_text()
    assert memory_keyring.store[(secrets.SERVICE, shop.secret_name)] == facts["shop_token"]
