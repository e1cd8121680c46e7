"""The backfill: orders older than the poll cursor go through the same job keys (issue 14).

The orders poll only looks forward from its cursor. A backfill lists the orders *created* in
``[since, until)`` (``until``: the cursor by default) and enqueues each at its version through
the orders poll's own :meth:`~shopodoo_console.workflows.orders.poll.OrdersPoll.changes`, so a
job key is exactly the one the live poll makes: an order the console already has is counted
again ("seen"), never done twice, and our own write-back versions make no job at all.

Large ranges go through one Shopify bulk operation (a whole period for ~11 points, read as a
JSONL stream); small ones are paged, paced to half the budget. Each batch of jobs is enqueued in
the same transaction that records where the backfill resumes (the bulk operation's id and the
byte offset of the next record, or the creation time of the last order paged), so a backfill
killed mid-way and started again with the same period picks up where it stopped: nothing is
lost, nothing is enqueued twice. Its jobs are queued below live work (priority −1): the live
sync stays first in line.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.engine.crashpoints import crashpoint
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.engine.owners import make_owner, owner_is_dead
from shopodoo_console.engine.progress import Pace, Progress, finished
from shopodoo_console.engine.queue import Queue
from shopodoo_console.periods import iso, parse_iso
from shopodoo_console.shopify.audit import (
    orders_for_audit,
    period_query,
    stamp_of,
    stamps_query,
    window_gap,
)
from shopodoo_console.shopify.bulk import (
    BulkOperation,
    BulkOperations,
    BulkResultExpired,
    BulkStillRunning,
)
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import OrderStamp
from shopodoo_console.shopify.pacing import BudgetShare
from shopodoo_console.store import reconcile as runs
from shopodoo_console.store.reconcile import RunRow
from shopodoo_console.workflows.orders.flow import NAME as ORDERS
from shopodoo_console.workflows.orders.poll import OrdersPoll
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.reconcile.audit import ProgressSink

log = logging.getLogger(__name__)

KIND = "backfill"
BULK_THRESHOLD = 1000  # orders: above this, one bulk operation beats paging
BATCH = 250  # orders enqueued (and the resume point saved) per transaction
PRIORITY = -1  # below the live poll's jobs


class BackfillRunning(Exception):
    """Another process is running this backfill now."""


@dataclass
class BackfillResult:
    run_id: int
    state: str  # done | stopped | failed
    method: str  # bulk | paged | none
    orders: int  # orders read (over every process that worked on the run)
    new: int  # jobs created
    seen: int  # orders the console already had a job for at that version
    seconds: float
    since: str
    until: str
    resumed: bool = False
    warnings: list[str] = field(default_factory=list)
    message: str = ""


class Backfill:
    def __init__(
        self,
        queue: Queue,
        shop: ShopRef,
        shopify: ShopifyClient,
        *,
        since: datetime,
        until: datetime | None = None,
        on_progress: ProgressSink | None = None,
        stop: threading.Event | None = None,
        bulk_threshold: int = BULK_THRESHOLD,
        poll_interval: float = 1.5,
        clock_now: datetime | None = None,
    ) -> None:
        if shop.config is None:
            raise ValueError(f"the shop {shop.domain} is not in the config")
        self.queue = queue
        self.store = queue.store
        self.shop = shop
        self.shopify = shopify
        self.since = since
        self.explicit_until = until
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.bulk_threshold = bulk_threshold
        self.poll_interval = poll_interval
        self.now = clock_now
        self.owner = make_owner("backfill")
        self.pace = Pace(KIND)
        self.poll = OrdersPoll(self.store, shop, shopify, OrdersSettings.from_shop(shop.config))
        self.run_id = 0
        self.done = self.new = self.seen = 0
        self.batches = 0  # enqueued by this process (crash tests stop at a chosen one)
        self.total: int | None = None
        self.method = "none"
        self.warnings: list[str] = []
        self.position: dict[str, object] = {}
        self.until = since

    # ---------------------------------------------------------------- the run

    def run(self) -> BackfillResult:
        until = self._until()
        resumed = self._open_run(until)
        kept = self.position.get("until")
        if resumed and isinstance(kept, str):
            until = parse_iso(kept)  # the period the interrupted run had settled on
        self.until = until
        state, message = runs.DONE, ""
        try:
            if until <= self.since:
                message = f"nothing to do: the poll already covers everything since {iso(until)}"
            else:
                self._prepare(until, resumed)
                complete = self._bulk(until) if self.method == "bulk" else self._paged(until)
                if complete:
                    message = (
                        f"{self.done} orders read: {self.new} new jobs, {self.seen} already known"
                    )
                else:
                    state = runs.STOPPED
                    message = f"stopped after {self.done} orders; run it again to resume"
        except CauseError as exc:
            state, message = runs.FAILED, f"{exc.cause.code}: {exc.cause.missing}"
        except Exception as exc:  # a bug ends the run visibly; its position stays for a resume
            log.exception("backfill %s failed", self.run_id)
            state, message = runs.FAILED, f"{type(exc).__name__}: {exc}"
        runs.finish_run(self.store, self.run_id, self.owner, state, message)
        runs.record_event(
            self.store,
            shop_id=self.shop.id,
            event="backfill_" + state,
            message=f"Backfill of orders created {iso(self.since)} – {iso(until)}: {message}",
            data={"run_id": self.run_id, "new": self.new, "seen": self.seen},
        )
        self._emit(finished(self._progress("finished"), message or state))
        return BackfillResult(
            run_id=self.run_id,
            state=state,
            method=self.method,
            orders=self.done,
            new=self.new,
            seen=self.seen,
            seconds=self.pace.clock() - self.pace.started,
            since=iso(self.since),
            until=iso(until),
            resumed=resumed,
            warnings=list(self.warnings),
            message=message,
        )

    def _until(self) -> datetime:
        if self.explicit_until is not None:
            return self.explicit_until
        cursor = runs.cursor_position(self.store, self.shop.id, ORDERS)
        now = self.now or datetime.now(UTC)
        return min(parse_iso(cursor), now) if cursor else now

    def _open_run(self, until: datetime) -> bool:
        """Take over this period's interrupted run, or start one; True when resuming."""
        earlier = runs.unfinished_run(
            self.store,
            shop_id=self.shop.id,
            kind=KIND,
            since=iso(self.since),
            until=iso(self.explicit_until) if self.explicit_until else None,
            any_until=self.explicit_until is None,
        )
        if earlier is not None:
            if earlier.state == runs.RUNNING and not owner_is_dead(earlier.owner):
                raise BackfillRunning(
                    f"this backfill is already running (run {earlier.id}, {earlier.owner}); "
                    "wait for it, or stop it first"
                )
            if runs.take_over(self.store, earlier, self.owner):
                self._resume_from(earlier)
                return True
        self.run_id = runs.start_run(
            self.store,
            shop_id=self.shop.id,
            kind=KIND,
            since=iso(self.since),
            until=iso(self.explicit_until) if self.explicit_until else None,
            owner=self.owner,
        )
        return False

    def _resume_from(self, run: RunRow) -> None:
        self.run_id = run.id
        self.position = dict(run.position)
        self.done, self.total, self.method = run.done, run.total, run.method or "none"
        self.new = int(self.position.get("new", 0))  # type: ignore[call-overload]
        self.seen = int(self.position.get("seen", 0))  # type: ignore[call-overload]
        self.pace.resumed(self.done)

    def _prepare(self, until: datetime, resumed: bool) -> None:
        try:
            gap = window_gap(self.shopify.access_scopes().scopes, self.since)
        except CauseError as exc:
            self.warnings.append(f"could not read the app's access scopes: {exc.cause.missing}")
        else:
            if gap is not None:
                self.warnings.append(gap.missing + " " + gap.fix)
        if resumed and self.method != "none":
            return
        self._emit(self._progress("counting Shopify orders"))
        (self.total,) = self.shopify.orders_counts([period_query(self.since, until)])
        big = self.total is None or self.total > self.bulk_threshold
        self.method = "bulk" if big else "paged"
        runs.save_progress(
            self.store,
            self.run_id,
            self.owner,
            done=self.done,
            found=self.new,
            total=self.total,
            method=self.method,
            position={**self.position, "until": iso(self.until)},
        )

    # ---------------------------------------------------------------- bulk

    def _bulk(self, until: datetime) -> bool:
        with BulkOperations(self.shopify, poll_interval=self.poll_interval) as bulk:
            operation = self._bulk_operation(bulk, until)
            if operation is None:
                return False
            offset = int(self.position.get("offset", 0))  # type: ignore[call-overload]
            try:
                self._enqueue_records(bulk, operation, offset)
            except BulkResultExpired:
                # Kept seven days; an old resume runs the export again (the keys absorb repeats).
                self.position = {"new": self.new, "seen": self.seen}
                operation = self._bulk_operation(bulk, until)
                if operation is None:
                    return False
                self._enqueue_records(bulk, operation, 0)
        return not self.stop.is_set()

    def _bulk_operation(self, bulk: BulkOperations, until: datetime) -> BulkOperation | None:
        """Start (or adopt, or pick up by id after a kill) the export and wait for it."""
        op_id = self.position.get("operation")
        if not isinstance(op_id, str):
            op_id = bulk.start(stamps_query(self.since, until)).id
            self.position = {"operation": op_id, "offset": 0, "new": self.new, "seen": self.seen}
            self._save()
            crashpoint("backfill.bulk_started")

        def progress(op: BulkOperation) -> None:
            phase = f"Shopify bulk export {op.status.lower()} ({op.root_object_count:,} orders)"
            self._emit(self._progress(phase))

        try:
            return bulk.wait(op_id, stop=self.stop, on_progress=progress)
        except BulkStillRunning:
            return None

    def _enqueue_records(self, bulk: BulkOperations, operation: BulkOperation, offset: int) -> None:
        batch: list[OrderStamp] = []
        last = offset
        for record in bulk.records(operation, offset=offset):
            if record.parent_id is not None:
                continue
            batch.append(stamp_of(record.data))
            last = record.offset
            if len(batch) >= BATCH:
                self._enqueue(batch, {**self.position, "offset": last})
                batch = []
                if self.stop.is_set():
                    return
        if batch:
            self._enqueue(batch, {**self.position, "offset": last})

    # ---------------------------------------------------------------- paged

    def _paged(self, until: datetime) -> bool:
        after = self.position.get("created_after")
        since = parse_iso(after) if isinstance(after, str) else self.since
        share = BudgetShare(0.5)
        for page in orders_for_audit(self.shopify, since, until, share=share):
            if not page.orders:
                continue
            stamps = [OrderStamp(o.gid, o.legacy_id, o.name, o.updated_at) for o in page.orders]
            last = max(o.created_at for o in page.orders)
            self._enqueue(stamps, {"created_after": iso(last), "new": 0, "seen": 0})
            if self.stop.is_set():
                return False
        return True

    # ---------------------------------------------------------------- enqueue

    def _enqueue(self, stamps: list[OrderStamp], position: dict[str, object]) -> None:
        """One transaction: the jobs of these orders and where to resume after them."""
        self.poll.remember_own([s.gid for s in stamps])
        changes = [dataclasses.replace(c, priority=PRIORITY) for c in self.poll.changes(stamps)]
        with self.store.atomic():
            result = self.queue.enqueue(self.shop.id, self.shop.domain, ORDERS, changes)
            self.done += len(stamps)
            self.new += result.new
            self.seen += result.seen + (len(stamps) - len(changes))
            self.position = {**position, "new": self.new, "seen": self.seen}
            if not self._save():
                raise CauseError(
                    Cause(
                        code="engine.lease_expired",
                        record=f"backfill run {self.run_id}",
                        missing="another process took this backfill over",
                        retry_note="the jobs enqueued so far stay; the other process goes on",
                    )
                )
        self.batches += 1
        crashpoint(f"backfill.after_batch.{self.batches}")
        self._emit(self._progress(f"enqueuing ({self.method})"))

    def _save(self) -> bool:
        return runs.save_progress(
            self.store,
            self.run_id,
            self.owner,
            done=self.done,
            found=self.new,
            position={**self.position, "until": iso(self.until)},
        )

    def _progress(self, phase: str) -> Progress:
        return self.pace.progress(
            phase, self.done, self.total, self.new, run_id=self.run_id or None
        )

    def _emit(self, progress: Progress) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(progress)
        except Exception:
            log.exception("backfill progress handler failed")


__all__ = ["BULK_THRESHOLD", "KIND", "Backfill", "BackfillResult", "BackfillRunning"]
