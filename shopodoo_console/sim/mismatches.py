"""Break a synced world on purpose: every kind of finding the reconciliation audit reports.

Each hook acts like the person or tool that causes the mismatch in real life, on top of the
orders :mod:`.seed_orders` synced, and returns a :class:`Planted` that says what an audit
must find (kind, the Shopify order, the Odoo orders, the expected differences):

* ``missing`` — a Shopify order never synced, or whose sale order someone deleted in Odoo;
* ``duplicate`` — a second sale order for one Shopify order, found by our stamp (the shop
  configured twice under another name), by ``client_order_ref`` (typed by hand) or by
  ``origin`` (imported by another tool);
* ``amount`` — a person edited the Odoo order: ``total`` (an extra line), ``tax`` (another
  tax on a line), ``shipping`` (the delivery price), ``discount`` (a line discount);
* ``state`` — ``cancelled`` / ``paid`` / ``fulfilled`` in Shopify, not so in Odoo;
* ``unlinked`` — an Odoo order carrying a Shopify reference that the console has no link
  for (the console's own order gone, one made by hand in its place).

Link rows live in the console's database, not here: ``Planted.unlink`` names the Shopify
order whose local link the caller must drop to match the story.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from .odoo import OdooSimulator
from .odoo.models import line_fields
from .seed_orders import (
    CENT,
    STAMP_MODULE,
    SeededOrder,
    _OdooSide,
    origin_of,
    sale_order_values,
    shopify_orders,
)
from .shopify import ShopifySimulator
from .shopify.mutations import fulfillment_create

DuplicateBy = Literal["stamp", "client_order_ref", "origin"]
AmountKind = Literal["total", "tax", "shipping", "discount"]
StateKind = Literal["cancelled", "paid", "fulfilled"]
KINDS = ("missing", "duplicate", "amount", "state", "unlinked")


@dataclass(frozen=True)
class Planted:
    """One planted mismatch and what an audit must report for it."""

    kind: str  # one of KINDS
    detail: str  # the variant: "deleted", "stamp", "tax", "paid"…
    shopify_gid: str | None
    shopify_name: str
    odoo_ids: tuple[int, ...] = ()
    expected: dict[str, Any] = field(default_factory=dict)
    unlink: str | None = None  # drop the console's link for this Shopify order


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


class Mismatches:
    """Planting hooks for one Shopify simulator and one Odoo simulator."""

    def __init__(self, shopify: ShopifySimulator, odoo: OdooSimulator) -> None:
        self.shopify = shopify
        self.odoo = odoo
        self._side: _OdooSide | None = None

    # -- helpers --------------------------------------------------------------------------------

    def _order(self, gid: str) -> dict[str, Any]:
        order = self.shopify.store.get(gid, "Order")
        if order is None:
            raise ValueError(f"no Shopify order {gid}")
        return order

    def _odoo_side(self) -> _OdooSide:
        if self._side is None:
            store = self.shopify.store
            skus = [store.nodes[v].get("sku") or "" for v in store.variants]
            self._side = _OdooSide.load(self.odoo, skus)
        return self._side

    def counterparts(self, gid: str) -> list[int]:
        """Sale orders that reference the Shopify order by name (ours and anyone's)."""
        name = self._order(gid)["name"]
        return list(self.odoo.env["sale.order"].search([("client_order_ref", "=", name)]))

    def _counterpart(self, gid: str) -> int:
        found = self.counterparts(gid)
        if not found:
            raise ValueError(f"Shopify order {gid} has no Odoo counterpart to change")
        return found[0]

    def _amounts(self, gid: str, odoo_id: int) -> dict[str, Decimal]:
        """Odoo minus Shopify for total, tax, shipping and discount."""
        order = self._order(gid)
        row = self.odoo.env["sale.order"].read([odoo_id], ["amount_total", "amount_tax"])[0]
        lines = self.odoo.env["sale.order.line"].search_read(
            [("order_id", "=", odoo_id)],
            ["price_unit", "product_uom_qty", "discount", "price_subtotal", "is_delivery"],
        )
        shipping = sum((_money(x["price_subtotal"]) for x in lines if x["is_delivery"]), CENT * 0)
        discount = _money(
            sum(
                Decimal(str(x["price_unit"]))
                * Decimal(str(x["product_uom_qty"]))
                * Decimal(str(x["discount"] or 0))
                / 100
                for x in lines
                if not x["is_delivery"]
            )
        )

        def shop(key: str) -> Decimal:
            return Decimal(order[key]["shopMoney"]["amount"])

        return {
            "total": _money(row["amount_total"]) - shop("totalPriceSet"),
            "tax": _money(row["amount_tax"]) - shop("totalTaxSet"),
            "shipping": shipping - shop("totalShippingPriceSet"),
            "discount": discount - shop("totalDiscountsSet"),
        }

    # -- missing --------------------------------------------------------------------------------

    def missing(self, gid: str | None = None, *, created_at: str | None = None) -> Planted:
        """Without ``gid``: a new Shopify order that never reached Odoo (created at
        ``created_at``, default now). With ``gid``: its sale order deleted in Odoo."""
        if gid is None:
            return self._never_synced(created_at)
        for odoo_id in self.counterparts(gid):
            self.odoo.delete_record("sale.order", odoo_id)  # its stamp goes with it
        order = self._order(gid)
        return Planted("missing", "deleted", gid, order["name"], unlink=gid)

    def _never_synced(self, created_at: str | None) -> Planted:
        when = (
            datetime.fromisoformat(created_at.replace("Z", "+00:00"))
            if created_at
            else datetime.now(UTC).replace(microsecond=0)
        )
        (order,) = shopify_orders(
            self.shopify, 1, since=when, until=when + timedelta(seconds=1), cancel_every=0
        )
        return Planted("missing", "never synced", order.gid, order.name)

    # -- duplicates -----------------------------------------------------------------------------

    def duplicate(self, gid: str, by: DuplicateBy) -> Planted:
        """A second sale order for the Shopify order, findable only ``by`` one way."""
        if by not in ("stamp", "client_order_ref", "origin"):
            raise ValueError(f"duplicate by stamp, client_order_ref or origin, not {by!r}")
        order = self._order(gid)
        original = self._counterpart(gid)
        side = self._odoo_side()
        values = sale_order_values(self.shopify, gid, side, side.partners[0])
        values["client_order_ref"] = order["name"] if by == "client_order_ref" else False
        values["origin"] = (
            origin_of(self.shopify.domain, order["name"]) if by == "origin" else False
        )
        (odoo_id,) = self.odoo.env["sale.order"].create([values])
        if by == "stamp":
            slug = self.shopify.domain.split(".", 1)[0]
            self.odoo.env["ir.model.data"].create(
                [
                    {
                        "module": STAMP_MODULE,
                        "name": f"{slug}-eu_order_{order['legacyResourceId']}",
                        "model": "sale.order",
                        "res_id": odoo_id,
                        "noupdate": True,
                    }
                ]
            )
        return Planted("duplicate", by, gid, order["name"], (original, odoo_id), {"by": by})

    # -- amounts --------------------------------------------------------------------------------

    def amount(self, gid: str, which: AmountKind, delta: Decimal = Decimal("5.00")) -> Planted:
        """A person edits the Odoo order so that ``which`` differs (the total moves too)."""
        odoo_id = self._counterpart(gid)
        lines = self.odoo.env["sale.order.line"].search_read(
            [("order_id", "=", odoo_id)], ["price_unit", "product_uom_qty", "is_delivery"]
        )
        products = [x for x in lines if not x["is_delivery"]]
        deliveries = [x for x in lines if x["is_delivery"]]
        tax_field = line_fields(self.odoo.version)[0]
        if which == "total":
            side = self._odoo_side()
            self.odoo.env["sale.order.line"].create(
                [
                    {
                        "order_id": odoo_id,
                        "product_id": side.shipping_product,
                        "name": "Gift wrapping (added in Odoo)",
                        "product_uom_qty": 1.0,
                        "price_unit": float(delta),
                        tax_field: [(6, 0, [])],
                    }
                ]
            )
        elif which == "tax":
            other = self.odoo.env["account.tax"].search(
                [("amount", "=", 6.0), ("company_id", "=", self._odoo_side().company)]
            )
            self.odoo.env["sale.order.line"].write(
                [products[0]["id"]], {tax_field: [(6, 0, other)]}
            )
        elif which == "shipping":
            if not deliveries:
                raise ValueError(f"{gid} has no shipping line to change")
            price = deliveries[0]["price_unit"] + float(delta)
            self.odoo.env["sale.order.line"].write([deliveries[0]["id"]], {"price_unit": price})
        elif which == "discount":
            line = max(products, key=lambda x: x["price_unit"] * x["product_uom_qty"])
            gross = Decimal(str(line["price_unit"])) * Decimal(str(line["product_uom_qty"]))
            percent = float(min(Decimal(50), delta / gross * 100)) if gross else 0.0
            self.odoo.env["sale.order.line"].write([line["id"]], {"discount": percent})
        else:
            raise ValueError(f"amount mismatch of total, tax, shipping or discount, not {which!r}")
        differences = {k: v for k, v in self._amounts(gid, odoo_id).items() if v}
        return Planted("amount", which, gid, self._order(gid)["name"], (odoo_id,), differences)

    # -- states ---------------------------------------------------------------------------------

    def state(self, gid: str, which: StateKind) -> Planted:
        """Shopify says ``which`` (cancelled, paid, fulfilled); Odoo does not follow."""
        order = self._order(gid)
        odoo_id = self._counterpart(gid)
        store = self.shopify.store
        if which == "cancelled":
            store.update_order(gid, {"cancel": True, "reason": "CUSTOMER"})
        elif which == "paid":
            if order["displayFinancialStatus"] != "PAID":
                store.update_order(gid, {"financialStatus": "PAID"})
            self.odoo.env["sale.order"].write([odoo_id], {"state": "draft"})
        elif which == "fulfilled":
            with store.lock:
                groups = [{"fulfillmentOrderId": fo} for fo in order["_fulfillment_orders"]]
                result = fulfillment_create(store, {"lineItemsByFulfillmentOrder": groups})
                if result["userErrors"]:
                    raise ValueError(f"cannot fulfil {gid}: {result['userErrors']}")
                store.touch(order)
        else:
            raise ValueError(f"state mismatch of cancelled, paid or fulfilled, not {which!r}")
        row = self.odoo.env["sale.order"].read([odoo_id], ["state", "delivery_status"])[0]
        expected = {
            "shopify": which,
            "odoo_state": row["state"],
            "odoo_delivery": row["delivery_status"] or None,
        }
        return Planted("state", which, gid, order["name"], (odoo_id,), expected)

    # -- references without a link ----------------------------------------------------------------

    def unlinked(self, gid: str) -> Planted:
        """The console's sale order for ``gid`` is gone; a person made one by hand, with the
        Shopify order name as customer reference and no stamp. Drop the console's link."""
        order = self._order(gid)
        for odoo_id in self.counterparts(gid):
            self.odoo.delete_record("sale.order", odoo_id)
        side = self._odoo_side()
        values = sale_order_values(self.shopify, gid, side, side.partners[0])
        values["origin"] = False
        (odoo_id,) = self.odoo.env["sale.order"].create([values])
        return Planted("unlinked", "by hand", gid, order["name"], (odoo_id,), unlink=gid)

    # -- all of them ------------------------------------------------------------------------------

    def every_kind(self, orders: Sequence[SeededOrder]) -> list[Planted]:
        """One of each variant on distinct synced orders (14 plants; needs 15 paid, uncancelled
        orders among ``orders``), plus a never-synced order."""
        usable = [o for o in orders if o.odoo_id and o.paid and not o.cancelled]
        plans: list[tuple[str, Any]] = [
            ("missing", None),
            ("duplicate", "stamp"),
            ("duplicate", "client_order_ref"),
            ("duplicate", "origin"),
            ("amount", "total"),
            ("amount", "tax"),
            ("amount", "shipping"),
            ("amount", "discount"),
            ("state", "cancelled"),
            ("state", "paid"),
            ("state", "fulfilled"),
            ("unlinked", None),
        ]
        if len(usable) < len(plans) + 1:
            raise ValueError(f"need {len(plans) + 1} synced paid orders, got {len(usable)}")
        step = max(1, len(usable) // (len(plans) + 1))
        picked = usable[step // 2 :: step][: len(plans)]
        planted = [
            self._plant(kind, detail, o.gid)
            for (kind, detail), o in zip(plans, picked, strict=True)
        ]
        planted.append(self.missing(created_at=picked[-1].created_at))
        return planted

    def _plant(self, kind: str, detail: Any, gid: str) -> Planted:
        if kind == "missing":
            return self.missing(gid)
        if kind == "duplicate":
            return self.duplicate(gid, detail)
        if kind == "amount":
            return self.amount(gid, detail)
        if kind == "state":
            return self.state(gid, detail)
        return self.unlinked(gid)


def planted_kinds(planted: Iterable[Planted]) -> set[tuple[str, str]]:
    return {(p.kind, p.detail) for p in planted}
