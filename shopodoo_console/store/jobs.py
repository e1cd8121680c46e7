"""Statements about jobs and their attempts: enqueue, claim, fence, finish, operator moves.

Read it like huey's ``SqliteStorage``: each operation is one short statement (or two in one
transaction), guarded by ``state IN (...)`` and, for a claimed job, by its fencing token
(``id`` *and* ``attempts``, :data:`fence`), so that two processes racing can never both win
and a stale execution can never touch a newer claim. Which state a job should go to, and
why, is the engine's business (:mod:`engine.queue`); this module only says it to the
database. The hot statements (a poll page, a claimed batch, a finished batch) are compiled
once (:mod:`compiled`); the rest are built per call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

from peewee import EXCLUDED, SQL, Expression, Select, ValuesList, fn

from shopodoo_console.store.compiled import Statement, param
from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Attempt, Job, in_states
from shopodoo_console.store.sqlite import IndexedBy
from shopodoo_console.store.states import ATTENTION, PRUNABLE, RUNNABLE, WAITING, State

PARAMS_LIMIT = 32_000  # SQLite's bound-parameter limit is 32,766
IN_CHUNK = 900

# ---------------------------------------------------------------- enqueue

ENQUEUE_FIELDS = (
    Job.key,
    Job.shop,
    Job.flow,
    Job.source_id,
    Job.source_version,
    Job.label,
    Job.payload,
    Job.state,
    Job.priority,
    Job.attempts,
    Job.retries,
    Job.seen_count,
    Job.next_run_at,
    Job.created_at,
    Job.last_seen_at,
    Job.updated_at,
)


def _enqueue(rows: int) -> Any:
    width = len(ENQUEUE_FIELDS)
    values = [[param(r * width + c) for c in range(width)] for r in range(rows)]
    return (
        Job.insert_many(values, fields=ENQUEUE_FIELDS)
        .on_conflict(
            conflict_target=[Job.key],
            update={
                Job.seen_count: Job.seen_count + SQL("1"),
                Job.last_seen_at: EXCLUDED.last_seen_at,
            },
        )
        .returning(Job.id, Job.seen_count, Job.source_id)
    )


ENQUEUE = Statement(_enqueue)


def insert_sightings(store: Store, rows: Sequence[tuple[Any, ...]]) -> list[tuple[int, int, str]]:
    """Insert new jobs, or count a repeat on the existing one (same key): ``(id, seen_count,
    source_id)`` per row. ``rows`` follow :data:`ENQUEUE_FIELDS`; the caller's transaction."""
    width = len(ENQUEUE_FIELDS)
    per_statement = max(1, PARAMS_LIMIT // width)
    out: list[tuple[int, int, str]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        flat = list(chain.from_iterable(chunk))
        out.extend(ENQUEUE.run(store.db, flat, len(chunk)).fetchall())
    return out


def _ranges(records: int) -> Any:
    """``WITH r(low, high) AS (VALUES ...)``: one key range per record of a page."""
    return ValuesList([[param(2 * i), param(2 * i + 1)] for i in range(records)]).cte(
        "r", columns=("low", "high")
    )


def _keys_in_ranges(records: int) -> Any:
    # Every key of one record starts with the same prefix ("shop:flow:source id:"), so the
    # unique key index finds a record's versions by range — without reading a row.
    ranges = _ranges(records)
    return (
        Select((ranges,), ())
        .join(Job, on=(Job.key >= ranges.c.low) & (Job.key < ranges.c.high))
        .select(ranges.c.low, Job.id)
        .with_cte(ranges)
    )


def _waiting_versions(records: int) -> Any:
    ranges = _ranges(records)
    return (
        Select((ranges,), ())
        .join(Job, on=(Job.key >= ranges.c.low) & (Job.key < ranges.c.high))
        .where(in_states(Job.state, WAITING))
        .select(Job.id, Job.source_id, Job.source_version)
        .with_cte(ranges)
    )


KEYS_IN_RANGES = Statement(_keys_in_ranges)
WAITING_VERSIONS = Statement(_waiting_versions)


def by_range(
    store: Store, statement: Statement, key_prefixes: Sequence[str]
) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(key_prefixes), IN_CHUNK):
        part = list(key_prefixes[start : start + IN_CHUNK])
        shape = 1 << (len(part) - 1).bit_length()  # padded: few shapes to compile
        part += part[-1:] * (shape - len(part))
        values: list[str] = []
        for prefix in part:
            values += (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1))
        rows.extend(statement.run(store.db, values, shape).fetchall())
    return rows


def waiting_versions(store: Store, key_prefixes: Sequence[str]) -> list[tuple[int, str, str]]:
    """``(id, source_id, version)`` of every waiting job whose key starts with one of
    ``key_prefixes`` (each a record's ``shop:flow:source id:``) — looked at only for records
    that have more than one job at all (a probe of the key index tells, reading no row)."""
    jobs_of: dict[str, set[int]] = {}
    for prefix, job_id in by_range(store, KEYS_IN_RANGES, key_prefixes):
        jobs_of.setdefault(prefix, set()).add(job_id)
    several = [prefix for prefix, ids in jobs_of.items() if len(ids) > 1]
    if not several:
        return []
    found = {row[0]: row for row in by_range(store, WAITING_VERSIONS, several)}
    return list(found.values())


SUPERSEDE = Statement(
    lambda: Job.update(
        {
            Job.state: param("state"),
            Job.superseded_by: param("newest"),
            Job.updated_at: param("now"),
            Job.finished_at: param("now"),
            Job.lease_owner: None,
        }
    ).where((Job.id == param("id")) & in_states(Job.state, WAITING)),
    name="supersede",
)


def supersede(store: Store, older: Sequence[tuple[int, int]], now: float) -> int:
    """Mark each ``(older id, newest id)`` superseded if it still waits; return how many."""
    values: dict[str, Any] = {"state": State.SUPERSEDED.value, "now": now}
    count = 0
    for job_id, newest in older:
        values.update(id=job_id, newest=newest)
        count += SUPERSEDE.run(store.db, values).rowcount
    return count


# ---------------------------------------------------------------- claim

CLAIM_COLUMNS = (
    Job.id,
    Job.key,
    Job.shop,
    Job.flow,
    Job.source_id,
    Job.source_version,
    Job.label,
    Job.payload,
    Job.attempts,
    Job.retries,
    Job.intent,
    Job.plan,
    Job.approved_at,
    Job.lease_owner,
    Job.retry_counts,
    Job.retrying_since,
)


def _runnable(j: Any, flows: int | None, shops: int | None, one_source: bool) -> Any:
    """Runnable, due jobs whose record has no running job, in claim order (the partial
    ``job_runnable`` index, walked in order: no sort)."""
    r = Job.alias("r")
    busy = r.select(SQL("1")).where(
        (r.shop == j.shop)
        & (r.flow == j.flow)
        & (r.source_id == j.source_id)
        & in_states(r.state, (State.RUNNING,))
    )
    where: Expression = in_states(j.state, RUNNABLE) & (j.next_run_at <= param("now"))
    if one_source:
        where &= (j.flow == param("flow")) & (j.shop == param("shop"))
    if flows is not None:
        where &= j.flow.in_([param(("flow", i)) for i in range(flows)])
    if shops is not None:
        where &= j.shop.in_([param(("shop", i)) for i in range(shops)])
    return (
        j.select(j.id)
        .from_(IndexedBy(j, "job_runnable"))
        .where(where & ~fn.EXISTS(busy))
        .order_by(j.priority.desc(), j.next_run_at, j.id)
    )


def _next(flows: int | None, shops: int | None) -> Any:
    j = Job.alias("j")
    return _runnable(j, flows, shops, False).select(j.flow, j.shop).limit(1)


def _claim(flows: int | None, shops: int | None, one_source: bool) -> Any:
    """Mark the picked jobs running with a fresh token (``attempts + 1``). The partial
    unique index ``job_one_running`` makes a second running job per record impossible even
    if two claims race."""
    pick = _runnable(Job.alias("j"), flows, shops, one_source).limit(param("limit"))
    return (
        Job.update(
            {
                Job.state: param("running"),
                Job.lease_owner: param("owner"),
                Job.lease_expires_at: param("until"),
                Job.started_at: param("now"),
                Job.attempts: Job.attempts + SQL("1"),
                Job.updated_at: param("now"),
            }
        )
        .where(Job.id.in_(pick))
        .returning(*CLAIM_COLUMNS)
    )


NEXT = Statement(_next)
CLAIM = Statement(_claim)


def _which(
    flows: Sequence[str] | None, shop_ids: Sequence[int] | None, values: dict[Any, Any]
) -> tuple[int | None, int | None]:
    for i, name in enumerate(flows or ()):
        values[("flow", i)] = name
    for i, sid in enumerate(shop_ids or ()):
        values[("shop", i)] = sid
    return (None if flows is None else len(flows), None if shop_ids is None else len(shop_ids))


def next_runnable(
    store: Store,
    now: float,
    *,
    flows: Sequence[str] | None = None,
    shop_ids: Sequence[int] | None = None,
) -> tuple[str, int] | None:
    """``(flow, shop_id)`` of the most urgent runnable job, if any."""
    values: dict[Any, Any] = {"now": now}
    shape = _which(flows, shop_ids, values)
    row = NEXT.run(store.db, values, *shape).fetchone()
    return (row[0], row[1]) if row else None


def claim(
    store: Store,
    *,
    owner: str,
    now: float,
    until: float,
    limit: int,
    flows: Sequence[str] | None = None,
    shop_ids: Sequence[int] | None = None,
    flow: str | None = None,
    shop_id: int | None = None,
) -> list[tuple[Any, ...]]:
    """Claim up to ``limit`` runnable jobs (rows of :data:`CLAIM_COLUMNS`); the caller's
    transaction. ``flow`` and ``shop_id`` together: only that flow of that shop."""
    values: dict[Any, Any] = {
        "running": State.RUNNING.value,
        "owner": owner,
        "until": until,
        "now": now,
        "limit": limit,
        "flow": flow,
        "shop": shop_id,
    }
    shape = (*_which(flows, shop_ids, values), flow is not None)
    rows: list[tuple[Any, ...]] = CLAIM.run(store.db, values, *shape).fetchall()
    return rows


# ---------------------------------------------------------------- fenced statements


def fence(model: Any = Job) -> Expression:
    """The guard of every statement about a claimed job: its id, its token, still running."""
    return (
        (model.id == param("id"))
        & (model.attempts == param("token"))
        & in_states(model.state, (State.RUNNING,))
    )


HEARTBEAT = Statement(
    lambda: Job.update({Job.lease_expires_at: param("until")}).where(fence()), name="heartbeat"
)
INTENT = Statement(
    lambda: Job.update({Job.intent: param("intent"), Job.updated_at: param("now")}).where(fence()),
    name="intent",
)
RETRY_STATE = Statement(
    lambda: Job.select(Job.retry_counts, Job.retrying_since).where(fence()), name="retry_state"
)


def heartbeat(store: Store, claims: Iterable[tuple[int, int]], until: float) -> set[int]:
    """Extend the lease of each current ``(job id, token)``; return the ids extended."""
    alive = set()
    for job_id, token in claims:
        if HEARTBEAT.run(store.db, {"until": until, "id": job_id, "token": token}).rowcount:
            alive.add(job_id)
    return alive


def set_intent(store: Store, job_id: int, token: int, intent: str, now: float) -> bool:
    values = {"intent": intent, "now": now, "id": job_id, "token": token}
    return INTENT.run(store.db, values).rowcount == 1


def retry_state(
    store: Store, job_id: int, token: int
) -> tuple[dict[str, int], float | None] | None:
    """The retries a current claim's job has spent per budget, and since when; None if the
    claim is stale."""
    row = RETRY_STATE.run(store.db, {"id": job_id, "token": token}).fetchone()
    return (json.loads(row[0]) if row[0] else {}, row[1]) if row else None


class Ending(NamedTuple):
    """One claimed job's end of attempt, as written: the attempt row and the job's new state.

    ``None`` for ``plan``, ``retries``, ``retry_counts`` and ``retrying_since`` keeps the
    job's current value; every other field is written as given. (A named tuple: a batch's
    parameters are sliced straight out of it.)
    """

    job_id: int
    token: int
    outcome: str  # the attempt's outcome: done, skipped, failed, lost, released...
    message: str
    attempt_cause: str | None
    state: str
    cause_code: str | None
    cause: str | None  # JSON
    blocked_on: str | None
    result: str | None
    plan: str | None  # JSON
    retries: int | None
    retry_counts: str | None  # JSON
    retrying_since: float | None
    next_run_at: float
    finished_at: float | None


ATTEMPT_VALUES = ("id", "token", "outcome", "message", "attempt_cause")  # Ending[0:5]
JOB_VALUES = (  # Ending[0:2] + Ending[5:]
    "id",
    "token",
    "state",
    "cause_code",
    "cause",
    "blocked_on",
    "result",
    "plan",
    "retries",
    "retry_counts",
    "retrying_since",
    "next_run_at",
    "finished_at",
)


def _values(names: Sequence[str], rows: int) -> Any:
    """``WITH v(names...) AS (VALUES ...)``, its placeholders numbered row by row: the
    statement then binds a flat list, with ``now`` (numbered last) at its end."""
    width = len(names)
    rows_of_params = [[param(i * width + c) for c in range(width)] for i in range(rows)]
    return ValuesList(rows_of_params).cte("v", columns=names)


def _record_attempts(rows: int) -> Any:
    """An attempt row for every ending whose claim is current; returns their job ids."""
    v = _values(ATTEMPT_VALUES, rows)
    current = (
        Select((v,), ())
        .join(Job, on=(Job.id == v.c.id) & (Job.attempts == v.c.token))
        .where(in_states(Job.state, (State.RUNNING,)))
        .select(
            Job.id,
            Job.attempts,
            fn.COALESCE(Job.lease_owner, SQL("''")),
            Job.started_at,
            param(rows * len(ATTEMPT_VALUES)),  # now
            v.c.outcome,
            v.c.attempt_cause,
            v.c.message,
        )
    )
    fields = [
        Attempt.job,
        Attempt.number,
        Attempt.worker,
        Attempt.started_at,
        Attempt.ended_at,
        Attempt.outcome,
        Attempt.cause_code,
        Attempt.message,
    ]
    return Attempt.insert_from(current, fields).with_cte(v).returning(Attempt.job)


def _end_jobs(rows: int) -> Any:
    v = _values(JOB_VALUES, rows)
    return (
        Job.update(
            {
                Job.state: v.c.state,
                Job.lease_owner: SQL("NULL"),
                Job.lease_expires_at: SQL("NULL"),
                Job.cause_code: v.c.cause_code,
                Job.cause: v.c.cause,
                Job.blocked_on: v.c.blocked_on,
                Job.result: v.c.result,
                Job.plan: fn.COALESCE(v.c.plan, Job.plan),
                Job.retries: fn.COALESCE(v.c.retries, Job.retries),
                Job.retry_counts: fn.COALESCE(v.c.retry_counts, Job.retry_counts),
                Job.retrying_since: fn.COALESCE(v.c.retrying_since, Job.retrying_since),
                Job.next_run_at: v.c.next_run_at,
                Job.updated_at: param(rows * len(JOB_VALUES)),  # now
                Job.finished_at: v.c.finished_at,
            }
        )
        .from_(v)
        .where(
            (Job.id == v.c.id)
            & (Job.attempts == v.c.token)
            & in_states(Job.state, (State.RUNNING,))
        )
        .with_cte(v)
    )


RECORD_ATTEMPTS = Statement(_record_attempts)
END_JOBS = Statement(_end_jobs)
BATCH = 32  # endings per statement pair (a flow's batch fits in one)


def end_attempts(store: Store, endings: Sequence[Ending], now: float) -> set[int]:
    """Write the endings whose claim is still current — the attempt row, then the job's new
    state — and return their job ids (the others were stale: nothing is written for them).
    The caller's transaction."""
    recorded: set[int] = set()
    for start in range(0, len(endings), BATCH):
        part = endings[start : start + BATCH]
        attempts: list[Any] = []
        jobs: list[Any] = []
        for e in part:
            attempts += e[:5]
            jobs += e[:2]
            jobs += e[5:]
        attempts.append(now)
        jobs.append(now)
        ids = {row[0] for row in RECORD_ATTEMPTS.run(store.db, attempts, len(part)).fetchall()}
        if ids:
            END_JOBS.run(store.db, jobs, len(part))
        recorded |= ids
    return recorded


# ---------------------------------------------------------------- housekeeping


def running_owners(store: Store) -> list[str]:
    query = (
        Job.select(Job.lease_owner)
        .distinct()
        .where(in_states(Job.state, (State.RUNNING,)) & Job.lease_owner.is_null(False))
    )
    return [row[0] for row in query.tuples().execute(store.db)]


def expired(store: Store, now: float, dead_owners: Sequence[str]) -> list[tuple[Any, ...]]:
    """Running jobs whose lease ran out, or whose worker is known dead: ``(id, token,
    shop_id, owner, label, retry_counts (a dict or None), retrying_since)``."""
    lapsed = Job.lease_expires_at < now
    if dead_owners:
        lapsed |= Job.lease_owner.in_(list(dead_owners))
    query = Job.select(
        Job.id,
        Job.attempts,
        Job.shop,
        Job.lease_owner,
        Job.label,
        Job.retry_counts,
        Job.retrying_since,
    ).where(in_states(Job.state, (State.RUNNING,)) & lapsed)
    return list(query.tuples().execute(store.db))


def job_state(store: Store, job_id: int) -> tuple[int, str, int] | None:
    """``(shop_id, state, attempts)`` of a job."""
    row = (
        Job.select(Job.shop, Job.state, Job.attempts)
        .where(Job.id == job_id)
        .tuples()
        .execute(store.db)
    )
    return next(iter(row), None)


def prune(store: Store, cutoff: float, chunk: int) -> int:
    """Delete up to ``chunk`` finished jobs older than ``cutoff`` (attempts and audit go with
    them, by cascade); return how many."""
    old = (
        Job.select(Job.id)
        .where(in_states(Job.state, PRUNABLE) & (Job.finished_at < cutoff))
        .limit(chunk)
    )
    return int(Job.delete().where(Job.id.in_(old)).execute(store.db))


# ---------------------------------------------------------------- operator moves


@dataclass(frozen=True)
class Selection:
    """Which jobs an operator action is about (any combination narrows it)."""

    ids: Sequence[int] | None = None
    cause_code: str | None = None
    shop_id: int | None = None
    blocked_on: str | None = None  # a mapping key such as "product:MUG-RED"
    states: Sequence[State] | None = None

    def where(self) -> Any:
        clause: Any = SQL("1 = 1")
        if self.ids is not None:
            clause &= Job.id.in_(list(self.ids))
        if self.cause_code:
            clause &= Job.cause_code == self.cause_code
        if self.shop_id is not None:
            clause &= Job.shop == self.shop_id
        if self.blocked_on is not None:
            clause &= fn.instr(Job.blocked_on, f"|{self.blocked_on}|") > 0
        if self.states is not None:
            clause &= in_states(Job.state, self.states)
        return clause


def selected(store: Store, selection: Selection, sources: Sequence[State]) -> list[tuple[int, int]]:
    """``(id, shop_id)`` of the selected jobs that are in one of ``sources``."""
    if selection.ids is not None and not selection.ids:
        return []
    rows: list[tuple[int, int]] = []
    ids = list(selection.ids) if selection.ids is not None else [None]
    for start in range(0, len(ids), IN_CHUNK):
        part = (
            selection
            if selection.ids is None
            else _with_ids(selection, ids[start : start + IN_CHUNK])
        )
        query = Job.select(Job.id, Job.shop).where(part.where() & in_states(Job.state, sources))
        rows.extend(query.tuples().execute(store.db))
    return rows


def _with_ids(selection: Selection, ids: Sequence[Any]) -> Selection:
    return Selection(
        ids=ids,
        cause_code=selection.cause_code,
        shop_id=selection.shop_id,
        blocked_on=selection.blocked_on,
        states=selection.states,
    )


def move(
    store: Store,
    ids: Sequence[int],
    *,
    target: State,
    sources: Sequence[State],
    now: float,
    finished: bool,
    reset_retries: bool = False,
    approved_at: float | None = None,
) -> None:
    """Move jobs (still in ``sources``) to ``target``; the caller's transaction."""
    values: dict[Any, Any] = {
        Job.state: target.value,
        Job.next_run_at: now,
        Job.updated_at: now,
        Job.finished_at: now if finished else None,
        Job.lease_owner: None,
    }
    if reset_retries:
        values.update({Job.retries: 0, Job.retry_counts: None, Job.retrying_since: None})
    if approved_at is not None:
        values[Job.approved_at] = approved_at
    for start in range(0, len(ids), IN_CHUNK):
        part = list(ids[start : start + IN_CHUNK])
        Job.update(values).where(Job.id.in_(part) & in_states(Job.state, sources)).execute(store.db)


# ---------------------------------------------------------------- counts


def counts_by_state(store: Store, shop_id: int | None = None) -> dict[str, int]:
    query = Job.select(Job.state, fn.COUNT(SQL("*"))).group_by(Job.state)
    if shop_id is not None:
        query = query.where(Job.shop == shop_id)
    return {state: n for state, n in query.tuples().execute(store.db)}


def attention_count(store: Store) -> int:
    """Jobs waiting for a person (needs_attention, failed)."""
    query = Job.select(fn.COUNT(SQL("*"))).where(
        Job.cause_code.is_null(False) & in_states(Job.state, ATTENTION)
    )
    return int(query.scalar(store.db) or 0)


NEXT_DUE = Statement(
    lambda: (
        Job.select(Job.next_run_at)
        .from_(IndexedBy(Job, "job_runnable"))
        .where(in_states(Job.state, RUNNABLE))
        .order_by(Job.priority.desc(), Job.next_run_at)
        .limit(1)
    ),
    name="next_due",
)


def next_due(store: Store) -> float | None:
    """When the next runnable job in claim order falls due: the first entry of the
    ``job_runnable`` index (one seek). With several priorities a lower one may fall due
    sooner; the dispatcher looks again within a second anyway."""
    row = NEXT_DUE.run(store.db).fetchone()
    return row[0] if row else None


def next_held_back(store: Store, after: float) -> float | None:
    """When the earliest never-tried queued job due after ``after`` falls due: a job held back
    by its change (``Change.not_before``) while its version may still change."""
    query = Job.select(fn.MIN(Job.next_run_at)).where(
        (Job.state == State.QUEUED.value) & (Job.attempts == 0) & (Job.next_run_at > after)
    )
    value = query.scalar(store.db)
    return float(value) if value is not None else None
