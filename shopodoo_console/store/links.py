"""Cross-system identity: which Odoo record a Shopify record is (DESIGN §3.4, §4).

A link is written right after the remote create (or adoption) and is the first place a worker
looks before creating anything. It also keeps the version and a digest of what we last wrote,
so a re-sighting of our own write ends in "skipped: unchanged" and a person's edit in Odoo can
be told from ours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Link, Shop


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
    Link.id,
    Link.shop,
    Link.kind,
    Link.shopify_id,
    Link.odoo_model,
    Link.odoo_id,
    Link.label,
    Link.last_version,
    Link.digest,
    Link.updated_at,
)


def _rows(query: Any, store: Store) -> list[LinkRow]:
    return [LinkRow(*row) for row in query.tuples().execute(store.db)]


def find_link(store: Store, shop_id: int, kind: str, shopify_id: str) -> LinkRow | None:
    found = _rows(
        Link.select(*_COLUMNS).where(
            (Link.shop == shop_id) & (Link.kind == kind) & (Link.shopify_id == shopify_id)
        ),
        store,
    )
    return found[0] if found else None


def find_links(store: Store, shop_id: int, kind: str, shopify_ids: list[str]) -> dict[str, LinkRow]:
    """Many links in one query (a batch of orders)."""
    found: dict[str, LinkRow] = {}
    for start in range(0, len(shopify_ids), 900):
        part = shopify_ids[start : start + 900]
        query = Link.select(*_COLUMNS).where(
            (Link.shop == shop_id) & (Link.kind == kind) & Link.shopify_id.in_(part)
        )
        found.update({row.shopify_id: row for row in _rows(query, store)})
    return found


def find_link_by_odoo(
    store: Store, shop_id: int, kind: str, odoo_model: str, odoo_id: int
) -> LinkRow | None:
    found = _rows(
        Link.select(*_COLUMNS).where(
            (Link.shop == shop_id)
            & (Link.kind == kind)
            & (Link.odoo_model == odoo_model)
            & (Link.odoo_id == odoo_id)
        ),
        store,
    )
    return found[0] if found else None


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
    query = Link.delete().where(
        (Link.shop == shop_id) & (Link.kind == kind) & (Link.shopify_id == shopify_id)
    )
    return int(query.execute(store.db)) == 1


def links_for_record(store: Store, shop_id: int, shopify_id: str) -> list[LinkRow]:
    """Every link of one Shopify record (the job detail's "links" section)."""
    query = (
        Link.select(*_COLUMNS)
        .where((Link.shop == shop_id) & (Link.shopify_id == shopify_id))
        .order_by(Link.kind)
    )
    return _rows(query, store)


def list_links(
    store: Store, *, shop: str | None = None, kind: str | None = None, limit: int = 50
) -> list[tuple[str, str, str, str, int, str]]:
    """Newest first: ``(shop domain, kind, shopify id, odoo model, odoo id, label)``."""
    query = Link.select(
        Shop.domain, Link.kind, Link.shopify_id, Link.odoo_model, Link.odoo_id, Link.label
    ).join(Shop)
    if shop:
        query = query.where(Shop.domain == shop)
    if kind:
        query = query.where(Link.kind == kind)
    return list(query.order_by(Link.id.desc()).limit(limit).tuples().execute(store.db))
