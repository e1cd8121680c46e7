"""The four mutations the sync uses, with Shopify's rules and messages.

Messages and codes come from the captures named in shopify.md §8.4-8.7. Where no capture
exists (``CHANGE_FROM_QUANTITY_STALE``) the wording is the simulator's own, marked below.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLError

from .state import Store
from .util import iso, kind_of, legacy, now

INVENTORY_REASONS = (
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_canceled",
    "movement_created",
    "movement_received",
    "movement_updated",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
)
MAX_QUANTITY = 1_000_000_000


def _user_error(field: list[str] | None, message: str, code: str | None = None, **extra: Any):
    error: dict[str, Any] = {"field": field, "message": message}
    if code is not None:
        error["code"] = code
    error.update(extra)
    return error


# -- inventorySetQuantities (shopify.md §8.4) ---------------------------------------------


def require_change_from(items: Sequence[Mapping[str, Any]], input_name: str) -> None:
    """``changeFromQuantity`` must be present (null allowed) in every item, since 2026-04."""
    for item in items:
        if "changeFromQuantity" not in item:
            raise GraphQLError(
                f"{input_name} must include the following argument: changeFromQuantity.",
                extensions={"code": "INVALID_FIELD_ARGUMENTS"},
            )


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(store: Store, key: str | None, params: Any, run) -> dict[str, Any]:
    """Replay the first result for the same key and parameters (shopify.md §8.4)."""
    if key is None:
        raise GraphQLError(
            "The @idempotent directive is required for this mutation but was not provided.",
            extensions={"code": "BAD_REQUEST"},
        )
    if not key.strip():
        raise GraphQLError(
            "The idempotency key cannot be an empty string or whitespace only.",
            extensions={"code": "BAD_REQUEST"},
        )
    digest = fingerprint(params)
    with store.lock:
        if key in store.idempotency:
            seen, result = store.idempotency[key]
            if seen != digest:
                return {
                    "inventoryAdjustmentGroup": None,
                    "userErrors": [
                        _user_error(
                            None,
                            "The same idempotency key cannot be used with different operation "
                            "parameters.",
                            "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        )
                    ],
                }
            return json.loads(json.dumps(result))
        result = run()
        store.idempotency[key] = (digest, json.loads(json.dumps(result, default=str)))
        return result


def inventory_set_quantities(store: Store, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    name, reason = data["name"], data["reason"]
    if name not in ("available", "on_hand"):
        errors.append(
            _user_error(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            )
        )
    if reason not in INVENTORY_REASONS:
        errors.append(
            _user_error(
                ["input", "reason"],
                "The specified reason is invalid. Valid values are: "
                + ", ".join(INVENTORY_REASONS)
                + ".",
                "INVALID_REASON",
            )
        )
    plan: list[tuple[dict[str, Any], int]] = []
    seen_pairs: set[tuple[str, str]] = set()
    for index, item in enumerate(data["quantities"]):
        at = ["input", "quantities", str(index)]
        level = None
        if store.get(item["inventoryItemId"], "InventoryItem") is None:
            errors.append(
                _user_error(
                    [*at, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
        elif store.get(item["locationId"], "Location") is None:
            errors.append(
                _user_error(
                    [*at, "locationId"],
                    "The specified location could not be found.",
                    "INVALID_LOCATION",
                )
            )
        else:
            level = store.levels.get((item["inventoryItemId"], item["locationId"]))
            if level is None:
                errors.append(
                    _user_error(
                        [*at, "locationId"],
                        "The specified inventory item is not stocked at the location.",
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                    )
                )
        pair = (item["inventoryItemId"], item["locationId"])
        if pair in seen_pairs:
            errors.append(
                _user_error(
                    [*at, "locationId"],
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
        seen_pairs.add(pair)
        quantity = item["quantity"]
        if quantity > MAX_QUANTITY:
            errors.append(
                _user_error(
                    [*at, "quantity"],
                    "The quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        elif quantity < -MAX_QUANTITY:
            errors.append(
                _user_error(
                    [*at, "quantity"],
                    "The quantity can't be lower than -1,000,000,000.",
                    "INVALID_QUANTITY_TOO_LOW",
                )
            )
        elif name == "on_hand" and quantity < 0:
            errors.append(
                _user_error(
                    [*at, "quantity"],
                    "The quantity can't be negative.",
                    "INVALID_QUANTITY_NEGATIVE",
                )
            )
        if level is not None and name in ("available", "on_hand"):
            current = level["_q"][name]
            expected = item.get("changeFromQuantity")
            if expected is not None and expected != current:
                # Not captured: the simulator's own wording (shopify.md §12).
                errors.append(
                    _user_error(
                        [*at, "changeFromQuantity"],
                        "The specified changeFromQuantity does not match the current quantity.",
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                )
            plan.append((level, quantity - current))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    for level, delta in plan:
        if not delta:
            continue
        store.change_quantity(level, name, delta)
        item, location = store.nodes[level["_item"]], store.nodes[level["_location"]]
        for each in (name, "on_hand" if name == "available" else "available"):
            changes.append(
                {
                    "name": each,
                    "delta": delta,
                    "quantityAfterChange": None,
                    "item": item,
                    "location": location,
                }
            )
    group = None
    if changes:
        group = {
            "__typename": "InventoryAdjustmentGroup",
            "id": store.new_gid("InventoryAdjustmentGroup"),
            "createdAt": iso(now()),
            "reason": reason,
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": changes,
        }
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


# -- fulfillmentCreate (shopify.md §8.5) ---------------------------------------------------


def fulfillment_create(store: Store, data: Mapping[str, Any]) -> dict[str, Any]:
    """Checks in the order the captures show: quantities, existence, same order/location,
    status, line existence, remaining quantity. No deduplication of repeated calls."""
    groups = data.get("lineItemsByFulfillmentOrder") or []

    def fail(message: str, field: list[str] | None = None) -> dict[str, Any]:
        return {"fulfillment": None, "userErrors": [_user_error(field or ["fulfillment"], message)]}

    for g_index, group in enumerate(groups):
        for l_index, item in enumerate(group.get("fulfillmentOrderLineItems") or []):
            if item["quantity"] <= 0:
                path = ["fulfillment", "lineItemsByFulfillmentOrder", str(g_index)]
                return fail(
                    "Quantity must be greater than 0",
                    [*path, "fulfillmentOrderLineItems", str(l_index), "quantity"],
                )
    orders = []
    for group in groups:
        fo = store.get(group["fulfillmentOrderId"], "FulfillmentOrder")
        if fo is None:
            return fail("Fulfillment order does not exist.")
        orders.append(fo)
    if not orders:
        return fail("Fulfillment order does not exist.")
    order_ids = sorted({legacy(fo["_order"]) for fo in orders})
    if len(order_ids) > 1:
        return fail(
            "All fulfillment orders must belong to the same order. Multiple orders with ids "
            f"[{', '.join(map(str, order_ids))}] were found."
        )
    location_ids = sorted({legacy(fo["_location"]) for fo in orders})
    if len(location_ids) > 1:
        return fail(
            "All fulfillment orders must be assigned to a single location. Multiple locations "
            f"with ids [{', '.join(map(str, location_ids))}] were found."
        )
    plan: list[tuple[dict[str, Any], int]] = []
    for fo, group in zip(orders, groups, strict=True):
        if fo["status"] not in ("OPEN", "IN_PROGRESS"):
            return fail(
                f"Fulfillment order {legacy(fo['id'])} has an unfulfillable status= "
                f"{fo['status'].lower()}."
            )
        wanted = group.get("fulfillmentOrderLineItems")
        if wanted is None:
            plan.extend(
                (store.nodes[i], store.nodes[i]["remainingQuantity"])
                for i in fo["_lines"]
                if store.nodes[i]["remainingQuantity"] > 0
            )
            continue
        for item in wanted:
            if item["id"] not in fo["_lines"]:
                return fail("Fulfillment order line item does not exist.")
            fo_line = store.nodes[item["id"]]
            if item["quantity"] > fo_line["remainingQuantity"]:
                return fail("Invalid fulfillment order line item quantity requested.")
            plan.append((fo_line, item["quantity"]))
    if not plan:
        return fail("Invalid fulfillment order line item quantity requested.")
    order = store.nodes[orders[0]["_order"]]
    stamp = iso(now())
    lines = []
    for fo_line, quantity in plan:
        fo_line["remainingQuantity"] -= quantity
        line = store.nodes[fo_line["_line"]]
        line["unfulfilledQuantity"] -= quantity
        lines.append(
            {
                "__typename": "FulfillmentLineItem",
                "id": store.new_gid("FulfillmentLineItem"),
                "quantity": quantity,
                "_line": line["id"],
            }
        )
    for fo in orders:
        remaining = sum(store.nodes[i]["remainingQuantity"] for i in fo["_lines"])
        fo["status"] = "CLOSED" if remaining == 0 else "IN_PROGRESS"
        fo["updatedAt"] = stamp
    tracking = data.get("trackingInfo") or {}
    numbers = list(tracking.get("numbers") or []) or (
        [tracking["number"]] if tracking.get("number") else []
    )
    urls = list(tracking.get("urls") or []) or ([tracking["url"]] if tracking.get("url") else [])
    fulfillment_id = store.new_gid("Fulfillment")
    fulfillment = store.add(
        {
            "__typename": "Fulfillment",
            "id": fulfillment_id,
            "legacyResourceId": str(legacy(fulfillment_id)),
            "name": store.next_fulfillment_name(order),
            "status": "SUCCESS",
            "displayStatus": "FULFILLED",
            "createdAt": stamp,
            "updatedAt": stamp,
            "trackingInfo": [
                {
                    "company": tracking.get("company"),
                    "number": number,
                    "url": urls[i] if i < len(urls) else None,
                }
                for i, number in enumerate(numbers)
            ],
            "_lines": [store.add(line)["id"] for line in lines],
            "_order": order["id"],
        }
    )
    order["_fulfillments"].append(fulfillment_id)
    store.refresh_fulfillment_status(order)
    store.touch(order)
    return {"fulfillment": fulfillment, "userErrors": []}


# -- metafieldsSet (shopify.md §8.6) -------------------------------------------------------

_KEY = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
OWNER_SCOPES = {
    "Order": "write_orders",
    "Customer": "write_customers",
    "Product": "write_products",
    "ProductVariant": "write_products",
    "Location": "write_locations",
}


def metafields_set(store: Store, inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if len(inputs) > 25:
        return {
            "metafields": None,
            "userErrors": [
                _user_error(
                    ["metafields"],
                    "Exceeded the maximum metafields input limit of 25.",
                    "LESS_THAN_OR_EQUAL_TO",
                    elementIndex=None,
                )
            ],
        }
    errors = []
    for index, item in enumerate(inputs):
        at = ["metafields", str(index)]
        namespace = item.get("namespace") or "app--shopodoo"
        existing = store.metafields.get((item["ownerId"], namespace, item["key"]))
        if store.get(item["ownerId"]) is None:
            errors.append(_user_error([*at, "ownerId"], "Owner does not exist.", "INVALID"))
        if not _KEY.match(item["key"]):
            errors.append(_user_error([*at, "key"], "Key is invalid.", "INVALID"))
        if not 3 <= len(namespace) <= 255:
            errors.append(_user_error([*at, "namespace"], "Namespace is invalid.", "INVALID"))
        if existing is None and not item.get("type"):
            errors.append(_user_error([*at, "type"], "Type can't be blank", "BLANK"))
        if "compareDigest" in item:
            digest = item["compareDigest"]
            if digest is not None and not _DIGEST.match(digest):
                errors.append(
                    _user_error(
                        [*at, "compareDigest"],
                        "Invalid `compareDigest` value.",
                        "INVALID_COMPARE_DIGEST",
                    )
                )
            elif (digest is None and existing is not None) or (
                digest is not None and (existing is None or existing["compareDigest"] != digest)
            ):
                errors.append(
                    _user_error(
                        at,
                        "The resource has been updated since it was loaded. Try again with an "
                        "updated `compareDigest` value.",
                        "STALE_OBJECT",
                    )
                )
    if errors:
        for error in errors:
            error.setdefault("elementIndex", None)
        return {"metafields": [], "userErrors": errors}
    written: list[dict[str, Any]] = []
    stamp = iso(now())
    for item in inputs:
        namespace = item.get("namespace") or "app--shopodoo"
        key = (item["ownerId"], namespace, item["key"])
        record = store.metafields.get(key)
        if record is None:
            record = {
                "__typename": "Metafield",
                "id": store.new_gid("Metafield"),
                "namespace": namespace,
                "key": item["key"],
                "type": item["type"],
                "createdAt": stamp,
                "_owner": item["ownerId"],
            }
            store.metafields[key] = record
            store.add(record)
        record["value"] = item["value"]
        if item.get("type"):
            record["type"] = item["type"]
        record["updatedAt"] = stamp
        record["compareDigest"] = hashlib.sha256(
            f"{record['id']}:{record['value']}:{stamp}:{len(written)}".encode()
        ).hexdigest()
        owner = store.nodes[item["ownerId"]]
        if "updatedAt" in owner:
            store.touch(owner)
        written.append(record)
    return {"metafields": written, "userErrors": []}


# -- tagsAdd (shopify.md §8.7) -------------------------------------------------------------

TAGGABLE = {"Order", "Customer", "Product", "DraftOrder", "Article"}


def tags_add(store: Store, id_: str, tags: Sequence[str]) -> dict[str, Any]:
    kind = kind_of(id_)
    if kind not in TAGGABLE:
        raise GraphQLError("invalid id", extensions={"code": "RESOURCE_NOT_FOUND"})
    record = store.get(id_, kind)
    if record is None:
        return {"node": None, "userErrors": [_user_error(["id"], f"{kind} does not exist")]}
    current = list(record.get("tags") or [])
    lowered = {t.lower() for t in current}
    for raw in tags:
        for tag in (part.strip() for part in raw.split(",")):
            if kind == "Customer":
                tag = tag.lower()
            if tag and tag.lower() not in lowered:
                current.append(tag)
                lowered.add(tag.lower())
    if len(current) != len(record.get("tags") or []):
        record["tags"] = sorted(current, key=str.lower)
        if "updatedAt" in record:
            store.touch(record)
    return {"node": record, "userErrors": []}
