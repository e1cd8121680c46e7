"""Settings: connections and their credentials, flow modes and poll intervals, the scheduler.

Credentials go to the OS keyring only; with no usable keyring the screen explains the
options instead of offering to store anything. The Odoo connection, shops (added, edited,
removed), modes and intervals are written back to ``config.toml`` with its comments kept,
validated before the file is replaced, and handed to the running engine at once (no restart).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Static

from shopodoo_console import secrets
from shopodoo_console.config import FLOW_MODES, Config, ShopConfig
from shopodoo_console.config_file import remove_shop, update_flow
from shopodoo_console.ui.checks import Verdict
from shopodoo_console.ui.format import ERROR
from shopodoo_console.ui.reads import ConnectionStatus, FlowSetting, SettingsData, read_settings
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.connection_editors import (
    ConnectionSaved,
    OdooEditor,
    ShopEditor,
)
from shopodoo_console.ui.widgets.modals import ConfirmModal
from shopodoo_console.ui.widgets.option_editor import OptionEditor, OptionSaved
from shopodoo_console.ui.widgets.tables import Col, NavTable, Row

POLL_STEP = 5
MIN_POLL = 5


class SettingsScreen(LiveScreen[SettingsData]):
    PALETTE_GROUP = "Settings"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "credential", "Set credential…", id="settings.credential"),
        Binding("t", "test", "Test connection", id="settings.test"),
        Binding(
            "o",
            "edit_odoo",
            "Edit Odoo…",
            id="settings.odoo",
            tooltip="URL, database, login and protocol, saved to [odoo] in config.toml",
        ),
        Binding(
            "A",
            "add_shop",
            "Add shop…",
            id="settings.add_shop",
            tooltip="A new [[shops]] table in config.toml, then its credential",
        ),
        Binding(
            "e",
            "edit_shop",
            "Edit shop…",
            id="settings.edit_shop",
            tooltip="The selected shop's URL, auth, API version, Odoo company and warehouse",
        ),
        Binding(
            "d",
            "remove_shop",
            "Remove shop…",
            id="settings.remove_shop",
            tooltip="Stop polling the selected shop and drop its [[shops]] table; its data stays",
        ),
        Binding(
            "m",
            "cycle_mode",
            "Flow mode",
            id="settings.mode",
            tooltip="Cycle the selected flow: off → review → auto",
        ),
        Binding("plus", "poll(1)", "Poll slower", key_display="+", id="settings.poll_up"),
        Binding("minus", "poll(-1)", "Poll faster", key_display="-", id="settings.poll_down"),
        Binding(
            "v",
            "edit_option",
            "Set option…",
            id="settings.option",
            tooltip="The selected shop option (guest contact, shipping product, payments…)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._focus_name: str | None = None
        self._option_wanted: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings"):
            yield Static(id="keyring", classes="panel")
            yield Label("Connections", classes="section")
            yield NavTable(
                [
                    Col("connection", "Connection", 0),
                    Col("details", "Where", 2, True),
                    Col("secret", "Credential", 0),
                ],
                id="connections",
            )
            yield Label("Flows (written to config.toml)", classes="section")
            yield NavTable(
                [
                    Col("shop", "Shop", 0),
                    Col("flow", "Flow", 0),
                    Col("mode", "Mode", 0),
                    Col("poll", "Poll every", 0),
                ],
                id="flows",
            )
            yield Label("Shop options (enter or v sets one)", classes="section")
            yield NavTable(
                [
                    Col("shop", "Shop", 1),
                    Col("option", "Option", 0),
                    Col("value", "Value", 0),
                    Col("what", "What it does", 2, True),
                ],
                id="options",
            )
            yield Static(id="settings-footer", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#connections", NavTable).focus()

    def load(self) -> SettingsData:
        app = self.console_app
        return read_settings(app.engine, app.config, ask_keyring=not app.demo)

    def show(self, data: SettingsData) -> None:
        keyring = self.query_one("#keyring", Static)
        if self.console_app.demo:
            keyring.update(
                Text.assemble(
                    ("Demo: ", "bold"),
                    (
                        "the simulated shop's and Odoo's credentials are held in memory; "
                        "nothing is read from or written to your keyring.",
                        "green",
                    ),
                )
            )
        elif data.keyring.plaintext:
            keyring.update(
                Text.assemble(("Keyring (plaintext): ", "bold yellow"), data.keyring.explanation)
            )
        elif data.keyring.usable:
            keyring.update(
                Text.assemble(("Keyring: ", "bold"), (data.keyring.explanation, "green"))
            )
        else:
            keyring.update(
                Text.assemble(
                    ("Credentials cannot be stored here. ", "bold red"), data.keyring.explanation
                )
            )
        rows: list[Row] = []
        for c in data.connections:
            if self.console_app.demo:
                secret = Text("in memory (demo)", style="green")
            elif c.stored is None:
                secret = Text("keyring unavailable", style=ERROR)
            elif c.stored:
                secret = Text("stored in keyring", style="green")
            else:
                secret = Text("not set (c to enter)", style="yellow")
            rows.append((c.name, [c.title, c.details, secret]))
        self.query_one("#connections", NavTable).set_rows(rows)
        self.query_one("#flows", NavTable).set_rows(
            [
                (
                    f"{f.shop}|{f.flow}",
                    [
                        f.shop,
                        f.flow,
                        Text(f.mode, style="dim" if f.mode == "off" else "bold"),
                        f"{f.poll_seconds} s",
                    ],
                )
                for f in data.flows
            ]
        )
        option_rows: list[Row] = [
            (
                o.key,
                [
                    o.shop.removesuffix(".myshopify.com"),
                    o.spec.label,
                    Text(o.spec.describe(o.value), style="bold")
                    if o.value is not None
                    else Text(f"default ({o.spec.describe(o.spec.default)})", style="dim"),
                    o.spec.help,
                ],
            )
            for o in data.options
        ]
        option_rows += [
            (
                j.key,
                [
                    j.shop.removesuffix(".myshopify.com"),
                    f"Payment journal: {j.gateway}",
                    Text(f"{j.label or 'journal'} ({j.journal_id})", style="bold")
                    if j.journal_id is not None
                    else Text(f"missing ({j.waiting} jobs wait)", style=ERROR),
                    f"the Odoo journal payments through {j.gateway} go to (a gateway mapping)",
                ],
            )
            for j in data.journals
        ]
        self.query_one("#options", NavTable).set_rows(option_rows)
        where = data.config_path + ("" if data.config_exists else " (not created yet)")
        self.query_one("#settings-footer", Static).update(
            Text(
                f"Config: {where}. Changes made here apply at once. "
                f"Scheduler: {data.scheduler.replace('_', '-')} (p pauses/resumes)."
            )
        )
        if self._focus_name is not None:
            self._apply_focus()
        if self._option_wanted is not None:
            self.edit_option(*self._option_wanted)

    # ------------------------------------------------------------ selection

    def focus_connection(self, name: str) -> None:
        self._focus_name = name
        if self.data is not None:
            self._apply_focus()

    def _apply_focus(self) -> None:
        table = self.query_one("#connections", NavTable)
        table.focus()
        if self._focus_name and table.select_key(self._focus_name):
            self._focus_name = None

    def _connection(self) -> ConnectionStatus | None:
        if self.data is None:
            return None
        key = self.query_one("#connections", NavTable).current_key
        return next((c for c in self.data.connections if c.name == key), None)

    def _flow(self) -> FlowSetting | None:
        if self.data is None:
            return None
        key = self.query_one("#flows", NavTable).current_key
        return next((f for f in self.data.flows if f"{f.shop}|{f.flow}" == key), None)

    # ------------------------------------------------------------ shop options

    def edit_option(self, shop: str, key: str) -> None:
        """Open the editor of one shop option (``f`` on a cause that option answers)."""
        if self.data is None:
            self._option_wanted = (shop, key)
            return
        self._option_wanted = None
        setting = next((o for o in self.data.options if o.shop == shop and o.spec.key == key), None)
        if setting is None:
            self.notify(f"{shop} is not configured here.", severity="warning")
            return
        table = self.query_one("#options", NavTable)
        table.select_key(setting.key)
        self.app.push_screen(
            OptionEditor(setting.shop, setting.spec, setting.value), self._option_saved
        )

    def action_edit_option(self) -> None:
        key = self.query_one("#options", NavTable).current_key
        if key is None:
            self.notify("Select a shop option first.", severity="warning")
            return
        shop, _, option = key.partition("|")
        journal = next((j for j in self.data.journals if j.key == key), None) if self.data else None
        if journal is not None:  # a payment journal: the gateway mapping, with suggestions
            self.console_app.edit_mapping(
                shop, "gateway", journal.gateway, journal.journal_id, journal.label
            )
            return
        self.edit_option(shop, option)

    @on(DataTable.RowSelected, "#options")
    def _option_selected(self) -> None:
        self.action_edit_option()

    def _option_saved(self, saved: OptionSaved | None) -> None:
        if saved is None:
            return
        self.console_app.config_saved(saved.config)
        n = len(saved.requeued)
        value = saved.spec.describe(saved.value) if saved.value is not None else "the default"
        self.console_app.live.note(
            saved.shop,
            f"option {saved.spec.key} set to {value}; {n} waiting job(s) queued again",
            "good",
        )
        self.notify(
            f"Saved {saved.spec.label.lower()} = {value} for {saved.shop}. "
            f"{n} waiting job{'s' if n != 1 else ''} queued again.",
            title="config.toml updated",
        )
        self.request_reload()

    # ------------------------------------------------------------ credentials

    def action_credential(self) -> None:
        conn = self._connection()
        if conn is None:
            self.notify("Select a connection first.", severity="warning")
            return
        self._ask_credential(conn.name, conn.title, conn.secret_name)

    def _ask_credential(self, name: str, title: str, secret_name: str) -> None:
        self.console_app.ask_credential(
            name, title, secret_name, self.data.keyring if self.data else None
        )

    def action_test(self) -> None:
        conn = self._connection()
        if conn is None:
            self.notify("Select a connection first.", severity="warning")
            return
        app = self.console_app

        def done(verdict: Verdict) -> None:
            self.notify(
                verdict.message or ("Connection works." if verdict.ok else "Connection failed."),
                title=f"Test {conn.title}",
                severity="information" if verdict.ok else "error",
                timeout=10,
            )

        self.notify(f"Testing {conn.title}…")
        app.perform(f"Testing {conn.title}", lambda: app.tester(conn.name), done)

    # ------------------------------------------------------------ connections

    def action_edit_odoo(self) -> None:
        self.app.push_screen(OdooEditor(self.console_app.config.odoo), self._connection_saved)

    def action_add_shop(self) -> None:
        self.app.push_screen(ShopEditor(), self._connection_saved)

    def _shop(self) -> ShopConfig | None:
        """The shop of the selected connection row; says what to select when it is none."""
        conn = self._connection()
        shop = next(
            (s for s in self.console_app.config.shops if conn and conn.name == s.secret_name),
            None,
        )
        if shop is None:
            other = " (o edits Odoo)" if conn is not None and conn.name == "odoo" else ""
            self.notify(f"Select a Shopify connection first{other}.", severity="warning")
        return shop

    def action_edit_shop(self) -> None:
        shop = self._shop()
        if shop is not None:
            self.app.push_screen(ShopEditor(shop), self._connection_saved)

    def action_remove_shop(self) -> None:
        shop = self._shop()
        if shop is None:
            return
        app = self.console_app
        domain = shop.domain

        def removed(config: Config) -> None:
            app.config_saved(config)
            self.request_reload()
            left = "" if config.shops else " No shop is configured now: nothing is polled."
            self.notify(
                f"Removed {domain} from config.toml; it is no longer polled.{left}",
                title="config.toml updated",
            )

        def answered(yes: bool | None) -> None:
            if yes:
                app.perform(
                    f"Removing {domain}",
                    lambda: app.save_config(lambda path: remove_shop(path, domain)),
                    removed,
                )

        self.app.push_screen(
            ConfirmModal(
                f"Remove the shop {domain}?",
                "Its [[shops]] table is taken out of config.toml and it is no longer polled, "
                "from now on. Its jobs, links and mappings stay in the database: add it again "
                "later (A) and it resumes where it was; jobs still queued for it stop with a "
                "configuration cause until then (retry them once it is back). Its credential "
                f"stays in the keyring (service {secrets.SERVICE}, entry {shop.secret_name}) "
                "until you remove it there.",
            ),
            answered,
        )

    def _connection_saved(self, saved: ConnectionSaved | None) -> None:
        """Show what was saved; when its credential is looked up under a keyring entry that
        holds nothing yet, or must be of another kind now (a shop's auth or client id
        changed), ask for it (an old entry is left as it was, never copied)."""
        if saved is None:
            return
        self.console_app.config_saved(saved.config)
        self.focus_connection(saved.connection)
        self.request_reload()
        done = f"Saved {saved.title} to config.toml; the engine uses it now."
        if saved.credential_changed and saved.stored is not None:
            kept = (
                "Until you do, the one stored for the old settings is used and will likely "
                "be refused."
                if saved.stored
                else f"The keyring entry {saved.secret_name} is empty."
            )
            self.notify(
                f"{done} Its authentication changed: enter the matching credential now. {kept}",
                title="config.toml updated",
                severity="warning",
                timeout=12,
            )
            self._ask_credential(saved.connection, saved.title, saved.secret_name)
        elif not (saved.secret_moved or saved.credential_changed) or saved.stored:
            already = " Its credential is in the keyring." if saved.secret_moved else ""
            self.notify(done + already, title="config.toml updated")
        elif saved.stored is None:
            self.notify(
                f"{done} Its credential cannot be stored here: no usable keyring.",
                title="config.toml updated",
                severity="warning",
                timeout=12,
            )
        else:
            self.notify(
                f"{done} Now enter its credential: it is read from the keyring entry "
                f"{saved.secret_name}, which is empty.",
                title="config.toml updated",
                severity="warning",
                timeout=12,
            )
            self._ask_credential(saved.connection, saved.title, saved.secret_name)

    # ------------------------------------------------------------ flows

    def _save_flow(self, flow: FlowSetting, **change: object) -> None:
        app = self.console_app

        def write(path: Path) -> Config:
            return update_flow(path, flow.shop, flow.flow, **change)  # type: ignore[arg-type]

        def saved(config: Config) -> None:
            app.config_saved(config)
            what = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in change.items())
            self.notify(
                f"Saved {flow.shop} {flow.flow}: {what}. Applied now.",
                title="config.toml updated",
            )
            self.request_reload()

        # Modes and intervals take effect now: save_config applies what it wrote.
        app.perform("Saving the config", lambda: app.save_config(write), saved)

    def action_cycle_mode(self) -> None:
        flow = self._flow()
        if flow is None:
            self.notify("Select a flow first.", severity="warning")
            return
        mode = FLOW_MODES[(FLOW_MODES.index(flow.mode) + 1) % len(FLOW_MODES)]
        self._save_flow(flow, mode=mode)

    def action_poll(self, step: int) -> None:
        flow = self._flow()
        if flow is None:
            self.notify("Select a flow first.", severity="warning")
            return
        seconds = max(MIN_POLL, flow.poll_seconds + step * POLL_STEP)
        if seconds != flow.poll_seconds:
            self._save_flow(flow, poll_seconds=seconds)
