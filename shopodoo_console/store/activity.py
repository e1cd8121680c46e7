"""What happened lately, across shops: the newest timeline entries (the Dashboard's feed).

Reads the ``audit`` table by its time index, newest first, one short page; the job's label
comes along so a line reads "Shopify order #1056: Created S00059" without a second query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopodoo_console.store.db import Store


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    job_id: int | None
    shop: str
    system: str
    event: str
    message: str
    label: str


def recent_audit(store: Store, *, limit: int = 80, since: float = 0.0) -> list[AuditEntry]:
    """The newest ``limit`` timeline entries at or after ``since``, newest first."""
    rows = store.execute(
        "SELECT audit.id, audit.at, audit.job_id, COALESCE(shop.domain, ''), audit.system, "
        "audit.event, audit.message, COALESCE(job.label, '') FROM audit "
        "LEFT JOIN shop ON shop.id = audit.shop_id LEFT JOIN job ON job.id = audit.job_id "
        "WHERE audit.at >= ? ORDER BY audit.at DESC, audit.id DESC LIMIT ?",
        (since, limit),
    ).fetchall()
    return [AuditEntry(*row) for row in rows]


def job_labels(store: Store, job_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``{job id: (shop domain, label)}`` for the jobs an engine event named."""
    if not job_ids:
        return {}
    marks = ", ".join("?" * len(job_ids))
    rows: list[Any] = store.execute(
        f"SELECT job.id, shop.domain, job.label FROM job JOIN shop ON shop.id = job.shop_id "
        f"WHERE job.id IN ({marks})",
        list(job_ids),
    ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}
