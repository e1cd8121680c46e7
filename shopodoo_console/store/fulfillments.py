"""The fulfillments flow's reads: links found from the Odoo side, and earlier intents.

The link table is written only through :func:`store.links.write_link` (the link writer); this
module reads it the other way round — from a sale order or a delivery to the Shopify record —
because the fulfillments flow starts from Odoo (the ``link_odoo`` unique index serves these
reads). It also reads back the intents a flow recorded before a remote write (DESIGN §3.5),
across every job of a record: a lost answer on ``fulfillmentCreate`` is recognised by the
retry of the same job, and by a newer job of the same delivery that superseded it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce
from typing import Any

from peewee import fn

from shopodoo_console.store.db import Store
from shopodoo_console.store.links import _COLUMNS, LinkRow
from shopodoo_console.store.models import Job, Link, Shop

_CHUNK = 450  # ids (or key ranges) per statement: under SQLite's old 999-parameter limit


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _links(store: Store, where: Any) -> list[LinkRow]:
    query = Link.select(*_COLUMNS).where(where).order_by(Link.shop, Link.kind)
    return [LinkRow(*row) for row in query.tuples().execute(store.db)]


def links_by_odoo(
    store: Store, kind: str, odoo_model: str, odoo_ids: Iterable[int]
) -> dict[int, list[LinkRow]]:
    """Links of these Odoo records in every shop: ``{odoo id: [links]}`` (a sale order is
    linked to at most one order per shop; the caller picks its shop or names the other)."""
    found: dict[int, list[LinkRow]] = {}
    for part in _chunks(odoo_ids):
        where = (Link.kind == kind) & (Link.odoo_model == odoo_model) & Link.odoo_id.in_(part)
        for link in _links(store, where):
            found.setdefault(link.odoo_id, []).append(link)
    return found


def shop_links_by_odoo(
    store: Store, shop_id: int, kind: str, odoo_model: str, odoo_ids: Iterable[int]
) -> dict[int, LinkRow]:
    """One shop's links of these Odoo records: ``{odoo id: link}``."""
    found: dict[int, LinkRow] = {}
    for part in _chunks(odoo_ids):
        where = (
            (Link.shop == shop_id)
            & (Link.kind == kind)
            & (Link.odoo_model == odoo_model)
            & Link.odoo_id.in_(part)
        )
        found.update({link.odoo_id: link for link in _links(store, where)})
    return found


def links_of_odoo_record(
    store: Store, shop_id: int, odoo_model: str, odoo_id: int
) -> list[LinkRow]:
    """Every link of one Odoo record (the job detail of a flow that starts from Odoo)."""
    where = (Link.shop == shop_id) & (Link.odoo_model == odoo_model) & (Link.odoo_id == odoo_id)
    return _links(store, where)


def intents(store: Store, key_prefixes: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The intents recorded by every job of these records, newest first: what each was about
    to do remotely when it last ran (``{source id: [intent, ...]}``). ``key_prefixes``: each
    record's ``shop:flow:source id:`` — the unique key index finds its versions by range."""
    found: dict[str, list[dict[str, Any]]] = {}
    for part in _chunks(key_prefixes):
        ranges = [(Job.key >= p) & (Job.key < p[:-1] + chr(ord(p[-1]) + 1)) for p in part]
        query = (
            Job.select(Job.source_id, Job.intent)
            .where(reduce(operator.or_, ranges) & Job.intent.is_null(False))
            .order_by(Job.id.desc())
        )
        for source_id, intent in query.tuples().execute(store.db):
            if isinstance(intent, dict):
                found.setdefault(str(source_id), []).append(intent)
    return found


def shop_domains(store: Store) -> dict[int, str]:
    """Every shop's domain by id (to name the shop a record belongs to)."""
    query = Shop.select(Shop.id, Shop.domain)
    return {int(i): str(d) for i, d in query.tuples().execute(store.db)}


def states_of_flow(store: Store, flow: str) -> dict[str, int]:
    """Jobs of one flow by state (the headless demo's summary of its shipments)."""
    query = Job.select(Job.state, fn.COUNT(Job.id)).where(Job.flow == flow).group_by(Job.state)
    return {str(state): int(n) for state, n in query.tuples().execute(store.db)}
