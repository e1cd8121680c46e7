"""The durable job queue: enqueue, claim, finish, operator actions (DESIGN §3, §5).

Read it like huey's ``SqliteStorage``: every state change is one short ``BEGIN IMMEDIATE``
transaction whose SQL is right here, guarded by ``WHERE state IN (...)`` (and, for a worker,
by its lease) so that two processes racing can never both win, and no illegal transition
(see :mod:`states`) can be written.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from shopodoo_console.causes import Cause
from shopodoo_console.engine import events as ev
from shopodoo_console.engine.flows import Change, Claim, JobView
from shopodoo_console.engine.keys import job_key
from shopodoo_console.engine.owners import owner_is_dead
from shopodoo_console.engine.retry import Decision, RetryPolicy, RetryState
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
    "intent, plan, approved_at, lease_owner, retry_counts, retrying_since"
)
# Every statement about a claimed job matches its id and this claim's token (DESIGN §3.5).
_FENCE = "id = ? AND attempts = ? AND state = 'running'"


PRUNABLE = (State.DONE, State.SKIPPED, State.SUPERSEDED)
_RESET_BUDGETS = ", retries = 0, retry_counts = NULL, retrying_since = NULL"
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
    """The claim is no longer current (lease expired and taken, or released meanwhile)."""


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
        self._held: dict[int, Claim] = {}
        self._held_lock = threading.Lock()

    # ------------------------------------------------------------------ claims in flight

    def held(self) -> list[Claim]:
        """Claims this process took and has not finished, released or lost: its in-flight
        jobs, which :meth:`expire_leases` never expires and heartbeats keep alive."""
        with self._held_lock:
            return list(self._held.values())

    def forget(self, claims: Iterable[Claim]) -> None:
        """Stop holding ``claims`` (their handler is over): if they could not be finished
        nor released, their lease runs out and expiry returns them to the queue."""
        with self._held_lock:
            for claim in claims:
                if self._held.get(claim.job_id) == claim:
                    del self._held[claim.job_id]

    def _hold(self, jobs: Iterable[JobView]) -> None:
        with self._held_lock:
            for job in jobs:
                self._held[job.id] = job.claim

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

    def claim_next(
        self,
        owner: str,
        lease_seconds: float,
        *,
        flows: Sequence[str],
        shop_ids: Sequence[int] | None,
        batch_size: Callable[[str], int],
    ) -> list[JobView]:
        """The most urgent runnable job and, in the same transaction, up to its flow's batch
        size more of the same flow and shop (one fetch and one lookup for all of them)."""
        with self.store.atomic():
            first = self.claim(owner, lease_seconds, flows=flows, shop_ids=shop_ids)
            if first is None:
                return []
            more = self.claim_batch(
                owner,
                lease_seconds,
                flow=first.flow,
                shop_id=first.shop_id,
                limit=batch_size(first.flow) - 1,
            )
        return [first, *more]

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
        self._hold(jobs)
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

    def heartbeat(self, claims: Sequence[Claim], lease_seconds: float) -> set[int]:
        """Extend the leases of ``claims``; returns the job ids whose claim is still current.

        A claim missing from the answer was lost (expired and taken, or released): this
        process no longer holds it, and its handler's result will be discarded.
        """
        if not claims:
            return set()
        now = self.clock()
        alive: set[int] = set()
        with self.store.atomic():
            for claim in claims:
                updated = self.store.execute(
                    f"UPDATE job SET lease_expires_at = ? WHERE {_FENCE}",
                    (now + lease_seconds, claim.job_id, claim.token),
                ).rowcount
                if updated == 1:
                    alive.add(claim.job_id)
        self.forget(c for c in claims if c.job_id not in alive)
        return alive

    def record_intent(self, claim: Claim, intent: dict[str, Any]) -> None:
        """Write the intent before a remote write (DESIGN §3.5); fails if the claim is stale."""
        now = self.clock()
        with self.store.atomic():
            cursor = self.store.execute(
                f"UPDATE job SET intent = ?, updated_at = ? WHERE {_FENCE}",
                (json.dumps(intent, sort_keys=True), now, claim.job_id, claim.token),
            )
            if cursor.rowcount != 1:
                raise LeaseLost(
                    f"job {claim.job_id} is no longer held by attempt #{claim.token} "
                    f"of {claim.owner}"
                )

    # ------------------------------------------------------------------ finish

    def finish_done(
        self, claim: Claim, message: str = "", result: dict[str, Any] | None = None
    ) -> bool:
        return self.finish_many([(claim, Finish.done(message, result))])[claim.job_id]

    def finish_skipped(self, claim: Claim, reason: str, cause: Cause | None = None) -> bool:
        return self.finish_many([(claim, Finish.skipped(reason, cause))])[claim.job_id]

    def finish_awaiting_approval(
        self, claim: Claim, plan: dict[str, Any], summary: str = ""
    ) -> bool:
        return self.finish_many([(claim, Finish.awaiting(plan, summary))])[claim.job_id]

    def finish_failed(self, claim: Claim, cause: Cause) -> bool:
        """Record a failure; the retry policy decides retrying / needs_attention / failed."""
        return self.finish_many([(claim, Finish.failed(cause))])[claim.job_id]

    def finish_many(self, items: Sequence[tuple[Claim, Finish]]) -> dict[int, bool]:
        """Record the outcomes of claimed jobs in one transaction (a batch's worth).

        Each job's attempt row and new state are written only if its claim is still current;
        the answer says, per job id, whether it was (False: a stale result, not recorded).
        """
        now = self.clock()
        recorded: dict[int, bool] = {}
        changed: list[tuple[int, str, str | None]] = []
        with self.store.atomic():
            for claim, asked in items:
                finish = asked if asked.failure is None else self._decide(claim, asked.failure, now)
                if finish is None:
                    recorded[claim.job_id] = False
                    continue
                ok = self._write_finish(claim, finish, now)
                recorded[claim.job_id] = ok
                if ok:
                    changed.append((claim.job_id, finish.state.value, finish.cause_code))
        self.forget(claim for claim, _ in items)
        for job_id, state, code in changed:
            self.events.emit(ev.JOB_STATE, job_id=job_id, state=state, cause_code=code)
        return recorded

    def _decide(self, claim: Claim, cause: Cause, now: float) -> Finish | None:
        row = self.store.execute(
            f"SELECT retry_counts, retrying_since FROM job WHERE {_FENCE}",
            (claim.job_id, claim.token),
        ).fetchone()
        if row is None:
            return None
        spent = RetryState(json.loads(row[0]) if row[0] else {}, row[1])
        return Finish.decided(cause, self.policy.decide(cause, spent, now))

    def _write_finish(self, claim: Claim, finish: Finish, now: float) -> bool:
        message = redact(finish.message)
        attempt_cause = finish.attempt_cause or finish.cause
        attempt_code = attempt_cause.code if attempt_cause else None
        inserted = self.store.execute(
            "INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome, "
            "cause_code, message) SELECT id, attempts, lease_owner, started_at, ?, ?, ?, ? "
            f"FROM job WHERE {_FENCE}",
            (
                now,
                finish.outcome,
                attempt_code,
                message,
                claim.job_id,
                claim.token,
            ),
        ).rowcount
        if inserted != 1:
            return False
        terminal = finish.state in (State.DONE, State.SKIPPED)
        cause = finish.cause
        self.store.execute(
            "UPDATE job SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
            "cause_code = ?, cause = ?, blocked_on = ?, result = ?, "
            "plan = COALESCE(?, plan), retries = COALESCE(?, retries), "
            "retry_counts = COALESCE(?, retry_counts), "
            "retrying_since = COALESCE(?, retrying_since), "
            f"next_run_at = ?, updated_at = ?, finished_at = ? WHERE {_FENCE}",
            (
                finish.state.value,
                cause.code if cause else None,
                _cause_json(cause),
                _blocked(cause),
                message or (json.dumps(finish.result, sort_keys=True) if finish.result else None),
                json.dumps(finish.plan, sort_keys=True) if finish.plan is not None else None,
                finish.retries,
                json.dumps(finish.counts, sort_keys=True) if finish.counts is not None else None,
                finish.since,
                now + finish.delay,
                now,
                now if terminal else None,
                claim.job_id,
                claim.token,
            ),
        )
        return True

    def discard_late(self, claim: Claim, outcome: str) -> None:
        """Record that a stale execution's result was thrown away (its lease was lost)."""
        row = self.store.execute(
            "SELECT shop_id, state, attempts FROM job WHERE id = ?", (claim.job_id,)
        ).fetchone()
        if row is None:
            return
        shop_id, state, attempts = row
        self.store.audit(
            system="console",
            event="late_result_discarded",
            job_id=claim.job_id,
            shop_id=shop_id,
            message=f"Attempt #{claim.token} ({claim.owner}) finished after its lease was "
            f"lost; its result ({outcome}) was discarded. The job is {state} "
            f"(attempt #{attempts}).",
            data={"attempt": claim.token, "outcome": outcome, "worker": claim.owner},
        )

    # ------------------------------------------------------------------ housekeeping

    def expire_leases(self) -> int:
        """Return jobs whose worker died to the queue (bounded), with an audit entry each.

        A lease expires with time, or at once when its worker ran on this host and its
        process is gone (a restart after kill -9 resumes without waiting). Jobs this process
        still runs are never expired here, whatever the wall clock says (a laptop that slept
        past its leases renews them by heartbeat on waking).
        """
        now = self.clock()
        owners = [
            r[0]
            for r in self.store.execute(
                "SELECT DISTINCT lease_owner FROM job WHERE state = 'running'"
            ).fetchall()
        ]
        dead = [o for o in owners if owner_is_dead(o)]
        marks = ", ".join("?" * len(dead)) or "NULL"
        mine = {c.job_id for c in self.held()}
        expired: list[int] = []
        with self.store.atomic():
            rows = self.store.execute(
                "SELECT id, attempts, shop_id, lease_owner, label, retry_counts, retrying_since "
                "FROM job WHERE state = 'running' "
                f"AND (lease_expires_at < ? OR lease_owner IN ({marks}))",
                (now, *dead),
            ).fetchall()
            for job_id, token, shop_id, worker, label, counts, since in rows:
                if job_id in mine:
                    continue
                cause = Cause(
                    code="engine.lease_expired",
                    missing=f"the worker {worker} stopped answering while it held the job",
                    record=label,
                    retry_note="the retry finds anything already created through links and "
                    "stamps before writing",
                )
                spent = RetryState(json.loads(counts) if counts else {}, since)
                decision = self.policy.decide(cause, spent, now)
                # An expired lease goes back to the queue, not to a backoff wait.
                state = State.QUEUED if decision.state is State.RETRYING else decision.state
                claim = Claim(job_id, token, worker or "")
                if self._return_lost(claim, decision, state, now):
                    self.store.audit(
                        system="console",
                        event="lease_expired",
                        job_id=job_id,
                        shop_id=shop_id,
                        message=f"Lease of worker {worker} expired; job returned to the queue "
                        f"({state.value})",
                        at=now,
                    )
                    expired.append(job_id)
        for job_id in expired:
            self.events.emit(ev.LEASE_EXPIRED, job_id=job_id)
        return len(expired)

    def _return_lost(self, claim: Claim, decision: Decision, state: State, now: float) -> bool:
        inserted = self.store.execute(
            "INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome, "
            "cause_code, message) SELECT id, attempts, lease_owner, started_at, ?, "
            f"'lost', ?, ? FROM job WHERE {_FENCE}",
            (now, "engine.lease_expired", decision.cause.missing, claim.job_id, claim.token),
        ).rowcount
        if inserted != 1:
            return False
        self.store.execute(
            "UPDATE job SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
            "retries = ?, retry_counts = ?, retrying_since = ?, cause_code = ?, cause = ?, "
            f"next_run_at = ?, updated_at = ? WHERE {_FENCE}",
            (
                state.value,
                decision.retries,
                json.dumps(decision.counts, sort_keys=True),
                decision.since,
                decision.cause.code,
                _cause_json(decision.cause),
                now,
                now,
                claim.job_id,
                claim.token,
            ),
        )
        return True

    def release(self, claims: Sequence[Claim]) -> int:
        """Give back claims whose handler is not running (clean shutdown, or an outcome that
        could not be recorded), without counting a retry; returns how many were returned."""
        now = self.clock()
        released: list[int] = []
        with self.store.atomic():
            for claim in claims:
                row = self.store.execute(
                    f"SELECT shop_id FROM job WHERE {_FENCE}", (claim.job_id, claim.token)
                ).fetchone()
                if row is None:
                    continue
                self.store.execute(
                    "INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome, "
                    "message) SELECT id, attempts, lease_owner, started_at, ?, 'released', "
                    f"'the console gave the job back before it finished' FROM job WHERE {_FENCE}",
                    (now, claim.job_id, claim.token),
                )
                self.store.execute(
                    "UPDATE job SET state = 'queued', lease_owner = NULL, "
                    f"lease_expires_at = NULL, next_run_at = ?, updated_at = ? WHERE {_FENCE}",
                    (now, now, claim.job_id, claim.token),
                )
                self.store.audit(
                    system="console",
                    event="released",
                    job_id=claim.job_id,
                    shop_id=row[0],
                    at=now,
                    message="The console gave the job back before it finished; it is queued again",
                )
                released.append(claim.job_id)
        self.forget(claims)
        return len(released)

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
                    f"{_RESET_BUDGETS if reset_retries else ''}{extra_set} "
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

    def next_due(self) -> float | None:
        """When the earliest runnable job becomes due (for the dispatcher's sleep)."""
        row = self.store.execute(
            f"SELECT min(next_run_at) FROM job WHERE state IN {_in(RUNNABLE)}"
        ).fetchone()
        return row[0] if row else None


@dataclass(frozen=True)
class Finish:
    """How a claimed job ends this attempt: its next state and what to record about it."""

    state: State
    outcome: str  # the attempt row's outcome: done, skipped, awaiting_approval, failed
    message: str = ""
    cause: Cause | None = None
    attempt_cause: Cause | None = None
    result: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    retries: int | None = None
    counts: dict[str, int] | None = None
    since: float | None = None
    delay: float = 0.0
    failure: Cause | None = None  # still to be decided by the retry policy

    @property
    def cause_code(self) -> str | None:
        return self.cause.code if self.cause else None

    @classmethod
    def done(cls, message: str = "", result: dict[str, Any] | None = None) -> Finish:
        return cls(State.DONE, "done", message, result=result)

    @classmethod
    def skipped(cls, reason: str, cause: Cause | None = None) -> Finish:
        return cls(State.SKIPPED, "skipped", reason, cause=cause)

    @classmethod
    def awaiting(cls, plan: dict[str, Any], summary: str = "") -> Finish:
        return cls(State.AWAITING_APPROVAL, "awaiting_approval", summary, plan=plan)

    @classmethod
    def failed(cls, cause: Cause) -> Finish:
        return cls(State.FAILED, "failed", cause.missing, failure=cause)

    @classmethod
    def decided(cls, cause: Cause, decision: Decision) -> Finish:
        return cls(
            decision.state,
            "failed",
            cause.missing,
            cause=decision.cause,
            attempt_cause=cause,
            retries=decision.retries,
            counts=decision.counts,
            since=decision.since,
            delay=decision.delay,
        )


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
        owner,
        counts,
        since,
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
        owner=owner or "",
        retry_counts=json.loads(counts) if counts else {},
        retrying_since=since,
    )
