"""The sale order lines of a Shopify order, and every mapping they lack (pure).

Products come from a product mapping, then the SKU, then the barcode; a custom line item (no
variant, no SKU: gift wrapping, a service) from a mapping of its title, else the shop's
``custom_line_product_id``. Shipping lines from a carrier mapping, else
``shipping_product_id``. Anything missing is collected, not returned at the first gap, so the
operator sees every mapping the order needs at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.mappings import mapping_key
from shopodoo_console.workflows.orders.match import Lookups, ProductMatch, tax_key
from shopodoo_console.workflows.orders.order import Line, ShopifyOrder
from shopodoo_console.workflows.orders.settings import OrdersSettings

NOTHING_CREATED = "nothing was created in Odoo for this order yet"


@dataclass
class LinesPlan:
    lines: list[dict[str, Any]] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)


@dataclass
class _Gaps:
    products: list[str] = field(default_factory=list)
    custom: list[str] = field(default_factory=list)
    carriers: list[str] = field(default_factory=list)
    taxes: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)  # cause code → blocked_on keys

    def block(self, code: str, key: str) -> None:
        self.keys.setdefault(code, []).append(key)


def plan_lines(order: ShopifyOrder, lookups: Lookups, settings: OrdersSettings) -> LinesPlan:
    gaps = _Gaps()
    mapped_taxes = settings.taxes == "mapped"
    out = LinesPlan()
    for line in order.lines:
        if line.quantity == 0:
            continue  # removed by an order edit
        product = _product(line, lookups, settings, gaps)
        if product is None:
            continue
        values: dict[str, Any] = {
            "product_id": product.id,
            "name": line.title
            if line.is_custom
            else line.title + (f" — {line.variant_title}" if line.variant_title else ""),
            "product_uom_qty": line.quantity,
            "price_unit": float(line.unit_price),
            "discount": _discount_percent(line.unit_price, line.quantity, line.discount),
        }
        if mapped_taxes:
            values["tax_ids"] = _taxes(line.tax_lines, lookups, gaps)
        out.lines.append(values)
    for shipping in order.shipping:
        carrier = lookups.carriers.get(shipping.carrier_key)
        product_id = carrier[1] if carrier else settings.shipping_product_id
        if product_id is None:
            gaps.carriers.append(
                f"shipping method {shipping.carrier_key!r} (no carrier mapping and no "
                "shipping_product_id)"
            )
            gaps.block("mapping.carrier_missing", mapping_key("carrier", shipping.carrier_key))
            continue
        values = {
            "product_id": product_id,
            "name": f"Shipping: {shipping.title}",
            "product_uom_qty": 1,
            "price_unit": float(shipping.price),
            "discount": 0.0,
        }
        if mapped_taxes:
            values["tax_ids"] = _taxes(shipping.tax_lines, lookups, gaps)
        out.lines.append(values)
    out.causes = _causes(order, gaps, lookups)
    return out


def _product(
    line: Line, lookups: Lookups, settings: OrdersSettings, gaps: _Gaps
) -> ProductMatch | None:
    match = lookups.products.get(line.product_key)
    if match is not None:
        return match
    if line.is_custom:
        if settings.custom_line_product_id:
            return ProductMatch(settings.custom_line_product_id, line.title, "custom line option")
        gaps.custom.append(f"{line.title!r} ({line.quantity} × {line.unit_price})")
        gaps.block("mapping.custom_line_missing", mapping_key("product", line.product_key))
        return None
    if "products" in lookups.denied:
        return None  # the products could not be read: the permission cause says why
    note = ""
    if line.product_key in lookups.ambiguous:
        note = f" — {lookups.ambiguous[line.product_key]} Odoo products match it"
    gaps.products.append(line.describe() + note)
    gaps.block("mapping.product_missing", mapping_key("product", line.product_key))
    return None


def _causes(order: ShopifyOrder, gaps: _Gaps, lookups: Lookups) -> list[Cause]:
    found: list[Cause] = []
    for code, items, text in (
        ("mapping.product_missing", gaps.products, "line(s) have no Odoo product"),
        (
            "mapping.custom_line_missing",
            gaps.custom,
            "custom line item(s) (no variant, no SKU) have no Odoo product and "
            "options.custom_line_product_id is not set",
        ),
        ("mapping.carrier_missing", gaps.carriers, "shipping line(s) have no Odoo product"),
    ):
        if items:
            found.append(
                Cause(
                    code=code,
                    record=order.label,
                    missing=f"{len(items)} {text}: " + "; ".join(items),
                    blocked_on=tuple(dict.fromkeys(gaps.keys.get(code, []))),
                    retry_note=NOTHING_CREATED,
                )
            )
    if gaps.taxes:
        found.append(
            Cause(
                code="mapping.tax_missing",
                record=order.label,
                missing="no Odoo tax is mapped for: " + ", ".join(dict.fromkeys(gaps.taxes)),
                blocked_on=tuple(dict.fromkeys(gaps.keys.get("mapping.tax_missing", []))),
                retry_note=NOTHING_CREATED,
            )
        )
    return found


def _taxes(tax_lines: tuple[tuple[str, Decimal], ...], lookups: Lookups, gaps: _Gaps) -> list[int]:
    ids = []
    for title, rate in tax_lines:
        key = tax_key(title, rate)
        if key in lookups.taxes:
            ids.append(lookups.taxes[key])
        else:
            gaps.taxes.append(key)
            gaps.block("mapping.tax_missing", mapping_key("tax", key))
    return ids


def _round(value: Decimal | float, places: str) -> float:
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _discount_percent(price: Decimal, quantity: int, allocated: Decimal) -> float:
    gross = price * quantity
    if gross <= 0 or allocated <= 0:
        return 0.0
    return _round(allocated / gross * 100, "0.01")


def normal_line(
    product_id: Any,
    qty: Any,
    price: Any,
    discount: Any,
    taxes: Any,
    include_taxes: bool,
    name: Any = "",
) -> tuple[Any, ...]:
    row: tuple[Any, ...] = (
        int(product_id or 0),
        str(name or "").strip(),
        _round(qty, "0.001"),
        _round(price, "0.01"),
        _round(discount or 0, "0.01"),
    )
    if include_taxes:
        row += (tuple(sorted(int(t) for t in taxes or ())),)
    return row


def lines_digest(
    lines: list[dict[str, Any]] | tuple[dict[str, Any], ...], include_taxes: bool
) -> str:
    """A digest of the lines we own (product, description, quantity, price, discount[,
    taxes]), order-free, computable both from a plan and from what Odoo holds now: that is how
    a person's edit in Odoo is told from ours (DESIGN §7)."""
    rows = sorted(
        normal_line(
            line["product_id"],
            line["product_uom_qty"],
            line["price_unit"],
            line.get("discount"),
            line.get("tax_ids"),
            include_taxes,
            line.get("name", ""),
        )
        for line in lines
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:32]
