"""The engine the CLI and the console share: polls, queue, runner, housekeeping, lease.

Headless (`shopodoo run`) and inside the TUI it is the same object. APScheduler 3's
``BackgroundScheduler`` (memory job store: our tables are the durable queue) triggers polls
and housekeeping; the runner's dispatcher thread works the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from shopodoo_console.config import Config, ShopConfig
from shopodoo_console.engine import events as ev
from shopodoo_console.engine.flows import Flow, FlowRegistry, ShopRef
from shopodoo_console.engine.lease import Holder, LeaseKeeper, SchedulerLease
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.engine.owners import make_owner
from shopodoo_console.engine.poller import Poller, PollResult, stream_of
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.engine.runner import DrainStats, Runner
from shopodoo_console.store.db import Store

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 10.0
PRUNE_SECONDS = 3600.0


class LeaseHeld(Exception):
    """Another process polls this database; the message says which."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(
            f"Another shopodoo process is polling this database: {holder.describe()}. "
            "Stop it first, or use it; this one will not poll."
        )
        self.holder = holder


@dataclass
class SyncSummary:
    polls: list[PollResult] = field(default_factory=list)
    drain: DrainStats = field(default_factory=DrainStats)
    expired: int = 0
    problems: int = 0


class Engine:
    def __init__(
        self,
        store: Store,
        config: Config,
        flows: FlowRegistry,
        *,
        events: ev.EventBus | None = None,
        owner: str | None = None,
        policy: RetryPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.events = events or ev.EventBus()
        self.metrics = metrics or Metrics()
        self.owner = owner or make_owner("console")
        self.queue = Queue(store, events=self.events, policy=policy)
        self.poller = Poller(self.queue)
        settings = config.engine
        self.runner = Runner(
            self.queue,
            flows,
            self._sync_shops(config.shops),
            owner=self.owner,
            workers=settings.workers,
            lease_seconds=settings.lease_seconds,
            only_configured_shops=True,
        )
        self.lease = SchedulerLease(store, self.owner)
        self._scheduler: BackgroundScheduler | None = None
        self._poll_failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self.state = "stopped"
        self.holder: Holder | None = None
        self.events.subscribe(self._on_event)

    @property
    def shops(self) -> Mapping[int, ShopRef]:
        """The configured shops by id (a snapshot: Settings replace it whole)."""
        return self.runner.setup.shops

    @property
    def flows(self) -> FlowRegistry:
        return self.runner.setup.flows

    def _sync_shops(self, shops: tuple[ShopConfig, ...]) -> dict[int, ShopRef]:
        refs: dict[int, ShopRef] = {}
        for shop in shops:
            shop_id = self.store.sync_shop(
                shop.domain,
                api_version=shop.api_version,
                odoo_company_id=shop.odoo_company_id,
                odoo_warehouse_id=shop.odoo_warehouse_id,
                odoo_pricelist_id=shop.odoo_pricelist_id,
                settings={"flows": shop.flows, "poll_seconds": shop.poll_seconds},
            )
            refs[shop_id] = ShopRef(shop_id, shop.domain, shop)
        return refs

    def _on_event(self, event: ev.Event) -> None:
        # Work created by a poll or an operator action should start now, not at the next tick.
        if event.kind == ev.ENQUEUED or (
            event.kind == ev.JOB_STATE and event.data.get("state") == "queued"
        ):
            self.runner.wake()

    # ------------------------------------------------------------ what runs

    def streams(self) -> list[tuple[ShopRef, Flow]]:
        """Every (shop, flow) whose mode is not ``off``."""
        setup = self.runner.setup
        pairs = []
        for shop in setup.shops.values():
            for flow in setup.flows:
                if shop.config is None or shop.config.mode(flow.name) != "off":
                    pairs.append((shop, flow))
        return pairs

    def poll_all(self) -> list[PollResult]:
        results = [self.poller.poll(shop, flow) for shop, flow in self.streams()]
        for result in results:
            if not result.ok:
                log.warning("poll of %s %s failed: %s", result.shop, result.stream, result.message)
        return results

    def poll_health(self) -> dict[tuple[str, str], tuple[int, float | None]]:
        """Per (shop domain, stream): polls failed in a row, and when the next poll runs
        (epoch seconds; None when nothing is scheduled). For the console's stream rows."""
        scheduler = self._scheduler
        health: dict[tuple[str, str], tuple[int, float | None]] = {}
        for shop, flow in self.streams():
            job_id = self._poll_id(shop, flow)
            job = scheduler.get_job(job_id) if scheduler is not None else None
            next_at = job.next_run_time.timestamp() if job and job.next_run_time else None
            health[(shop.domain, stream_of(flow))] = (self._poll_failures.get(job_id, 0), next_at)
        return health

    # ------------------------------------------------------------ one pass (sync --once)

    def sync_once(self) -> SyncSummary:
        """Poll every stream once and work the queue until nothing is runnable."""
        holder = self.lease.acquire()
        if holder is not None:
            raise LeaseHeld(holder)
        summary = SyncSummary()
        try:
            with LeaseKeeper(self.lease):
                summary.expired = self.queue.expire_leases()
                summary.polls = self.poll_all()
                summary.drain = self.runner.drain()
        finally:
            self.lease.release()
        summary.problems = self.queue.problem_count()
        return summary

    # ------------------------------------------------------------ background (run, TUI)

    def start(self) -> Holder | None:
        """Start polling and working; returns the holder instead if another process polls."""
        holder = self.lease.acquire()
        if holder is not None:
            self.holder = holder
            self._set_state("read_only")
            return holder
        self.queue.expire_leases()
        scheduler = BackgroundScheduler(
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
        )
        now = datetime.now()
        for shop, flow in self.streams():
            interval = shop.config.poll_interval(flow.name) if shop.config else 60
            scheduler.add_job(
                self._poll_job,
                "interval",
                seconds=interval,
                args=[shop, flow],
                id=self._poll_id(shop, flow),
                replace_existing=True,
                next_run_time=now,
            )
        scheduler.add_job(
            self._housekeeping,
            "interval",
            seconds=HOUSEKEEPING_SECONDS,
            id="housekeeping",
            replace_existing=True,
        )
        scheduler.start()
        self._scheduler = scheduler
        self._last_prune = 0.0
        self.runner.start()
        self._set_state("running")
        return None

    @staticmethod
    def _poll_id(shop: ShopRef, flow: Flow) -> str:
        return f"poll:{shop.domain}:{stream_of(flow)}"

    def _poll_job(self, shop: ShopRef, flow: Flow) -> None:
        with self.store.thread_connection():
            result = self.poller.poll(shop, flow)
        job_id = self._poll_id(shop, flow)
        if result.ok:
            self._poll_failures.pop(job_id, None)
            return
        # Back off on errors (Dolphie): min(max(interval * 2, 5), 30) s, doubling per failure.
        failures = self._poll_failures.get(job_id, 0) + 1
        self._poll_failures[job_id] = failures
        interval = shop.config.poll_interval(flow.name) if shop.config else 60
        delay = min(max(interval * 2**failures, 5), max(30, interval))
        log.warning(
            "poll of %s %s failed (%d in a row; next in %d s): %s",
            shop.domain,
            stream_of(flow),
            failures,
            delay,
            result.message,
        )
        if self._scheduler is not None:
            self._scheduler.modify_job(
                job_id, next_run_time=datetime.now() + timedelta(seconds=delay)
            )

    def _housekeeping(self) -> None:
        with self.store.thread_connection():
            if not self.lease.renew():
                log.error("scheduler lease lost to another process; stopping polls")
                self.holder = self.lease.holder()
                self._stop_background(timeout=self.config.engine.shutdown_timeout)
                self._set_state("read_only")
                return
            self.queue.expire_leases()
            self.store.checkpoint()  # here, not in a worker's commit
            if time.time() - self._last_prune > PRUNE_SECONDS:
                self._last_prune = time.time()
                pruned = self.queue.prune(self.config.engine.retention_days * 86400)
                if pruned:
                    log.info(
                        "pruned %d finished jobs older than %d days",
                        pruned,
                        self.config.engine.retention_days,
                    )

    def apply_config(self, config: Config, flows: FlowRegistry | None = None) -> None:
        """Take new shops, flow modes and poll intervals (and flows, if given) at once,
        without a restart (the settings screen calls this after saving). Shops and flows are
        swapped in one step: a batch claimed meanwhile runs with the setup it was claimed
        under, never a half-applied one. Engine sizing (workers, leases) needs a restart."""
        with self._lock:
            self.config = config
            self.runner.configure(self._sync_shops(config.shops), flows)
            scheduler = self._scheduler
            if scheduler is None:
                return
            wanted = {self._poll_id(shop, flow): (shop, flow) for shop, flow in self.streams()}
            for job in scheduler.get_jobs():
                if job.id.startswith("poll:") and job.id not in wanted:
                    job.remove()
            for job_id, (shop, flow) in wanted.items():
                interval = shop.config.poll_interval(flow.name) if shop.config else 60
                job = scheduler.get_job(job_id)
                if job is not None and job.trigger.interval.total_seconds() == interval:
                    job.modify(args=[shop, flow])
                    continue
                scheduler.add_job(
                    self._poll_job,
                    "interval",
                    seconds=interval,
                    args=[shop, flow],
                    id=job_id,
                    replace_existing=True,
                    next_run_time=datetime.now(),
                )

    def poll_now(self) -> None:
        """Ask every stream to poll at once (the console's "poll now")."""
        if self._scheduler is None:
            return
        for shop, flow in self.streams():
            self._scheduler.modify_job(self._poll_id(shop, flow), next_run_time=datetime.now())

    def pause(self) -> None:
        if self._scheduler is not None and self.state == "running":
            self._scheduler.pause()
            self.runner.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self._scheduler is not None and self.state == "paused":
            self._scheduler.resume()
            self.runner.resume()
            self._set_state("running")

    def stop(self, timeout: float | None = None) -> int:
        """Stop cleanly: in-flight jobs finish or are released; nothing stays ``running``."""
        released = self._stop_background(
            timeout=self.config.engine.shutdown_timeout if timeout is None else timeout
        )
        self.lease.release()
        self.close_flows()
        self._set_state("stopped")
        return released

    def close_flows(self) -> None:
        """Close what flows hold open (HTTP clients); they reopen on next use."""
        for flow in self.flows:
            flow.close()

    def _stop_background(self, timeout: float) -> int:
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        return self.runner.stop(timeout=timeout)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.events.emit(
            ev.SCHEDULER, state=state, holder=self.holder.describe() if self.holder else None
        )
