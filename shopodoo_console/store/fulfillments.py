"""The fulfillments flow's reads: links found from the Odoo side, and earlier intents.

The link table is written only through :func:`store.links.write_link` (the link writer); this
module reads it the other way round — from a sale order or a delivery to the Shopify record —
because the fulfillments flow starts from Odoo. It also reads back the intents a flow
recorded before a remote write (DESIGN §3.5), across every job of a record: a lost answer on
``fulfillmentCreate`` is recognised by the retry of the same job, and by a newer job of the
same delivery that superseded it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from shopodoo_console.store.db import Store
from shopodoo_console.store.links import _COLUMNS, LinkRow

_CHUNK = 900  # SQLite's default bound-parameter limit is 999 on old builds


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def links_by_odoo(
    store: Store, kind: str, odoo_model: str, odoo_ids: Iterable[int]
) -> dict[int, list[LinkRow]]:
    """Links of these Odoo records in every shop: ``{odoo id: [links]}`` (a sale order is
    linked to at most one order per shop; the caller picks its shop or names the other)."""
    found: dict[int, list[LinkRow]] = {}
    for part in _chunks(odoo_ids):
        rows = store.execute(
            f"SELECT {_COLUMNS} FROM link WHERE kind = ? AND odoo_model = ? AND odoo_id IN "
            f"({', '.join('?' * len(part))}) ORDER BY shop_id",
            [kind, odoo_model, *part],
        ).fetchall()
        for row in rows:
            link = LinkRow(*row)
            found.setdefault(link.odoo_id, []).append(link)
    return found


def shop_links_by_odoo(
    store: Store, shop_id: int, kind: str, odoo_model: str, odoo_ids: Iterable[int]
) -> dict[int, LinkRow]:
    """One shop's links of these Odoo records: ``{odoo id: link}``."""
    found: dict[int, LinkRow] = {}
    for part in _chunks(odoo_ids):
        rows = store.execute(
            f"SELECT {_COLUMNS} FROM link WHERE shop_id = ? AND kind = ? AND odoo_model = ? "
            f"AND odoo_id IN ({', '.join('?' * len(part))})",
            [shop_id, kind, odoo_model, *part],
        ).fetchall()
        found.update({r[5]: LinkRow(*r) for r in rows})
    return found


def links_of_odoo_record(
    store: Store, shop_id: int, odoo_model: str, odoo_id: int
) -> list[LinkRow]:
    """Every link of one Odoo record (the job detail of a flow that starts from Odoo)."""
    rows = store.execute(
        f"SELECT {_COLUMNS} FROM link WHERE shop_id = ? AND odoo_model = ? AND odoo_id = ? "
        "ORDER BY kind",
        (shop_id, odoo_model, odoo_id),
    ).fetchall()
    return [LinkRow(*r) for r in rows]


def intents(
    store: Store, shop_id: int, flow: str, source_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """The intents recorded by every job of these records, newest first: what each was about
    to do remotely when it last ran (``{source id: [intent, ...]}``)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for part in _chunks(source_ids):
        rows = store.execute(
            "SELECT source_id, intent FROM job INDEXED BY job_record WHERE shop_id = ? "
            f"AND flow = ? AND source_id IN ({', '.join('?' * len(part))}) "
            "AND intent IS NOT NULL ORDER BY id DESC",
            [shop_id, flow, *part],
        ).fetchall()
        for source_id, text in rows:
            try:
                intent = json.loads(text)
            except ValueError:
                continue
            if isinstance(intent, dict):
                found.setdefault(source_id, []).append(intent)
    return found


def shop_domains(store: Store) -> dict[int, str]:
    """Every shop's domain by id (to name the shop a record belongs to)."""
    return {int(i): str(d) for i, d in store.execute("SELECT id, domain FROM shop").fetchall()}


def states_of_flow(store: Store, flow: str) -> dict[str, int]:
    """Jobs of one flow by state (the headless demo's summary of its shipments)."""
    rows = store.execute(
        "SELECT state, count(*) FROM job WHERE flow = ? GROUP BY state", (flow,)
    ).fetchall()
    return {str(state): int(n) for state, n in rows}
