"""The durable job queue: enqueue, claim, finish, operator actions (DESIGN §3, §5).

Read it like huey's ``SqliteStorage``: every state change is one short ``BEGIN IMMEDIATE``
transaction whose SQL is right here, guarded by ``WHERE state IN (...)`` (and, for a worker,
by its lease) so that two processes racing can never both win, and no illegal transition
(see :mod:`states`) can be written.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from shopodoo_console.causes import Cause
from shopodoo_console.engine import events as ev
from shopodoo_console.engine.flows import Change, JobView
from shopodoo_console.engine.keys import job_key
from shopodoo_console.engine.owners import owner_is_dead
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.engine.states import (
    OPERATOR_RETRYABLE,
    RUNNABLE,
    TRANSITIONS,
    WAITING,
    State,
    sources_of,
)
from shopodoo_console.redact import redact
from shopodoo_console.store.db import Store

_ROW_PARAMS_LIMIT = 32_000  # SQLite's bound-parameter limit is 32,766
_INSERT_COLUMNS = (
    "key",
    "shop_id",
    "flow",
    "source_id",
    "source_version",
    "label",
    "payload",
    "state",
    "priority",
    "next_run_at",
    "created_at",
    "last_seen_at",
    "updated_at",
)
_CLAIM_COLUMNS = (
    "id, key, shop_id, flow, source_id, source_version, label, payload, attempts, retries, "
    "intent, plan, approved_at"
)


PRUNABLE = (State.DONE, State.SKIPPED, State.SUPERSEDED)
PRUNE_CHUNK = 500


def _in(states: Iterable[State]) -> str:
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"


@dataclass(frozen=True)
class EnqueueResult:
    new: int
    seen: int
    superseded: int
    job_ids: tuple[int, ...]


class LeaseLost(Exception):
    """The job is no longer ours (lease expired and taken, or cancelled meanwhile)."""


class Queue:
    def __init__(
        self,
        store: Store,
        *,
        events: ev.EventBus | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.events = events or ev.EventBus()
        self.policy = policy or RetryPolicy()
        self.clock = clock

    # ------------------------------------------------------------------ enqueue

    def enqueue(
        self, shop_id: int, shop_key: str, flow: str, changes: Sequence[Change]
    ) -> EnqueueResult:
        """Insert new sightings, count repeats, supersede older waiting versions.

        One transaction per call (a poll page). A repeated key is not an error: the existing
        job's ``seen_count`` goes up, which the operator sees as "arrived N times".
        """
        if not changes:
            return EnqueueResult(0, 0, 0, ())
        now = self.clock()
        rows = [
            (
                job_key(shop_key, flow, c.source_id, c.version),
                shop_id,
                flow,
                c.source_id,
                c.version,
                c.label,
                json.dumps(c.payload, sort_keys=True),
                State.QUEUED.value,
                c.priority,
                max(now, c.not_before or 0.0),
                now,
                now,
                now,
            )
            for c in changes
        ]
        per_stmt = max(1, _ROW_PARAMS_LIMIT // len(_INSERT_COLUMNS))
        new_ids: list[int] = []
        all_ids: list[int] = []
        seen = 0
        with self.store.atomic():
            for start in range(0, len(rows), per_stmt):
                chunk = rows[start : start + per_stmt]
                placeholders = ", ".join(
                    ["(" + ", ".join("?" * len(_INSERT_COLUMNS)) + ")"] * len(chunk)
                )
                cursor = self.store.execute(
                    f"INSERT INTO job ({', '.join(_INSERT_COLUMNS)}) VALUES {placeholders} "
                    "ON CONFLICT(key) DO UPDATE SET seen_count = seen_count + 1, "
                    "last_seen_at = excluded.last_seen_at "
                    "RETURNING id, seen_count",
                    [v for row in chunk for v in row],
                )
                for job_id, seen_count in cursor.fetchall():
                    all_ids.append(job_id)
                    if seen_count == 1:
                        new_ids.append(job_id)
                    else:
                        seen += 1
            superseded = (
                self._supersede(shop_id, flow, {c.source_id for c in changes}, now)
                if new_ids
                else 0
            )
        result = EnqueueResult(len(new_ids), seen, superseded, tuple(all_ids))
        self.events.emit(
            ev.ENQUEUED,
            shop_id=shop_id,
            flow=flow,
            new=result.new,
            seen=result.seen,
            superseded=superseded,
        )
        return result

    def _supersede(self, shop_id: int, flow: str, source_ids: set[str], now: float) -> int:
        """Among waiting jobs of each record, keep the newest version; supersede the rest."""
        waiting: dict[str, list[tuple[str, int]]] = defaultdict(list)
        ids = sorted(source_ids)
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            cursor = self.store.execute(
                "SELECT id, source_id, source_version FROM job INDEXED BY job_record "
                "WHERE shop_id = ? AND flow = ? "
                f"AND state IN {_in(WAITING)} AND source_id IN ({', '.join('?' * len(part))})",
                [shop_id, flow, *part],
            )
            for job_id, source_id, version in cursor.fetchall():
                waiting[source_id].append((version, job_id))
        updates = []
        for versions in waiting.values():
            if len(versions) < 2:
                continue
            versions.sort()
            newest = versions[-1][1]
            updates.extend((newest, now, now, job_id) for _, job_id in versions[:-1])
        if updates:
            self.store.db.cursor().executemany(
                f"UPDATE job SET state = 'superseded', superseded_by = ?, updated_at = ?, "
                f"finished_at = ?, lease_owner = NULL WHERE id = ? "
                f"AND state IN {_in(sources_of(State.SUPERSEDED))}",
                updates,
            )
        return len(updates)

    # ------------------------------------------------------------------ claim

    def claim(
        self,
        owner: str,
        lease_seconds: float,
        *,
        flows: Sequence[str] | None = None,
        shop_ids: Sequence[int] | None = None,
    ) -> JobView | None:
        """Take the most urgent runnable job, atomically, with a lease; None when idle.

        One statement: the sub-select picks a runnable job whose record has no running job,
        the UPDATE marks it running. The partial unique index ``job_one_running`` makes a
        second running job per record impossible even if two claims race. ``shop_ids``
        limits it to configured shops: a removed shop's jobs wait, untouched, for its return.
        """
        if (flows is not None and not flows) or (shop_ids is not None and not shop_ids):
            return None
        where, params = "", []
        if flows is not None:
            where = f"AND j.flow IN ({', '.join('?' * len(flows))}) "
            params = list(flows)
        if shop_ids is not None:
            where += f"AND j.shop_id IN ({', '.join('?' * len(shop_ids))}) "
            params += list(shop_ids)
        jobs = self._claim(owner, lease_seconds, where, params, 1)
        return jobs[0] if jobs else None

    def claim_batch(
        self, owner: str, lease_seconds: float, *, flow: str, shop_id: int, limit: int
    ) -> list[JobView]:
        """Up to ``limit`` more runnable jobs of one flow and shop, for a batch handler
        (one Shopify ``nodes`` fetch and one Odoo lookup for many orders)."""
        if limit <= 0:
            return []
        where = "AND j.flow = ? AND j.shop_id = ? "
        try:
            return self._claim(owner, lease_seconds, where, [flow, shop_id], limit)
        except IntegrityError:
            # Two waiting versions of one record were picked together: take them one by one.
            jobs: list[JobView] = []
            while len(jobs) < limit:
                more = self._claim(owner, lease_seconds, where, [flow, shop_id], 1)
                if not more:
                    break
                jobs.extend(more)
            return jobs

    def _claim(
        self, owner: str, lease_seconds: float, where: str, params: list[Any], limit: int
    ) -> list[JobView]:
        now = self.clock()
        sql = (
            "UPDATE job SET state = 'running', lease_owner = ?, lease_expires_at = ?, "
            "started_at = ?, attempts = attempts + 1, updated_at = ? "
            "WHERE id IN (SELECT j.id FROM job AS j INDEXED BY job_runnable "
            f"WHERE j.state IN {_in(RUNNABLE)} AND j.next_run_at <= ? {where}"
            "AND NOT EXISTS (SELECT 1 FROM job AS r WHERE r.shop_id = j.shop_id "
            "AND r.flow = j.flow AND r.source_id = j.source_id AND r.state = 'running') "
            "ORDER BY j.priority DESC, j.next_run_at, j.id LIMIT ?) "
            f"RETURNING {_CLAIM_COLUMNS}"
        )
        with self.store.atomic():
            rows = self.store.execute(
                sql, [owner, now + lease_seconds, now, now, now, *params, limit]
            ).fetchall()
        jobs = sorted((_job_view(row) for row in rows), key=lambda j: j.id)
        for job in jobs:
            self.events.emit(
                ev.JOB_STATE,
                job_id=job.id,
                state=State.RUNNING.value,
                flow=job.flow,
                label=job.label,
                shop_id=job.shop_id,
            )
        return jobs

    def heartbeat(self, owner: str, job_ids: Sequence[int], lease_seconds: float) -> set[int]:
        """Extend our leases; returns the ids that are still ours."""
        if not job_ids:
            return set()
        now = self.clock()
        marks = ", ".join("?" * len(job_ids))
        with self.store.atomic():
            self.store.execute(
                f"UPDATE job SET lease_expires_at = ? WHERE id IN ({marks}) "
                "AND state = 'running' AND lease_owner = ?",
                [now + lease_seconds, *job_ids, owner],
            )
            rows = self.store.execute(
                f"SELECT id FROM job WHERE id IN ({marks}) AND state = 'running' "
                "AND lease_owner = ?",
                [*job_ids, owner],
            ).fetchall()
        return {r[0] for r in rows}

    def record_intent(self, job_id: int, owner: str, intent: dict[str, Any]) -> None:
        """Write the intent before a remote write (DESIGN §3.5); fails if the lease is gone."""
        now = self.clock()
        with self.store.atomic():
            cursor = self.store.execute(
                "UPDATE job SET intent = ?, updated_at = ? WHERE id = ? AND state = 'running' "
                "AND lease_owner = ?",
                (json.dumps(intent, sort_keys=True), now, job_id, owner),
            )
            if cursor.rowcount != 1:
                raise LeaseLost(f"job {job_id} is no longer held by {owner}")

    # ------------------------------------------------------------------ finish

    def finish_done(
        self, job_id: int, owner: str, message: str = "", result: dict[str, Any] | None = None
    ) -> bool:
        return self._finish(
            job_id, owner, State.DONE, outcome="done", message=message, result=result
        )

    def finish_skipped(
        self, job_id: int, owner: str, reason: str, cause: Cause | None = None
    ) -> bool:
        return self._finish(
            job_id, owner, State.SKIPPED, outcome="skipped", message=reason, cause=cause
        )

    def finish_awaiting_approval(
        self, job_id: int, owner: str, plan: dict[str, Any], summary: str = ""
    ) -> bool:
        return self._finish(
            job_id,
            owner,
            State.AWAITING_APPROVAL,
            outcome="awaiting_approval",
            message=summary,
            plan=plan,
        )

    def finish_failed(self, job_id: int, owner: str, cause: Cause) -> bool:
        """Record a failure; the retry policy decides retrying / needs_attention / failed."""
        with self.store.atomic():
            row = self.store.execute(
                "SELECT retries FROM job WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (job_id, owner),
            ).fetchone()
            if row is None:
                return False
            decision = self.policy.decide(cause, row[0])
            return self._finish(
                job_id,
                owner,
                decision.state,
                outcome="failed",
                message=cause.missing,
                cause=decision.cause,
                retries=decision.retries,
                delay=decision.delay,
                attempt_cause=cause,
            )

    def _finish(
        self,
        job_id: int,
        owner: str,
        state: State,
        *,
        outcome: str,
        message: str,
        cause: Cause | None = None,
        result: dict[str, Any] | None = None,
        plan: dict[str, Any] | None = None,
        retries: int | None = None,
        delay: float = 0.0,
        attempt_cause: Cause | None = None,
    ) -> bool:
        now = self.clock()
        message = redact(message)
        attempt_cause = attempt_cause or cause
        terminal = state in (State.DONE, State.SKIPPED)
        with self.store.atomic():
            inserted = self.store.execute(
                "INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome, "
                "cause_code, message) SELECT id, attempts, lease_owner, started_at, ?, ?, ?, ? "
                "FROM job WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (
                    now,
                    outcome,
                    attempt_cause.code if attempt_cause else None,
                    message,
                    job_id,
                    owner,
                ),
            ).rowcount
            if inserted != 1:
                return False
            self.store.execute(
                "UPDATE job SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
                "cause_code = ?, cause = ?, blocked_on = ?, result = ?, "
                "plan = COALESCE(?, plan), retries = COALESCE(?, retries), "
                "next_run_at = ?, updated_at = ?, finished_at = ? "
                "WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (
                    state.value,
                    cause.code if cause else None,
                    _cause_json(cause),
                    _blocked(cause),
                    message or (json.dumps(result, sort_keys=True) if result else None),
                    json.dumps(plan, sort_keys=True) if plan is not None else None,
                    retries,
                    now + delay,
                    now,
                    now if terminal else None,
                    job_id,
                    owner,
                ),
            )
        self.events.emit(
            ev.JOB_STATE, job_id=job_id, state=state.value, cause_code=cause.code if cause else None
        )
        return True

    # ------------------------------------------------------------------ housekeeping

    def expire_leases(self) -> int:
        """Return jobs whose worker died to the queue (bounded), with an audit entry each.

        A lease expires with time, or at once when its worker ran on this host and its
        process is gone (a restart after kill -9 resumes without waiting).
        """
        now = self.clock()
        count = 0
        owners = [
            r[0]
            for r in self.store.execute(
                "SELECT DISTINCT lease_owner FROM job WHERE state = 'running'"
            ).fetchall()
        ]
        dead = [o for o in owners if owner_is_dead(o)]
        marks = ", ".join("?" * len(dead)) or "NULL"
        with self.store.atomic():
            rows = self.store.execute(
                "SELECT id, shop_id, retries, lease_owner, label FROM job "
                f"WHERE state = 'running' AND (lease_expires_at < ? OR lease_owner IN ({marks}))",
                (now, *dead),
            ).fetchall()
            for job_id, shop_id, retries, worker, label in rows:
                cause = Cause(
                    code="engine.lease_expired",
                    missing=f"the worker {worker} stopped answering while it held the job",
                    record=label,
                    retry_note="the retry finds anything already created through links and "
                    "stamps before writing",
                )
                decision = self.policy.decide(cause, retries)
                # An expired lease goes back to the queue, not to a backoff wait.
                state = State.QUEUED if decision.state is State.RETRYING else decision.state
                self.store.execute(
                    "INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome, "
                    "cause_code, message) SELECT id, attempts, lease_owner, started_at, ?, "
                    "'lost', ?, ? FROM job WHERE id = ?",
                    (now, cause.code, cause.missing, job_id),
                )
                self.store.execute(
                    "UPDATE job SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
                    "retries = ?, cause_code = ?, cause = ?, next_run_at = ?, updated_at = ? "
                    "WHERE id = ? AND state = 'running' AND lease_owner IS ?",
                    (
                        state.value,
                        decision.retries,
                        decision.cause.code,
                        _cause_json(decision.cause),
                        now,
                        now,
                        job_id,
                        worker,
                    ),
                )
                self.store.audit(
                    system="console",
                    event="lease_expired",
                    job_id=job_id,
                    shop_id=shop_id,
                    message=f"Lease of worker {worker} expired; job returned to the queue "
                    f"({state.value})",
                    at=now,
                )
                count += 1
        for job_id, *_ in rows:
            self.events.emit(ev.LEASE_EXPIRED, job_id=job_id)
        return count

    def release(self, owner: str) -> int:
        """Give back every job ``owner`` still runs (clean shutdown), without counting a retry."""
        now = self.clock()
        with self.store.atomic():
            rows = self.store.execute(
                "SELECT id, shop_id FROM job WHERE state = 'running' AND lease_owner = ?", (owner,)
            ).fetchall()
            for job_id, shop_id in rows:
                self.store.execute(
                    "INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome, "
                    "message) SELECT id, attempts, lease_owner, started_at, ?, 'released', "
                    "'console shut down before the job finished' FROM job WHERE id = ?",
                    (now, job_id),
                )
                self.store.audit(
                    system="console",
                    event="released",
                    job_id=job_id,
                    shop_id=shop_id,
                    at=now,
                    message="Console shut down mid-job; job returned to the queue",
                )
            self.store.execute(
                "UPDATE job SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, "
                "next_run_at = ?, updated_at = ? WHERE state = 'running' AND lease_owner = ?",
                (now, now, owner),
            )
        return len(rows)

    def prune(self, older_than_seconds: float) -> int:
        """Delete finished jobs (and their attempts and audit) past the retention period."""
        cutoff = self.clock() - older_than_seconds
        deleted = 0
        while True:  # in chunks, so workers are never kept from the write lock for long
            with self.store.atomic():
                count = self.store.execute(
                    f"DELETE FROM job WHERE id IN (SELECT id FROM job WHERE state IN "
                    f"{_in(PRUNABLE)} AND finished_at < ? LIMIT {PRUNE_CHUNK})",
                    (cutoff,),
                ).rowcount
            deleted += count
            if count < PRUNE_CHUNK:
                return deleted

    # ------------------------------------------------------------------ operator actions

    def _operator_move(
        self,
        where: str,
        params: Sequence[Any],
        target: State,
        sources: Sequence[State],
        *,
        event: str,
        message: str,
        reason: str = "",
        reset_retries: bool = False,
        extra_set: str = "",
    ) -> list[int]:
        now = self.clock()
        assert all(target in TRANSITIONS[s] for s in sources), (sources, target)
        with self.store.atomic():
            rows = self.store.execute(
                f"SELECT id, shop_id FROM job WHERE ({where}) AND state IN {_in(sources)}", params
            ).fetchall()
            ids = [r[0] for r in rows]
            if not ids:
                return []
            finished = "?" if target in (State.CANCELLED, State.RESOLVED) else "NULL"
            for start in range(0, len(ids), 900):
                part = ids[start : start + 900]
                self.store.execute(
                    f"UPDATE job SET state = ?, next_run_at = ?, updated_at = ?, "
                    f"finished_at = {finished}, lease_owner = NULL"
                    f"{', retries = 0' if reset_retries else ''}{extra_set} "
                    f"WHERE id IN ({', '.join('?' * len(part))}) AND state IN {_in(sources)}",
                    [target.value, now, now, *([now] if finished == "?" else []), *part],
                )
            text = message + (f": {reason}" if reason else "")
            for job_id, shop_id in rows:
                self.store.audit(
                    system="operator",
                    event=event,
                    message=text,
                    job_id=job_id,
                    shop_id=shop_id,
                    at=now,
                    data={"reason": reason} if reason else {},
                )
        for job_id in ids:
            self.events.emit(ev.JOB_STATE, job_id=job_id, state=target.value)
        return ids

    def retry(self, job_ids: Sequence[int], *, reason: str = "") -> list[int]:
        """Queue jobs again now, with a fresh retry budget (the attempt history stays)."""
        marks = ", ".join("?" * len(job_ids)) or "NULL"
        return self._operator_move(
            f"id IN ({marks})",
            list(job_ids),
            State.QUEUED,
            OPERATOR_RETRYABLE,
            event="retry",
            message="Retried by the operator",
            reason=reason,
            reset_retries=True,
        )

    def retry_where(
        self,
        *,
        cause_code: str | None = None,
        shop_id: int | None = None,
        states: Sequence[State] = OPERATOR_RETRYABLE,
    ) -> list[int]:
        """Bulk retry: every job in ``states`` with this cause (and shop)."""
        clauses = [f"state IN {_in(states)}"]
        params: list[Any] = []
        if cause_code:
            clauses.append("cause_code = ?")
            params.append(cause_code)
        if shop_id is not None:
            clauses.append("shop_id = ?")
            params.append(shop_id)
        return self._operator_move(
            " AND ".join(clauses),
            params,
            State.QUEUED,
            OPERATOR_RETRYABLE,
            event="retry",
            message=f"Retried by the operator (all with cause {cause_code or 'any'})",
            reset_retries=True,
        )

    def cancel(self, job_ids: Sequence[int], *, reason: str) -> list[int]:
        return self._close(job_ids, State.CANCELLED, "cancel", "Cancelled", reason)

    def resolve(self, job_ids: Sequence[int], *, reason: str) -> list[int]:
        """Mark as handled by hand ("fixed directly in Odoo"), with the reason kept."""
        return self._close(job_ids, State.RESOLVED, "resolve", "Resolved", reason)

    def _close(
        self, job_ids: Sequence[int], target: State, event: str, done: str, reason: str
    ) -> list[int]:
        """An operator ends jobs for good; the reason is required and goes in the timeline."""
        if not reason.strip():
            verb = "cancelling" if target is State.CANCELLED else "resolving"
            raise ValueError(f"{verb} needs a reason (it goes in the job's timeline)")
        marks = ", ".join("?" * len(job_ids)) or "NULL"
        return self._operator_move(
            f"id IN ({marks})",
            list(job_ids),
            target,
            sources_of(target),
            event=event,
            message=f"{done} by the operator",
            reason=reason,
        )

    def approve(self, job_ids: Sequence[int]) -> list[int]:
        """Review mode: run the plan shown (the handler re-checks it against fresh data)."""
        marks = ", ".join("?" * len(job_ids)) or "NULL"
        return self._operator_move(
            f"id IN ({marks})",
            list(job_ids),
            State.QUEUED,
            (State.AWAITING_APPROVAL,),
            event="approve",
            message="Plan approved by the operator",
            extra_set=f", approved_at = {self.clock()!r}",
        )

    def requeue_blocked(self, shop_id: int, mapping_key: str) -> list[int]:
        """Queue every job waiting on ``mapping_key`` (called when that mapping is saved)."""
        return self._operator_move(
            "state = 'needs_attention' AND shop_id = ? AND instr(blocked_on, ?) > 0",
            [shop_id, f"|{mapping_key}|"],
            State.QUEUED,
            (State.NEEDS_ATTENTION,),
            event="requeue",
            message=f"Mapping {mapping_key} saved; job queued again",
            reset_retries=True,
        )

    # ------------------------------------------------------------------ reads

    def counts_by_state(self, shop_id: int | None = None) -> dict[str, int]:
        where, params = ("WHERE shop_id = ?", [shop_id]) if shop_id is not None else ("", [])
        rows = self.store.execute(
            f"SELECT state, count(*) FROM job {where} GROUP BY state", params
        ).fetchall()
        return {state: n for state, n in rows}

    def problem_count(self) -> int:
        row = self.store.execute(
            "SELECT count(*) FROM job WHERE state IN ('needs_attention', 'failed')"
        ).fetchone()
        return int(row[0])

    def next_held_back(self) -> float | None:
        """When the earliest job held back by its change (``Change.not_before``: a version
        that may still change within its second) becomes due; ``None`` if none waits."""
        row = self.store.execute(
            "SELECT min(next_run_at) FROM job WHERE state = 'queued' AND attempts = 0 "
            "AND next_run_at > ?",
            (self.clock() - 1.0,),  # one just due counts too: the caller claims it next
        ).fetchone()
        return row[0] if row else None

    def next_due(self) -> float | None:
        """When the earliest runnable job becomes due (for the dispatcher's sleep)."""
        row = self.store.execute(
            f"SELECT min(next_run_at) FROM job WHERE state IN {_in(RUNNABLE)}"
        ).fetchone()
        return row[0] if row else None


def _cause_json(cause: Cause | None) -> str | None:
    if cause is None:
        return None
    return redact(json.dumps(cause.to_dict(), sort_keys=True))


def _blocked(cause: Cause | None) -> str | None:
    if cause is None or not cause.blocked_on:
        return None
    return "|" + "|".join(cause.blocked_on) + "|"


def _job_view(row: Sequence[Any]) -> JobView:
    (
        job_id,
        key,
        shop_id,
        flow,
        source_id,
        version,
        label,
        payload,
        attempts,
        retries,
        intent,
        plan,
        approved_at,
    ) = row
    return JobView(
        id=job_id,
        key=key,
        shop_id=shop_id,
        flow=flow,
        source_id=source_id,
        source_version=version,
        label=label,
        payload=json.loads(payload or "{}"),
        attempts=attempts,
        retries=retries,
        intent=json.loads(intent) if intent else None,
        plan=json.loads(plan) if plan else None,
        approved=approved_at is not None,
    )
