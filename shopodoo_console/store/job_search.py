"""Finding jobs by a fragment of what the operator knows: an order name, a SKU, a reason.

The Queue's `/` filter: a job matches when its label, record id, key, the mappings it waits
for (``blocked_on``: "product:MUG-RED"), its cause (which names SKUs, gateways, customers)
or its result (a skip reason) contains the text. Wildcards in the text are literal. Returns
ids, newest first, one page (keyset on the id), for the read model to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopodoo_console.store.db import Store

SEARCHED = ("job.label", "job.source_id", "job.key", "job.blocked_on", "job.cause", "job.result")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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
    clauses = ["(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in SEARCHED) + ")"]
    params: list[Any] = [_like(text)] * len(SEARCHED)
    if states:
        clauses.append(f"job.state IN ({', '.join('?' * len(states))})")
        params.extend(states)
    if shop:
        clauses.append("shop.domain = ?")
        params.append(shop)
    if flow:
        clauses.append("job.flow = ?")
        params.append(flow)
    if before_id is not None:
        clauses.append("job.id < ?")
        params.append(before_id)
    rows = store.execute(
        "SELECT job.id FROM job JOIN shop ON shop.id = job.shop_id "
        f"WHERE {' AND '.join(clauses)} ORDER BY job.id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [row[0] for row in rows]
