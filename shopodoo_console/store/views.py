"""Read models the console and the command line show: jobs, their history, cursors, counts.

Lists page with keyset pagination (``before_id``) on indexed columns, so opening a queue of a
million jobs reads one page, never the table. Screens and commands call these from worker
threads; each is a few indexed queries returning plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peewee import SQL, fn

from shopodoo_console.causes import Cause
from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Attempt, Audit, Cursor, Job, Shop, in_states
from shopodoo_console.store.sqlite import whole
from shopodoo_console.store.states import ATTENTION, RUNNABLE, State

JSON_SCHEMA_VERSION = 1


def iso(ts: float | None) -> str | None:
    """A stored timestamp as ISO 8601 UTC (what ``--json`` prints)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class JobFilter:
    states: Sequence[str] = ()
    cause: str | None = None
    shop: str | None = None
    flow: str | None = None
    text: str | None = None


@dataclass
class JobRow:
    id: int
    key: str
    shop: str
    flow: str
    source_id: str
    source_version: str
    label: str
    state: str
    attempts: int
    retries: int
    seen_count: int
    next_run_at: float
    created_at: float
    updated_at: float
    finished_at: float | None
    superseded_by: int | None
    cause: Cause | None
    result: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    intent: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The stable ``--json`` shape of a job (documented in docs/cli.md)."""
        cause = None
        if self.cause is not None:
            c = self.cause
            cause = {
                "code": c.code,
                "title": c.title,
                "kind": str(c.kind),
                "record": c.record,
                "missing": c.missing,
                "retry_safe": c.retry_safe,
                "retry_note": c.retry_note,
                "fix": c.fix,
                "operation": c.operation,
                "detail": c.detail,
                "blocked_on": list(c.blocked_on),
            }
        return {
            "id": self.id,
            "key": self.key,
            "shop": self.shop,
            "flow": self.flow,
            "source_id": self.source_id,
            "source_version": self.source_version,
            "label": self.label,
            "state": self.state,
            "attempts": self.attempts,
            "retries": self.retries,
            "seen_count": self.seen_count,
            "next_run_at": iso(self.next_run_at),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "finished_at": iso(self.finished_at),
            "superseded_by": self.superseded_by,
            "cause": cause,
            "result": self.result,
        }


_JOB_COLUMNS = (
    Job.id,
    Job.key,
    Shop.domain,
    Job.flow,
    Job.source_id,
    Job.source_version,
    Job.label,
    Job.state,
    Job.attempts,
    Job.retries,
    Job.seen_count,
    Job.next_run_at,
    Job.created_at,
    Job.updated_at,
    Job.finished_at,
    Job.superseded_by,
    Job.cause,
    Job.result,
    Job.payload,
    Job.intent,
    Job.plan,
)


def _job_row(r: Sequence[Any]) -> JobRow:
    return JobRow(
        id=r[0],
        key=r[1],
        shop=r[2],
        flow=r[3],
        source_id=r[4],
        source_version=r[5],
        label=r[6],
        state=r[7],
        attempts=r[8],
        retries=r[9],
        seen_count=r[10],
        next_run_at=r[11],
        created_at=r[12],
        updated_at=r[13],
        finished_at=r[14],
        superseded_by=r[15],
        cause=Cause.from_dict(r[16]) if r[16] else None,
        result=r[17],
        payload=r[18] or {},
        intent=r[19] or None,
        plan=r[20] or None,
    )


def _jobs() -> Any:
    return Job.select(*_JOB_COLUMNS).join(Shop, on=(Shop.id == Job.shop))


def list_jobs(
    store: Store, filters: JobFilter | None = None, *, limit: int = 50, before_id: int | None = None
) -> list[JobRow]:
    """Newest first, one page; ``before_id`` continues after the last id of the previous page."""
    f = filters or JobFilter()
    query = _jobs()
    if f.states:
        query = query.where(Job.state.in_(list(f.states)))
    if f.cause:
        query = query.where(Job.cause_code == f.cause)
    if f.shop:
        query = query.where(Shop.domain == f.shop)
    if f.flow:
        query = query.where(Job.flow == f.flow)
    if f.text:
        pattern = f"%{f.text}%"
        query = query.where(Job.label**pattern | Job.source_id**pattern | Job.key**pattern)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    rows = query.order_by(Job.id.desc()).limit(limit).tuples().execute(store.db)
    return [_job_row(r) for r in rows]


def get_job(store: Store, job_id: int) -> JobRow | None:
    rows = list(_jobs().where(Job.id == job_id).tuples().execute(store.db))
    return _job_row(rows[0]) if rows else None


@dataclass
class AttemptRow:
    number: int
    worker: str
    started_at: float
    ended_at: float | None
    outcome: str
    cause_code: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "worker": self.worker,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "outcome": self.outcome,
            "cause_code": self.cause_code,
            "message": self.message,
        }


def attempts(store: Store, job_id: int) -> list[AttemptRow]:
    query = (
        Attempt.select(
            Attempt.number,
            Attempt.worker,
            Attempt.started_at,
            Attempt.ended_at,
            Attempt.outcome,
            Attempt.cause_code,
            Attempt.message,
        )
        .where(Attempt.job == job_id)
        .order_by(Attempt.id)
    )
    return [AttemptRow(*r) for r in query.tuples().execute(store.db)]


@dataclass
class TimelineEntry:
    at: float
    system: str
    event: str
    message: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "system": self.system,
            "event": self.event,
            "message": self.message,
            "data": self.data,
        }


def timeline(store: Store, job_id: int) -> list[TimelineEntry]:
    query = (
        Audit.select(Audit.at, Audit.system, Audit.event, Audit.message, Audit.data)
        .where(Audit.job == job_id)
        .order_by(Audit.at, Audit.id)
    )
    return [
        TimelineEntry(r[0], r[1], r[2], r[3], r[4] or {}) for r in query.tuples().execute(store.db)
    ]


@dataclass
class CursorRow:
    shop: str
    stream: str
    position: str | None
    overlap_seconds: int
    last_poll_at: float | None
    last_poll_ok: bool | None
    last_poll_message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "shop": self.shop,
            "stream": self.stream,
            "position": self.position,
            "overlap_seconds": self.overlap_seconds,
            "last_poll_at": iso(self.last_poll_at),
            "last_poll_ok": self.last_poll_ok,
            "last_poll_message": self.last_poll_message,
        }


def cursors(store: Store) -> list[CursorRow]:
    query = (
        Cursor.select(
            Shop.domain,
            Cursor.stream,
            Cursor.position,
            Cursor.overlap_seconds,
            Cursor.last_poll_at,
            Cursor.last_poll_ok,
            Cursor.last_poll_message,
        )
        .join(Shop, on=(Shop.id == Cursor.shop))
        .order_by(Shop.domain, Cursor.stream)
    )
    return [
        CursorRow(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5]), r[6])
        for r in query.tuples().execute(store.db)
    ]


def _attention() -> Any:
    return Job.cause_code.is_null(False) & in_states(Job.state, ATTENTION)


def cause_groups(store: Store, shop: str | None = None) -> list[tuple[str, int]]:
    """Problem jobs grouped by cause code, biggest group first (the Failures screen)."""
    n = fn.COUNT(SQL("*"))
    query = Job.select(Job.cause_code, n).where(_attention())
    if shop:
        query = query.join(Shop, on=(Shop.id == Job.shop)).where(Shop.domain == shop)
    query = query.group_by(Job.cause_code).order_by(n.desc(), Job.cause_code)
    return [(code, count) for code, count in query.tuples().execute(store.db)]


def newest_of_cause(store: Store, code: str) -> tuple[Cause | None, str] | None:
    """The cause and shop of the newest problem job with ``code`` (a group's example)."""
    query = (
        Job.select(Job.cause, Shop.domain)
        .join(Shop, on=(Shop.id == Job.shop))
        .where((Job.cause_code == code) & _attention())
        .order_by(Job.id.desc())
        .limit(1)
    )
    row = next(iter(query.tuples().execute(store.db)), None)
    if row is None:
        return None
    return (Cause.from_dict(row[0]) if row[0] else None), row[1]


def attention_ids(store: Store, code: str) -> list[int]:
    """Every problem job of a cause (for "resolve/cancel this group")."""
    query = Job.select(Job.id).where((Job.cause_code == code) & _attention())
    return [r[0] for r in query.tuples().execute(store.db)]


def counts_by_stream(store: Store) -> list[tuple[int, str, str, int]]:
    """``(shop_id, flow, state, jobs)`` for every combination (the dashboard's counts)."""
    n = fn.COUNT(SQL("*"))
    query = Job.select(Job.shop, Job.flow, Job.state, n).group_by(Job.shop, Job.flow, Job.state)
    return list(query.tuples().execute(store.db))


def finished_per_bucket(store: Store, since: float, bucket_seconds: float) -> list[tuple[int, int]]:
    """``(bucket number, jobs done or skipped)`` since ``since``, in ``bucket_seconds`` slices."""
    bucket = whole((Job.finished_at - since) / bucket_seconds)
    query = (
        Job.select(bucket, fn.COUNT(SQL("*")))
        .where(
            Job.finished_at.is_null(False)
            & (Job.finished_at >= since)
            & in_states(Job.state, (State.DONE, State.SKIPPED))
        )
        .group_by(bucket)
    )
    return [(int(b), n) for b, n in query.tuples().execute(store.db)]


@dataclass(frozen=True)
class Totals:
    """What a sync did, in numbers (the demo's summary)."""

    by_state: dict[str, int]
    jobs: int
    sightings: int
    adopted: int


def totals(store: Store) -> Totals:
    by_state = {
        state: n
        for state, n in Job.select(Job.state, fn.COUNT(SQL("*")))
        .group_by(Job.state)
        .tuples()
        .execute(store.db)
    }
    sightings, jobs = (
        Job.select(fn.COALESCE(fn.SUM(Job.seen_count), 0), fn.COUNT(SQL("*")))
        .tuples()
        .execute(store.db)[0]
    )
    adopted = Audit.select(fn.COUNT(SQL("*"))).where(Audit.event == "adopted").scalar(store.db)
    return Totals(by_state, int(jobs), int(sightings), int(adopted or 0))


def next_due(store: Store) -> float | None:
    """When the earliest runnable job falls due; None when nothing is runnable."""
    query = Job.select(fn.MIN(Job.next_run_at)).where(in_states(Job.state, RUNNABLE))
    return query.scalar(store.db)
