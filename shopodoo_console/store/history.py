"""Per-minute series for the Dashboard's charts: jobs finished and attempts failed.

Both read only the window: finished jobs through the ``job_finished`` index, failed attempts
through the attempt table's rowid, which grows with time (attempts are appended as they end),
so the scan stops at the window's first row instead of reading every attempt ever made.
"""

from __future__ import annotations

from shopodoo_console.store.db import Store

ATTEMPT_SCAN_LIMIT = 200_000  # rows read back from the newest attempt, at most


def finished_per_minute(store: Store, now: float, minutes: int = 60) -> list[int]:
    """Jobs that ended done or skipped in each of the last ``minutes`` minutes, oldest first."""
    since = now - minutes * 60
    buckets = [0] * minutes
    for bucket, n in store.execute(
        "SELECT CAST((finished_at - ?) / 60 AS INTEGER), count(*) FROM job "
        "WHERE finished_at >= ? AND state IN ('done', 'skipped') GROUP BY 1",
        (since, since),
    ).fetchall():
        if 0 <= bucket < minutes:
            buckets[bucket] += n
    return buckets


def failed_per_minute(store: Store, now: float, minutes: int = 60) -> list[int]:
    """Attempts that failed (any cause) in each of the last ``minutes`` minutes."""
    since = now - minutes * 60
    buckets = [0] * minutes
    for bucket, n in store.execute(
        "SELECT CAST((ended_at - ?) / 60 AS INTEGER), count(*) FROM attempt "
        "WHERE id > (SELECT COALESCE(max(id), 0) FROM attempt) - ? "
        "AND ended_at >= ? AND outcome = 'failed' GROUP BY 1",
        (since, ATTEMPT_SCAN_LIMIT, since),
    ).fetchall():
        if 0 <= bucket < minutes:
            buckets[bucket] += n
    return buckets
