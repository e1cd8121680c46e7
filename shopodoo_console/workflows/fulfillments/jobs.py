"""One delivery job on its way through the stages of the fulfillments flow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.odoo.stock import Picking
from shopodoo_console.workflows.fulfillments.lines import Pairing
from shopodoo_console.workflows.fulfillments.match import Found, OrderLink
from shopodoo_console.workflows.pipeline import Item, Synced

SOURCE_PREFIX = "stock.picking/"


def source_id(picking_id: int) -> str:
    return f"{SOURCE_PREFIX}{picking_id}"


def picking_id_of(source: str) -> int | None:
    head, _, tail = source.partition("/")
    return int(tail) if head == "stock.picking" and tail.isdigit() else None


@dataclass
class ShipmentJob(Item):
    picking: Picking | None = None
    order: OrderLink | None = None  # the Shopify order its sale order is linked to
    state: dict[str, Any] | None = None  # that order's fulfillment state, read this attempt
    found: Found | None = None  # our fulfillment of this delivery, if it already exists
    pairing: Pairing | None = None  # moves → Shopify line items
    fulfillment: dict[str, Any] | None = None  # created or found
    synced: Synced | None = None  # the delivery's link: in step at which version
    notes: list[str] = field(default_factory=list)

    @property
    def picking_id(self) -> int | None:
        payload = self.ctx.job.payload.get("picking_id")
        return int(payload) if payload else picking_id_of(self.ctx.job.source_id)

    @property
    def picking_name(self) -> str:
        if self.picking is not None:
            return self.picking.name
        return str(self.ctx.job.payload.get("name") or f"picking {self.picking_id}")

    def audit(self, system: str, event: str, message: str, **data: Any) -> None:
        self.ctx.audit(system, event, message, **data)

    def result(self) -> dict[str, Any] | None:
        if self.fulfillment is None:
            return None
        return {
            "picking": self.picking_name,
            "picking_id": self.picking_id,
            "order": self.order.gid if self.order else None,
            "fulfillment": self.fulfillment.get("id"),
            "fulfillment_name": self.fulfillment.get("name"),
        }
