"""Audit and backfill runs, and what audits found (issue 14): the SQL behind them.

A run row says what was asked (shop, kind, period), who runs it (an owner like the queue's
workers: ``role@host:pid:suffix``), how far it got and, for a backfill, where it resumes
(``position``: the bulk operation and the byte offset of the next record). Every write is one
short statement guarded by the owner, so a run taken over after a kill can never be moved by
the process it was taken from.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.redact import redact
from shopodoo_console.store import jobs
from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Job

RUNNING, DONE, FAILED, STOPPED = "running", "done", "failed", "stopped"

_RUN_COLUMNS = (
    "r.id, r.shop_id, s.domain, r.kind, r.since, r.until, r.state, r.owner, r.method, "
    "r.position, r.total, r.done, r.found, r.message, r.started_at, r.updated_at, r.finished_at"
)
_FINDING_COLUMNS = (
    "id, run_id, kind, shopify_id, shopify_name, odoo_ids, job_id, summary, detail, created_at"
)


@dataclass(frozen=True)
class RunRow:
    id: int
    shop_id: int
    shop: str
    kind: str
    since: str
    until: str | None
    state: str
    owner: str
    method: str
    position: dict[str, Any]
    total: int | None
    done: int
    found: int
    message: str
    started_at: float
    updated_at: float
    finished_at: float | None

    def to_json(self, *, interrupted: bool = False) -> dict[str, Any]:
        """``interrupted``: left running by a process that is gone (the caller can tell)."""
        return {
            "id": self.id,
            "shop": self.shop,
            "kind": self.kind,
            "since": self.since,
            "until": self.until,
            "state": "interrupted" if interrupted else self.state,
            "method": self.method,
            "total": self.total,
            "done": self.done,
            "found": self.found,
            "message": self.message,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass(frozen=True)
class NewFinding:
    kind: str
    summary: str
    shopify_id: str | None = None
    shopify_name: str = ""
    odoo_ids: tuple[int, ...] = ()
    job_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FindingRow:
    id: int
    run_id: int
    kind: str
    shopify_id: str | None
    shopify_name: str
    odoo_ids: tuple[int, ...]
    job_id: int | None
    summary: str
    detail: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class JobGlance:
    """The newest job of a record, as an audit finding names it."""

    id: int
    state: str
    cause_code: str | None
    missing: str | None
    result: str | None


def _run(row: Sequence[Any]) -> RunRow:
    values = list(row)
    values[9] = json.loads(values[9] or "{}")
    return RunRow(*values)


def _finding(row: Sequence[Any]) -> FindingRow:
    values = list(row)
    values[5] = tuple(json.loads(values[5] or "[]"))
    values[8] = json.loads(values[8] or "{}")
    return FindingRow(*values)


# ---------------------------------------------------------------- runs


def start_run(
    store: Store,
    *,
    shop_id: int,
    kind: str,
    since: str,
    until: str | None,
    owner: str,
    method: str = "",
    total: int | None = None,
) -> int:
    now = time.time()
    with store.atomic():
        cursor = store.execute(
            "INSERT INTO reconcile_run (shop_id, kind, since, until, state, owner, method, "
            "total, started_at, updated_at) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?) "
            "RETURNING id",
            (shop_id, kind, since, until, owner, method, total, now, now),
        )
        return int(cursor.fetchone()[0])


def get_run(store: Store, run_id: int) -> RunRow | None:
    row = store.execute(
        f"SELECT {_RUN_COLUMNS} FROM reconcile_run AS r JOIN shop AS s ON s.id = r.shop_id "
        "WHERE r.id = ?",
        (run_id,),
    ).fetchone()
    return _run(row) if row else None


def runs(
    store: Store, *, kind: str | None = None, shop_id: int | None = None, limit: int = 20
) -> list[RunRow]:
    """Newest first."""
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if kind is not None:
        clauses.append("r.kind = ?")
        params.append(kind)
    if shop_id is not None:
        clauses.append("r.shop_id = ?")
        params.append(shop_id)
    rows = store.execute(
        f"SELECT {_RUN_COLUMNS} FROM reconcile_run AS r JOIN shop AS s ON s.id = r.shop_id "
        f"WHERE {' AND '.join(clauses)} ORDER BY r.id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [_run(r) for r in rows]


def unfinished_run(
    store: Store,
    *,
    shop_id: int,
    kind: str,
    since: str,
    until: str | None,
    any_until: bool = False,
) -> RunRow | None:
    """The newest run of this period that never finished (running or stopped). With
    ``any_until`` a run asked "up to the cursor" matches whatever the cursor is now."""
    same_end = "1" if any_until else "r.until IS ?"
    row = store.execute(
        f"SELECT {_RUN_COLUMNS} FROM reconcile_run AS r JOIN shop AS s ON s.id = r.shop_id "
        f"WHERE r.shop_id = ? AND r.kind = ? AND r.since = ? AND {same_end} "
        "AND r.state IN ('running', 'stopped') ORDER BY r.id DESC LIMIT 1",
        (shop_id, kind, since) if any_until else (shop_id, kind, since, until),
    ).fetchone()
    return _run(row) if row else None


def take_over(store: Store, run: RunRow, owner: str) -> bool:
    """Resume an interrupted run as ``owner``: one guarded statement, so of two processes
    resuming the same run only one wins."""
    with store.atomic():
        cursor = store.execute(
            "UPDATE reconcile_run SET owner = ?, state = 'running', updated_at = ? "
            "WHERE id = ? AND owner = ? AND state IN ('running', 'stopped')",
            (owner, time.time(), run.id, run.owner),
        )
        return cursor.rowcount == 1


def save_progress(
    store: Store,
    run_id: int,
    owner: str,
    *,
    done: int,
    found: int,
    position: dict[str, Any] | None = None,
    total: int | None = None,
    method: str | None = None,
) -> bool:
    """Record how far the run got (inside the caller's transaction when it must commit with
    other writes, e.g. a backfill's enqueue); False if the run is no longer ours."""
    cursor = store.execute(
        "UPDATE reconcile_run SET done = ?, found = ?, position = COALESCE(?, position), "
        "total = COALESCE(?, total), method = COALESCE(?, method), updated_at = ? "
        "WHERE id = ? AND owner = ? AND state = 'running'",
        (
            done,
            found,
            json.dumps(position, sort_keys=True) if position is not None else None,
            total,
            method,
            time.time(),
            run_id,
            owner,
        ),
    )
    return cursor.rowcount == 1


def finish_run(store: Store, run_id: int, owner: str, state: str, message: str = "") -> bool:
    if state not in (DONE, FAILED, STOPPED):
        raise ValueError(f"a run finishes done, failed or stopped, not {state!r}")
    now = time.time()
    with store.atomic():
        cursor = store.execute(
            "UPDATE reconcile_run SET state = ?, message = ?, updated_at = ?, "
            "finished_at = CASE WHEN ? = 'stopped' THEN NULL ELSE ? END "
            "WHERE id = ? AND owner = ? AND state = 'running'",
            (state, redact(message), now, state, now, run_id, owner),
        )
        return cursor.rowcount == 1


# ---------------------------------------------------------------- findings


def add_findings(store: Store, run_id: int, findings: Iterable[NewFinding]) -> int:
    rows = [
        (
            run_id,
            f.kind,
            f.shopify_id,
            f.shopify_name,
            json.dumps(list(f.odoo_ids)),
            f.job_id,
            redact(f.summary),
            redact(json.dumps(f.detail, sort_keys=True, default=str)),
            time.time(),
        )
        for f in findings
    ]
    if not rows:
        return 0
    with store.atomic():
        store.db.cursor().executemany(
            "INSERT INTO finding (run_id, kind, shopify_id, shopify_name, odoo_ids, job_id, "
            "summary, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


def findings(
    store: Store,
    run_id: int,
    *,
    kind: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[FindingRow]:
    where = "run_id = ?"
    params: list[Any] = [run_id]
    if kind is not None:
        where += " AND kind = ?"
        params.append(kind)
    rows = store.execute(
        f"SELECT {_FINDING_COLUMNS} FROM finding WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    ).fetchall()
    return [_finding(r) for r in rows]


def finding_counts(store: Store, run_id: int) -> dict[str, int]:
    rows = store.execute(
        "SELECT kind, count(*) FROM finding WHERE run_id = ? GROUP BY kind", (run_id,)
    ).fetchall()
    return {kind: n for kind, n in rows}


# ---------------------------------------------------------------- what the audit looks up


def newest_jobs(store: Store, record_prefixes: Mapping[str, str]) -> dict[str, JobGlance]:
    """The newest job (by id) of each record: ``record_prefixes`` maps each record's key
    prefix (``shop:flow:source id:``) to its source id. The unique key index finds a record's
    versions by range without reading a row; only the newest of each is read."""
    newest: dict[str, int] = {}
    for prefix, job_id in jobs.by_range(store, jobs.KEYS_IN_RANGES, list(record_prefixes)):
        newest[prefix] = max(job_id, newest.get(prefix, 0))
    source_of = {job_id: record_prefixes[prefix] for prefix, job_id in newest.items()}
    found: dict[str, JobGlance] = {}
    ids = list(source_of)
    for start in range(0, len(ids), jobs.IN_CHUNK):
        query = Job.select(Job.id, Job.state, Job.cause_code, Job.cause, Job.result).where(
            Job.id.in_(ids[start : start + jobs.IN_CHUNK])
        )
        for job_id, state, code, cause, result in query.tuples().execute(store.db):
            missing = cause.get("missing") if isinstance(cause, dict) else None
            found[source_of[job_id]] = JobGlance(job_id, state, code, missing, result)
    return found


def cursor_position(store: Store, shop_id: int, stream: str) -> str | None:
    row = store.execute(
        "SELECT position FROM cursor WHERE shop_id = ? AND stream = ?", (shop_id, stream)
    ).fetchone()
    return row[0] if row else None


def linked_odoo_ids(store: Store, shop_id: int, kind: str, odoo_model: str) -> set[int]:
    """Every Odoo record of ``odoo_model`` this shop's ``kind`` links point at."""
    rows = store.execute(
        "SELECT odoo_id FROM link WHERE shop_id = ? AND kind = ? AND odoo_model = ?",
        (shop_id, kind, odoo_model),
    ).fetchall()
    return {int(r[0]) for r in rows}


def record_event(
    store: Store, *, shop_id: int, event: str, message: str, data: dict[str, Any]
) -> None:
    """A timeline entry for a run (started, finished), shown in the console's audit log."""
    with store.atomic():
        store.audit(system="console", event=event, shop_id=shop_id, message=message, data=data)
