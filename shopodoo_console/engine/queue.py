"""The durable job queue: enqueue, claim, finish, operator actions (DESIGN §3, §5).

The queue decides; :mod:`store.jobs` says it to the database. Every state change is one short
``BEGIN IMMEDIATE`` transaction, guarded by the states it may come from (:mod:`states`) and,
for a claimed job, by the claim's fencing token, so that two processes racing can never both
win, no illegal transition can be written, and a stale execution can never touch a newer
claim of the same job.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from peewee import IntegrityError

from shopodoo_console.causes import Cause
from shopodoo_console.engine import events as ev
from shopodoo_console.engine.flows import Change, Claim, JobView
from shopodoo_console.engine.keys import key_after, record_prefix
from shopodoo_console.engine.owners import owner_is_dead
from shopodoo_console.engine.retry import Decision, RetryPolicy, RetryState
from shopodoo_console.engine.states import (
    OPERATOR_RETRYABLE,
    PRUNABLE,
    TRANSITIONS,
    State,
    sources_of,
)
from shopodoo_console.redact import redact
from shopodoo_console.store import jobs
from shopodoo_console.store.db import Store

PRUNE_CHUNK = 500


def _payload_encoder() -> Callable[[Any], str]:
    """``json.dumps(payload, sort_keys=True)``, with the C encoder made once: the standard
    library makes a new one per call, half the cost of encoding a small payload."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the standard path
        return json.JSONEncoder(sort_keys=True).encode
    encoder = make(
        None,  # no cycle check: a payload is plain data (ids)
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        True,
        False,
        True,
    )
    return lambda payload: "".join(encoder(payload, 0)) if payload else "{}"


_ENCODE_PAYLOAD = _payload_encoder()
_RUNNING = State.RUNNING.value

__all__ = ["PRUNABLE", "EnqueueResult", "Finish", "LeaseLost", "Queue"]


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

    def _hold(self, jobs_: Iterable[JobView]) -> None:
        with self._held_lock:
            for job in jobs_:
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
        queued = State.QUEUED.value
        prefix = record_prefix(shop_key, flow)
        encode = _ENCODE_PAYLOAD
        rows = [
            (
                key_after(prefix, c.source_id, c.version),
                shop_id,
                flow,
                c.source_id,
                c.version,
                c.label,
                encode(c.payload),
                queued,
                c.priority,
                0,
                0,
                1,
                now if c.not_before is None or c.not_before < now else c.not_before,
                now,
                now,
                now,
            )
            for c in changes
        ]
        with self.store.atomic(bulk=True):
            answers = jobs.insert_sightings(self.store, rows)
            new = {source_id for _, seen_count, source_id in answers if seen_count == 1}
            superseded = self._supersede(shop_key, flow, new, now) if new else 0
        all_ids = tuple(job_id for job_id, _, _ in answers)
        fresh = sum(1 for _, seen_count, _ in answers if seen_count == 1)
        result = EnqueueResult(fresh, len(answers) - fresh, superseded, all_ids)
        self.events.emit(
            ev.ENQUEUED,
            shop_id=shop_id,
            flow=flow,
            new=result.new,
            seen=result.seen,
            superseded=superseded,
        )
        return result

    def _supersede(self, shop_key: str, flow: str, new: set[str], now: float) -> int:
        """Among waiting jobs of each record that got a new version, keep the newest version;
        supersede the rest (workers fetch fresh data anyway, DESIGN §3.2)."""
        prefix = record_prefix(shop_key, flow)
        prefixes = [key_after(prefix, source_id, "") for source_id in sorted(new)]
        waiting: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for job_id, source_id, version in jobs.waiting_versions(self.store, prefixes):
            waiting[source_id].append((version, job_id))
        older: list[tuple[int, int]] = []
        for versions in waiting.values():
            if len(versions) < 2:
                continue
            versions.sort()
            newest = versions[-1][1]
            older.extend((job_id, newest) for _, job_id in versions[:-1])
        return jobs.supersede(self.store, older, now) if older else 0

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

        ``shop_ids`` limits it to configured shops: a removed shop's jobs wait, untouched,
        for its return.
        """
        if (flows is not None and not flows) or (shop_ids is not None and not shop_ids):
            return None
        found = self._claim(owner, lease_seconds, 1, flows=flows, shop_ids=shop_ids)
        return found[0] if found else None

    def claim_next(
        self,
        owner: str,
        lease_seconds: float,
        *,
        flows: Sequence[str],
        shop_ids: Sequence[int] | None,
        batch_size: Callable[[str], int],
    ) -> list[JobView]:
        """The most urgent runnable job and, in the same transaction, the rest of its flow's
        batch from the same flow and shop (one fetch and one lookup for all of them)."""
        if not flows or (shop_ids is not None and not shop_ids):
            return []
        with self.store.atomic():
            if len(flows) == 1 and shop_ids is not None and len(shop_ids) == 1:
                found: tuple[str, int] | None = (flows[0], shop_ids[0])  # nothing to choose
            else:
                found = jobs.next_runnable(self.store, self.clock(), flows=flows, shop_ids=shop_ids)
            if found is None:
                return []
            flow, shop_id = found
            return self.claim_batch(
                owner, lease_seconds, flow=flow, shop_id=shop_id, limit=batch_size(flow)
            )

    def claim_batch(
        self, owner: str, lease_seconds: float, *, flow: str, shop_id: int, limit: int
    ) -> list[JobView]:
        """Up to ``limit`` more runnable jobs of one flow and shop, for a batch handler."""
        if limit <= 0:
            return []
        try:
            return self._claim(owner, lease_seconds, limit, flow=flow, shop_id=shop_id)
        except IntegrityError:
            # Two waiting versions of one record were picked together: take them one by one.
            taken: list[JobView] = []
            while len(taken) < limit:
                more = self._claim(owner, lease_seconds, 1, flow=flow, shop_id=shop_id)
                if not more:
                    break
                taken.extend(more)
            return taken

    def _claim(self, owner: str, lease_seconds: float, limit: int, **which: Any) -> list[JobView]:
        now = self.clock()
        with self.store.transaction():
            rows = jobs.claim(
                self.store, owner=owner, now=now, until=now + lease_seconds, limit=limit, **which
            )
        rows.sort()  # by job id (the first column; unique)
        claimed = [_job_view(row) for row in rows]
        self._hold(claimed)
        if self.events.listened:
            for job in claimed:
                self.events.emit(
                    ev.JOB_STATE,
                    job_id=job.id,
                    state=_RUNNING,
                    flow=job.flow,
                    label=job.label,
                    shop_id=job.shop_id,
                )
        return claimed

    def heartbeat(self, claims: Sequence[Claim], lease_seconds: float) -> set[int]:
        """Extend the leases of ``claims``; returns the job ids whose claim is still current.

        A claim missing from the answer was lost (expired and taken, or released): this
        process no longer holds it, and its handler's result will be discarded.
        """
        if not claims:
            return set()
        with self.store.atomic():
            alive = jobs.heartbeat(
                self.store, [(c.job_id, c.token) for c in claims], self.clock() + lease_seconds
            )
        self.forget(c for c in claims if c.job_id not in alive)
        return alive

    def record_intent(self, claim: Claim, intent: dict[str, Any]) -> None:
        """Write the intent before a remote write (DESIGN §3.5); fails if the claim is stale."""
        with self.store.atomic():
            ok = jobs.set_intent(
                self.store,
                claim.job_id,
                claim.token,
                json.dumps(intent, sort_keys=True),
                self.clock(),
            )
        if not ok:
            raise LeaseLost(
                f"job {claim.job_id} is no longer held by attempt #{claim.token} of {claim.owner}"
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
        with self.store.atomic():
            decided = [
                (claim, finish if finish.failure is None else self._decide(claim, finish, now))
                for claim, finish in items
            ]
            endings = [finish.ending(claim, now) for claim, finish in decided if finish is not None]
            recorded = jobs.end_attempts(self.store, endings, now)
        self.forget(claim for claim, _ in items)
        for claim, finish in decided if self.events.listened else ():
            if finish is not None and claim.job_id in recorded:
                self.events.emit(
                    ev.JOB_STATE,
                    job_id=claim.job_id,
                    state=finish.state.value,
                    cause_code=finish.cause_code,
                )
        return {claim.job_id: claim.job_id in recorded for claim, _ in items}

    def _decide(self, claim: Claim, finish: Finish, now: float) -> Finish | None:
        assert finish.failure is not None
        spent = jobs.retry_state(self.store, claim.job_id, claim.token)
        if spent is None:
            return None
        counts, since = spent
        state = RetryState(counts, since)
        return Finish.decided(finish.failure, self.policy.decide(finish.failure, state, now))

    def discard_late(self, claim: Claim, outcome: str) -> None:
        """Record that a stale execution's result was thrown away (its lease was lost)."""
        found = jobs.job_state(self.store, claim.job_id)
        if found is None:
            return
        shop_id, state, attempts = found
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
        dead = [o for o in jobs.running_owners(self.store) if owner_is_dead(o)]
        mine = {c.job_id for c in self.held()}
        with self.store.atomic():
            lost = [row for row in jobs.expired(self.store, now, dead) if row[0] not in mine]
            endings, notes = [], {}
            for job_id, token, shop_id, worker, label, counts, since in lost:
                cause = Cause(
                    code="engine.lease_expired",
                    missing=f"the worker {worker} stopped answering while it held the job",
                    record=label,
                    retry_note="the retry finds anything already created through links and "
                    "stamps before writing",
                )
                spent = RetryState(counts or {}, since)
                decision = self.policy.decide(cause, spent, now)
                # An expired lease goes back to the queue, not to a backoff wait.
                state = State.QUEUED if decision.state is State.RETRYING else decision.state
                endings.append(_lost(Claim(job_id, token, worker or ""), decision, state, now))
                notes[job_id] = (shop_id, worker, state)
            expired = jobs.end_attempts(self.store, endings, now)
            for job_id in sorted(expired):
                shop_id, worker, state = notes[job_id]
                self.store.audit(
                    system="console",
                    event="lease_expired",
                    job_id=job_id,
                    shop_id=shop_id,
                    message=f"Lease of worker {worker} expired; job returned to the queue "
                    f"({state.value})",
                    at=now,
                )
        for job_id in sorted(expired):
            self.events.emit(ev.LEASE_EXPIRED, job_id=job_id)
        return len(expired)

    def release(self, claims: Sequence[Claim]) -> int:
        """Give back claims whose handler is not running (clean shutdown, or an outcome that
        could not be recorded), without counting a retry; returns how many were returned."""
        if not claims:
            return 0
        now = self.clock()
        endings = [
            jobs.Ending(
                job_id=c.job_id,
                token=c.token,
                outcome="released",
                message="the console gave the job back before it finished",
                attempt_cause=None,
                state=State.QUEUED.value,
                cause_code=None,
                cause=None,
                blocked_on=None,
                result=None,
                plan=None,
                retries=None,
                retry_counts=None,
                retrying_since=None,
                next_run_at=now,
                finished_at=None,
            )
            for c in claims
        ]
        with self.store.atomic():
            released = jobs.end_attempts(self.store, endings, now)
            for job_id in sorted(released):
                found = jobs.job_state(self.store, job_id)
                self.store.audit(
                    system="console",
                    event="released",
                    job_id=job_id,
                    shop_id=found[0] if found else None,
                    at=now,
                    message="The console gave the job back before it finished; it is queued again",
                )
        self.forget(claims)
        return len(released)

    def prune(self, older_than_seconds: float) -> int:
        """Delete finished jobs (and their attempts and audit) past the retention period."""
        cutoff = self.clock() - older_than_seconds
        deleted = 0
        while True:  # in chunks, so workers are never kept from the write lock for long
            with self.store.atomic():
                count = jobs.prune(self.store, cutoff, PRUNE_CHUNK)
            deleted += count
            if count < PRUNE_CHUNK:
                return deleted

    # ------------------------------------------------------------------ operator actions

    def _operator_move(
        self,
        selection: jobs.Selection,
        target: State,
        sources: Sequence[State],
        *,
        event: str,
        message: str,
        reason: str = "",
        reset_retries: bool = False,
        approve: bool = False,
    ) -> list[int]:
        now = self.clock()
        assert all(target in TRANSITIONS[s] for s in sources), (sources, target)
        with self.store.atomic():
            rows = jobs.selected(self.store, selection, sources)
            ids = [job_id for job_id, _ in rows]
            if not ids:
                return []
            jobs.move(
                self.store,
                ids,
                target=target,
                sources=sources,
                now=now,
                finished=target in (State.CANCELLED, State.RESOLVED),
                reset_retries=reset_retries,
                approved_at=now if approve else None,
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
        """Queue jobs again now, with fresh retry budgets (the attempt history stays)."""
        return self._operator_move(
            jobs.Selection(ids=job_ids),
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
        return self._operator_move(
            jobs.Selection(cause_code=cause_code, shop_id=shop_id, states=states),
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
        return self._operator_move(
            jobs.Selection(ids=job_ids),
            target,
            sources_of(target),
            event=event,
            message=f"{done} by the operator",
            reason=reason,
        )

    def approve(self, job_ids: Sequence[int]) -> list[int]:
        """Review mode: run the plan shown (the handler re-checks it against fresh data)."""
        return self._operator_move(
            jobs.Selection(ids=job_ids),
            State.QUEUED,
            (State.AWAITING_APPROVAL,),
            event="approve",
            message="Plan approved by the operator",
            approve=True,
        )

    def requeue_blocked(self, shop_id: int, mapping_key: str) -> list[int]:
        """Queue every job waiting on ``mapping_key`` (called when that mapping is saved)."""
        return self._operator_move(
            jobs.Selection(shop_id=shop_id, blocked_on=mapping_key),
            State.QUEUED,
            (State.NEEDS_ATTENTION,),
            event="requeue",
            message=f"Mapping {mapping_key} saved; job queued again",
            reset_retries=True,
        )

    # ------------------------------------------------------------------ reads

    def counts_by_state(self, shop_id: int | None = None) -> dict[str, int]:
        return jobs.counts_by_state(self.store, shop_id)

    def problem_count(self) -> int:
        return jobs.attention_count(self.store)

    def next_held_back(self) -> float | None:
        """When the earliest job held back by its change (``Change.not_before``: a version
        that may still change within its second) becomes due; ``None`` if none waits."""
        # one just due counts too: the caller claims it next
        return jobs.next_held_back(self.store, self.clock() - 1.0)

    def next_due(self) -> float | None:
        """When the earliest runnable job becomes due (for the dispatcher's sleep)."""
        return jobs.next_due(self.store)


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

    def ending(self, claim: Claim, now: float) -> jobs.Ending:
        written, terminal = self._written
        return jobs.Ending._make(
            (claim.job_id, claim.token, *written, now + self.delay, now if terminal else None)
        )

    @cached_property
    def _written(self) -> tuple[tuple[Any, ...], bool]:
        """What this ending writes whatever the job, and whether it ends the job for good:
        worked out once per outcome (a batch's jobs may share one), redacted and serialised."""
        message = redact(self.message) if self.message else ""
        attempt_cause = self.attempt_cause or self.cause
        result = message or (json.dumps(self.result, sort_keys=True) if self.result else None)
        written = (
            self.outcome,
            message,
            attempt_cause.code if attempt_cause else None,
            self.state.value,
            self.cause.code if self.cause else None,
            _cause_json(self.cause),
            _blocked(self.cause),
            result,
            json.dumps(self.plan, sort_keys=True) if self.plan is not None else None,
            self.retries,
            json.dumps(self.counts, sort_keys=True) if self.counts is not None else None,
            self.since,
        )
        return written, self.state in (State.DONE, State.SKIPPED)


def _lost(claim: Claim, decision: Decision, state: State, now: float) -> jobs.Ending:
    """The ending of a claim whose worker stopped answering (its lease expired)."""
    return jobs.Ending(
        job_id=claim.job_id,
        token=claim.token,
        outcome="lost",
        message=decision.cause.missing,
        attempt_cause="engine.lease_expired",
        state=state.value,
        cause_code=decision.cause.code,
        cause=_cause_json(decision.cause),
        blocked_on=None,
        result=None,
        plan=None,
        retries=decision.retries,
        retry_counts=json.dumps(decision.counts, sort_keys=True),
        retrying_since=decision.since,
        next_run_at=now,
        finished_at=None,
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
    """A claimed row (:data:`jobs.CLAIM_COLUMNS`, in :class:`JobView`'s field order) as the
    handler sees it; built positionally (a claimed batch builds 25 at a time)."""
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
        job_id,
        key,
        shop_id,
        flow,
        source_id,
        version,
        label,
        json.loads(payload) if payload and payload != "{}" else {},
        attempts,
        retries,
        json.loads(intent) if intent else None,
        json.loads(plan) if plan else None,
        approved_at is not None,
        owner or "",
        json.loads(counts) if counts else {},
        since,
    )
