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
from shopodoo_console.store.sqlite import write_link_row


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


KEEP = object()
"""``last_version=KEEP``: an identity write that leaves the link's sync state as it is."""


def write_link(
    store: Store,
    shop_id: int,
    kind: str,
    shopify_id: str,
    odoo_model: str,
    odoo_id: int,
    *,
    label: str = "",
    last_version: str | object | None = KEEP,
    digest: str | None = None,
) -> LinkRow | None:
    """Write a link in one statement and return the row as it stands afterwards.

    ``last_version``: a string marks the link synced at that version, ``None`` marks it
    "not synced" (right after a create or an adoption), ``KEEP`` leaves it. ``digest`` (what
    we last wrote) is kept when ``None``. The returned row names the winner: if its
    ``odoo_id`` is not ours, another worker linked this Shopify record first and nothing was
    changed. ``None``: the Odoo record is already linked to another Shopify record.
    """
    now = time.time()
    keep = last_version is KEEP
    version = None if keep else last_version
    with store.atomic():
        rows = write_link_row(
            store.db,
            (
                shop_id,
                kind,
                shopify_id,
                odoo_model,
                odoo_id,
                label,
                version,
                digest,
                now,
                now,
                0 if keep else 1,
            ),
        )
    return LinkRow(*rows[0]) if rows else None


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
) -> LinkRow | None:
    """A synced link at ``version`` (or an identity write without one): :func:`write_link`."""
    return write_link(
        store,
        shop_id,
        kind,
        shopify_id,
        odoo_model,
        odoo_id,
        label=label,
        last_version=KEEP if version is None else version,
        digest=digest,
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


def synced_since(store: Store, shop_id: int, kind: str, since: str) -> list[tuple[str, str]]:
    """``(shopify_id, last_version)`` of the links in step at a version at or after ``since``
    (an ISO time: synced versions start with one, so they compare as text)."""
    query = Link.select(Link.shopify_id, Link.last_version).where(
        (Link.shop == shop_id) & (Link.kind == kind) & (Link.last_version >= since)
    )
    return [(r[0], r[1]) for r in query.tuples().execute(store.db)]
