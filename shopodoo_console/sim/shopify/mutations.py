"""The mutations the sync uses, with Shopify's rules and messages.

Messages and codes come from the captures named in shopify.md §8.4-8.7. Where no capture
exists (``CHANGE_FROM_QUANTITY_STALE``, the idempotency codes other than the parameter
mismatch, ``inventoryActivate``'s refusals, fulfilment by a fulfillment service) the wording is
Shopify's documented enum description or, failing that, the simulator's own — marked below.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLError

from . import fulfillment as fo_rules
from . import stock
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
MAX_INPUT_ITEMS = 250  # "input arrays at most 250 items" (shopify.md §3)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")


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


def require_input_size(items: Sequence[Any], path: str) -> None:
    """Shopify refuses input arrays longer than 250 before running anything."""
    if len(items) > MAX_INPUT_ITEMS:
        raise GraphQLError(
            f"The input array size of {len(items)} is greater than the maximum allowed of "
            f"{MAX_INPUT_ITEMS}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argumentPath": path.split(".")},
        )


def _key_error(empty: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    return {**empty, "userErrors": [_user_error(None, message, code)]}


def idempotent(
    store: Store,
    key: str | None,
    params: Any,
    run: Any,
    *,
    token: object | None = None,
    empty: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``@idempotent(key:)`` contract (shopify.md §8.4).

    No key → ``BAD_REQUEST``; a key of an attempt that failed → ``PREVIOUS_ATTEMPT_FAILED``; a
    key another request is still running with → ``CONCURRENT_REQUEST``; a key seen before →
    the first result replayed if the parameters are the same, ``PARAMETER_MISMATCH`` if not
    (captured, ``field: null``). ``empty`` is the payload's own shape with nothing in it. The
    wording of the codes not captured is their enum description (SDL 2026-07).
    """
    empty = empty if empty is not None else {"inventoryAdjustmentGroup": None}
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
        if key in store.failed_keys:
            return _key_error(
                empty,
                "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                "A previous request with this idempotency key failed. Retry with a new "
                "idempotency key.",
            )
        holder = store.inflight.get(key)
        if holder is not None and holder is not token:
            return _key_error(
                empty,
                "IDEMPOTENCY_CONCURRENT_REQUEST",
                "This request is currently in progress, please try again.",
            )
        if key in store.idempotency:
            seen, result = store.idempotency[key]
            if seen != digest:
                return _key_error(
                    empty,
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                    "The same idempotency key cannot be used with different operation parameters.",
                )
            return json.loads(json.dumps(result))
        result = run()
        store.idempotency[key] = (digest, json.loads(json.dumps(result, default=str)))
        return result


def _input_errors(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What is wrong with the input as a whole: the name, the reason, the document."""
    errors = []
    if data["name"] not in ("available", "on_hand"):
        errors.append(
            _user_error(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            )
        )
    if data["reason"] not in INVENTORY_REASONS:
        errors.append(
            _user_error(
                ["input", "reason"],
                "The specified reason is invalid. Valid values are: "
                + ", ".join(INVENTORY_REASONS)
                + ".",
                "INVALID_REASON",
            )
        )
    reference = data.get("referenceDocumentUri")
    if reference is not None and not _URI.match(reference):
        errors.append(
            _user_error(
                ["input", "referenceDocumentUri"],
                "The specified reference document is invalid.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        )
    return errors


def _level_for(
    store: Store, item: Mapping[str, Any], at: list[str]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The active level a quantity input points at, or why there is none."""
    if store.get(item["inventoryItemId"], "InventoryItem") is None:
        return None, [
            _user_error(
                [*at, "inventoryItemId"],
                "The specified inventory item could not be found.",
                "INVALID_INVENTORY_ITEM",
            )
        ]
    if store.get(item["locationId"], "Location") is None:
        return None, [
            _user_error(
                [*at, "locationId"],
                "The specified location could not be found.",
                "INVALID_LOCATION",
            )
        ]
    level = stock.level_of(store, item["inventoryItemId"], item["locationId"])
    if level is None:
        return None, [
            _user_error(
                [*at, "locationId"],
                "The specified inventory item is not stocked at the location.",
                "ITEM_NOT_STOCKED_AT_LOCATION",
            )
        ]
    return level, []


def _quantity_errors(name: str, quantity: int, at: list[str]) -> list[dict[str, Any]]:
    if quantity > MAX_QUANTITY:
        return [
            _user_error(
                [*at, "quantity"],
                "The quantity can't be higher than 1,000,000,000.",
                "INVALID_QUANTITY_TOO_HIGH",
            )
        ]
    if quantity < -MAX_QUANTITY:
        return [
            _user_error(
                [*at, "quantity"],
                "The quantity can't be lower than -1,000,000,000.",
                "INVALID_QUANTITY_TOO_LOW",
            )
        ]
    if name == "on_hand" and quantity < 0:
        return [
            _user_error(
                [*at, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE"
            )
        ]
    return []


def inventory_set_quantities(store: Store, data: Mapping[str, Any]) -> dict[str, Any]:
    """All the quantities, or none (errors point at ``input.quantities.<i>``)."""
    name = data["name"]
    errors = _input_errors(data)
    plan: list[tuple[dict[str, Any], int]] = []
    seen_pairs: set[tuple[str, str]] = set()
    for index, item in enumerate(data["quantities"]):
        at = ["input", "quantities", str(index)]
        level, problems = _level_for(store, item, at)
        errors += problems
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
        errors += _quantity_errors(name, item["quantity"], at)
        if level is None or name not in ("available", "on_hand"):
            continue
        current = level["_q"][name]
        expected = item.get("changeFromQuantity")
        if expected is not None and expected != current:
            # Not captured: the wording is the enum's description (SDL 2026-07).
            errors.append(
                _user_error(
                    [*at, "changeFromQuantity"],
                    "The changeFromQuantity value does not match persisted value.",
                    "CHANGE_FROM_QUANTITY_STALE",
                )
            )
        plan.append((level, item["quantity"] - current))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}
    changes = []
    group_id = store.new_gid("InventoryAdjustmentGroup")
    for level, delta in plan:
        if not delta:
            continue
        store.change_quantity(level, name, delta)
        store.adjustments.append((level["_item"], level["_location"], name, delta, group_id))
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
            "id": group_id,
            "createdAt": iso(now()),
            "reason": data["reason"],
            "referenceDocumentUri": data.get("referenceDocumentUri"),
            "changes": changes,
        }
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


# -- inventoryActivate (shopify.md §8.4) ---------------------------------------------------


def inventory_activate(
    store: Store,
    item_id: str,
    location_id: str,
    available: int | None = None,
    on_hand: int | None = None,
) -> dict[str, Any]:
    """Stock an item at a location. Its userErrors are the generic kind (no code, SDL
    2026-07); their wording is the simulator's own. An item already stocked there comes back
    unchanged (the activation is idempotent by nature)."""

    def fail(field: str, message: str) -> dict[str, Any]:
        return {"inventoryLevel": None, "userErrors": [_user_error([field], message)]}

    if store.get(item_id, "InventoryItem") is None:
        return fail("inventoryItemId", "The specified inventory item could not be found.")
    location = store.get(location_id, "Location")
    if location is None:
        return fail("locationId", "The specified location could not be found.")
    if not location["isActive"]:
        return fail("locationId", "The location is not active and cannot stock items.")
    for name, value in (("available", available), ("onHand", on_hand)):
        if value is not None and not -MAX_QUANTITY <= value <= MAX_QUANTITY:
            return fail(name, "The quantity is out of range.")
    level = stock.activate(store, item_id, location_id, available, on_hand)
    return {"inventoryLevel": level, "userErrors": []}


# -- fulfillmentCreate (shopify.md §8.5) ---------------------------------------------------


class _Refused(Exception):
    """A fulfillmentCreate precondition failed: a generic userError (no code)."""

    def __init__(self, message: str, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field or ["fulfillment"]


def _fulfillment_orders(store: Store, groups: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Quantities first, then existence, same order, same location (capture order)."""
    for g_index, group in enumerate(groups):
        for l_index, item in enumerate(group.get("fulfillmentOrderLineItems") or []):
            if item["quantity"] <= 0:
                path = ["fulfillment", "lineItemsByFulfillmentOrder", str(g_index)]
                raise _Refused(
                    "Quantity must be greater than 0",
                    [*path, "fulfillmentOrderLineItems", str(l_index), "quantity"],
                )
    orders = [store.get(g["fulfillmentOrderId"], "FulfillmentOrder") for g in groups]
    if not orders or any(fo is None for fo in orders):
        raise _Refused("Fulfillment order does not exist.")
    found = [fo for fo in orders if fo is not None]
    order_ids = sorted({legacy(fo["_order"]) for fo in found})
    if len(order_ids) > 1:
        raise _Refused(
            "All fulfillment orders must belong to the same order. Multiple orders with ids "
            f"[{', '.join(map(str, order_ids))}] were found."
        )
    location_ids = sorted({legacy(fo["_location"]) for fo in found})
    if len(location_ids) > 1:
        raise _Refused(
            "All fulfillment orders must be assigned to a single location. Multiple locations "
            f"with ids [{', '.join(map(str, location_ids))}] were found."
        )
    return found


def _units(
    store: Store, fo: dict[str, Any], group: Mapping[str, Any]
) -> list[tuple[dict[str, Any], int]]:
    """The fulfillment order lines and units one group asks for (all remaining if omitted)."""
    if fo["status"] not in ("OPEN", "IN_PROGRESS"):
        raise _Refused(
            f"Fulfillment order {legacy(fo['id'])} has an unfulfillable status= "
            f"{fo['status'].lower()}."
        )
    if fo_rules.at_service(store, fo):  # the simulator's own wording (no capture)
        raise _Refused(
            f"Fulfillment order {legacy(fo['id'])} is assigned to a fulfillment service: "
            "only that service can fulfill it."
        )
    wanted = group.get("fulfillmentOrderLineItems")
    if wanted is None:
        return [
            (store.nodes[i], store.nodes[i]["remainingQuantity"])
            for i in fo["_lines"]
            if store.nodes[i]["remainingQuantity"] > 0
        ]
    out = []
    for item in wanted:
        if item["id"] not in fo["_lines"]:
            raise _Refused("Fulfillment order line item does not exist.")
        fo_line = store.nodes[item["id"]]
        if item["quantity"] > fo_line["remainingQuantity"]:
            raise _Refused("Invalid fulfillment order line item quantity requested.")
        out.append((fo_line, item["quantity"]))
    return out


def _tracking(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``trackingInfo``: one entry per number (``numbers`` or ``number``), urls paired."""
    tracking = data.get("trackingInfo") or {}
    numbers = list(tracking.get("numbers") or []) or (
        [tracking["number"]] if tracking.get("number") else []
    )
    urls = list(tracking.get("urls") or []) or ([tracking["url"]] if tracking.get("url") else [])
    return [
        {
            "company": tracking.get("company"),
            "number": number,
            "url": urls[i] if i < len(urls) else None,
        }
        for i, number in enumerate(numbers)
    ]


def fulfillment_create(store: Store, data: Mapping[str, Any]) -> dict[str, Any]:
    """Checks in the order the captures show: quantities, existence, same order/location,
    status, line existence, remaining quantity. No deduplication of repeated calls."""
    groups = data.get("lineItemsByFulfillmentOrder") or []
    try:
        orders = _fulfillment_orders(store, groups)
        plan = [
            unit
            for fo, group in zip(orders, groups, strict=True)
            for unit in _units(store, fo, group)
        ]
        if not plan:
            raise _Refused("Invalid fulfillment order line item quantity requested.")
    except _Refused as refused:
        return {"fulfillment": None, "userErrors": [_user_error(refused.field, refused.message)]}
    order = store.nodes[orders[0]["_order"]]
    stamp = iso(now())
    lines = []
    location = orders[0]["_location"]
    for fo_line, quantity in plan:
        fo_line["remainingQuantity"] -= quantity
        line = store.nodes[fo_line["_line"]]
        line["unfulfilledQuantity"] -= quantity
        stock.ship(store, fo_rules.item_of_line(store, line), location, quantity)
        lines.append(
            {
                "__typename": "FulfillmentLineItem",
                "id": store.new_gid("FulfillmentLineItem"),
                "quantity": quantity,
                "_line": line["id"],
            }
        )
    for fo in orders:
        fo_rules.after_fulfillment(store, fo)
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
            "trackingInfo": _tracking(data),
            "totalQuantity": sum(line["quantity"] for line in lines),
            "notifyCustomer": bool(data.get("notifyCustomer")),
            "_lines": [store.add(line)["id"] for line in lines],
            "_order": order["id"],
            "_location": location,
        }
    )
    order["_fulfillments"].append(fulfillment_id)
    store.refresh_fulfillment_status(order)
    store.touch(order)
    return {"fulfillment": fulfillment, "userErrors": []}


def fulfillment_tracking_update(
    store: Store, fulfillment_id: str, tracking: Mapping[str, Any], notify: bool
) -> dict[str, Any]:
    """``fulfillmentTrackingInfoUpdate``: the fulfillment's tracking replaced by the input's
    (the simulator's own wording for a missing or cancelled fulfillment: no capture)."""
    fulfillment = store.get(fulfillment_id, "Fulfillment")
    if fulfillment is None:
        error = _user_error(["fulfillmentId"], "Fulfillment does not exist.")
        return {"fulfillment": None, "userErrors": [error]}
    if fulfillment["status"] == "CANCELLED":
        error = _user_error(["fulfillmentId"], "Cannot update tracking of a cancelled fulfillment.")
        return {"fulfillment": None, "userErrors": [error]}
    fulfillment["trackingInfo"] = _tracking({"trackingInfo": tracking})
    fulfillment["updatedAt"] = iso(now())
    if notify:
        fulfillment["notifyCustomer"] = True
    store.touch(store.nodes[fulfillment["_order"]])
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


def _metafield_errors(store: Store, index: int, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Shopify's userErrors for one input: the owner, the key, the namespace, the type a new
    metafield needs, and the compare digest (compare-and-set, shopify.md §8.6)."""
    at = ["metafields", str(index)]
    namespace = item.get("namespace") or "app--shopodoo"
    existing = store.metafields.get((item["ownerId"], namespace, item["key"]))
    errors = []
    if store.get(item["ownerId"]) is None:
        errors.append(_user_error([*at, "ownerId"], "Owner does not exist.", "INVALID"))
    if not _KEY.match(item["key"]):
        errors.append(_user_error([*at, "key"], "Key is invalid.", "INVALID"))
    if not 3 <= len(namespace) <= 255:
        errors.append(_user_error([*at, "namespace"], "Namespace is invalid.", "INVALID"))
    if existing is None and not item.get("type"):
        errors.append(_user_error([*at, "type"], "Type can't be blank", "BLANK"))
    if "compareDigest" in item:
        errors += _digest_errors(at, item["compareDigest"], existing)
    return errors


def _digest_errors(
    at: list[str], digest: str | None, existing: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """``compareDigest``: malformed, or not the stored one (``null``: must not exist yet)."""
    if digest is not None and not _DIGEST.match(digest):
        return [
            _user_error(
                [*at, "compareDigest"],
                "Invalid `compareDigest` value.",
                "INVALID_COMPARE_DIGEST",
            )
        ]
    if (digest is None and existing is not None) or (
        digest is not None and (existing is None or existing["compareDigest"] != digest)
    ):
        return [
            _user_error(
                at,
                "The resource has been updated since it was loaded. Try again with an "
                "updated `compareDigest` value.",
                "STALE_OBJECT",
            )
        ]
    return []


def _write_metafield(
    store: Store, item: Mapping[str, Any], stamp: str, position: int
) -> dict[str, Any]:
    """Create or update one metafield; a new digest each write (``position`` keeps two
    writes of one call apart), and the owner's ``updatedAt`` moves."""
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
        f"{record['id']}:{record['value']}:{stamp}:{position}".encode()
    ).hexdigest()
    owner = store.nodes[item["ownerId"]]
    if "updatedAt" in owner:
        store.touch(owner)
    return record


def metafields_set(store: Store, inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``metafieldsSet``: all inputs are checked before any is written (atomic, like Shopify)."""
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
    errors = [e for index, item in enumerate(inputs) for e in _metafield_errors(store, index, item)]
    if errors:
        for error in errors:
            error.setdefault("elementIndex", None)
        return {"metafields": [], "userErrors": errors}
    stamp = iso(now())
    written = [_write_metafield(store, item, stamp, i) for i, item in enumerate(inputs)]
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
