"""The mapping editor: add or change one mapping, check it, save it, re-queue its jobs.

Opened from Mappings (add / edit) and from Failures ("fix it", pre-filled with the SKU,
location or gateway the job waits for, the cursor already in the Odoo id field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from shopodoo_console.engine.mappings import KINDS, save_mapping
from shopodoo_console.ui.checks import MappingProposal, Suggestion, Verdict

if TYPE_CHECKING:
    from shopodoo_console.ui.app import ShopodooApp

KIND_LABELS = {
    "product": "Product (SKU → Odoo product)",
    "location": "Location (→ Odoo stock location)",
    "gateway": "Payment gateway (→ Odoo journal)",
    "carrier": "Shipping method (→ Odoo carrier)",
    "tax": "Tax (→ Odoo tax)",
}


@dataclass(frozen=True)
class Saved:
    proposal: MappingProposal
    verdict: Verdict
    requeued: list[int]


class MappingEditor(ModalScreen[Saved | None]):
    PALETTE_GROUP = "Mapping"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Cancel", id="mapping.cancel"),
        Binding("ctrl+s", "save", "Save", id="mapping.save", priority=True),
    ]

    def __init__(
        self,
        *,
        shops: list[str],
        shop: str,
        kind: str,
        source_key: str = "",
        odoo_id: int | None = None,
        label: str = "",
    ) -> None:
        super().__init__()
        self.shops = shops
        self.shop = shop if shop in shops else (shops[0] if shops else "")
        self.kind = kind if kind in KINDS else "product"
        self.source_key = source_key
        self.odoo_id = odoo_id
        self.label = label
        self.saving = False
        # Pre-filled from a failure: the cursor waits in the only field left to fill.
        self.__dict__["AUTO_FOCUS"] = "#map-odoo" if source_key else "#map-key"

    @property
    def console_app(self) -> ShopodooApp:
        return cast("ShopodooApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="mapping-editor"):
            yield Label("Map a Shopify value to an Odoo record", classes="dialog-title")
            yield Label("Shop", classes="field-label")
            yield Select(
                [(s, s) for s in self.shops],
                value=self.shop,
                allow_blank=False,
                compact=True,
                id="map-shop",
            )
            yield Label("Kind", classes="field-label")
            yield Select(
                [(KIND_LABELS[k], k) for k in KINDS],
                value=self.kind,
                allow_blank=False,
                compact=True,
                id="map-kind",
            )
            yield Label("Shopify value", classes="field-label")
            yield Input(
                self.source_key,
                placeholder="SKU, location id, gateway name…",
                compact=True,
                id="map-key",
            )
            yield Label("Odoo record id", classes="field-label")
            yield Input(
                "" if self.odoo_id is None else str(self.odoo_id),
                placeholder="id of the Odoo record",
                type="integer",
                compact=True,
                id="map-odoo",
            )
            yield Label(
                "Suggestions from Odoo (enter picks one)",
                classes="field-label",
                id="map-suggestions-label",
            )
            yield OptionList(id="map-suggestions", compact=True)
            yield Label("Label", classes="field-label")
            yield Input(
                self.label,
                placeholder="optional: what the Odoo record is",
                compact=True,
                id="map-label",
            )
            yield Static("", id="map-message", classes="dialog-error")
            yield Static(
                "enter or ctrl+s saves and re-queues the waiting jobs · escape cancels",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        for widget in ("#map-suggestions", "#map-suggestions-label"):
            self.query_one(widget).display = False
        if self.source_key and self.odoo_id is None:
            app = self.console_app
            shop, kind, key = self.shop, self.kind, self.source_key
            app.perform(
                "Looking for suggestions in Odoo",
                lambda: app.suggester(shop, kind, key),
                self._suggested,
            )

    def _suggested(self, suggestions: list[Suggestion]) -> None:
        """Show candidates and put the cursor on the first: enter picks it (the unmapped-SKU
        fix is then 3, f, enter, enter)."""
        if not suggestions or not self.is_attached:
            return
        options = self.query_one("#map-suggestions", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(
                    f"{s.odoo_id}  {s.label}" + (f"  ({s.why})" if s.why else ""), id=str(s.odoo_id)
                )
                for s in suggestions
            ]
        )
        self._labels = {str(s.odoo_id): s.label for s in suggestions}
        for widget in ("#map-suggestions", "#map-suggestions-label"):
            self.query_one(widget).display = True
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#map-suggestions")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        self.query_one("#map-odoo", Input).value = option_id
        label = getattr(self, "_labels", {}).get(option_id, "")
        if label:
            self.query_one("#map-label", Input).value = label
        self.query_one("#map-odoo", Input).focus()
        self._message(f"Picked {option_id} {label}; enter saves.")

    def _message(self, text: str) -> None:
        self.query_one("#map-message", Static).update(Text(text))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self.saving:
            return
        shop = str(self.query_one("#map-shop", Select).value)
        kind = str(self.query_one("#map-kind", Select).value)
        key = self.query_one("#map-key", Input).value.strip()
        raw_id = self.query_one("#map-odoo", Input).value.strip()
        label = self.query_one("#map-label", Input).value.strip()
        if not key:
            self._message("Enter the Shopify value (SKU, location, gateway…).")
            return
        if not raw_id.isdigit() or int(raw_id) <= 0:
            self._message("Enter the Odoo record id: a positive number.")
            return
        app = self.console_app
        shop_id = app.shop_ids.get(shop)
        if shop_id is None:
            self._message(f"Unknown shop {shop}.")
            return
        proposal = MappingProposal(shop, kind, key, KINDS[kind], int(raw_id))
        self.saving = True
        self._message("Checking…")

        def work() -> Saved:
            verdict = app.validator(proposal)
            if not verdict.ok:
                return Saved(proposal, verdict, [])
            _, requeued = save_mapping(
                app.engine.queue,
                shop_id,
                kind,
                key,
                proposal.odoo_id,
                label=label or verdict.label,
            )
            return Saved(proposal, verdict, requeued)

        app.perform("Saving the mapping", work, self._saved, self._failed)

    def _failed(self, exc: Exception) -> None:
        self.saving = False
        self._message(f"Not saved: {exc}")

    def _saved(self, saved: Saved) -> None:
        self.saving = False
        if not saved.verdict.ok:
            self._message(f"Not saved: {saved.verdict.message}")
            return
        p = saved.proposal
        n = len(saved.requeued)
        self.app.notify(
            f"Saved {p.kind} {p.source_key} → {p.odoo_model} {p.odoo_id}. "
            f"{n} waiting job{'s' if n != 1 else ''} queued again."
            + (f" ({saved.verdict.message})" if saved.verdict.message else ""),
            title="Mapping saved",
        )
        self.dismiss(saved)
