"""One order job on its way through the stages of the orders flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopodoo_console.workflows.orders.match import Match
from shopodoo_console.workflows.orders.order import ShopifyOrder
from shopodoo_console.workflows.pipeline import Item


@dataclass
class OrderJob(Item):
    order: ShopifyOrder | None = None
    match: Match | None = None
    odoo_id: int | None = None  # the sale order, once known (linked, adopted or created)
    odoo_name: str = ""
    customer_id: int | None = None  # the Odoo contact the sale order is for

    @property
    def order_label(self) -> str:
        return self.order.label if self.order is not None else self.label

    @property
    def name(self) -> str:
        return self.odoo_name or (f"sale order {self.odoo_id}" if self.odoo_id else "")

    def audit(self, system: str, event: str, message: str, **data: Any) -> None:
        self.ctx.audit(system, event, message, **data)

    def result(self) -> dict[str, Any] | None:
        if self.odoo_id is None:
            return None
        return {"odoo_id": self.odoo_id, "odoo_name": self.name}
