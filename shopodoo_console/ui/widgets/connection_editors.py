"""Editing connections from Settings: the Odoo connection, and adding or editing a shop.

Each dialog writes ``config.toml`` (comments kept) in a worker thread, checked by the same
loader the console starts with; a refused value keeps the dialog open with the loader's
sentence, and the file untouched. Once saved, the running engine is given the new config.
Secrets are never entered here: the settings screen offers the credential dialog next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from shopodoo_console.config import (
    DEFAULT_API_VERSION,
    ODOO_PROTOCOLS,
    SHOP_AUTH,
    Config,
    OdooConfig,
    ShopConfig,
)
from shopodoo_console.config_file import add_shop, update_odoo, update_shop
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
    credential_changed: bool = False  # a new kind of credential is needed (auth, client id)


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
        error = self.query_one(".dialog-error", Static)
        error.update(Text(text))  # a config error names "shops[0]": never markup
        error.scroll_visible()  # below the fold when the dialog scrolls

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
        fields: dict[str, Any] = {
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
    """A shop's ``[[shops]]`` table: its domain, auth, API version and Odoo company and
    warehouse. New (``current`` None: a table appended) or edited in place (its domain, the
    shop's identity, shown but fixed)."""

    def __init__(self, current: ShopConfig | None = None) -> None:
        super().__init__()
        self.current = current
        # This dialog's own first field (Textual reads AUTO_FOCUS from the instance).
        self.__dict__["AUTO_FOCUS"] = "#shop-base-url" if current else "#shop-domain"

    def compose(self) -> ComposeResult:
        shop = self.current
        with Vertical(classes="dialog", id="shop-editor"):
            if shop is None:
                yield Label("Add a shop", classes="dialog-title")
                yield Static(
                    "Appended to config.toml as a new [[shops]] table, with every flow off "
                    "(turn them on with m). Its credential goes to the keyring next.",
                    classes="dialog-help",
                    markup=False,
                )
            else:
                yield Label(f"Edit the shop {shop.domain}", classes="dialog-title")
                yield Static(
                    "Saved in its [[shops]] table in config.toml (comments, flows, poll "
                    "intervals and options kept) and used at once. The domain cannot be "
                    "changed: it is the shop's identity, and its jobs, links and cursors are "
                    "keyed by it. For another domain, add that shop (A).",
                    classes="dialog-help",
                    markup=False,
                )
            yield Label("Shop domain", classes="field-label")
            yield Input(
                shop.domain if shop else "",
                placeholder="acme.myshopify.com",
                disabled=shop is not None,
                compact=True,
                id="shop-domain",
            )
            yield Label("Base URL", classes="field-label")
            yield Input(
                (shop.base_url or "") if shop else "",
                placeholder="optional: only for a simulator (http://127.0.0.1:PORT)",
                compact=True,
                id="shop-base-url",
            )
            yield Label("Authentication", classes="field-label")
            yield Select(
                [(AUTH_LABELS[a], a) for a in SHOP_AUTH],
                value=shop.auth if shop else "token",
                allow_blank=False,
                compact=True,
                id="shop-auth",
            )
            yield Label("Client id", classes="field-label", id="shop-client-id-label")
            yield Input(
                (shop.client_id or "") if shop else "",
                placeholder="the Dev Dashboard app's client id",
                compact=True,
                id="shop-client-id",
            )
            yield Label("Admin API version", classes="field-label")
            yield Input(
                shop.api_version if shop else "",
                placeholder=f"optional: {DEFAULT_API_VERSION} when empty",
                compact=True,
                id="shop-api-version",
            )
            yield Label("Odoo company id", classes="field-label")
            yield Input(
                _record_text(shop.odoo_company_id if shop else None),
                placeholder="optional: the company its orders belong to",
                type="integer",
                compact=True,
                id="shop-company",
            )
            yield Label("Odoo warehouse id", classes="field-label")
            yield Input(
                _record_text(shop.odoo_warehouse_id if shop else None),
                placeholder="optional: the warehouse its orders ship from",
                type="integer",
                compact=True,
                id="shop-warehouse",
            )
            yield Static("", classes="dialog-error")
            yield Static("enter or ctrl+s saves · escape cancels", classes="dialog-help")

    def on_mount(self) -> None:
        self._show_client_id(self.current.auth if self.current else "token")

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
        try:
            company = self._record_id("#shop-company", "Odoo company id")
            warehouse = self._record_id("#shop-warehouse", "Odoo warehouse id")
        except ValueError as exc:
            self._message(str(exc))
            return
        fields: dict[str, Any] = {
            "base_url": self._value("#shop-base-url"),
            "auth": self._choice("#shop-auth", self.current.auth if self.current else "token"),
            "client_id": self._value("#shop-client-id"),
            "api_version": self._value("#shop-api-version"),
            "odoo_company_id": company,
            "odoo_warehouse_id": warehouse,
        }
        if self.current is None:
            self._add(self._value("#shop-domain").lower(), fields)
        else:
            self._edit(self.current, fields)

    def _add(self, domain: str, fields: Mapping[str, object]) -> None:
        app = self.console_app

        def work() -> ConnectionSaved:
            config = app.save_config(lambda path: add_shop(path, domain=domain, **fields))  # type: ignore[arg-type]
            shop = config.shop(domain)
            name = shop.secret_name
            return ConnectionSaved(
                config, f"shopify:{domain}", f"Shopify {domain}", name, True, secret_stored(name)
            )

        self._perform("Adding the shop", work)

    def _edit(self, before: ShopConfig, fields: Mapping[str, object]) -> None:
        app = self.console_app
        domain = before.domain

        def work() -> ConnectionSaved:
            config = app.save_config(lambda path: update_shop(path, domain, **fields))  # type: ignore[arg-type]
            shop = config.shop(domain)
            name = shop.secret_name
            changed = (shop.auth, shop.client_id) != (before.auth, before.client_id)
            return ConnectionSaved(
                config,
                f"shopify:{domain}",
                f"Shopify {domain}",
                name,
                name != before.secret_name,
                secret_stored(name),
                credential_changed=changed,
            )

        self._perform("Saving the shop", work)


def _record_text(record_id: int | None) -> str:
    return "" if record_id is None else str(record_id)
