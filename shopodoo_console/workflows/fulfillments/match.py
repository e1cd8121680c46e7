"""The match stage: is this delivery already a Shopify fulfillment? (DESIGN §3.4, §3.6)

``fulfillmentCreate`` has no idempotency key, so before every try the order's fulfillment
state is read again (batched across the batch's orders), and the delivery's fulfillment is
looked for, in this order:

1. **linked** — the link this console wrote (picking ↔ fulfillment);
2. **stamped** — the picking's stamp in Odoo names the fulfillment (``shopodoo.<shop>_
   fulfillment_<id>``: another console on the same Odoo, or a lost local database);
3. **marked** — the order's ``shopodoo.fulfillments`` metafield records the picking reference
   with the fulfillment;
4. **tracking** — a fulfillment carries one of the delivery's tracking numbers;
5. **recovered** — no tracking number, and the answer to our ``fulfillmentCreate`` was lost:
   the intent recorded just before it lists the fulfillments that existed then and the lines
   sent; a fulfillment made since with exactly those lines is the one Shopify applied.

A fulfillment another delivery answers for (linked or marked for it) is never taken: two
deliveries may share a tracking number (two parcels handed over together).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.odoo.stock import Picking
from shopodoo_console.shopify.fulfillment import COUNTED_FULFILLMENTS
from shopodoo_console.shopify.models import nodes
from shopodoo_console.store.links import LinkRow

FULFILLMENT_GID = "gid://shopify/Fulfillment/"


@dataclass(frozen=True)
class OrderLink:
    """The Shopify order a delivery's sale order is linked to (written by the orders flow)."""

    gid: str
    name: str  # "#1004" (the sale order's customer reference), or the GID
    sale_order: str  # "S00042"


@dataclass(frozen=True)
class Evidence:
    """What this console, Odoo and the order say about the delivery's fulfillment."""

    link: LinkRow | None = None
    stamps: tuple[str, ...] = ()  # stamp names on the picking (…_fulfillment_<legacy id>)
    marker: Mapping[str, Any] | None = None  # the picking's entry in the order's marker
    taken: frozenset[str] = frozenset()  # fulfillments other deliveries answer for
    intents: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Found:
    fulfillment: dict[str, Any]
    how: str  # linked | stamped | marked | tracking | recovered
    stamped: bool = False  # the picking carries its stamp already
    marked: bool = False  # the order's marker records it already
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return str(self.fulfillment.get("id"))

    @property
    def name(self) -> str:
        return str(self.fulfillment.get("name") or self.id)

    @property
    def cancelled(self) -> bool:
        return self.fulfillment.get("status") == "CANCELLED"


HOW = {
    "linked": "linked by this console",
    "stamped": "found by the picking's stamp in Odoo",
    "marked": "found by the picking reference recorded on the Shopify order",
    "tracking": "found by its tracking number",
    "recovered": "found by the lines sent when Shopify's answer was lost",
}


def legacy_id(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def stamp_name(slug: str, fulfillment_gid: str) -> str:
    return f"{stamp_prefix(slug)}{legacy_id(fulfillment_gid)}"


def stamp_prefix(slug: str) -> str:
    return f"{slug}_fulfillment_"


def marker_of(state: Mapping[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """The order's marker map (``{picking id: {picking, fulfillment, …}}``) and its digest
    (``None``: no marker yet). An unreadable value counts as none (it is rewritten whole)."""
    field_ = (state or {}).get("fulfillmentMarker")
    if not isinstance(field_, dict):
        return {}, None
    try:
        value = json.loads(field_.get("value") or "{}")
    except ValueError:
        value = {}
    return (value if isinstance(value, dict) else {}), field_.get("compareDigest")


def fulfilled_lines(fulfillment: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in nodes(fulfillment.get("fulfillmentLineItems")):
        line = str((item.get("lineItem") or {}).get("id"))
        out[line] = out.get(line, 0) + int(item.get("quantity") or 0)
    return out


def tracking_numbers(fulfillment: Mapping[str, Any]) -> list[str]:
    return [str(t["number"]) for t in fulfillment.get("trackingInfo") or [] if t.get("number")]


def find_ours(
    picking: Picking,
    state: Mapping[str, Any],
    evidence: Evidence,
    slug: str,
) -> Found | None:
    """The delivery's fulfillment on the order, if it exists already (see the module doc)."""
    fulfillments = [dict(f) for f in state.get("fulfillments") or []]
    by_id = {str(f.get("id")): f for f in fulfillments}
    marked_id = str((evidence.marker or {}).get("fulfillment") or "")
    stamped_ids = {
        FULFILLMENT_GID + name[len(stamp_prefix(slug)) :]
        for name in evidence.stamps
        if name.startswith(stamp_prefix(slug))
    }

    def found(fulfillment: dict[str, Any], how: str) -> Found:
        fid = str(fulfillment.get("id"))
        return Found(fulfillment, how, fid in stamped_ids, fid == marked_id)

    link = evidence.link
    if link is not None:
        # Trust our own link even when the read did not list it (a page cut short).
        return found(by_id.get(link.shopify_id) or {"id": link.shopify_id}, "linked")
    for fid in sorted(stamped_ids):
        if fid in by_id:
            return found(by_id[fid], "stamped")
    if marked_id in by_id:
        return found(by_id[marked_id], "marked")
    free = [
        f
        for f in fulfillments
        if str(f.get("id")) not in evidence.taken and f.get("status") in COUNTED_FULFILLMENTS
    ]
    numbers = set(picking.tracking_numbers)
    for fulfillment in free:
        if numbers & set(tracking_numbers(fulfillment)):
            return found(fulfillment, "tracking")
    recovered = _recovered(free, evidence.intents, picking.id)
    return found(recovered, "recovered") if recovered is not None else None


def _recovered(
    free: Sequence[dict[str, Any]], intents: Iterable[Mapping[str, Any]], picking_id: int
) -> dict[str, Any] | None:
    """A fulfillment made after an intent of ours, with exactly the lines it sent."""
    for intent in intents:
        if intent.get("picking") != picking_id or not intent.get("lines"):
            continue
        before = set(intent.get("before") or [])
        sent = {str(k): int(v) for k, v in dict(intent["lines"]).items()}
        for fulfillment in free:
            if str(fulfillment.get("id")) not in before and fulfilled_lines(fulfillment) == sent:
                return fulfillment
    return None
