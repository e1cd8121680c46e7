"""Running jobs: a dispatcher that claims, a bounded pool of worker threads that handle.

The dispatcher is the only thread that claims; it never holds more batches than there are
workers, so a lease is never ticking on a job nobody is working on. Leases are extended by
heartbeat while handlers run — when due by the monotonic clock *or* the wall clock, so a
laptop waking from sleep renews at once. A claim whose lease was lost anyway is abandoned: its
handler's late result is discarded and recorded, never written over a newer claim.

Flows report every job's outcome as a value (:data:`Outcome`); anything they raise is a bug,
classified ``engine.handler_crashed`` — a bug is a failure with a cause too, never a dead
worker. A batch's outcomes are recorded in one transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import (
    AwaitApproval,
    Claim,
    Done,
    Failed,
    Flow,
    FlowRegistry,
    JobView,
    Outcome,
    ShopRef,
    Skipped,
)
from shopodoo_console.engine.owners import make_owner
from shopodoo_console.engine.queue import Finish, Queue
from shopodoo_console.redact import redact
from shopodoo_console.store.sqlite import Fault, fault_of

log = logging.getLogger(__name__)

OUTCOMES = (Done, Skipped, AwaitApproval, Failed)
SETTLE_WAIT = 5.0  # drain waits this long at most for jobs held back by Change.not_before


@dataclass
class DrainStats:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True)
class Setup:
    """What the runner works for: the configured shops and the flows it runs.

    Swapped whole (one assignment) when Settings are saved, so a batch always runs with the
    shops and flows it was claimed under — never half of an old and half of a new setup.
    """

    shops: Mapping[int, ShopRef]
    flows: FlowRegistry


class _Context:
    """The JobContext a handler receives."""

    def __init__(self, runner: Runner, job: JobView, shop: ShopRef) -> None:
        self._runner = runner
        self.job = job
        self.shop = shop

    def audit(self, system: str, event: str, message: str, **data: Any) -> None:
        self._runner.queue.store.audit(
            system=system,
            event=event,
            message=redact(message),
            job_id=self.job.id,
            shop_id=self.job.shop_id,
            data=data,
        )

    def record_intent(self, intent: dict[str, Any]) -> None:
        self._runner.queue.record_intent(self.job.claim, intent)
        self.job.intent = intent

    def heartbeat(self) -> bool:
        alive = self._runner.queue.heartbeat([self.job.claim], self._runner.lease_seconds)
        return self.job.id in alive


class Runner:
    def __init__(
        self,
        queue: Queue,
        flows: FlowRegistry,
        shops: Mapping[int, ShopRef],
        *,
        owner: str | None = None,
        workers: int = 4,
        lease_seconds: float = 120.0,
        only_configured_shops: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``only_configured_shops``: claim only jobs of the shops in ``shops`` (the engine
        sets it, so a shop removed from the config keeps its jobs waiting, untouched)."""
        self.queue = queue
        self.setup = Setup(dict(shops), flows)
        self.owner = owner or make_owner()
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.only_configured_shops = only_configured_shops
        self._monotonic = monotonic
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._in_flight: dict[Future[list[str]], list[Claim]] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._beat_monotonic = monotonic()
        self._beat_wall = queue.clock()
        self.fault: BaseException | None = None
        self.lingering: threading.Thread | None = None
        self._unreturned: list[Claim] = []
        self._lock_unreturned = threading.Lock()

    @property
    def shops(self) -> Mapping[int, ShopRef]:
        return self.setup.shops

    @property
    def flows(self) -> FlowRegistry:
        return self.setup.flows

    def configure(self, shops: Mapping[int, ShopRef], flows: FlowRegistry | None = None) -> None:
        """Swap shops (and flows) in one step; batches already claimed keep their setup."""
        self.setup = Setup(dict(shops), flows if flows is not None else self.setup.flows)

    # ------------------------------------------------------------ running jobs

    def run_job(self, job: JobView) -> str:
        """Handle one claimed job and record its outcome; returns the outcome name."""
        return self.run_batch([job])[0]

    def run_batch(self, jobs: list[JobView], setup: Setup | None = None) -> list[str]:
        """Handle claimed jobs of one flow and shop together, then record every outcome."""
        setup = setup or self.setup
        flow = setup.flows.get(jobs[0].flow)
        if flow is None:
            cause = Cause(
                code="engine.flow_unknown",
                missing=f"this console has no handler for flow {jobs[0].flow!r}",
            )
            return self._record(jobs, [Failed(cause)] * len(jobs))
        contexts = [_Context(self, job, self._shop(setup, job)) for job in jobs]
        try:
            outcomes = self._handle(flow, jobs, contexts)
        except _DatabaseTrouble as trouble:  # the handler's own audit or intent was refused
            _log_failure(trouble.error, f"jobs {[j.id for j in jobs]} stopped")
            self._give_back([job.claim for job in jobs], trouble.error)
            return ["error"] * len(jobs)
        return self._record(jobs, outcomes)

    @staticmethod
    def _shop(setup: Setup, job: JobView) -> ShopRef:
        return setup.shops.get(job.shop_id) or ShopRef(job.shop_id, str(job.shop_id))

    def _handle(self, flow: Flow, jobs: list[JobView], contexts: list[Any]) -> list[Outcome]:
        """The flow's outcomes, one per job; whatever breaks the contract is a crash."""
        try:
            outcomes: Any = flow.handle_batch(contexts)
        except Exception as exc:
            if fault_of(exc) is not None:
                raise _DatabaseTrouble(exc) from exc
            log.error(
                "handler for %s crashed on jobs %s",
                flow.name,
                [j.id for j in jobs],
                exc_info=(type(exc), exc, exc.__traceback__),
            )
            what = f"raised {type(exc).__name__}: {redact(str(exc))[:300]}"
            return [Failed(_crash(job, what)) for job in jobs]
        if not isinstance(outcomes, list) or len(outcomes) != len(jobs):
            what = f"returned {type(outcomes).__name__}, not one outcome per job"
            return [Failed(_crash(job, what)) for job in jobs]
        return [
            o if isinstance(o, OUTCOMES) else Failed(_crash(job, _not_an_outcome(o)))
            for job, o in zip(jobs, outcomes, strict=True)
        ]

    def _record(self, jobs: list[JobView], outcomes: list[Outcome]) -> list[str]:
        """Record a batch's outcomes in one transaction; a stale claim's result is discarded
        (and said so in the job's timeline). If the database refuses twice, the claims are
        given back — or, if even that fails, left to their lease — never kept ``running``."""
        items = [(job.claim, _finish(job, o)) for job, o in zip(jobs, outcomes, strict=True)]
        names = [_name(o) for o in outcomes]
        claims = [claim for claim, _ in items]
        for attempt in (1, 2):
            try:
                recorded = self.queue.finish_many(items)
                break
            except Exception as exc:
                _log_failure(exc, f"could not record {len(items)} outcome(s) (try {attempt})")
                error = exc
        else:
            self._give_back(claims, error)
            return ["error"] * len(jobs)
        out = []
        for claim, name in zip(claims, names, strict=True):
            if recorded.get(claim.job_id):
                out.append(name)
                continue
            log.warning("job %s: attempt #%s lost its lease; result discarded", *claim[:2])
            try:
                self.queue.discard_late(claim, name)
            except Exception:
                log.exception("could not record the discarded result of job %s", claim.job_id)
            out.append("lost")
        return out

    def _give_back(self, claims: list[Claim], error: BaseException) -> None:
        """Return claims whose outcome could not be recorded to the queue. If even that is
        refused (a full disk), they are kept aside and given back as soon as the database
        takes writes again — or, should this process end first, at the next start (their
        owner is then a dead process, whose jobs are resumed at once)."""
        self.fault = error
        self.queue.forget(claims)
        with self._lock_unreturned:
            self._unreturned.extend(claims)
        self._return_unreturned()

    def _return_unreturned(self) -> None:
        with self._lock_unreturned:
            claims, self._unreturned = self._unreturned, []
        if not claims:
            return
        for attempt in (1, 2):
            try:
                self.queue.release(claims)
                return
            except Exception as exc:
                _log_failure(exc, f"could not give back {len(claims)} job(s) yet")
                # A full disk: spend the space kept for this, then try once more.
                if attempt == 2 or fault_of(exc) is not Fault.FULL:
                    break
                if not self.queue.store.free_reserve():
                    break
        with self._lock_unreturned:
            self._unreturned.extend(claims)

    # ------------------------------------------------------------ dispatching

    def drain(self) -> DrainStats:
        """Work until nothing is runnable and nothing is in flight (``sync --once``).

        A database fault that kept outcomes from being recorded stops the claiming; once the
        batches in flight are over, it is raised for the caller to explain.
        """
        stats = DrainStats()
        self.fault = None
        with ThreadPoolExecutor(self.workers, thread_name_prefix="shopodoo-worker") as pool:
            in_flight: dict[Future[list[str]], list[Claim]] = {}
            while True:
                for future in [f for f in in_flight if f.done()]:
                    in_flight.pop(future)
                    for outcome in self._result(future):
                        stats.count(outcome)
                self._maybe_heartbeat()
                if self.fault is None:
                    self._fill(pool, in_flight, stats)
                if not in_flight:
                    held = None if self.fault is not None else self.queue.next_held_back()
                    if held is None or held - time.time() > SETTLE_WAIT:
                        break
                    # A job held back until its version settles (a second or two): this pass
                    # waits for it rather than leave a fresh change for the next one.
                    self._wake.clear()
                    self._wake.wait(max(0.01, held - time.time() + 0.01))
                    continue
                self._wake.wait(0.5)
                self._wake.clear()
        if self.fault is not None:
            self._return_unreturned()
            raise self.fault
        return stats

    def _fill(
        self,
        pool: ThreadPoolExecutor,
        in_flight: dict[Future[list[str]], list[Claim]],
        stats: DrainStats | None = None,
    ) -> int:
        """Claim until every worker is busy; a batch flow's jobs go to a worker together."""
        claimed = 0
        while len(in_flight) < self.workers and not self._stop.is_set():
            setup = self.setup
            jobs = self.queue.claim_next(
                self.owner,
                self.lease_seconds,
                flows=setup.flows.names(),
                shop_ids=list(setup.shops) if self.only_configured_shops else None,
                batch_size=_batch_size(setup.flows),
            )
            if not jobs:
                break
            future = pool.submit(self.run_batch, jobs, setup)
            in_flight[future] = [job.claim for job in jobs]
            future.add_done_callback(lambda _f: self._wake.set())
            claimed += len(jobs)
            if stats is not None:
                stats.claimed += len(jobs)
        return claimed

    @staticmethod
    def _result(future: Future[list[str]]) -> list[str]:
        try:
            return future.result()
        except Exception:  # run_batch already records failures; this is a last resort
            log.exception("worker thread failed")
            return ["error"]

    def _maybe_heartbeat(self) -> None:
        """Renew every claim this process holds when a third of the lease has passed by
        either clock (or the wall clock went back); drop the ones found lost. A database
        that refuses the renewal (locked, full) is tried again at the next turn."""
        mono, wall = self._monotonic(), self.queue.clock()
        interval = self.lease_seconds / 3
        if mono - self._beat_monotonic < interval and 0 <= wall - self._beat_wall < interval:
            return
        claims = self.queue.held()
        try:
            alive = self.queue.heartbeat(claims, self.lease_seconds)
        except Exception as exc:
            _log_failure(exc, f"could not renew the leases of {len(claims)} job(s)")
            return
        self._beat_monotonic, self._beat_wall = mono, wall
        for claim in claims:
            if claim.job_id not in alive:
                log.warning(
                    "job %s: the lease of attempt #%s was lost; its result will be discarded",
                    claim.job_id,
                    claim.token,
                )

    # ------------------------------------------------------------ background mode

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="shopodoo-worker")
        self._thread = threading.Thread(target=self._loop, name="shopodoo-dispatcher", daemon=True)
        self._thread.start()

    def finish_in_flight(self) -> None:
        """Claim nothing more: drain() returns once the jobs in flight have finished (a
        signal-safe stop for `sync --once`: it only sets events)."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """New work may be runnable (after an enqueue or an operator retry)."""
        self._wake.set()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def in_flight(self) -> int:
        with self._lock:
            return sum(1 for f in self._in_flight if not f.done())

    def _loop(self) -> None:
        assert self._pool is not None
        while not self._stop.is_set():
            try:
                with self._lock:
                    for future in [f for f in self._in_flight if f.done()]:
                        self._in_flight.pop(future)
                        self._result(future)
                    self._return_unreturned()
                    self._maybe_heartbeat()
                    claimed = 0
                    if not self._paused.is_set():
                        claimed = self._fill(self._pool, self._in_flight)
                due = None if claimed else self.queue.next_due()
            except Exception as exc:  # a locked or full database must not kill the dispatcher
                _log_failure(exc, "dispatcher iteration failed; retrying shortly")
                due = None
            timeout = 1.0 if due is None else min(1.0, max(0.05, due - self.queue.clock()))
            self._wake.wait(timeout)
            self._wake.clear()

    def stop(self, timeout: float = 20.0) -> int:
        """Stop claiming and let in-flight batches finish for ``timeout`` s.

        Claims whose handler never started are given back; returns how many. A handler still
        running after the timeout keeps its jobs — they are never handed to another claimant
        while it runs: its leases stay renewed until it returns and records its outcome.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        deadline = self._monotonic() + timeout
        with self._lock:
            batches = dict(self._in_flight)
        for future in batches:
            if future.cancel():
                continue
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                break
            try:
                future.result(timeout=remaining)
            except Exception:  # outcome already recorded by run_batch, or still running
                log.debug("batch not finished within the shutdown timeout", exc_info=True)
        running = [f for f in batches if not f.done()]
        busy = {c.job_id for f in running for c in batches[f]}
        idle = [c for c in self.queue.held() if c.job_id not in busy]
        try:
            released = self.queue.release(idle)
        except Exception as exc:  # their lease (or, once this process ends, its death) frees them
            _log_failure(exc, f"could not give back {len(idle)} job(s) at shutdown")
            released = 0
        if running:
            log.warning(
                "%d job(s) still running at shutdown; they keep their lease until they finish",
                len(busy),
            )
            self.lingering = threading.Thread(
                target=self._keep_alive,
                args=(running,),
                name="shopodoo-lingering-heartbeat",
                daemon=True,
            )
            self.lingering.start()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self._thread = None
        self._pool = None
        return released

    def _keep_alive(self, running: Sequence[Future[list[str]]]) -> None:
        """Renew the leases of handlers still running after :meth:`stop` until they end."""
        remaining = list(running)
        with self.queue.store.thread_connection():
            while remaining:
                try:
                    self.queue.heartbeat(self.queue.held(), self.lease_seconds)
                except Exception:
                    log.exception("could not renew the leases of lingering jobs")
                wait(remaining, timeout=self.lease_seconds / 3)
                remaining = [f for f in remaining if not f.done()]


class _DatabaseTrouble(Exception):
    """A handler stopped because the database refused its audit or intent (not a bug)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _log_failure(exc: BaseException, what: str) -> None:
    """A database fault is logged as one line (the caller explains it to the operator);
    anything else with its traceback (it is a bug)."""
    if fault_of(exc) is not None:  # the command line explains it; the log keeps the detail
        log.info("%s: %s", what, exc)
    else:
        log.error(what, exc_info=(type(exc), exc, exc.__traceback__))


def _batch_size(flows: FlowRegistry) -> Callable[[str], int]:
    def size(name: str) -> int:
        flow = flows.get(name)
        return max(1, flow.batch_size) if flow is not None else 1

    return size


def _crash(job: JobView, what: str) -> Cause:
    return Cause(
        code="engine.handler_crashed",
        record=job.label,
        missing=f"the {job.flow} handler {what}",
        retry_note="the retry checks links and stamps before creating anything",
    )


def _not_an_outcome(value: object) -> str:
    return f"returned {type(value).__name__} for this job, not an outcome"


def _finish(job: JobView, outcome: Outcome) -> Finish:
    if isinstance(outcome, Done):
        return Finish.done(outcome.message, outcome.result)
    if isinstance(outcome, Skipped):
        return Finish.skipped(outcome.reason, outcome.cause)
    if isinstance(outcome, AwaitApproval):
        return Finish.awaiting(outcome.plan, outcome.summary)
    cause = outcome.cause
    return Finish.failed(cause if cause.record else cause.with_record(job.label))


def _name(outcome: Outcome) -> str:
    if isinstance(outcome, Done):
        return "done"
    if isinstance(outcome, Skipped):
        return "skipped"
    if isinstance(outcome, AwaitApproval):
        return "awaiting_approval"
    return "failed"
