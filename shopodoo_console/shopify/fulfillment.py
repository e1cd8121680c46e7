"""Planning a ``fulfillmentCreate`` that is safe to retry (shopify.md §8.5, DESIGN §3.6).

``fulfillmentCreate`` has no idempotency key: a blind retry of a partial fulfilment ships the
same units twice. So every (re)try starts from a fresh read of the order's fulfillment state
and sends only the difference between what should be fulfilled and what already is. Targets
are *cumulative* quantities per line item ("3 of this line are shipped in total", what Odoo's
delivered quantity says), which makes the plan idempotent by construction; a tracking number
already present on a fulfillment marks the job as done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from .models import nodes

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")
COUNTED_FULFILLMENTS = ("SUCCESS", "OPEN", "PENDING")


def fulfilled_quantities(state: Mapping[str, Any]) -> dict[str, int]:
    """Units already fulfilled per line item id."""
    done: dict[str, int] = defaultdict(int)
    for fulfillment in state.get("fulfillments") or []:
        if fulfillment.get("status") not in COUNTED_FULFILLMENTS:
            continue
        for item in nodes(fulfillment.get("fulfillmentLineItems")):
            done[item["lineItem"]["id"]] += int(item["quantity"])
    return dict(done)


def with_tracking(state: Mapping[str, Any], number: str) -> dict[str, Any] | None:
    """The fulfillment that already carries this tracking number, if any."""
    for fulfillment in state.get("fulfillments") or []:
        if fulfillment.get("status") not in COUNTED_FULFILLMENTS:
            continue
        if any(info.get("number") == number for info in fulfillment.get("trackingInfo") or []):
            return dict(fulfillment)
    return None


def plan(
    state: Mapping[str, Any], targets: Mapping[str, int] | None
) -> tuple[list[list[dict[str, Any]]], dict[str, int]]:
    """The ``lineItemsByFulfillmentOrder`` of each call still needed, one call per location,
    and the units that cannot be fulfilled (target above what is open)."""
    open_orders = [
        fo for fo in nodes(state.get("fulfillmentOrders")) if fo.get("status") in OPEN_STATUSES
    ]
    by_location: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shortfall: dict[str, int] = {}
    if targets is None:
        for fo in open_orders:
            if any(int(li["remainingQuantity"]) > 0 for li in nodes(fo.get("lineItems"))):
                by_location[_location(fo)].append({"fulfillmentOrderId": fo["id"]})
        return list(by_location.values()), shortfall
    done = fulfilled_quantities(state)
    wanted_by_fo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line_id, target in targets.items():
        want = int(target) - done.get(line_id, 0)
        for fo in open_orders:
            for item in nodes(fo.get("lineItems")):
                if want <= 0:
                    break
                if item["lineItem"]["id"] != line_id or int(item["remainingQuantity"]) <= 0:
                    continue
                take = min(want, int(item["remainingQuantity"]))
                wanted_by_fo[fo["id"]].append({"id": item["id"], "quantity": take})
                want -= take
        if want > 0:
            shortfall[line_id] = want
    for fo in open_orders:
        if wanted_by_fo.get(fo["id"]):
            by_location[_location(fo)].append(
                {
                    "fulfillmentOrderId": fo["id"],
                    "fulfillmentOrderLineItems": wanted_by_fo[fo["id"]],
                }
            )
    return list(by_location.values()), shortfall


def _location(fo: Mapping[str, Any]) -> str:
    assigned = fo.get("assignedLocation") or {}
    return str((assigned.get("location") or {}).get("id"))
