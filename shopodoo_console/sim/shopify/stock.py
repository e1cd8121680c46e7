"""Inventory as a shop lives it: sales commit stock, shipments take it away, cancels give it back.

Quantities follow Shopify's model (shopify.md §8.3): ``on_hand`` comprises every state but
``incoming``; a sale moves units from ``available`` to ``committed`` (``on_hand`` unchanged); a
fulfillment takes them out of ``committed`` and ``on_hand``; a cancellation returns what was
still committed to ``available``. Untracked items and items not stocked at the location are
left alone, as Shopify does. The caller holds ``store.lock``.
"""

from __future__ import annotations

from typing import Any

from .state import StateError, Store
from .util import iso, now

ON_HAND_PARTS = ("available", "committed", "reserved", "damaged", "quality_control", "safety_stock")


def level_of(store: Store, item_id: str, location_id: str) -> dict[str, Any] | None:
    """The *active* level of an item at a location (``None``: not stocked there)."""
    level = store.levels.get((item_id, location_id))
    if level is None or not level["isActive"]:
        return None
    return level


def _move(level: dict[str, Any], changes: dict[str, int]) -> None:
    stamp = iso(now())
    for name, delta in changes.items():
        if delta:
            level["_q"][name] += delta
            level["_q_updated"][name] = stamp
    on_hand = sum(level["_q"][n] for n in ON_HAND_PARTS)
    if on_hand != level["_q"]["on_hand"]:
        level["_q"]["on_hand"] = on_hand
        level["_q_updated"]["on_hand"] = stamp
    level["updatedAt"] = stamp


def _tracked_level(store: Store, item_id: str | None, location_id: str) -> dict[str, Any] | None:
    item = store.get(item_id, "InventoryItem")
    if item is None or not item["tracked"]:
        return None
    return level_of(store, item["id"], location_id)


def commit(store: Store, item_id: str | None, location_id: str, quantity: int) -> None:
    """A sale: ``quantity`` units leave ``available`` for ``committed`` (may go negative)."""
    level = _tracked_level(store, item_id, location_id)
    if level is not None and quantity:
        _move(level, {"available": -quantity, "committed": quantity})


def ship(store: Store, item_id: str | None, location_id: str, quantity: int) -> None:
    """A fulfillment: units leave ``committed`` (then ``available``) and ``on_hand``."""
    level = _tracked_level(store, item_id, location_id)
    if level is None or not quantity:
        return
    from_committed = max(0, min(quantity, level["_q"]["committed"]))
    _move(level, {"committed": -from_committed, "available": -(quantity - from_committed)})


def release(store: Store, item_id: str | None, location_id: str, quantity: int) -> None:
    """A cancellation: what was still committed goes back to ``available``."""
    level = _tracked_level(store, item_id, location_id)
    if level is None or not quantity:
        return
    back = max(0, min(quantity, level["_q"]["committed"]))
    _move(level, {"committed": -back, "available": back})


def activate(
    store: Store, item_id: str, location_id: str, available: int | None, on_hand: int | None
) -> dict[str, Any]:
    """Stock an item at a location (``inventoryActivate``); an active level is left as it is."""
    level = store.levels.get((item_id, location_id))
    if level is not None and level["isActive"]:
        return level
    if level is None:
        level = store.stock(item_id, location_id, 0)
    level["isActive"] = True
    if available is not None:
        _move(level, {"available": available - level["_q"]["available"]})
    elif on_hand is not None:  # the units come in as available: nothing else is held yet
        _move(level, {"available": on_hand - level["_q"]["on_hand"]})
    else:
        _move(level, {})
    return level


def deactivate(store: Store, item_id: str, location_id: str) -> dict[str, Any]:
    """The item is no longer stocked at the location (its level stays, inactive)."""
    level = store.levels.get((item_id, location_id))
    if level is None:
        raise StateError(f"{item_id} is not stocked at {location_id}")
    level["isActive"] = False
    level["updatedAt"] = iso(now())
    return level


def item_ref(store: Store, ref: str) -> dict[str, Any]:
    """An inventory item by GID, by its variant's GID, or by SKU (the first variant with it)."""
    item = store.get(ref, "InventoryItem")
    if item is not None:
        return item
    variant = store.get(ref, "ProductVariant")
    if variant is None:
        matches = store.variants_by_sku(ref)
        variant = matches[0] if matches else None
    if variant is None:
        raise StateError(f"no inventory item, variant or SKU {ref!r}")
    return store.nodes[variant["_item"]]
