"""What happened lately, across shops: the newest timeline entries (the Dashboard's feed).

Reads the ``audit`` table by its time index, newest first, one short page; the job's label
comes along so a line reads "Shopify order #1056: Created S00059" without a second query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from peewee import JOIN, fn

from shopodoo_console.store.db import Store
from shopodoo_console.store.jobs import IN_CHUNK
from shopodoo_console.store.models import Audit, Job, Shop


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
    """The newest ``limit`` timeline entries at or after ``since``, newest first (walks the
    ``audit_at`` index backwards: one page read, whatever the table holds)."""
    query = (
        Audit.select(
            Audit.id,
            Audit.at,
            Audit.job,
            fn.COALESCE(Shop.domain, ""),
            Audit.system,
            Audit.event,
            Audit.message,
            fn.COALESCE(Job.label, ""),
        )
        .join(Shop, JOIN.LEFT_OUTER, on=(Shop.id == Audit.shop))
        .join_from(Audit, Job, JOIN.LEFT_OUTER, on=(Job.id == Audit.job))
        .where(Audit.at >= since)
        .order_by(Audit.at.desc(), Audit.id.desc())
        .limit(limit)
    )
    return [AuditEntry(*row) for row in query.tuples().execute(store.db)]


def job_labels(store: Store, job_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``{job id: (shop domain, label)}`` for the jobs an engine event named."""
    found: dict[int, tuple[str, str]] = {}
    ids = list(job_ids)
    for start in range(0, len(ids), IN_CHUNK):
        query = (
            Job.select(Job.id, Shop.domain, Job.label)
            .join(Shop, on=(Shop.id == Job.shop))
            .where(Job.id.in_(ids[start : start + IN_CHUNK]))
        )
        found.update({row[0]: (row[1], row[2]) for row in query.tuples().execute(store.db)})
    return found
