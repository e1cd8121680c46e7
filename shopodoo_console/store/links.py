"""Cross-system identity: which Odoo record a Shopify record is (DESIGN §3.4, §4).

A link is written right after the remote create (or adoption) and is the first place a worker
looks before creating anything. It also keeps the version and a digest of what we last wrote,
so a re-sighting of our own write ends in "skipped: unchanged" and a person's edit in Odoo can
be told from ours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shopodoo_console.store.db import Store


@dataclass(frozen=True)
class LinkRow:
    id: int
    shop_id: int
    kind: str
    shopify_id: str
    odoo_model: str
    odoo_id: int
    label: str
    last_version: str | None
    digest: str | None
    updated_at: float


_COLUMNS = (
    "id, shop_id, kind, shopify_id, odoo_model, odoo_id, label, last_version, digest, updated_at"
)


def find_link(store: Store, shop_id: int, kind: str, shopify_id: str) -> LinkRow | None:
    row = store.execute(
        f"SELECT {_COLUMNS} FROM link WHERE shop_id = ? AND kind = ? AND shopify_id = ?",
        (shop_id, kind, shopify_id),
    ).fetchone()
    return LinkRow(*row) if row else None


def find_links(store: Store, shop_id: int, kind: str, shopify_ids: list[str]) -> dict[str, LinkRow]:
    """Many links in one query (a batch of orders)."""
    found: dict[str, LinkRow] = {}
    for start in range(0, len(shopify_ids), 900):
        part = shopify_ids[start : start + 900]
        rows = store.execute(
            f"SELECT {_COLUMNS} FROM link WHERE shop_id = ? AND kind = ? AND shopify_id IN "
            f"({', '.join('?' * len(part))})",
            [shop_id, kind, *part],
        ).fetchall()
        found.update({r[3]: LinkRow(*r) for r in rows})
    return found


def find_link_by_odoo(
    store: Store, shop_id: int, kind: str, odoo_model: str, odoo_id: int
) -> LinkRow | None:
    row = store.execute(
        f"SELECT {_COLUMNS} FROM link WHERE shop_id = ? AND kind = ? AND "
        "odoo_model = ? AND odoo_id = ?",
        (shop_id, kind, odoo_model, odoo_id),
    ).fetchone()
    return LinkRow(*row) if row else None


def save_link(
    store: Store,
    shop_id: int,
    kind: str,
    shopify_id: str,
    odoo_model: str,
    odoo_id: int,
    *,
    label: str = "",
    version: str | None = None,
    digest: str | None = None,
) -> None:
    """Create or refresh the link (same Shopify record → same row, never a second one)."""
    now = time.time()
    store.execute(
        "INSERT INTO link (shop_id, kind, shopify_id, odoo_model, odoo_id, label, last_version, "
        "digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(shop_id, kind, shopify_id) DO UPDATE SET odoo_model = excluded.odoo_model, "
        "odoo_id = excluded.odoo_id, label = excluded.label, "
        "last_version = COALESCE(excluded.last_version, last_version), "
        "digest = COALESCE(excluded.digest, digest), updated_at = excluded.updated_at",
        (shop_id, kind, shopify_id, odoo_model, odoo_id, label, version, digest, now, now),
    )


def delete_link(store: Store, shop_id: int, kind: str, shopify_id: str) -> bool:
    return (
        store.execute(
            "DELETE FROM link WHERE shop_id = ? AND kind = ? AND shopify_id = ?",
            (shop_id, kind, shopify_id),
        ).rowcount
        == 1
    )


def links_for_record(store: Store, shop_id: int, shopify_id: str) -> list[LinkRow]:
    """Every link of one Shopify record (the job detail's "links" section)."""
    rows = store.execute(
        f"SELECT {_COLUMNS} FROM link WHERE shop_id = ? AND shopify_id = ? ORDER BY kind",
        (shop_id, shopify_id),
    ).fetchall()
    return [LinkRow(*r) for r in rows]
