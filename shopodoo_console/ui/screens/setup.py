"""First run: `shopodoo` with no config opens here, on the steps to a first sync.

As Posting, Harlequin and k9s open on an empty state, the console opens on a checklist
instead of an error: connect Odoo, add a shop, store both credentials (keyring), test both,
switch the orders flow on in review mode — each step one key, without leaving the console.
The same dialogs as Settings do the work; this screen only says what is done and what is
next. Escape leaves it (Settings, 5, has everything too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from shopodoo_console import secrets
from shopodoo_console.config import Config
from shopodoo_console.config_file import update_flow
from shopodoo_console.ui.checks import Verdict
from shopodoo_console.ui.reads import secret_stored
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.connection_editors import (
    ConnectionSaved,
    OdooEditor,
    ShopEditor,
)


@dataclass(frozen=True)
class SetupData:
    config: Config
    keyring: secrets.BackendStatus
    odoo_secret: bool | None
    shop_secret: bool | None


def read_setup(config: Config) -> SetupData:
    status = secrets.backend_status()
    odoo = secret_stored(config.odoo.secret_name, status) if config.odoo else False
    shop = secret_stored(config.shops[0].secret_name, status) if config.shops else False
    return SetupData(config, status, odoo, shop)


def needs_setup(config: Config) -> bool:
    """No shop yet (a new install, or a setup left halfway): the console opens on the
    first-run screen. With a shop configured it opens on the Dashboard, which says what is
    missing (Settings has every step)."""
    return not config.shops


class SetupScreen(LiveScreen[SetupData]):
    PALETTE_GROUP = "First run"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "odoo", "Connect Odoo…", id="setup.odoo"),
        Binding("k", "odoo_key", "Odoo API key…", id="setup.odoo_key"),
        Binding("a", "shop", "Add a shop…", id="setup.shop"),
        Binding("s", "shop_secret", "Shop credential…", id="setup.shop_secret"),
        Binding("t", "test", "Test both", id="setup.test"),
        Binding("r", "review", "Orders on, review", id="setup.review"),
        Binding("escape", "leave", "To the console", id="setup.leave"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tests: dict[str, Verdict] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="setup"):
            yield Static(id="setup-steps")
        yield Footer()

    def load(self) -> SetupData:
        return read_setup(self.console_app.config)

    # ------------------------------------------------------------ what is done

    def show(self, data: SetupData) -> None:
        config = data.config
        text = Text()
        text.append("Welcome to shopodoo\n", style="bold")
        text.append(
            f"No shop is set up yet ({config.path}). Six steps to a first sync; each is one "
            "key, and everything is saved to config.toml (comments kept) or the OS keyring.\n\n"
        )
        text.append_text(self._keyring_note(data))
        steps = self._steps(data)
        next_key = next((key for key, _, done, _ in steps if not done), None)
        for key, title, done, detail in steps:
            text.append_text(self._step_line(key, title, done, detail, key == next_key))
        text.append("\n")
        if next_key is None:
            text.append(
                "Done: the first orders arrive as plans to review (2 Queue, a approves). "
                "Escape opens the console.",
                style="bold green",
            )
        else:
            text.append(f"Next: press {next_key}. ", style="bold")
            text.append("Escape opens the console now; Settings (5) has every step too.")
        self.query_one("#setup-steps", Static).update(text)

    @staticmethod
    def _keyring_note(data: SetupData) -> Text:
        if not data.keyring.usable:
            return Text.assemble(
                ("Credentials cannot be stored here yet. ", "bold red"),
                data.keyring.explanation + "\n\n",
            )
        if data.keyring.plaintext:
            return Text.assemble(("Note: ", "bold yellow"), data.keyring.plaintext + "\n\n")
        return Text()

    def _steps(self, data: SetupData) -> list[tuple[str, str, bool, str]]:
        """(key, what, done, detail) for each step, in order."""
        config = data.config
        odoo, shop = config.odoo, (config.shops[0] if config.shops else None)
        tested = bool(self.tests) and all(v.ok for v in self.tests.values())
        return [
            (
                "o",
                "Connect Odoo",
                odoo is not None,
                f"{odoo.url} · {odoo.database}" if odoo else "",
            ),
            ("k", "Store the Odoo user's API key", bool(data.odoo_secret), ""),
            ("a", "Add a shop", shop is not None, shop.domain if shop else ""),
            ("s", "Store the shop's credential", bool(data.shop_secret), ""),
            (
                "t",
                "Test both connections",
                tested,
                " · ".join(v.message for v in self.tests.values()),
            ),
            (
                "r",
                "Switch the orders flow on in review mode",
                shop is not None and shop.mode("orders") != "off",
                f"orders: {shop.mode('orders')}" if shop else "",
            ),
        ]

    def _step_line(self, key: str, title: str, done: bool, detail: str, is_next: bool) -> Text:
        mark, style = ("✔", "green") if done else ("•", "bold" if is_next else "dim")
        line = Text.assemble((f" {mark} ", style), (f"{key}  ", "bold cyan"), (title, style))
        if done and key in ("k", "s"):
            detail = "stored"
        if detail:
            failed = key == "t" and bool(self.tests) and not done
            line.append(f" — {detail}", style="red" if failed else "dim")
        line.append("\n")
        return line

    # ------------------------------------------------------------ steps

    def _saved(self, saved: ConnectionSaved | None) -> None:
        if saved is None:
            return
        self.console_app.config_saved(saved.config)
        self.request_reload()
        if saved.stored is False:  # its credential is next: ask for it now
            self.console_app.ask_credential(
                saved.connection,
                saved.title,
                saved.secret_name,
                self.data.keyring if self.data else None,
                self.request_reload,
            )

    def action_odoo(self) -> None:
        self.app.push_screen(OdooEditor(self.console_app.config.odoo), self._saved)

    def action_shop(self) -> None:
        config = self.console_app.config
        self.app.push_screen(ShopEditor(config.shops[0] if config.shops else None), self._saved)

    def _credential(self, name: str, title: str, secret_name: str) -> None:
        self.console_app.ask_credential(
            name, title, secret_name, self.data.keyring if self.data else None, self.request_reload
        )

    def action_odoo_key(self) -> None:
        odoo = self.console_app.config.odoo
        if odoo is None:
            self.notify("Connect Odoo first (o).", severity="warning")
            return
        self._credential("odoo", "Odoo", odoo.secret_name)

    def action_shop_secret(self) -> None:
        shops = self.console_app.config.shops
        if not shops:
            self.notify("Add a shop first (a).", severity="warning")
            return
        self._credential(
            f"shopify:{shops[0].domain}", f"Shopify {shops[0].domain}", shops[0].secret_name
        )

    def action_test(self) -> None:
        app = self.console_app
        names = (["odoo"] if app.config.odoo else []) + [
            f"shopify:{shop.domain}" for shop in app.config.shops[:1]
        ]
        if not names:
            self.notify("Nothing to test yet: connect Odoo (o) and add a shop (a).")
            return

        def test_all() -> dict[str, Verdict]:
            return {name: app.tester(name) for name in names}

        def done(results: dict[str, Verdict]) -> None:
            self.tests = results
            self.request_reload()

        self.notify("Testing…")
        app.perform("Testing the connections", test_all, done)

    def action_review(self) -> None:
        app = self.console_app
        shops = app.config.shops
        if not shops:
            self.notify("Add a shop first (a).", severity="warning")
            return
        domain = shops[0].domain

        def saved(config: Config) -> None:
            app.config_saved(config)
            self.notify(f"Orders of {domain} now come in as plans to review.")
            self.request_reload()

        app.perform(
            "Switching the orders flow on",
            lambda: app.save_config(
                lambda path: update_flow(path, domain, "orders", mode="review")
            ),
            saved,
        )

    def action_leave(self) -> None:
        self.dismiss()
