"""Audit and backfill runs, and what audits found (issue 14): the statements behind them.

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

from peewee import SQL, Expression, fn

from shopodoo_console.redact import redact
from shopodoo_console.store import cursors, jobs
from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Finding, Job, Link, ReconcileRun, Shop

RUNNING, DONE, FAILED, STOPPED = "running", "done", "failed", "stopped"
UNFINISHED = (RUNNING, STOPPED)

_RUN_COLUMNS = (
    ReconcileRun.id,
    ReconcileRun.shop,
    Shop.domain,
    ReconcileRun.kind,
    ReconcileRun.since,
    ReconcileRun.until,
    ReconcileRun.state,
    ReconcileRun.owner,
    ReconcileRun.method,
    ReconcileRun.position,
    ReconcileRun.total,
    ReconcileRun.done,
    ReconcileRun.found,
    ReconcileRun.message,
    ReconcileRun.started_at,
    ReconcileRun.updated_at,
    ReconcileRun.finished_at,
)
_FINDING_COLUMNS = (
    Finding.id,
    Finding.run,
    Finding.kind,
    Finding.shopify_id,
    Finding.shopify_name,
    Finding.odoo_ids,
    Finding.job,
    Finding.summary,
    Finding.detail,
    Finding.created_at,
)
_FINDING_FIELDS = _FINDING_COLUMNS[1:]


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
    values[9] = values[9] or {}
    return RunRow(*values)


def _finding(row: Sequence[Any]) -> FindingRow:
    values = list(row)
    values[5] = tuple(values[5] or ())
    values[8] = values[8] or {}
    return FindingRow(*values)


def _runs() -> Any:
    return ReconcileRun.select(*_RUN_COLUMNS).join(Shop, on=(Shop.id == ReconcileRun.shop))


def _first_run(query: Any, store: Store) -> RunRow | None:
    row = next(iter(query.tuples().execute(store.db)), None)
    return _run(row) if row else None


def _ours(run_id: int, owner: str, states: Sequence[str] = (RUNNING,)) -> Expression:
    """The guard of every write to a run: still this run's owner's, in one of ``states``."""
    return (
        (ReconcileRun.id == run_id)
        & (ReconcileRun.owner == owner)
        & ReconcileRun.state.in_(list(states))
    )


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
        query = ReconcileRun.insert(
            {
                ReconcileRun.shop: shop_id,
                ReconcileRun.kind: kind,
                ReconcileRun.since: since,
                ReconcileRun.until: until,
                ReconcileRun.state: RUNNING,
                ReconcileRun.owner: owner,
                ReconcileRun.method: method,
                ReconcileRun.total: total,
                ReconcileRun.started_at: now,
                ReconcileRun.updated_at: now,
            }
        )
        return int(query.execute(store.db))


def get_run(store: Store, run_id: int) -> RunRow | None:
    return _first_run(_runs().where(ReconcileRun.id == run_id), store)


def runs(
    store: Store, *, kind: str | None = None, shop_id: int | None = None, limit: int = 20
) -> list[RunRow]:
    """Newest first."""
    query = _runs()
    if kind is not None:
        query = query.where(ReconcileRun.kind == kind)
    if shop_id is not None:
        query = query.where(ReconcileRun.shop == shop_id)
    query = query.order_by(ReconcileRun.id.desc()).limit(limit)
    return [_run(r) for r in query.tuples().execute(store.db)]


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
    query = _runs().where(
        (ReconcileRun.shop == shop_id)
        & (ReconcileRun.kind == kind)
        & (ReconcileRun.since == since)
        & ReconcileRun.state.in_(list(UNFINISHED))
    )
    if not any_until:
        same_end = ReconcileRun.until.is_null() if until is None else ReconcileRun.until == until
        query = query.where(same_end)
    return _first_run(query.order_by(ReconcileRun.id.desc()).limit(1), store)


def take_over(store: Store, run: RunRow, owner: str) -> bool:
    """Resume an interrupted run as ``owner``: one guarded statement, so of two processes
    resuming the same run only one wins."""
    query = ReconcileRun.update(
        {
            ReconcileRun.owner: owner,
            ReconcileRun.state: RUNNING,
            ReconcileRun.updated_at: time.time(),
        }
    ).where(_ours(run.id, run.owner, UNFINISHED))
    with store.atomic():
        return int(query.execute(store.db)) == 1


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
    values: dict[Any, Any] = {
        ReconcileRun.done: done,
        ReconcileRun.found: found,
        ReconcileRun.updated_at: time.time(),
    }
    for column, value in (
        (ReconcileRun.position, position),
        (ReconcileRun.total, total),
        (ReconcileRun.method, method),
    ):
        if value is not None:  # None keeps what the run has
            values[column] = value
    query = ReconcileRun.update(values).where(_ours(run_id, owner))
    return int(query.execute(store.db)) == 1


def finish_run(store: Store, run_id: int, owner: str, state: str, message: str = "") -> bool:
    if state not in (DONE, FAILED, STOPPED):
        raise ValueError(f"a run finishes done, failed or stopped, not {state!r}")
    now = time.time()
    query = ReconcileRun.update(
        {
            ReconcileRun.state: state,
            ReconcileRun.message: redact(message),
            ReconcileRun.updated_at: now,
            ReconcileRun.finished_at: None if state == STOPPED else now,
        }
    ).where(_ours(run_id, owner))
    with store.atomic():
        return int(query.execute(store.db)) == 1


# ---------------------------------------------------------------- findings


def add_findings(store: Store, run_id: int, findings: Iterable[NewFinding]) -> int:
    rows = [
        (
            run_id,
            f.kind,
            f.shopify_id,
            f.shopify_name,
            list(f.odoo_ids),
            f.job_id,
            redact(f.summary),
            json.loads(redact(json.dumps(f.detail, sort_keys=True, default=str))),
            time.time(),
        )
        for f in findings
    ]
    if not rows:
        return 0
    per_statement = jobs.PARAMS_LIMIT // len(_FINDING_FIELDS)
    with store.atomic():
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            Finding.insert_many(chunk, fields=_FINDING_FIELDS).as_rowcount().execute(store.db)
    return len(rows)


def findings(
    store: Store,
    run_id: int,
    *,
    kind: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[FindingRow]:
    query = Finding.select(*_FINDING_COLUMNS).where(Finding.run == run_id)
    if kind is not None:
        query = query.where(Finding.kind == kind)
    query = query.order_by(Finding.id).limit(limit).offset(offset)
    return [_finding(r) for r in query.tuples().execute(store.db)]


def finding_counts(store: Store, run_id: int) -> dict[str, int]:
    query = (
        Finding.select(Finding.kind, fn.COUNT(SQL("*")))
        .where(Finding.run == run_id)
        .group_by(Finding.kind)
    )
    return {kind: n for kind, n in query.tuples().execute(store.db)}


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
    return cursors.position(store, shop_id, stream)


def linked_odoo_ids(store: Store, shop_id: int, kind: str, odoo_model: str) -> set[int]:
    """Every Odoo record of ``odoo_model`` this shop's ``kind`` links point at."""
    query = Link.select(Link.odoo_id).where(
        (Link.shop == shop_id) & (Link.kind == kind) & (Link.odoo_model == odoo_model)
    )
    return {int(r[0]) for r in query.tuples().execute(store.db)}


def record_event(
    store: Store, *, shop_id: int, event: str, message: str, data: dict[str, Any]
) -> None:
    """A timeline entry for a run (started, finished), shown in the console's audit log."""
    with store.atomic():
        store.audit(system="console", event=event, shop_id=shop_id, message=message, data=data)
