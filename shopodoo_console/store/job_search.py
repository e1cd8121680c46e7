"""Finding jobs by a fragment of what the operator knows: an order name, a SKU, a reason.

The Queue's `/` filter: a job matches when its label, record id, key, the mappings it waits
for (``blocked_on``: "product:MUG-RED"), its cause (which names SKUs, gateways, customers)
or its result (a skip reason) contains the text. Wildcards in the text are literal. Returns
ids, newest first, one page (keyset on the id), for the read model to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import or_
from typing import Any

from peewee import OP, SQL, Expression, NodeList, Value

from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Job, Shop

SEARCHED = (Job.label, Job.source_id, Job.key, Job.blocked_on, Job.cause, Job.result)


def contains_text(column: Any, text: str) -> Expression:
    """``column`` contains ``text``, case-insensitively, its ``%``, ``_`` and ``\\`` taken
    literally. The pattern is bound as it is: a JSON column's converter never quotes it."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = NodeList(
        (Value(f"%{escaped}%", converter=False), SQL("ESCAPE"), Value("\\", converter=False))
    )
    return Expression(column, OP.ILIKE, pattern)


def search_job_ids(
    store: Store,
    text: str,
    *,
    states: Sequence[str] = (),
    shop: str | None = None,
    flow: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[int]:
    query = (
        Job.select(Job.id)
        .join(Shop, on=(Shop.id == Job.shop))
        .where(reduce(or_, (contains_text(column, text) for column in SEARCHED)))
    )
    if states:
        query = query.where(Job.state.in_(list(states)))
    if shop:
        query = query.where(Shop.domain == shop)
    if flow:
        query = query.where(Job.flow == flow)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    query = query.order_by(Job.id.desc()).limit(limit)
    return [row[0] for row in query.tuples().execute(store.db)]
