"""Read-side queries shared by the CLI and the console: jobs, their history, cursors.

Lists page with keyset pagination (``before_id``) on indexed columns, so opening a queue of a
million jobs reads one page, never the table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.store.db import Store

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


_JOB_SELECT = (
    "SELECT job.id, job.key, shop.domain, job.flow, job.source_id, job.source_version, "
    "job.label, job.state, job.attempts, job.retries, job.seen_count, job.next_run_at, "
    "job.created_at, job.updated_at, job.finished_at, job.superseded_by, job.cause, job.result, "
    "job.payload, job.intent, job.plan FROM job JOIN shop ON shop.id = job.shop_id"
)


def _row(r: Sequence[Any]) -> JobRow:
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
        cause=Cause.from_json(r[16]) if r[16] else None,
        result=r[17],
        payload=json.loads(r[18] or "{}"),
        intent=json.loads(r[19]) if r[19] else None,
        plan=json.loads(r[20]) if r[20] else None,
    )


def list_jobs(
    store: Store, filters: JobFilter | None = None, *, limit: int = 50, before_id: int | None = None
) -> list[JobRow]:
    """Newest first, one page; ``before_id`` continues after the last id of the previous page."""
    f = filters or JobFilter()
    clauses: list[str] = []
    params: list[Any] = []
    if f.states:
        clauses.append(f"job.state IN ({', '.join('?' * len(f.states))})")
        params.extend(f.states)
    if f.cause:
        clauses.append("job.cause_code = ?")
        params.append(f.cause)
    if f.shop:
        clauses.append("shop.domain = ?")
        params.append(f.shop)
    if f.flow:
        clauses.append("job.flow = ?")
        params.append(f.flow)
    if f.text:
        clauses.append("(job.label LIKE ? OR job.source_id LIKE ? OR job.key LIKE ?)")
        params.extend([f"%{f.text}%"] * 3)
    if before_id is not None:
        clauses.append("job.id < ?")
        params.append(before_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store.execute(
        f"{_JOB_SELECT}{where} ORDER BY job.id DESC LIMIT ?", [*params, limit]
    ).fetchall()
    return [_row(r) for r in rows]


def get_job(store: Store, job_id: int) -> JobRow | None:
    row = store.execute(f"{_JOB_SELECT} WHERE job.id = ?", (job_id,)).fetchone()
    return _row(row) if row else None


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
    rows = store.execute(
        "SELECT number, worker, started_at, ended_at, outcome, cause_code, message FROM attempt "
        "WHERE job_id = ? ORDER BY id",
        (job_id,),
    ).fetchall()
    return [AttemptRow(*r) for r in rows]


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
    rows = store.execute(
        "SELECT at, system, event, message, data FROM audit WHERE job_id = ? ORDER BY at, id",
        (job_id,),
    ).fetchall()
    return [TimelineEntry(r[0], r[1], r[2], r[3], json.loads(r[4] or "{}")) for r in rows]


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
    rows = store.execute(
        "SELECT shop.domain, cursor.stream, cursor.position, cursor.overlap_seconds, "
        "cursor.last_poll_at, cursor.last_poll_ok, cursor.last_poll_message FROM cursor "
        "JOIN shop ON shop.id = cursor.shop_id ORDER BY shop.domain, cursor.stream"
    ).fetchall()
    return [
        CursorRow(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5]), r[6])
        for r in rows
    ]


def cause_groups(store: Store, shop: str | None = None) -> list[tuple[str, int]]:
    """Problem jobs grouped by cause code, biggest group first (the Failures screen)."""
    where, params = "", []
    if shop:
        where, params = " AND shop.domain = ?", [shop]
    rows = store.execute(
        "SELECT job.cause_code, count(*) FROM job JOIN shop ON shop.id = job.shop_id "
        "WHERE job.state IN ('needs_attention', 'failed') AND job.cause_code IS NOT NULL"
        f"{where} GROUP BY job.cause_code ORDER BY count(*) DESC",
        params,
    ).fetchall()
    return [(code, n) for code, n in rows]
