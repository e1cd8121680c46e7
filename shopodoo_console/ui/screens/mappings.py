"""Mappings: what the console cannot match by itself, per kind — missing ones first.

A missing mapping is one that waiting jobs are blocked on (from their causes); it is listed
with how many jobs wait, and saving it re-queues them. Suggestions by SKU/barcode and checks
against Odoo arrive with the Odoo client (the editor's validator is injectable).

The stock flow adds its own rows: every Shopify location (mapped, or not with the Odoo stock
location suggested by address), and on Products the variants it leaves alone with the reason
(those a product mapping would bring in first).
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static, Tab, Tabs

from shopodoo_console.engine.mappings import KINDS, delete_mapping
from shopodoo_console.ui.format import ERROR, count
from shopodoo_console.ui.reads import MappingEntry, MappingsData, read_mappings
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.stock import with_stock_rows
from shopodoo_console.ui.widgets.modals import ConfirmModal
from shopodoo_console.ui.widgets.tables import Col, NavTable, Row

KIND_TITLES = {
    "product": "Products",
    "location": "Locations",
    "gateway": "Payment gateways",
    "carrier": "Shipping methods",
    "tax": "Taxes",
}
KIND_ORDER = tuple(KINDS)


STOCK_STATUS = {
    "unmapped": ("not mapped", ERROR),
    "skipped": ("stock skipped", "yellow"),
    "left alone": ("left alone", "dim"),
    "inactive": ("inactive", "dim"),
}
STOCK_WORDS = {
    "unmapped": "locations not mapped (their levels are left as they are)",
    "skipped": "variants the stock flow skips until mapped",
    "left alone": "left alone by the stock flow (untracked, archived…)",
    "inactive": "inactive",
}


def entry_key(e: MappingEntry) -> str:
    key = f"{e.shop}|{e.kind}|{e.source_key}"
    return f"{key}|{e.status}" if e.status else key


def status_text(e: MappingEntry) -> Text:
    if e.status in STOCK_STATUS:
        word, style = STOCK_STATUS[e.status]
        return Text(word, style=style)
    return Text("missing", style=ERROR) if e.missing else Text("mapped", style="green")


class MappingsScreen(LiveScreen[MappingsData]):
    PALETTE_GROUP = "Mappings"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="mappings.add"),
        Binding("e", "edit", "Edit", id="mappings.edit"),
        Binding("d", "delete", "Remove…", id="mappings.delete"),
        Binding(
            "right_square_bracket", "kind(1)", "Next kind", key_display="]", id="mappings.next_kind"
        ),
        Binding(
            "left_square_bracket",
            "kind(-1)",
            "Previous kind",
            key_display="[",
            id="mappings.prev_kind",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind = "product"

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="mappings"):
            tabs = Tabs(*(Tab(KIND_TITLES[k], id=f"kind-{k}") for k in KIND_ORDER), id="kinds")
            tabs.can_focus = False
            yield tabs
            yield NavTable(
                [
                    Col("status", "Status", 0),
                    Col("shop", "Shop", 2),
                    Col("source", "Shopify", 0),
                    Col("odoo", "Odoo record", 0),
                    Col("label", "Label", 1, True),
                    Col("waiting", "Jobs waiting", 0),
                ],
                id="mapping-table",
            )
            yield Static(id="mappings-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#mapping-table", NavTable).focus()

    def load(self) -> MappingsData:
        app = self.console_app
        data = read_mappings(app.engine, app.store, self.kind)
        return with_stock_rows(data, app.engine, app.store, app.stock_locations)

    def show(self, data: MappingsData) -> None:
        if data.kind != self.kind:
            return
        tabs = self.query_one("#kinds", Tabs)
        for kind in KIND_ORDER:
            missing = data.missing_by_kind.get(kind, 0)
            title = KIND_TITLES[kind] + (f" ({missing} missing)" if missing else "")
            tabs.query_one(f"#kind-{kind}", Tab).label = title
        rows: list[Row] = []
        for e in data.entries:
            status = status_text(e)
            odoo = "-" if e.odoo_id is None else f"{e.odoo_model} {e.odoo_id}"
            waiting = Text(count(e.waiting), style=ERROR) if e.waiting else Text("0", style="dim")
            shop = e.shop.removesuffix(".myshopify.com")
            shopify = e.shown or e.source_key
            rows.append((entry_key(e), [status, shop, shopify, odoo, e.label, waiting]))
        self.query_one("#mapping-table", NavTable).set_rows(rows)
        missing = sum(1 for e in data.entries if e.missing and not e.status)
        stock = Counter(e.status for e in data.entries if e.status)
        extra = "".join(f", {n} {STOCK_WORDS[status]}" for status, n in sorted(stock.items()) if n)
        self.query_one("#mappings-status", Static).update(
            f"{KIND_TITLES[self.kind]}: {missing} missing (jobs wait for them){extra}, "
            f"{sum(1 for e in data.entries if not e.missing)} mapped · a add · e edit · d remove"
            if data.entries
            else f"No {KIND_TITLES[self.kind].lower()} mapped and none missing."
        )

    def _selected(self) -> MappingEntry | None:
        if self.data is None:
            return None
        key = self.query_one("#mapping-table", NavTable).current_key
        return next((e for e in self.data.entries if entry_key(e) == key), None)

    def set_kind(self, kind: str) -> None:
        if kind in KINDS and kind != self.kind:
            self.kind = kind
            self.query_one("#kinds", Tabs).active = f"kind-{kind}"
            self.request_reload()

    @on(Tabs.TabActivated, "#kinds")
    def _tab(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id:
            self.set_kind(event.tab.id.removeprefix("kind-"))

    def action_kind(self, step: int) -> None:
        index = KIND_ORDER.index(self.kind)
        self.set_kind(KIND_ORDER[(index + step) % len(KIND_ORDER)])

    def _default_shop(self) -> str:
        shops = sorted(self.console_app.shop_ids)
        return shops[0] if shops else ""

    def _left_alone(self, entry: MappingEntry | None) -> bool:
        """Rows no mapping can fix: say why instead of opening the editor."""
        if entry is None or entry.status not in ("left alone", "inactive"):
            return False
        self.notify(
            f"{entry.shown or entry.source_key}: {entry.note} — nothing to map here; "
            "change it in Shopify if it should sync.",
            timeout=8,
        )
        return True

    def action_add(self) -> None:
        entry = self._selected()
        if self._left_alone(entry):
            return
        if entry is not None and entry.missing:
            self.console_app.edit_mapping(entry.shop, entry.kind, entry.source_key)
        else:
            self.console_app.edit_mapping(self._default_shop(), self.kind)

    def action_edit(self) -> None:
        entry = self._selected()
        if self._left_alone(entry):
            return
        if entry is None or (entry.missing and entry.status):
            self.action_add()
            return
        if entry is None:
            self.action_add()
            return
        self.console_app.edit_mapping(
            entry.shop, entry.kind, entry.source_key, entry.odoo_id, entry.label
        )

    @on(DataTable.RowSelected, "#mapping-table")
    def _row_selected(self) -> None:
        self.action_edit()

    def action_delete(self) -> None:
        entry = self._selected()
        if entry is None or entry.missing:
            self.notify("Select a saved mapping to remove.", severity="warning")
            return
        app = self.console_app
        shop_id = app.shop_ids.get(entry.shop)
        if shop_id is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            app.perform(
                "Removing the mapping",
                lambda: delete_mapping(app.engine.queue, shop_id, entry.kind, entry.source_key),
                lambda gone: self.notify(
                    f"Removed {entry.kind} {entry.source_key}." if gone else "It was already gone."
                ),
            )

        self.app.push_screen(
            ConfirmModal(
                f"Remove the mapping {entry.kind} {entry.source_key} → {entry.odoo_model} "
                f"{entry.odoo_id}? Jobs that need it will wait for a new one."
            ),
            answered,
        )
