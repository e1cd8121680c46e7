"""Per-minute series for the Dashboard's charts: jobs finished and attempts failed.

Both read only the window: finished jobs through the ``job_finished`` index, failed attempts
through ``attempt_ended`` (attempts by when they ended), so a chart of the last hour costs
the last hour's rows, not every job or attempt ever made.
"""

from __future__ import annotations

from collections.abc import Iterable

from peewee import SQL, fn

from shopodoo_console.store import views
from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Attempt
from shopodoo_console.store.sqlite import whole


def finished_per_minute(store: Store, now: float, minutes: int = 60) -> list[int]:
    """Jobs that ended done or skipped in each of the last ``minutes`` minutes, oldest first."""
    since = now - minutes * 60
    return _spread(views.finished_per_bucket(store, since, 60), minutes)


def failed_per_minute(store: Store, now: float, minutes: int = 60) -> list[int]:
    """Attempts that failed (any cause) in each of the last ``minutes`` minutes."""
    since = now - minutes * 60
    bucket = whole((Attempt.ended_at - since) / 60)
    query = (
        Attempt.select(bucket, fn.COUNT(SQL("*")))
        .where((Attempt.ended_at >= since) & (Attempt.outcome == "failed"))
        .group_by(bucket)
    )
    return _spread(query.tuples().execute(store.db), minutes)


def _spread(counts: Iterable[tuple[int, int]], minutes: int) -> list[int]:
    buckets = [0] * minutes
    for bucket, n in counts:
        if 0 <= bucket < minutes:
            buckets[bucket] += n
    return buckets
