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


KEEP = object()
"""``last_version=KEEP``: an identity write that leaves the link's sync state as it is."""

# The writer's one statement (raw SQL: peewee cannot say two ON CONFLICT clauses nor RETURNING
# on SQLite). A link that already names another Odoo record is never overwritten: the row comes
# back unchanged and the caller adopts it (someone linked it first). The second clause covers the
# Odoo side: that record is already linked to another Shopify record, and no row comes back.
_SAME = "link.odoo_model = excluded.odoo_model AND link.odoo_id = excluded.odoo_id"
_WRITE = (
    "INSERT INTO link (shop_id, kind, shopify_id, odoo_model, odoo_id, label, last_version, "
    "digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(shop_id, kind, shopify_id) DO UPDATE SET "
    f"label = CASE WHEN {_SAME} AND excluded.label <> '' THEN excluded.label ELSE link.label END, "
    f"last_version = CASE WHEN {_SAME} AND ? THEN excluded.last_version "
    "ELSE link.last_version END, "
    f"digest = CASE WHEN {_SAME} THEN COALESCE(excluded.digest, link.digest) ELSE link.digest END, "
    f"updated_at = CASE WHEN {_SAME} THEN excluded.updated_at ELSE link.updated_at END "
    f"ON CONFLICT DO NOTHING RETURNING {_COLUMNS}"
)


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
        rows = store.execute(
            _WRITE,
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
        ).fetchall()
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


def synced_since(store: Store, shop_id: int, kind: str, since: str) -> list[tuple[str, str]]:
    """``(shopify_id, last_version)`` of the links in step at a version at or after ``since``
    (an ISO time: synced versions start with one, so they compare as text)."""
    rows = store.execute(
        "SELECT shopify_id, last_version FROM link WHERE shop_id = ? AND kind = ? "
        "AND last_version >= ?",
        (shop_id, kind, since),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]
