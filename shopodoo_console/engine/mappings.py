"""Operator-owned mapping rules, and re-queueing the jobs that waited for one (DESIGN §3.8).

A mapping says "this Shopify thing is that Odoo record" for what cannot be matched safely by
itself: a SKU with no ``default_code`` match, a location, a payment gateway, a shipping method,
a tax. Jobs blocked on a missing mapping carry its key (``product:MUG-RED``); saving the mapping
queues every one of them again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shopodoo_console.engine.queue import Queue
from shopodoo_console.store.db import Store

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


@dataclass(frozen=True)
class MappingRow:
    id: int
    shop_id: int
    kind: str
    source_key: str
    odoo_model: str
    odoo_id: int
    label: str
    note: str
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source_key": self.source_key,
            "odoo_model": self.odoo_model,
            "odoo_id": self.odoo_id,
            "label": self.label,
            "note": self.note,
        }


_COLUMNS = "id, shop_id, kind, source_key, odoo_model, odoo_id, label, note, updated_at"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown mapping kind {kind!r} (expected one of: {', '.join(KINDS)})")


def get_mapping(store: Store, shop_id: int, kind: str, source_key: str) -> MappingRow | None:
    row = store.execute(
        f"SELECT {_COLUMNS} FROM mapping WHERE shop_id = ? AND kind = ? AND source_key = ?",
        (shop_id, kind, source_key),
    ).fetchone()
    return MappingRow(*row) if row else None


def get_mappings(
    store: Store, shop_id: int, kind: str, source_keys: list[str]
) -> dict[str, MappingRow]:
    """Many mappings in one query (all lines of a batch of orders)."""
    found: dict[str, MappingRow] = {}
    for start in range(0, len(source_keys), 900):
        part = source_keys[start : start + 900]
        rows = store.execute(
            f"SELECT {_COLUMNS} FROM mapping WHERE shop_id = ? AND kind = ? AND source_key IN "
            f"({', '.join('?' * len(part))})",
            [shop_id, kind, *part],
        ).fetchall()
        found.update({r[3]: MappingRow(*r) for r in rows})
    return found


def list_mappings(
    store: Store,
    shop_id: int | None = None,
    kind: str | None = None,
    *,
    limit: int = 500,
    offset: int = 0,
) -> list[MappingRow]:
    clauses, params = [], []
    if shop_id is not None:
        clauses.append("shop_id = ?")
        params.append(shop_id)
    if kind is not None:
        _check_kind(kind)
        clauses.append("kind = ?")
        params.append(kind)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.execute(
        f"SELECT {_COLUMNS} FROM mapping{where} ORDER BY kind, source_key LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [MappingRow(*r) for r in rows]


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
    now = time.time()
    with store.atomic():
        store.execute(
            "INSERT INTO mapping (shop_id, kind, source_key, odoo_model, odoo_id, label, note, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(shop_id, kind, source_key) DO UPDATE SET odoo_id = excluded.odoo_id, "
            "odoo_model = excluded.odoo_model, label = excluded.label, note = excluded.note, "
            "updated_at = excluded.updated_at",
            (shop_id, kind, source_key, KINDS[kind], odoo_id, label, note, now, now),
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
        gone = (
            store.execute(
                "DELETE FROM mapping WHERE shop_id = ? AND kind = ? AND source_key = ?",
                (shop_id, kind, source_key),
            ).rowcount
            == 1
        )
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
    where, params = "", []
    if shop_id is not None:
        where, params = " AND shop_id = ?", [shop_id]
    rows = store.execute(
        "SELECT blocked_on FROM job WHERE state = 'needs_attention' AND blocked_on IS NOT NULL"
        + where,
        params,
    ).fetchall()
    counts: dict[str, int] = {}
    for (blocked,) in rows:
        for key in blocked.strip("|").split("|"):
            if key:
                counts[key] = counts.get(key, 0) + 1
    out = []
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        kind, _, source = key.partition(":")
        out.append((kind, source, n))
    return out
