"""Fulfillment orders as Shopify keeps them: one per location, held, requested, closed.

An order's shippable lines are grouped into one fulfillment order per assigned location (a
line may name its own ``location`` in the scenario). A fulfillment order is ``OPEN`` until
work starts (``IN_PROGRESS``), ``ON_HOLD`` while a hold is on it, ``CLOSED`` when nothing
remains or the order is cancelled. Fulfillment orders at a fulfillment-service location are
*requested* to the service (``requestStatus`` SUBMITTED → ACCEPTED) and only the service can
fulfil them. Enum values and fields: SDL 2026-07 (shopify.md §8.5). The caller holds
``store.lock``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import stock
from .state import StateError, Store
from .util import iso, legacy, now

WORKABLE = ("OPEN", "IN_PROGRESS")
SERVICE_OWNED = ("SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED")
HOLD_REASONS = {
    "AWAITING_PAYMENT": "Awaiting payment",
    "HIGH_RISK_OF_FRAUD": "High risk of fraud",
    "INCORRECT_ADDRESS": "Incorrect address",
    "INVENTORY_OUT_OF_STOCK": "Inventory out of stock",
    "UNKNOWN_DELIVERY_DATE": "Unknown delivery date",
    "ONLINE_STORE_POST_PURCHASE_CROSS_SELL": "Post-purchase upsell",
    "AWAITING_RETURN_ITEMS": "Awaiting return items",
    "OTHER": "Other",
}


def item_of_line(store: Store, line: Mapping[str, Any]) -> str | None:
    variant = store.get(line.get("_variant"), "ProductVariant")
    return variant["_item"] if variant else None


def _default_location(store: Store, ref: Any) -> dict[str, Any]:
    if ref is not None:
        return store.location(ref)
    return next(
        (
            store.nodes[i]
            for i in store.locations
            if store.nodes[i]["fulfillsOnlineOrders"] and store.nodes[i]["isActive"]
        ),
        store.nodes[store.locations[0]],
    )


def open_fulfillment_orders(
    store: Store, order: dict[str, Any], lines: list[dict[str, Any]], location_ref: Any
) -> None:
    """One fulfillment order per location for the shippable lines; their units are committed."""
    shippable = [line for line in lines if line["requiresShipping"]]
    if not shippable or not store.locations:
        return
    default = _default_location(store, location_ref)
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in shippable:
        ship_from = line.pop("_ship_from", None)
        location = store.location(ship_from) if ship_from else default
        groups.setdefault(location["id"], []).append(line)
    for location_id, group in groups.items():
        fo_lines = []
        for line in group:
            fo_line = store.add(
                {
                    "__typename": "FulfillmentOrderLineItem",
                    "id": store.new_gid("FulfillmentOrderLineItem"),
                    "totalQuantity": line["quantity"],
                    "remainingQuantity": line["quantity"],
                    "sku": line.get("sku"),
                    "_line": line["id"],
                }
            )
            fo_lines.append(fo_line["id"])
            stock.commit(store, item_of_line(store, line), location_id, line["quantity"])
        fo = store.add(
            {
                "__typename": "FulfillmentOrder",
                "id": store.new_gid("FulfillmentOrder"),
                "status": "OPEN",
                "requestStatus": "UNSUBMITTED",
                "createdAt": order["createdAt"],
                "updatedAt": order["updatedAt"],
                "fulfillmentHolds": [],
                "_order": order["id"],
                "_location": location_id,
                "_lines": fo_lines,
            }
        )
        order["_fulfillment_orders"].append(fo["id"])


def at_service(store: Store, fo: Mapping[str, Any]) -> bool:
    """Whether the fulfillment order is assigned to a fulfillment-service location."""
    return bool(store.nodes[fo["_location"]].get("isFulfillmentService"))


def remaining(store: Store, fo: Mapping[str, Any]) -> int:
    return sum(store.nodes[i]["remainingQuantity"] for i in fo["_lines"])


def _started(store: Store, fo: Mapping[str, Any]) -> bool:
    return any(
        store.nodes[i]["remainingQuantity"] < store.nodes[i]["totalQuantity"] for i in fo["_lines"]
    )


def _changed(store: Store, fo: dict[str, Any]) -> None:
    fo["updatedAt"] = iso(now())
    order = store.nodes[fo["_order"]]
    refresh_display_status(store, order)
    store.touch(order)


def hold(store: Store, fo: dict[str, Any], reason: str = "OTHER", notes: str | None = None) -> None:
    """``fulfillmentOrderHold``: work stops until the hold is released."""
    if reason not in HOLD_REASONS:
        raise StateError(f"unknown hold reason {reason!r}; use one of {sorted(HOLD_REASONS)}")
    if fo["status"] not in (*WORKABLE, "SCHEDULED", "ON_HOLD"):
        raise StateError(f"a {fo['status']} fulfillment order cannot be put on hold")
    if fo["status"] != "ON_HOLD":
        fo["_held_from"] = fo["status"]
    fo["status"] = "ON_HOLD"
    fo["fulfillmentHolds"].append(
        {
            "id": store.new_gid("FulfillmentHold"),
            "reason": reason,
            "reasonNotes": notes,
            "displayReason": HOLD_REASONS[reason],
            "handle": None,
            "heldByRequestingApp": False,
        }
    )
    _changed(store, fo)


def release(store: Store, fo: dict[str, Any]) -> None:
    """``fulfillmentOrderReleaseHold``: back to where it was before the hold."""
    if fo["status"] != "ON_HOLD":
        raise StateError(f"fulfillment order {fo['id']} is not on hold ({fo['status']})")
    fo["status"] = fo.pop("_held_from", None) or ("IN_PROGRESS" if _started(store, fo) else "OPEN")
    fo["fulfillmentHolds"] = []
    _changed(store, fo)


def submit_request(store: Store, fo: dict[str, Any]) -> None:
    """The merchant asks the fulfillment service to fulfil (``fulfillmentOrderSubmitRequest``)."""
    if not at_service(store, fo):
        raise StateError("only a fulfillment order at a fulfillment-service location is requested")
    if fo["requestStatus"] not in ("UNSUBMITTED", "REJECTED"):
        raise StateError(f"the request is already {fo['requestStatus']}")
    fo["requestStatus"] = "SUBMITTED"
    _changed(store, fo)


def accept_request(store: Store, fo: dict[str, Any]) -> None:
    """The fulfillment service accepts: work is in progress on its side."""
    if fo["requestStatus"] != "SUBMITTED":
        raise StateError(f"no submitted request to accept ({fo['requestStatus']})")
    fo["requestStatus"] = "ACCEPTED"
    fo["status"] = "IN_PROGRESS"
    _changed(store, fo)


def reject_request(store: Store, fo: dict[str, Any]) -> None:
    if fo["requestStatus"] != "SUBMITTED":
        raise StateError(f"no submitted request to reject ({fo['requestStatus']})")
    fo["requestStatus"] = "REJECTED"
    _changed(store, fo)


def cancel(store: Store, fo: dict[str, Any]) -> None:
    """The order is cancelled: the fulfillment order closes, committed units come back."""
    if fo["status"] in ("CLOSED", "CANCELLED"):
        return
    item_location = fo["_location"]
    for fo_line_id in fo["_lines"]:
        fo_line = store.nodes[fo_line_id]
        line = store.nodes[fo_line["_line"]]
        stock.release(store, item_of_line(store, line), item_location, fo_line["remainingQuantity"])
    fo["status"] = "CLOSED"
    fo["updatedAt"] = iso(now())


def after_fulfillment(store: Store, fo: dict[str, Any]) -> None:
    """Status after some of its units were fulfilled."""
    fo["status"] = "CLOSED" if remaining(store, fo) == 0 else "IN_PROGRESS"
    if fo["status"] == "CLOSED" and at_service(store, fo):
        fo["requestStatus"] = "CLOSED"
    fo["updatedAt"] = iso(now())


def supported_actions(store: Store, fo: Mapping[str, Any]) -> list[str]:
    status, request = fo["status"], fo["requestStatus"]
    if status == "ON_HOLD":
        return ["RELEASE_HOLD"]
    if status not in (*WORKABLE, "SCHEDULED"):
        return []
    if at_service(store, fo):
        if request in ("UNSUBMITTED", "REJECTED"):
            return ["REQUEST_FULFILLMENT", "MOVE", "HOLD"]
        return ["REQUEST_CANCELLATION"]
    actions = ["CREATE_FULFILLMENT", "HOLD"]
    if status == "OPEN":
        actions += ["MOVE", "SPLIT"]
    return actions


def refresh_display_status(store: Store, order: dict[str, Any]) -> None:
    """``Order.displayFulfillmentStatus`` from its lines and fulfillment orders."""
    lines = [store.nodes[i] for i in order["_lines"] if store.nodes[i]["requiresShipping"]]
    orders = [store.nodes[i] for i in order["_fulfillment_orders"]]
    open_qty = sum(line["unfulfilledQuantity"] for line in lines)
    shipped = sum(line["quantity"] for line in lines) - open_qty
    if not lines:
        status = "UNFULFILLED"
    elif open_qty == 0:
        status = "FULFILLED"
    elif shipped:
        status = "PARTIALLY_FULFILLED"
    elif any(fo["status"] == "ON_HOLD" for fo in orders):
        status = "ON_HOLD"
    elif any(fo["status"] == "IN_PROGRESS" for fo in orders):
        status = "IN_PROGRESS"
    else:
        status = "UNFULFILLED"
    order["displayFulfillmentStatus"] = status


def fulfill_by_hand(
    store: Store,
    order: dict[str, Any],
    lines: Mapping[str, int] | None,
    tracking: Mapping[str, Any] | None,
    notify: bool = False,
) -> list[dict[str, Any]]:
    """What a person does in the Shopify admin: fulfil lines (GID or SKU → units), or all.

    One fulfillment per location, like the admin; returns the fulfillments created.
    """
    from .mutations import fulfillment_create

    wanted = dict(lines) if lines is not None else None
    groups: dict[str, list[dict[str, Any]]] = {}
    for fo_id in order["_fulfillment_orders"]:
        fo = store.nodes[fo_id]
        if fo["status"] not in WORKABLE or at_service(store, fo):
            continue
        items = []
        for fo_line_id in fo["_lines"]:
            fo_line = store.nodes[fo_line_id]
            line = store.nodes[fo_line["_line"]]
            key = line["id"] if wanted is None or line["id"] in wanted else line.get("sku")
            want = fo_line["remainingQuantity"] if wanted is None else wanted.get(key or "", 0)
            take = min(want, fo_line["remainingQuantity"])
            if take > 0:
                items.append({"id": fo_line_id, "quantity": take})
                if wanted is not None:
                    wanted[key or ""] = want - take
        if items:
            groups.setdefault(fo["_location"], []).append(
                {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items}
            )
    if not groups:
        raise StateError(f"nothing left to fulfil on {order['name']} for {lines!r}")
    created = []
    for group in groups.values():
        data: dict[str, Any] = {"lineItemsByFulfillmentOrder": group, "notifyCustomer": notify}
        if tracking:
            data["trackingInfo"] = dict(tracking)
        result = fulfillment_create(store, data)
        if result["fulfillment"] is None:
            raise StateError("; ".join(e["message"] for e in result["userErrors"]))
        created.append(result["fulfillment"])
    return created


def find(store: Store, ref: str) -> list[dict[str, Any]]:
    """Fulfillment orders by their GID, or every one of an order (GID or name ``#1001``)."""
    fo = store.get(ref, "FulfillmentOrder")
    if fo is not None:
        return [fo]
    order = store.get(ref, "Order") or store.order_by_name(ref)
    if order is None:
        raise StateError(f"no fulfillment order or order {ref!r}")
    return [store.nodes[i] for i in order["_fulfillment_orders"]]


def describe(store: Store, fo: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-safe view for the control API."""
    return {
        "id": fo["id"],
        "legacyResourceId": str(legacy(fo["id"])),
        "status": fo["status"],
        "requestStatus": fo["requestStatus"],
        "location": store.nodes[fo["_location"]]["name"],
        "locationId": fo["_location"],
        "holds": [dict(h) for h in fo["fulfillmentHolds"]],
        "supportedActions": supported_actions(store, fo),
        "lineItems": [
            {
                "id": i,
                "lineItemId": store.nodes[i]["_line"],
                "sku": store.nodes[i].get("sku"),
                "totalQuantity": store.nodes[i]["totalQuantity"],
                "remainingQuantity": store.nodes[i]["remainingQuantity"],
            }
            for i in fo["_lines"]
        ],
    }
