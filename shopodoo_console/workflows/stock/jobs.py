"""One stock job on its way through the stages: an Odoo product's stock, every mapped location.

A job is about one Odoo product (its source record) at one version; it sets the levels of the
Shopify variant linked to that product, at every Shopify location mapped to Odoo. Overlapping
polls, a rewind and a resync all name the same product, so at most one of its jobs runs at a
time, and each one reads both systems fresh: a level already right is never written again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.odoo.stock import StockQuantity
from shopodoo_console.shopify.inventory import ItemInventory
from shopodoo_console.store.stock import SkipNote
from shopodoo_console.workflows.pipeline import Item
from shopodoo_console.workflows.stock.poll import product_of


@dataclass(frozen=True)
class OdooProduct:
    id: int
    name: str
    code: str | None
    barcode: str | None
    storable: bool

    @property
    def label(self) -> str:
        return (
            f"[{self.code}] {self.name}"
            if self.code and f"[{self.code}]" not in self.name
            else (self.name)
        )


@dataclass
class StockJob(Item):
    product: OdooProduct | None = None
    variant_id: str | None = None  # the Shopify variant whose levels this product sets
    matched_by: str = ""  # "link", "mapping", "SKU", "barcode", "resync"
    inventory: ItemInventory | None = None
    quantities: dict[str, StockQuantity] = field(default_factory=dict)  # by Shopify location
    notes: list[SkipNote] = field(default_factory=list)  # left alone, with the reason
    sold: dict[str, int] = field(default_factory=dict)  # by location: sold since the first read
    replayed: bool = False  # finished by replaying an interrupted send
    applied: list[str] = field(default_factory=list)  # what took effect, in words

    @property
    def product_id(self) -> int:
        payload = self.ctx.job.payload
        return int(payload.get("product_id") or product_of(self.ctx.job.source_id))

    @property
    def key(self) -> str:
        return self.ctx.job.key

    @property
    def title(self) -> str:
        if self.inventory is not None and self.inventory.title:
            sku = f" ({self.inventory.sku})" if self.inventory.sku else ""
            return f"{self.inventory.title}{sku}"
        return self.product.label if self.product else self.label

    def audit(self, system: str, event: str, message: str, **data: Any) -> None:
        self.ctx.audit(system, event, message, **data)

    def result(self) -> dict[str, Any] | None:
        if self.variant_id is None:
            return None
        return {"variant_id": self.variant_id, "product_id": self.product_id}
