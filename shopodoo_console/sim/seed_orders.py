"""Thousands of orders at once, for the backfill test, the audit bench and demos (issue 14).

:func:`shopify_orders` puts ``count`` orders into the Shopify simulator, spread over a period
(lines from the catalogue, 21 % tax, shipping, some discounts, mostly paid, a few cancelled),
through the simulator's own order code but without its slow lookups by e-mail and SKU.
:func:`odoo_counterparts` gives each of them the sale order the console would have made —
stamp ``<shop>_order_<legacy id>`` (module ``shopodoo``), ``client_order_ref`` = the order
name, ``origin`` = ``Shopify <domain> <name>``, the same amounts to the cent, confirmed when
paid, cancelled when cancelled — and writes ``shopodoo.odoo_id`` back on the Shopify order.
Together they make the clean world an audit must find nothing in;
:mod:`shopodoo_console.sim.mismatches` then breaks it on purpose.

Amounts agree by construction: a line is only used if Shopify's rounding (half up, per line)
and Odoo's (per line, on floats) give the same cents for it.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .odoo import OdooSimulator
from .odoo.models import line_fields
from .shopify import ShopifySimulator
from .shopify.mutations import metafields_set
from .shopify.util import iso, legacy

TAX_RATE = Decimal("0.21")
CENT = Decimal("0.01")
SHIPPING = (("Standard", "STD", Decimal("4.90")), ("Express", "EXP", Decimal("12.00")))
STAMP_MODULE = "shopodoo"


@dataclass(frozen=True)
class SeededOrder:
    """A seeded Shopify order and, once made, its Odoo counterpart."""

    gid: str
    legacy_id: int
    name: str
    created_at: str
    paid: bool
    cancelled: bool
    odoo_id: int | None = None
    odoo_name: str | None = None
    stamp: str | None = None


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while creating many objects: its full passes
    over an ever larger heap made seeding grow faster than the number of orders."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def order_stamp(shop_domain: str, legacy_id: int) -> str:
    """The orders flow's stamp name (workflows/orders/match.py ``order_stamp``)."""
    return f"{shop_domain.split('.', 1)[0]}_order_{legacy_id}"


def origin_of(shop_domain: str, name: str) -> str:
    """The orders flow's ``origin`` (workflows/orders/plan.py)."""
    return f"Shopify {shop_domain} {name}"


def _agree(price: Decimal, quantity: int, discount: Decimal) -> bool:
    """Shopify and Odoo compute the same net and tax for this line (see the module doc)."""
    net = price * quantity - discount
    shopify_tax = (net * TAX_RATE).quantize(CENT, ROUND_HALF_UP)
    percent = float(discount / (price * quantity) * 100) if discount else 0.0
    odoo_net = round(quantity * float(price) * (1 - percent / 100), 2)
    odoo_tax = round(odoo_net * float(TAX_RATE * 100) / 100, 2)
    return Decimal(str(odoo_net)) == net and Decimal(str(odoo_tax)) == shopify_tax


def _line(rng: random.Random, variant: dict[str, Any]) -> dict[str, Any]:
    price = Decimal(str(variant["price"]))
    for _ in range(20):
        quantity = rng.choice((1, 1, 1, 2, 3))
        discount = Decimal(0)
        if rng.random() < 0.2:
            discount = (price * quantity / 10).quantize(CENT, ROUND_HALF_UP)
        if _agree(price, quantity, discount):
            break
        price += CENT  # a price whose tax rounds the same way on both sides
    return {
        "variant": variant["id"],
        "quantity": quantity,
        "price": str(price),
        "discount": str(discount),
        "taxRate": str(TAX_RATE),
    }


def shopify_orders(
    sim: ShopifySimulator,
    count: int,
    *,
    since: datetime,
    until: datetime,
    seed: int = 7,
    paid_share: float = 0.85,
    cancel_every: int = 50,
) -> list[SeededOrder]:
    """Create ``count`` orders created evenly over ``[since, until)``; oldest first."""
    rng = random.Random(seed)
    store = sim.store
    with store.lock:
        variants = [
            store.nodes[v]
            for v in store.variants
            if store.nodes[v].get("sku") and len(store.variants_by_sku(store.nodes[v]["sku"])) == 1
        ]
        customers = list(store.customers)
    if not variants:
        raise ValueError("the Shopify simulator has no product variant with a unique SKU")
    span = (until - since).total_seconds()
    seeded: list[SeededOrder] = []
    with _no_gc():
        for i in range(count):
            seeded.append(
                _one_order(
                    sim,
                    rng,
                    i,
                    since + timedelta(seconds=span * i / count),
                    variants,
                    customers,
                    paid_share,
                    cancel_every,
                )
            )
    return seeded


def _one_order(
    sim: ShopifySimulator,
    rng: random.Random,
    i: int,
    created: datetime,
    variants: list[dict[str, Any]],
    customers: list[str],
    paid_share: float,
    cancel_every: int,
) -> SeededOrder:
    store = sim.store
    stamp = iso(created.astimezone(UTC))
    paid = rng.random() < paid_share
    title, code, ship_price = rng.choice(SHIPPING)
    spec: dict[str, Any] = {
        "customer": rng.choice(customers) if customers else None,
        "email": None if customers else f"guest.{i}@example.org",
        "createdAt": stamp,
        "updatedAt": stamp,
        "processedAt": stamp,
        "lines": [_line(rng, rng.choice(variants)) for _ in range(rng.randint(1, 3))],
        "shipping": [
            {"title": title, "code": code, "price": str(ship_price), "taxRate": str(TAX_RATE)}
        ],
        "financialStatus": "PAID" if paid else "PENDING",
        "gateway": "shopify_payments",
        "cancelled": bool(cancel_every) and i % cancel_every == cancel_every - 1,
    }
    gid = store.create_order(spec)
    order = store.nodes[gid]
    return SeededOrder(
        gid=gid,
        legacy_id=legacy(gid),
        name=order["name"],
        created_at=order["createdAt"],
        paid=paid,
        cancelled=bool(order["cancelledAt"]),
    )


@dataclass
class _OdooSide:
    """Ids the counterparts need, looked up once."""

    company: int
    tax: int
    tax_field: str
    partners: list[int]
    products: dict[str, int]
    shipping_product: int

    @classmethod
    def load(cls, odoo: OdooSimulator, skus: Sequence[str]) -> _OdooSide:
        env = odoo.env
        company = odoo.company_id("eu")
        taxes = env["account.tax"].search(
            [("amount", "=", float(TAX_RATE * 100)), ("company_id", "=", company)]
        )
        products = env["product.product"].search_read(
            [("default_code", "in", sorted(set(skus)))], ["default_code"]
        )
        carriers = env["delivery.carrier"].search_read([], ["product_id"])
        partners = env["res.partner"].search(
            [("is_company", "=", False), ("email", "!=", False)], limit=50
        )
        if not taxes or not carriers or not partners:
            raise ValueError("the Odoo simulator lacks a 21 % tax, a carrier or a partner")
        return cls(
            company=company,
            tax=taxes[0],
            tax_field=line_fields(odoo.version)[0],
            partners=partners,
            products={str(p["default_code"]): int(p["id"]) for p in products},
            shipping_product=int(carriers[0]["product_id"][0]),
        )


def sale_order_values(
    shopify: ShopifySimulator, gid: str, side: _OdooSide, partner: int
) -> dict[str, Any]:
    """The sale order the orders flow would make for one Shopify order (same cents)."""
    store = shopify.store
    order = store.nodes[gid]
    lines: list[Any] = []
    for line_id in order["_lines"]:
        line = store.nodes[line_id]
        price = Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"])
        allocations = line.get("discountAllocations") or []
        discount = sum(
            (Decimal(a["allocatedAmountSet"]["shopMoney"]["amount"]) for a in allocations),
            Decimal(0),
        )
        product = side.products.get(line.get("sku") or "")
        if product is None:
            raise ValueError(f"no Odoo product for SKU {line.get('sku')!r}")
        values = {
            "product_id": product,
            "name": line["name"],
            "product_uom_qty": float(line["quantity"]),
            "price_unit": float(price),
            "discount": float(discount / (price * line["quantity"]) * 100) if discount else 0.0,
            side.tax_field: [(6, 0, [side.tax])],
        }
        lines.append((0, 0, values))
    for shipping in order["_shipping_lines"]:
        values = {
            "product_id": side.shipping_product,
            "name": f"Shipping: {shipping['title']}",
            "product_uom_qty": 1.0,
            "price_unit": float(shipping["originalPriceSet"]["shopMoney"]["amount"]),
            "is_delivery": True,
            side.tax_field: [(6, 0, [side.tax])],
        }
        lines.append((0, 0, values))
    if order["cancelledAt"]:
        state = "cancel"
    elif order["displayFinancialStatus"] == "PAID":
        state = "sale"
    else:
        state = "draft"
    processed = order["processedAt"].replace("T", " ").removesuffix("Z")
    return {
        "partner_id": partner,
        "company_id": side.company,
        "client_order_ref": order["name"],
        "origin": origin_of(shopify.domain, order["name"]),
        "date_order": processed,
        "state": state,
        "order_line": lines,
    }


def odoo_counterparts(
    shopify: ShopifySimulator,
    odoo: OdooSimulator,
    orders: Sequence[SeededOrder],
    *,
    write_back: bool = True,
    batch: int = 1000,
) -> list[SeededOrder]:
    """Sale orders with stamps for ``orders`` (in batches of one call each), and the
    ``shopodoo.odoo_id`` metafield on the Shopify side; returns the orders with their ids."""
    store = shopify.store
    skus = [store.nodes[line]["sku"] or "" for o in orders for line in store.nodes[o.gid]["_lines"]]
    side = _OdooSide.load(odoo, skus)
    done: list[SeededOrder] = []
    with _no_gc():
        for start in range(0, len(orders), batch):
            done += _counterpart_batch(shopify, odoo, orders[start : start + batch], side)
    if write_back:
        write_odoo_ids(shopify, done)
    return done


def _counterpart_batch(
    shopify: ShopifySimulator, odoo: OdooSimulator, part: Sequence[SeededOrder], side: _OdooSide
) -> list[SeededOrder]:
    values = [
        sale_order_values(shopify, o.gid, side, side.partners[o.legacy_id % len(side.partners)])
        for o in part
    ]
    ids = odoo.env["sale.order"].create(values)
    names = {r["id"]: r["name"] for r in odoo.env["sale.order"].read(ids, ["name"])}
    stamps = [order_stamp(shopify.domain, o.legacy_id) for o in part]
    odoo.env["ir.model.data"].create(
        [
            {
                "module": STAMP_MODULE,
                "name": stamp,
                "model": "sale.order",
                "res_id": rid,
                "noupdate": True,
            }
            for stamp, rid in zip(stamps, ids, strict=True)
        ]
    )
    return [
        replace(o, odoo_id=rid, odoo_name=names[rid], stamp=stamp)
        for o, rid, stamp in zip(part, ids, stamps, strict=True)
    ]


def write_odoo_ids(shopify: ShopifySimulator, orders: Sequence[SeededOrder]) -> None:
    """``shopodoo.odoo_id`` on each order, as the orders flow writes it back."""
    with shopify.store.lock:
        for start in range(0, len(orders), 25):
            inputs = [
                {
                    "ownerId": o.gid,
                    "namespace": "shopodoo",
                    "key": "odoo_id",
                    "type": "single_line_text_field",
                    "value": str(o.odoo_id),
                }
                for o in orders[start : start + 25]
                if o.odoo_id is not None
            ]
            if inputs:
                metafields_set(shopify.store, inputs)


def synced_orders(
    shopify: ShopifySimulator,
    odoo: OdooSimulator,
    count: int,
    *,
    since: datetime,
    until: datetime,
    seed: int = 7,
) -> list[SeededOrder]:
    """A clean world: ``count`` Shopify orders, each with its Odoo sale order."""
    return odoo_counterparts(
        shopify, odoo, shopify_orders(shopify, count, since=since, until=until, seed=seed)
    )
