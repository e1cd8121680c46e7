"""Running jobs: a dispatcher that claims, a bounded pool of worker threads that handle.

The dispatcher is the only thread that claims; it never holds more jobs than there are
workers, so a lease is never ticking on a job nobody is working on. Leases are extended by
heartbeat while handlers run. Handlers report through outcomes or :class:`CauseError`;
anything else is classified ``engine.handler_crashed`` — a bug is a failure with a cause too,
never a dead worker.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.engine.flows import (
    AwaitApproval,
    Done,
    Failed,
    FlowRegistry,
    JobView,
    ShopRef,
    Skipped,
)
from shopodoo_console.engine.owners import make_owner
from shopodoo_console.engine.queue import LeaseLost, Queue
from shopodoo_console.redact import redact

log = logging.getLogger(__name__)

SETTLE_WAIT = 5.0  # drain waits this long at most for jobs held back by Change.not_before


@dataclass
class DrainStats:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


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
        self._runner.queue.record_intent(self.job.id, self._runner.owner, intent)
        self.job.intent = intent

    def heartbeat(self) -> bool:
        alive = self._runner.queue.heartbeat(
            self._runner.owner, [self.job.id], self._runner.lease_seconds
        )
        return self.job.id in alive


class Runner:
    def __init__(
        self,
        queue: Queue,
        flows: FlowRegistry,
        shops: dict[int, ShopRef],
        *,
        owner: str | None = None,
        workers: int = 4,
        lease_seconds: float = 120.0,
        only_configured_shops: bool = False,
    ) -> None:
        """``only_configured_shops``: claim only jobs of the shops in ``shops`` (the engine
        sets it, so a shop removed from the config keeps its jobs waiting, untouched)."""
        self.queue = queue
        self.flows = flows
        self.shops = shops
        self.owner = owner or make_owner()
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.only_configured_shops = only_configured_shops
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._in_flight: dict[int, Future[list[str]]] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._last_heartbeat = 0.0
        self._batch_ids: dict[int, list[int]] = {}

    # ------------------------------------------------------------ running jobs

    def run_job(self, job: JobView) -> str:
        """Handle one claimed job and record its outcome; returns the outcome name."""
        return self.run_batch([job])[0]

    def run_batch(self, jobs: list[JobView]) -> list[str]:
        """Handle claimed jobs of one flow and shop; a flow with ``handle_batch`` gets them
        together (one fetch, one lookup for all), any other flow one by one."""
        flow = self.flows.get(jobs[0].flow)
        if flow is None:
            cause = Cause(
                code="engine.flow_unknown",
                missing=f"this console has no handler for flow {jobs[0].flow!r}",
            )
            return [self._record_safely(job, cause) for job in jobs]
        contexts = [_Context(self, job, self._shop(job)) for job in jobs]
        handle_batch = getattr(flow, "handle_batch", None)
        if handle_batch is None or (len(jobs) == 1 and not getattr(flow, "batch_size", 0)):
            return [
                self._record_safely(job, self._call(flow.handle, ctx))
                for job, ctx in zip(jobs, contexts, strict=True)
            ]
        results = self._call(handle_batch, contexts)
        if not isinstance(results, list) or len(results) != len(jobs):
            results = [results] * len(jobs)  # one error (or a bad return) for the whole batch
        return [self._record_safely(job, result) for job, result in zip(jobs, results, strict=True)]

    def _shop(self, job: JobView) -> ShopRef:
        return self.shops.get(job.shop_id) or ShopRef(job.shop_id, str(job.shop_id))

    @staticmethod
    def _call(handler: Any, argument: Any) -> Any:
        """Run a handler; an exception becomes the value to record."""
        try:
            return handler(argument)
        except Exception as exc:
            return exc

    def _record_safely(self, job: JobView, result: Any) -> str:
        """Record one job's outcome; a failure to record (database locked for longer than the
        busy timeout) must not cost the other jobs of the batch their outcome. The job is
        tried once more, then left to its lease: expiry returns it to the queue."""
        for attempt in (1, 2):
            try:
                return self._record(job, result)
            except Exception:
                log.exception("could not record the outcome of job %s (try %d)", job.id, attempt)
                time.sleep(0.5)
        return "error"

    def _record(self, job: JobView, result: Any) -> str:
        """Turn a handler's outcome (or exception, or cause) into the job's next state."""
        if isinstance(result, LeaseLost):
            log.warning("job %s was taken from %s mid-run; result discarded", job.id, self.owner)
            return "lost"
        if isinstance(result, CauseError):
            result = result.cause
        if isinstance(result, Failed):
            result = result.cause
        if isinstance(result, Cause):
            cause = result if result.record else result.with_record(job.label)
            return "failed" if self.queue.finish_failed(job.id, self.owner, cause) else "lost"
        if isinstance(result, Exception):
            log.error(
                "handler for %s crashed on job %s",
                job.flow,
                job.id,
                exc_info=(type(result), result, result.__traceback__),
            )
            cause = Cause(
                code="engine.handler_crashed",
                record=job.label,
                missing=f"the {job.flow} handler raised {type(result).__name__}: "
                f"{redact(str(result))[:300]}",
                retry_note="the retry checks links and stamps before creating anything",
            )
            return "failed" if self.queue.finish_failed(job.id, self.owner, cause) else "lost"
        if isinstance(result, Done):
            ok = self.queue.finish_done(job.id, self.owner, result.message, result.result)
            name = "done"
        elif isinstance(result, Skipped):
            ok = self.queue.finish_skipped(job.id, self.owner, result.reason, result.cause)
            name = "skipped"
        elif isinstance(result, AwaitApproval):
            ok = self.queue.finish_awaiting_approval(
                job.id, self.owner, result.plan, result.summary
            )
            name = "awaiting_approval"
        else:
            cause = Cause(
                code="engine.handler_crashed",
                record=job.label,
                missing=f"the {job.flow} handler returned {type(result).__name__}, not an outcome",
            )
            ok = self.queue.finish_failed(job.id, self.owner, cause)
            name = "failed"
        return name if ok else "lost"

    # ------------------------------------------------------------ dispatching

    def drain(self) -> DrainStats:
        """Work until nothing is runnable and nothing is in flight (``sync --once``)."""
        stats = DrainStats()
        with ThreadPoolExecutor(self.workers, thread_name_prefix="shopodoo-worker") as pool:
            in_flight: dict[int, Future[list[str]]] = {}
            while True:
                for key in [k for k, fut in in_flight.items() if fut.done()]:
                    for outcome in self._result(key, in_flight.pop(key)):
                        stats.count(outcome)
                self._maybe_heartbeat(self._held_ids())
                self._fill(pool, in_flight, stats)
                if not in_flight:
                    held = self.queue.next_held_back()
                    if held is None or held - time.time() > SETTLE_WAIT:
                        return stats
                    # A job held back until its version settles (a second or two): this pass
                    # waits for it rather than leave a fresh change for the next one.
                    self._wake.clear()
                    self._wake.wait(max(0.01, held - time.time() + 0.01))
                    continue
                self._wake.wait(0.5)
                self._wake.clear()

    def _fill(
        self,
        pool: ThreadPoolExecutor,
        in_flight: dict[int, Future[list[str]]],
        stats: DrainStats | None = None,
    ) -> int:
        """Claim until every worker is busy; a batch flow's jobs go to a worker together."""
        claimed = 0
        names = self.flows.names()
        while len(in_flight) < self.workers and not self._stop.is_set():
            shop_ids = list(self.shops) if self.only_configured_shops else None
            job = self.queue.claim(self.owner, self.lease_seconds, flows=names, shop_ids=shop_ids)
            if job is None:
                break
            batch = [job]
            flow = self.flows.get(job.flow)
            size = int(getattr(flow, "batch_size", 1) or 1)
            if size > 1:
                try:
                    batch += self.queue.claim_batch(
                        self.owner,
                        self.lease_seconds,
                        flow=job.flow,
                        shop_id=job.shop_id,
                        limit=size - 1,
                    )
                except Exception:  # the job already claimed still runs, alone
                    log.exception("could not claim more %s jobs for a batch", job.flow)
            future = pool.submit(self.run_batch, batch)
            future.add_done_callback(lambda _f: self._wake.set())
            in_flight[job.id] = future
            self._batch_ids[job.id] = [j.id for j in batch]
            claimed += len(batch)
            if stats is not None:
                stats.claimed += len(batch)
        return claimed

    def _result(self, key: int, future: Future[list[str]]) -> list[str]:
        self._batch_ids.pop(key, None)
        try:
            return future.result()
        except Exception:  # run_batch already records failures; this is a last resort
            log.exception("worker thread failed")
            return ["error"]

    def _held_ids(self) -> list[int]:
        return [jid for ids in list(self._batch_ids.values()) for jid in ids]

    def _maybe_heartbeat(self, job_ids: list[int]) -> None:
        now = time.monotonic()
        if job_ids and now - self._last_heartbeat >= self.lease_seconds / 3:
            self._last_heartbeat = now
            self.queue.heartbeat(self.owner, job_ids, self.lease_seconds)

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
            return sum(1 for f in self._in_flight.values() if not f.done())

    def _loop(self) -> None:
        assert self._pool is not None
        while not self._stop.is_set():
            try:
                with self._lock:
                    for key in [k for k, f in self._in_flight.items() if f.done()]:
                        self._result(key, self._in_flight.pop(key))
                    self._maybe_heartbeat(self._held_ids())
                    if not self._paused.is_set():
                        self._fill(self._pool, self._in_flight)
                due = self.queue.next_due()
            except Exception:  # a locked or broken database must not kill the dispatcher
                log.exception("dispatcher iteration failed; retrying shortly")
                due = None
            timeout = 1.0 if due is None else min(1.0, max(0.05, due - time.time()))
            self._wake.wait(timeout)
            self._wake.clear()

    def stop(self, timeout: float = 20.0) -> int:
        """Stop claiming, let in-flight jobs finish for ``timeout`` s, release the rest.

        Returns how many jobs were released unfinished; none is ever left ``running``.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        deadline = time.monotonic() + timeout
        with self._lock:
            futures = list(self._in_flight.values())
        for future in futures:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(Exception):  # outcome already recorded by run_job
                future.result(timeout=remaining)
        released = self.queue.release(self.owner)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._thread = None
        self._pool = None
        return released
