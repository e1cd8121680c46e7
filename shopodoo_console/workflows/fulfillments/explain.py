"""Why a delivery cannot become a fulfillment now, with the four answers (DESIGN §6).

Shopify decides what may be fulfilled: a fulfillment order on hold, requested to a
fulfillment service (a 3PL ships it and reports it itself), closed (the order was cancelled),
scheduled, or assigned to another location than the one that shipped. Each becomes a cause
naming the delivery, the Shopify order, the units and the Shopify location, what a person
can do about it, and that nothing was sent — so retrying after the fix is safe.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.mappings import mapping_key
from shopodoo_console.shopify import fulfillment as rules
from shopodoo_console.shopify.fulfillment import BlockedLine
from shopodoo_console.shopify.models import nodes
from shopodoo_console.workflows.fulfillments.lines import Pairing

NOTHING_SENT = (
    "nothing was sent to Shopify for this delivery; the retry reads the order's fulfillments "
    "first and sends only what is still open"
)

CODES = {
    rules.ON_HOLD: "fulfillment.on_hold",
    rules.FULFILLMENT_SERVICE: "fulfillment.service",
    rules.OTHER_LOCATION: "fulfillment.other_location",
    rules.CLOSED: "fulfillment.closed",
    rules.NOT_READY: "fulfillment.not_ready",
}


def location_names(state: Mapping[str, Any]) -> dict[str, str]:
    """Shopify location GID → name, from the fulfillment orders read."""
    out: dict[str, str] = {}
    for fo in nodes(state.get("fulfillmentOrders")):
        location = (fo.get("assignedLocation") or {}).get("location") or {}
        if location.get("id"):
            out[str(location["id"])] = str(location.get("name") or location["id"])
    return out


def _fo_location(state: Mapping[str, Any], fo_id: str | None) -> str:
    for fo in nodes(state.get("fulfillmentOrders")):
        if fo.get("id") == fo_id:
            return str(((fo.get("assignedLocation") or {}).get("location") or {}).get("id"))
    return ""


def blocked_causes(
    blocked: Sequence[BlockedLine],
    state: Mapping[str, Any],
    pairing: Pairing,
    record: str,
    shipped_from: str,
    mapped: bool,
) -> list[Cause]:
    """One cause per reason (on hold, 3PL, other location, closed, not ready)."""
    names = location_names(state)
    groups: dict[str, list[BlockedLine]] = defaultdict(list)
    for line in blocked:
        if line.reason != rules.NOTHING_OPEN:
            groups[line.reason].append(line)
    causes = []
    for reason, lines in groups.items():
        where = {_fo_location(state, line.fulfillment_order_id) for line in lines}
        at = ", ".join(sorted(names.get(w, w) for w in where if w))
        what = pairing.describe({line.line_id: line.units for line in lines})
        detail = "; ".join(dict.fromkeys(line.detail for line in lines if line.detail))
        causes.append(
            Cause(
                code=CODES.get(reason, "fulfillment.not_ready"),
                record=record,
                missing=_missing(reason, what, at, detail, shipped_from, mapped),
                retry_note=NOTHING_SENT,
                blocked_on=tuple(mapping_key("location", w) for w in sorted(where) if w)
                if reason == rules.OTHER_LOCATION
                else (),
            )
        )
    return causes


def _words(text: str) -> str:
    """Shopify's codes as words: ``INCORRECT_ADDRESS`` → ``incorrect address``."""
    return re.sub(r"\b[A-Z][A-Z_]{2,}\b", lambda m: m.group(0).replace("_", " ").lower(), text)


def _missing(reason: str, what: str, at: str, detail: str, shipped_from: str, mapped: bool) -> str:
    detail = _words(detail)
    if reason == rules.ON_HOLD:
        return f"{what}: the fulfillment order at {at} is {detail} in Shopify"
    if reason == rules.FULFILLMENT_SERVICE:
        return (
            f"{what}: Shopify has these units {detail} at {at}; that service ships them and "
            "reports the fulfillment itself, so the console does not"
        )
    if reason == rules.OTHER_LOCATION:
        source = shipped_from or "its warehouse"
        how = "which the location mappings tie to another Shopify location" if mapped else ""
        return (
            f"{what}: Shopify assigned these units to {at}, but Odoo shipped them from "
            f"{source}{' (' + how + ')' if how else ''}"
        )
    if reason == rules.CLOSED:
        return (
            f"{what}: the fulfillment order at {at} is closed in Shopify ({detail}; the order "
            "was cancelled or closed after Odoo shipped)"
        )
    return f"{what}: the fulfillment order at {at} is not ready to fulfil ({detail})"


def split_cause(
    calls: Sequence[Sequence[Mapping[str, Any]]],
    state: Mapping[str, Any],
    pairing: Pairing,
    record: str,
    shipped_from: str,
) -> Cause:
    """The shipped units sit at several Shopify locations: one delivery is one fulfillment,
    and Shopify takes a fulfillment from one location only."""
    names = location_names(state)
    parts, where = [], []
    for call in calls:
        location = _fo_location(state, str(call[0]["fulfillmentOrderId"]))
        where.append(location)
        units = {
            _line_of(state, item["id"]): int(item["quantity"])
            for group in call
            for item in group.get("fulfillmentOrderLineItems") or []
        }
        parts.append(f"{names.get(location, location)}: {pairing.describe(units)}")
    return Cause(
        code="fulfillment.split",
        record=record,
        missing=f"Odoo shipped from {shipped_from or 'one warehouse'} lines that Shopify "
        f"assigned to {len(calls)} locations ({'; '.join(parts)}); one delivery is one "
        "Shopify fulfillment, taken from one location",
        retry_note=NOTHING_SENT,
        blocked_on=tuple(mapping_key("location", w) for w in where if w),
    )


def _line_of(state: Mapping[str, Any], fo_line_id: str) -> str:
    for fo in nodes(state.get("fulfillmentOrders")):
        for item in nodes(fo.get("lineItems")):
            if item.get("id") == fo_line_id:
                return str((item.get("lineItem") or {}).get("id"))
    return fo_line_id


def unmapped_cause(record: str, shipped_from: str, state: Mapping[str, Any]) -> Cause:
    """The shop maps its locations, but not the one this delivery left from."""
    names = location_names(state)
    return Cause(
        code="mapping.location_missing",
        record=record,
        missing=f"Odoo shipped from {shipped_from or 'a warehouse'}, which no location mapping "
        "ties to a Shopify location (the order's units sit at "
        + (", ".join(sorted(names.values())) or "no location")
        + ")",
        retry_note=NOTHING_SENT,
        fix="Map the Shopify location to this Odoo warehouse in Mappings → Locations; the "
        "job is queued again when the mapping is saved.",
        blocked_on=tuple(mapping_key("location", gid) for gid in sorted(names)),
    )
