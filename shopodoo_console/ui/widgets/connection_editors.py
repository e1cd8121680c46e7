"""Editing connections from Settings: the Odoo connection, and adding a shop.

Each dialog writes ``config.toml`` (comments kept) in a worker thread, checked by the same
loader the console starts with; a refused value keeps the dialog open with the loader's
sentence, and the file untouched. Once saved, the running engine is given the new config.
Secrets are never entered here: the settings screen offers the credential dialog next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from shopodoo_console.config import ODOO_PROTOCOLS, SHOP_AUTH, Config, OdooConfig
from shopodoo_console.ui.config_file import add_shop, update_odoo
from shopodoo_console.ui.reads import secret_stored

if TYPE_CHECKING:
    from shopodoo_console.ui.app import ShopodooApp

PROTOCOL_LABELS = {
    "auto": "auto (JSON-2 on Odoo 19 and later, else JSON-RPC)",
    "json2": "json2 (Odoo 19+ JSON-2 API)",
    "jsonrpc": "jsonrpc (Odoo 16 to 19)",
}
AUTH_LABELS = {
    "token": "Admin API access token (shpat_…)",
    "client_credentials": "Dev Dashboard app: client id + client secret",
}


@dataclass(frozen=True)
class ConnectionSaved:
    """A connection written to config.toml and applied; what its credential needs next."""

    config: Config
    connection: str  # the settings row: "odoo" or "shopify:DOMAIN"
    title: str
    secret_name: str  # the keyring entry its credential is read from
    secret_moved: bool  # the entry is not the one used before (new, or renamed)
    stored: bool | None  # a credential is in that entry; None: no keyring to ask


class _ConnectionEditor(ModalScreen[ConnectionSaved | None]):
    PALETTE_GROUP = "Connection"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="connection.cancel"),
        Binding("ctrl+s", "save", "Save", id="connection.save", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saving = False

    @property
    def console_app(self) -> ShopodooApp:
        return cast("ShopodooApp", self.app)

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _choice(self, selector: str, default: str) -> str:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else default  # not mounted yet: blank

    def _message(self, text: str) -> None:
        self.query_one(".dialog-error", Static).update(text)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        raise NotImplementedError

    def _perform(self, description: str, work: Callable[[], ConnectionSaved]) -> None:
        if self.saving:
            return
        self.saving = True
        self._message("Checking and saving…")
        self.console_app.perform(description, work, self._saved, self._failed)

    def _failed(self, exc: Exception) -> None:
        self.saving = False
        if self.is_attached:
            self._message(f"Not saved: {exc}")

    def _saved(self, saved: ConnectionSaved) -> None:
        self.saving = False
        self.dismiss(saved)


class OdooEditor(_ConnectionEditor):
    """URL, database, login and protocol of the one Odoo connection (``[odoo]``)."""

    AUTO_FOCUS = "#odoo-url"

    def __init__(self, current: OdooConfig | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        odoo = self.current
        with Vertical(classes="dialog", id="odoo-editor"):
            yield Label(
                "Edit the Odoo connection" if odoo else "Connect Odoo", classes="dialog-title"
            )
            yield Static(
                "Saved to [odoo] in config.toml (comments kept) after the same checks as at "
                "start, and used at once. The API key is not entered here: it goes to the "
                "keyring next.",
                classes="dialog-help",
                markup=False,
            )
            yield Label("URL", classes="field-label")
            yield Input(
                odoo.url if odoo else "",
                placeholder="https://acme.odoo.com",
                compact=True,
                id="odoo-url",
            )
            yield Label("Database", classes="field-label")
            yield Input(odoo.database if odoo else "", compact=True, id="odoo-database")
            yield Label("Login", classes="field-label")
            yield Input(
                odoo.login if odoo else "",
                placeholder="the user the API key belongs to",
                compact=True,
                id="odoo-login",
            )
            yield Label("Protocol", classes="field-label")
            yield Select(
                [(PROTOCOL_LABELS[p], p) for p in ODOO_PROTOCOLS],
                value=odoo.protocol if odoo else "auto",
                allow_blank=False,
                compact=True,
                id="odoo-protocol",
            )
            yield Static("", classes="dialog-error")
            yield Static("enter or ctrl+s saves · escape cancels", classes="dialog-help")

    def action_save(self) -> None:
        app = self.console_app
        before = self.current.secret_name if self.current else None
        fields = {
            "url": self._value("#odoo-url"),
            "database": self._value("#odoo-database"),
            "login": self._value("#odoo-login"),
            "protocol": self._choice(
                "#odoo-protocol", self.current.protocol if self.current else "auto"
            ),
        }

        def work() -> ConnectionSaved:
            config = app.save_config(lambda path: update_odoo(path, **fields))
            assert config.odoo is not None  # update_odoo always leaves a valid [odoo]
            name = config.odoo.secret_name
            return ConnectionSaved(
                config, "odoo", "Odoo", name, name != before, secret_stored(name)
            )

        self._perform("Saving the Odoo connection", work)


class ShopEditor(_ConnectionEditor):
    """A new shop: a ``[[shops]]`` table with its domain, auth and Odoo company/warehouse."""

    AUTO_FOCUS = "#shop-domain"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="shop-editor"):
            yield Label("Add a shop", classes="dialog-title")
            yield Static(
                "Appended to config.toml as a new [[shops]] table, with every flow off (turn "
                "them on with m). Its credential goes to the keyring next.",
                classes="dialog-help",
                markup=False,
            )
            yield Label("Shop domain", classes="field-label")
            yield Input(placeholder="acme.myshopify.com", compact=True, id="shop-domain")
            yield Label("Base URL", classes="field-label")
            yield Input(
                placeholder="optional: only for a simulator (http://127.0.0.1:PORT)",
                compact=True,
                id="shop-base-url",
            )
            yield Label("Authentication", classes="field-label")
            yield Select(
                [(AUTH_LABELS[a], a) for a in SHOP_AUTH],
                value="token",
                allow_blank=False,
                compact=True,
                id="shop-auth",
            )
            yield Label("Client id", classes="field-label", id="shop-client-id-label")
            yield Input(
                placeholder="the Dev Dashboard app's client id", compact=True, id="shop-client-id"
            )
            yield Label("Odoo company id", classes="field-label")
            yield Input(
                placeholder="optional: the company its orders belong to",
                type="integer",
                compact=True,
                id="shop-company",
            )
            yield Label("Odoo warehouse id", classes="field-label")
            yield Input(
                placeholder="optional: the warehouse its orders ship from",
                type="integer",
                compact=True,
                id="shop-warehouse",
            )
            yield Static("", classes="dialog-error")
            yield Static("enter or ctrl+s saves · escape cancels", classes="dialog-help")

    def on_mount(self) -> None:
        self._show_client_id("token")

    @on(Select.Changed, "#shop-auth")
    def _auth_changed(self, event: Select.Changed) -> None:
        self._show_client_id(str(event.value))

    def _show_client_id(self, auth: str) -> None:
        for widget in ("#shop-client-id", "#shop-client-id-label"):
            self.query_one(widget).display = auth == "client_credentials"

    def _record_id(self, selector: str, what: str) -> int | None:
        raw = self._value(selector)
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{what}: enter a record id (a number) or leave it empty") from None

    def action_save(self) -> None:
        app = self.console_app
        try:
            company = self._record_id("#shop-company", "Odoo company id")
            warehouse = self._record_id("#shop-warehouse", "Odoo warehouse id")
        except ValueError as exc:
            self._message(str(exc))
            return
        domain = self._value("#shop-domain").lower()
        fields = {
            "domain": domain,
            "base_url": self._value("#shop-base-url"),
            "auth": self._choice("#shop-auth", "token"),
            "client_id": self._value("#shop-client-id"),
            "odoo_company_id": company,
            "odoo_warehouse_id": warehouse,
        }

        def work() -> ConnectionSaved:
            config = app.save_config(lambda path: add_shop(path, **fields))  # type: ignore[arg-type]
            shop = config.shop(domain)
            name = shop.secret_name
            return ConnectionSaved(
                config, f"shopify:{domain}", f"Shopify {domain}", name, True, secret_stored(name)
            )

        self._perform("Adding the shop", work)
