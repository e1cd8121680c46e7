"""Settings: credentials reach the keyring and nowhere else; the Odoo connection, new shops,
modes and intervals are written to config.toml with the operator's comments kept and applied
to the running engine; no keyring is explained, not a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring
from support import open_store
from textual.widgets import Input, Select
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

from shopodoo_console.config import DEFAULT_API_VERSION, Config, Paths, load_config
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import FlowRegistry
from shopodoo_console.logs import setup_logging
from shopodoo_console.secrets import SERVICE
from shopodoo_console.ui.checks import Verdict
from shopodoo_console.ui.screens.help import help_sections
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.widgets.connection_editors import OdooEditor, ShopEditor
from shopodoo_console.ui.widgets.credential import CredentialModal
from shopodoo_console.ui.widgets.modals import ConfirmModal
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


def run(
    store: Any, engine: Engine, scenario: Any, config: Config | None = None, **kwargs: Any
) -> RecordingApp:
    app = make_app(engine, store, config or engine.config, **kwargs)

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
        await wait_for(lambda: app.noted("Plaintext is never chosen silently"))
        assert not isinstance(app.screen, CredentialModal)

    run(store, engine, scenario)


# ---------------------------------------------------------------- connections


def recording_hook(engine: Engine) -> tuple[list[Config], Any]:
    """An on_config_saved that remembers what it was given and applies it like the console."""
    applied: list[Config] = []

    def on_config_saved(config: Config) -> None:
        applied.append(config)
        engine.apply_config(config)

    return applied, on_config_saved


async def opened(app: RecordingApp, dialog: type) -> Any:
    """The dialog on top once its fields exist (it is on the stack before it is composed)."""
    return await wait_for(
        lambda: isinstance(app.screen, dialog) and app.screen.query(".dialog-error") and app.screen,
        what=f"the {dialog.__name__}",
    )


async def fill(pilot: Any, field: Input, text: str) -> None:
    field.focus()
    field.value = ""
    await type_text(pilot, text)


def test_the_odoo_connection_is_edited_in_place_then_its_new_key_asked(
    console, memory_keyring
) -> None:
    paths, store, engine = console
    old = load_config(paths.config_file).odoo
    assert old is not None
    memory_keyring.store[(SERVICE, old.secret_name)] = "old-key"
    applied, hook = recording_hook(engine)
    new_key = "f3c9a0d2e4b6" * 3
    seen_on_screen: list[str] = []

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await wait_for(lambda: app.screen.data is not None)
        # Through the command palette, like every action.
        await press(pilot, "ctrl+p")
        await type_text(pilot, "Edit Odoo")
        await wait_for(lambda: "Settings: Edit Odoo…" in screen_text(app), what="the hit")
        await press(pilot, "enter")
        editor = await opened(app, OdooEditor)
        protocol = editor.query_one("#odoo-protocol", Select)
        await wait_for(lambda: protocol.value == "auto", what="the protocol pre-filled")
        assert editor.query_one("#odoo-database", Input).value == "acme"
        await fill(pilot, editor.query_one("#odoo-url", Input), "https://erp.acme.example")
        protocol.value = "json2"
        await press(pilot, "ctrl+s")
        # A new URL is a new keyring entry: the console asks for the key there at once.
        await wait_for(lambda: isinstance(app.screen, CredentialModal), what="the key prompt")
        assert app.config.odoo is not None and app.config.odoo.url == "https://erp.acme.example"
        assert app.noted("odoo:sync@acme.example@https://erp.acme.example/acme, which is empty")
        await shows(app, "The API key of the Odoo user sync@acme.example")
        await type_text(pilot, new_key)
        seen_on_screen.append(screen_text(app))
        await press(pilot, "enter")
        await wait_for(lambda: app.noted("Stored in the keyring for Odoo"))
        await shows(app, "https://erp.acme.example · database acme", "stored in keyring")
        seen_on_screen.append(screen_text(app))

    app = run(store, engine, scenario, on_config_saved=hook)
    text = paths.config_file.read_text(encoding="utf-8")
    assert text == CONFIG.replace(
        'url = "https://acme.odoo.com"   # production',
        'url = "https://erp.acme.example"   # production',
    ).replace('login = "sync@acme.example"\n', 'login = "sync@acme.example"\nprotocol = "json2"\n')
    saved = load_config(paths.config_file)
    # Applied when saved, and again when the new key was stored (the client is rebuilt).
    assert [c.odoo for c in applied] == [saved.odoo, saved.odoo]
    assert engine.config.odoo == saved.odoo  # the running engine has it
    assert saved.odoo is not None
    assert memory_keyring.store[(SERVICE, saved.odoo.secret_name)] == new_key
    assert memory_keyring.store[(SERVICE, old.secret_name)] == "old-key"  # left, not copied
    assert not any(new_key in shown or "old-key" in shown for shown in seen_on_screen)
    assert not any(new_key in m or "old-key" in m for _, m in app.notes)


def test_an_odoo_change_the_loader_refuses_is_explained_and_the_file_untouched(console) -> None:
    paths, store, engine = console
    before = paths.config_file.read_bytes()
    applied, hook = recording_hook(engine)

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await wait_for(lambda: app.screen.data is not None)
        await press(pilot, "o")
        editor = await opened(app, OdooEditor)
        await fill(pilot, editor.query_one("#odoo-url", Input), "http://erp.acme.example")
        await press(pilot, "enter")
        message = (
            "odoo.url: plain http is only allowed for a loopback host (127.0.0.1, localhost); "
            "use https for erp.acme.example"
        )
        await wait_for(lambda: app.noted(message), what="the loader's message")
        await shows(app, "Not saved:", "plain http is only allowed for a loopback host")
        assert app.screen is editor  # still open: fix the URL or escape
        await press(pilot, "escape")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))

    app = run(store, engine, scenario, on_config_saved=hook)
    assert paths.config_file.read_bytes() == before
    assert applied == [] and app.config.odoo is not None
    assert app.config.odoo.url == "https://acme.odoo.com"
    assert list(paths.config_dir.iterdir()) == [paths.config_file]  # no temp file left


def test_the_odoo_table_is_created_when_the_config_has_none(console) -> None:
    paths, store, engine = console
    paths.config_file.write_text(CONFIG.split("[[shops]]")[1].join(["[[shops]]", ""]))
    config = load_config(paths.config_file)
    engine.apply_config(config)

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await wait_for(lambda: app.screen.data is not None)
        await press(pilot, "o")
        editor = await opened(app, OdooEditor)
        await shows(app, "Connect Odoo")
        editor.query_one("#odoo-url", Input).value = "http://127.0.0.1:8069"
        editor.query_one("#odoo-database", Input).value = "acme"
        await fill(pilot, editor.query_one("#odoo-login", Input), "sync")
        await press(pilot, "enter")
        await wait_for(lambda: isinstance(app.screen, CredentialModal))
        await press(pilot, "escape")  # the key can be set later with c
        await shows(app, "http://127.0.0.1:8069 · database acme · login sync")

    run(store, engine, scenario, config=config)
    text = paths.config_file.read_text(encoding="utf-8")
    assert "# orders come in every 30 s; stock is reviewed by Anna" in text
    assert text.endswith(
        '\n[odoo]\nurl = "http://127.0.0.1:8069"\ndatabase = "acme"\nlogin = "sync"\n'
        'protocol = "auto"\n'
    )


def test_a_shop_is_added_with_its_credential_and_a_duplicate_refused(
    console, memory_keyring
) -> None:
    paths, store, engine = console
    applied, hook = recording_hook(engine)
    new = "second-store.myshopify.com"

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await wait_for(lambda: app.screen.data is not None)
        await press(pilot, "A")
        editor = await opened(app, ShopEditor)
        assert not editor.query_one("#shop-client-id", Input).display  # token: no client id
        await type_text(pilot, "Second-Store.myshopify.com")
        await fill(pilot, editor.query_one("#shop-company", Input), "3")
        await fill(pilot, editor.query_one("#shop-warehouse", Input), "4")
        await press(pilot, "enter")
        await wait_for(lambda: isinstance(app.screen, CredentialModal), what="the token prompt")
        await shows(app, f"Credential for Shopify {new}", "Admin API access token")
        await type_text(pilot, SECRET)
        await press(pilot, "enter")
        await wait_for(lambda: (SERVICE, f"shopify:{new}") in memory_keyring.store)
        table = app.screen.query_one("#connections", NavTable)
        await wait_for(lambda: f"shopify:{new}" in table.row_keys)
        await wait_for(lambda: table.current_key == f"shopify:{new}", what="the new row")
        await shows(app, f"Shopify {new}", f"{new}  orders  off")
        assert new in app.shop_ids  # the mapping editor can pick it

        # The same shop again (any case): refused, said plainly, nothing written.
        before = paths.config_file.read_bytes()
        await press(pilot, "A")
        editor = await opened(app, ShopEditor)
        await type_text(pilot, SHOP.upper())
        await press(pilot, "enter")
        await wait_for(lambda: app.noted(f"the shop {SHOP} is already configured"))
        await shows(app, "Not saved:", "already configured")
        assert paths.config_file.read_bytes() == before
        await press(pilot, "escape")

    run(store, engine, scenario, on_config_saved=hook)
    text = paths.config_file.read_text(encoding="utf-8")
    assert text.startswith(CONFIG)  # everything before, comments included, as it was
    assert text[len(CONFIG) :] == (
        f'\n[[shops]]\ndomain = "{new}"\nauth = "token"\nodoo_company_id = 3\n'
        "odoo_warehouse_id = 4\n"
    )
    # Applied when saved, and again when its credential was stored (clients rebuilt).
    assert [[s.domain for s in c.shops] for c in applied] == [[SHOP, new], [SHOP, new]]
    assert {ref.domain for ref in engine.shops.values()} == {SHOP, new}
    added = load_config(paths.config_file).shop(new)
    assert (added.odoo_company_id, added.odoo_warehouse_id, added.flows) == (3, 4, {})


# ---------------------------------------------------------------- editing and removing shops

SECOND = "second-store.myshopify.com"
SECOND_TABLE = f"""\
# Anna's second store
[[shops]]
domain = "{SECOND}"
flows = {{ orders = "review" }}

[shops.options]
register_payments = true  # one journal per gateway
"""
TWO_SHOPS = CONFIG + "\n" + SECOND_TABLE
ODOO_PART = CONFIG[: CONFIG.index("[[shops]]")]


def test_shop_keys_are_in_the_help_and_the_footer(console) -> None:
    _paths, store, engine = console
    keys = dict(dict(help_sections())["Settings (5)"])
    assert keys["e"].startswith("Edit shop… — The selected shop's URL, auth")
    assert keys["d"].startswith("Remove shop… — Stop polling the selected shop")

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await shows(app, "e Edit shop…", "d Remove shop…")

    run(store, engine, scenario)


def test_a_shop_is_edited_in_place_then_its_new_kind_of_credential_asked(
    console, memory_keyring
) -> None:
    paths, store, engine = console
    memory_keyring.store[(SERVICE, f"shopify:{SHOP}")] = SECRET  # an Admin API token
    applied, hook = recording_hook(engine)
    client_secret = "c0ffee" * 6

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        table = app.screen.query_one("#connections", NavTable)
        await wait_for(lambda: table.row_keys == ["odoo", f"shopify:{SHOP}"])
        await press(pilot, "e")  # on the Odoo row: it says what to select
        await wait_for(lambda: app.noted("Select a Shopify connection first (o edits Odoo)."))
        assert isinstance(app.screen, SettingsScreen)
        await press(pilot, "j", "e")
        editor = await opened(app, ShopEditor)
        await shows(app, f"Edit the shop {SHOP}", "The domain cannot be changed")
        domain = editor.query_one("#shop-domain", Input)
        assert domain.value == SHOP and domain.disabled
        assert editor.query_one("#shop-api-version", Input).value == DEFAULT_API_VERSION
        assert editor.query_one("#shop-base-url", Input).value == ""
        assert editor.query_one("#shop-company", Input).value == ""
        auth = editor.query_one("#shop-auth", Select)
        await wait_for(lambda: auth.value == "token", what="the auth pre-filled")
        client_id = editor.query_one("#shop-client-id", Input)
        assert not client_id.display
        auth.value = "client_credentials"
        await wait_for(lambda: client_id.display, what="the client id field")
        await fill(pilot, client_id, "app-1")
        await fill(pilot, editor.query_one("#shop-company", Input), "3")
        await press(pilot, "ctrl+s")
        # Another kind of credential: the token in the keyring no longer fits, so it is asked.
        await wait_for(lambda: isinstance(app.screen, CredentialModal), what="the secret prompt")
        assert app.noted("Its authentication changed: enter the matching credential now.")
        await shows(app, "The client secret of the Dev Dashboard app app-1")
        await type_text(pilot, client_secret)
        await press(pilot, "enter")
        await wait_for(lambda: memory_keyring.store[(SERVICE, f"shopify:{SHOP}")] == client_secret)
        await shows(app, f"https://{SHOP} · API {DEFAULT_API_VERSION} · auth client_cred")

    run(store, engine, scenario, on_config_saved=hook)
    assert paths.config_file.read_text(encoding="utf-8") == CONFIG.replace(
        f'domain = "{SHOP}"\n',
        f'domain = "{SHOP}"\nauth = "client_credentials"\nclient_id = "app-1"\n'
        "odoo_company_id = 3\n",
    )
    saved = load_config(paths.config_file)
    # Applied when saved, and again when the new secret was stored (its client rebuilt).
    assert [c.shop(SHOP) for c in applied] == [saved.shop(SHOP)] * 2
    (ref,) = engine.shops.values()
    assert ref.config == saved.shop(SHOP)
    assert (ref.config.flows, ref.config.poll_seconds) == (
        {"orders": "auto", "stock": "review"},
        {"orders": 30},
    )


def test_a_shop_change_the_loader_refuses_is_explained_and_the_file_untouched(
    console, memory_keyring
) -> None:
    paths, store, engine = console
    memory_keyring.store[(SERVICE, f"shopify:{SHOP}")] = SECRET
    before = paths.config_file.read_bytes()
    applied, hook = recording_hook(engine)
    after_refusal: list[bytes] = []

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await wait_for(lambda: app.screen.data is not None)
        await press(pilot, "j", "e")
        editor = await opened(app, ShopEditor)
        base_url = editor.query_one("#shop-base-url", Input)
        await wait_for(lambda: app.focused is base_url, what="the cursor in the base URL")
        await type_text(pilot, "http://shop.example.com")
        await press(pilot, "enter")
        message = (
            "shops[0].base_url: plain http is only allowed for a loopback host (127.0.0.1, "
            "localhost); use https for shop.example.com"
        )
        await wait_for(lambda: app.noted(message), what="the loader's message")
        await shows(app, "Not saved:", "use https for shop.example.com")
        assert app.screen is editor  # still open: fix the URL or escape
        after_refusal.append(paths.config_file.read_bytes())
        assert applied == []

        # Fixed: saved, and no credential asked (the auth did not change).
        await fill(pilot, base_url, "http://127.0.0.1:8080")
        await press(pilot, "enter")
        await wait_for(lambda: app.noted(f"Saved Shopify {SHOP} to config.toml"))
        assert isinstance(app.screen, SettingsScreen)
        await shows(app, "http://127.0.0.1:8080 · API")

    app = run(store, engine, scenario, on_config_saved=hook)
    assert after_refusal == [before]
    assert list(paths.config_dir.iterdir()) == [paths.config_file]  # no temp file left
    assert paths.config_file.read_text(encoding="utf-8") == CONFIG.replace(
        f'domain = "{SHOP}"\n', f'domain = "{SHOP}"\nbase_url = "http://127.0.0.1:8080"\n'
    )
    assert [c.shop(SHOP).base_url for c in applied] == ["http://127.0.0.1:8080"]
    assert not any(isinstance(s, CredentialModal) for s in app.screen_stack)


def test_a_removed_shop_is_no_longer_polled_and_the_others_are_untouched(console) -> None:
    paths, store, engine = console
    paths.config_file.write_text(TWO_SHOPS, encoding="utf-8")
    config = load_config(paths.config_file)
    engine.apply_config(config)
    applied, hook = recording_hook(engine)
    assert engine.start() is None
    scheduler = engine._scheduler
    assert scheduler is not None

    def polls() -> dict[str, float]:
        return {
            job.id: job.trigger.interval.total_seconds()
            for job in scheduler.get_jobs()
            if job.id.startswith("poll:")
        }

    assert polls() == {
        f"poll:{SHOP}:orders": 30,
        f"poll:{SHOP}:stock": 60,
        f"poll:{SECOND}:orders": 60,
    }
    texts: list[str] = []

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        await press(pilot, "2")  # the queue's shop filter lists both
        queue = await loaded(app, QueueScreen)
        shop_filter = queue.query_one("#filter-shop", Select)
        assert [v for _, v in shop_filter._options] == ["", SHOP, SECOND]
        await press(pilot, "5")
        settings = await loaded(app, SettingsScreen)
        table = settings.query_one("#connections", NavTable)
        await wait_for(lambda: table.row_keys == ["odoo", f"shopify:{SHOP}", f"shopify:{SECOND}"])
        await press(pilot, "j")
        # Through the command palette, like every action.
        await press(pilot, "ctrl+p")
        await type_text(pilot, "Remove shop")
        await wait_for(lambda: "Settings: Remove shop…" in screen_text(app), what="the hit")
        await press(pilot, "enter")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal), what="the confirmation")
        await shows(
            app,
            f"Remove the shop {SHOP}?",
            "no longer polled",
            "jobs, links and mappings stay in the database",
            "resumes where it was",
            f"shopify:{SHOP}) until you remove it there",
        )
        await press(pilot, "y")
        await wait_for(lambda: table.row_keys == ["odoo", f"shopify:{SECOND}"], what="the rows")
        await wait_for(lambda: app.noted(f"Removed {SHOP} from config.toml"))
        assert polls() == {f"poll:{SECOND}:orders": 60}  # stopped at once
        assert set(app.shop_ids) == {SECOND}
        await wait_for(
            lambda: (
                settings.query_one("#flows", NavTable).row_keys
                == [f"{SECOND}|orders", f"{SECOND}|stock"]
            )
        )
        texts.append(paths.config_file.read_text(encoding="utf-8"))
        await press(pilot, "2")
        await wait_for(
            lambda: [v for _, v in shop_filter._options] == ["", SECOND], what="the filter"
        )

        # The last shop can go too: the dashboard then says there is nothing to poll.
        await press(pilot, "5")
        await wait_for(lambda: table.current_key == f"shopify:{SECOND}")
        await press(pilot, "d")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        await press(pilot, "y")
        await wait_for(lambda: table.row_keys == ["odoo"], what="no shop left")
        assert polls() == {}
        await wait_for(lambda: app.noted("No shop is configured now: nothing is polled."))
        await press(pilot, "1")
        await shows(app, "nothing to poll: no shop is configured (5 Settings, A adds one)")

    try:
        run(store, engine, scenario, config=config, on_config_saved=hook)
    finally:
        engine.stop()
    # Its table and its own comment go; the other shop's table and comments stay as written.
    assert texts == [ODOO_PART + SECOND_TABLE]
    assert paths.config_file.read_text(encoding="utf-8") == ODOO_PART.rstrip("\n") + "\n"
    assert [[s.domain for s in c.shops] for c in applied] == [[SECOND], []]
    assert applied[0].shop(SECOND) == config.shop(SECOND)
    assert applied[0].odoo == config.odoo
    assert store.shop_id(SHOP) is not None  # the shop's row (and its jobs and links) stays
