"""Operator-owned mapping rules, and re-queueing the jobs that waited for one (DESIGN §3.8).

A mapping says "this Shopify thing is that Odoo record" for what cannot be matched safely by
itself: a SKU with no ``default_code`` match, a location, a payment gateway, a shipping method,
a tax. Jobs blocked on a missing mapping carry its key (``product:MUG-RED``); saving the mapping
queues every one of them again.
"""

from __future__ import annotations

from shopodoo_console.engine.queue import Queue
from shopodoo_console.store import mappings as rows
from shopodoo_console.store.db import Store
from shopodoo_console.store.mappings import MappingRow, get_mapping, get_mappings

__all__ = [
    "KINDS",
    "MappingRow",
    "delete_mapping",
    "get_mapping",
    "get_mappings",
    "list_mappings",
    "mapping_key",
    "missing_mappings",
    "save_mapping",
]

KINDS: dict[str, str] = {
    "product": "product.product",  # Shopify SKU (or variant GID) → Odoo product variant
    "location": "stock.location",  # Shopify location GID → Odoo stock location (and below)
    "gateway": "account.journal",  # payment gateway name → Odoo journal
    "carrier": "delivery.carrier",  # shipping line title/code → Odoo carrier
    "tax": "account.tax",  # tax line title + rate → Odoo tax
}


def mapping_key(kind: str, source_key: str) -> str:
    """The key a blocked job carries in its cause's ``blocked_on``."""
    return f"{kind}:{source_key}"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown mapping kind {kind!r} (expected one of: {', '.join(KINDS)})")


def list_mappings(
    store: Store,
    shop_id: int | None = None,
    kind: str | None = None,
    *,
    limit: int = 500,
    offset: int = 0,
) -> list[MappingRow]:
    if kind is not None:
        _check_kind(kind)
    return rows.list_mappings(store, shop_id, kind, limit=limit, offset=offset)


def save_mapping(
    queue: Queue,
    shop_id: int,
    kind: str,
    source_key: str,
    odoo_id: int,
    *,
    label: str = "",
    note: str = "",
) -> tuple[MappingRow, list[int]]:
    """Create or change a mapping, then queue every job that was waiting on it.

    Validating the Odoo record (exists, right company) is the caller's job: it needs Odoo.
    """
    _check_kind(kind)
    source_key = source_key.strip()
    if not source_key:
        raise ValueError("a mapping needs a source key (the SKU, location, gateway, ...)")
    if odoo_id <= 0:
        raise ValueError(f"{odoo_id} is not an Odoo record id")
    store = queue.store
    with store.atomic():
        rows.upsert_mapping(
            store, shop_id, kind, source_key, KINDS[kind], odoo_id, label=label, note=note
        )
        store.audit(
            system="operator",
            event="mapping_saved",
            shop_id=shop_id,
            message=f"Mapping {kind} {source_key!r} → {KINDS[kind]} {odoo_id}"
            + (f" ({label})" if label else ""),
        )
        requeued = queue.requeue_blocked(shop_id, mapping_key(kind, source_key))
    row = get_mapping(store, shop_id, kind, source_key)
    assert row is not None
    return row, requeued


def delete_mapping(queue: Queue, shop_id: int, kind: str, source_key: str) -> bool:
    _check_kind(kind)
    store = queue.store
    with store.atomic():
        gone = rows.delete_mapping(store, shop_id, kind, source_key)
        if gone:
            store.audit(
                system="operator",
                event="mapping_deleted",
                shop_id=shop_id,
                message=f"Mapping {kind} {source_key!r} removed",
            )
    return gone


def missing_mappings(store: Store, shop_id: int | None = None) -> list[tuple[str, str, int]]:
    """What waiting jobs are blocked on: ``(kind, source_key, job count)``, most jobs first.

    This is the Mappings screen's "unmapped SKUs seen in orders" list.
    """
    counts: dict[str, int] = {}
    for blocked in rows.blocked_keys(store, shop_id):
        for key in blocked.strip("|").split("|"):
            if key:
                counts[key] = counts.get(key, 0) + 1
    out = []
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        kind, _, source = key.partition(":")
        out.append((kind, source, n))
    return out
