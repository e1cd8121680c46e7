"""Which Shopify line item each shipped move is (pure).

The orders flow writes one sale order line per Shopify line item, in the order's line order,
named after it: the title, and `` — `` and the variant title when there is one (custom line
items keep their bare title). A delivery's moves point to those sale lines (``sale_line_id``).
So a move is paired with its line item through its sale line's name, matched against the line
items Shopify lists on the order's fulfillment orders; when one title appears on several lines
(the same product twice), the n-th sale line of that name takes the n-th line item of it.

A move whose sale line pairs with nothing (a product added to the sale order in Odoo, a line
renamed by hand) is reported, never guessed: shipping the wrong line would be worse than not
shipping it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopodoo_console.odoo.stock import ShippedMove
from shopodoo_console.shopify.models import nodes


@dataclass(frozen=True)
class ShopLine:
    id: str
    title: str
    variant_title: str
    sku: str

    @property
    def names(self) -> tuple[str, ...]:
        """The names the orders flow gives its sale line (with and without the variant)."""
        full = self.title + (f" — {self.variant_title}" if self.variant_title else "")
        return (full, self.title) if full != self.title else (full,)

    @property
    def label(self) -> str:
        return self.names[0] + (f" ({self.sku})" if self.sku else "")


@dataclass(frozen=True)
class Pairing:
    """What a delivery shipped, per Shopify line item, and what pairs with nothing."""

    targets: dict[str, int]  # line item GID → units this delivery shipped
    labels: dict[str, str]  # line item GID → "Mug — Red (MUG-RED)"
    unmatched: tuple[str, ...] = ()  # "2 × [LEG-1] Extra mug (sale line 7)" and why
    fractional: tuple[str, ...] = ()  # quantities Shopify cannot take (whole units only)

    @property
    def units(self) -> int:
        return sum(self.targets.values())

    def describe(self, lines: Mapping[str, int] | None = None) -> str:
        shown = self.targets if lines is None else lines
        return ", ".join(f"{n} × {self.labels.get(li, li)}" for li, n in shown.items() if n)


def _numeric(gid: str) -> int:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def shop_lines(state: Mapping[str, Any]) -> list[ShopLine]:
    """The order's shippable line items, as its fulfillment orders list them, in line order
    (a line an order edit took out, with nothing left to ship anywhere, is left out: the
    orders flow wrote no sale line for it)."""
    seen: dict[str, ShopLine] = {}
    total: dict[str, int] = {}
    for fo in nodes(state.get("fulfillmentOrders")):
        for item in nodes(fo.get("lineItems")):
            line = item.get("lineItem") or {}
            gid = line.get("id")
            if gid:
                total[gid] = total.get(gid, 0) + int(item.get("totalQuantity") or 0)
            if gid and gid not in seen:
                seen[gid] = ShopLine(
                    id=str(gid),
                    title=str(line.get("title") or "").strip(),
                    variant_title=str(line.get("variantTitle") or "").strip(),
                    sku=str(line.get("sku") or item.get("sku") or ""),
                )
    kept = [s for s in seen.values() if total.get(s.id, 0) > 0]
    return sorted(kept, key=lambda s: (_numeric(s.id), s.id))


def pair_sale_lines(
    sale_lines: Mapping[int, str], lines: Iterable[ShopLine]
) -> dict[int, ShopLine]:
    """Sale line id → its Shopify line item, by name; the n-th of a name takes the n-th."""
    free = list(lines)
    paired: dict[int, ShopLine] = {}
    for sale_id in sorted(sale_lines):
        name = " ".join(str(sale_lines[sale_id] or "").split())
        match = next((s for s in free if name in (" ".join(n.split()) for n in s.names)), None)
        if match is not None:
            paired[sale_id] = match
            free.remove(match)
    return paired


def pair_moves(
    moves: Iterable[ShippedMove],
    sale_lines: Mapping[int, str],
    order_sale_lines: Mapping[int, str],
    state: Mapping[str, Any],
) -> Pairing:
    """What the delivery's done moves shipped per Shopify line item.

    ``sale_lines``: the moves' sale lines (id → name); ``order_sale_lines``: every line of the
    sale order (the n-th-of-a-name rule needs the lines this delivery did not ship too).
    """
    lines = shop_lines(state)
    by_sale = pair_sale_lines(order_sale_lines or sale_lines, lines)
    targets: dict[str, int] = {}
    labels = {s.id: s.label for s in lines}
    unmatched: list[str] = []
    fractional: list[str] = []
    for move in moves:
        if move.state != "done" or move.done <= 0:
            continue
        what = f"{_units(move.done)} × {move.product}"
        line = by_sale.get(move.sale_line_id) if move.sale_line_id else None
        if line is None:
            why = (
                "not from a sale order line"
                if not move.sale_line_id
                else f"sale line {sale_lines.get(move.sale_line_id, move.sale_line_id)!r} "
                "is not on the Shopify order"
            )
            unmatched.append(f"{what} ({why})")
            continue
        if move.done != int(move.done):
            fractional.append(f"{what} (Shopify counts whole units)")
            continue
        targets[line.id] = targets.get(line.id, 0) + int(move.done)
    return Pairing(targets, labels, tuple(unmatched), tuple(fractional))


def _units(quantity: float) -> str:
    return str(int(quantity)) if quantity == int(quantity) else f"{quantity:g}"
