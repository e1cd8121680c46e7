"""The apply stage of the stock flow: quantities set once, compare-and-set, in few calls.

**One mutation for many jobs.** The ``set_quantity`` actions of a batch go to Shopify in
``inventorySetQuantities`` calls of at most 250 quantities, a job's quantities never split
between two calls (Shopify applies a call whole or not at all, so a job is either applied or
not). Each call's idempotency key is derived from what it carries: the shop, each job's key
and attempt, each action's key (job, location, quantity read, quantity to set).

**Intent before effect.** Before a call is sent, its quantities are kept under its key
(``stock_send``) and every job of it records the key as its intent. If the process dies after
Shopify applied the call but before the jobs finished, each job's retry resends exactly that
call with that key, and Shopify replays the first result instead of applying it again: the
level is set once. A later attempt that knows its previous one ended (a refusal, a stale
answer) makes a fresh plan whose call gets a fresh key.

**Never blind.** Every quantity carries the ``available`` read (``changeFromQuantity``). A
sale between the read and the write makes Shopify refuse the call as stale: those items are
read again, planned again (a new key, since the quantity read changed) and sent again — at
most ``ROUNDS`` times, then the job waits and retries later. Nothing is overwritten blindly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.crashpoints import crashpoint
from shopodoo_console.engine.flows import Done, ShopRef
from shopodoo_console.engine.queue import LeaseLost
from shopodoo_console.shopify import inventory as inv
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import QuantityTarget
from shopodoo_console.store import stock as store_stock
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.pipeline import Action, Effect, Guard, Plan
from shopodoo_console.workflows.stock.jobs import StockJob
from shopodoo_console.workflows.stock.plan import ACTIVATE, SET

ROUNDS = 3  # the first send, then at most two re-reads after stale answers
MAX_PER_CALL = inv.MAX_QUANTITIES
REASON = "correction"  # Shopify's reason for "our system of record says so"
APPLIED = (inv.SET, inv.UNCHANGED)

Replan = Callable[[StockJob], None]
LEASE_LOST = Cause(
    code="engine.lease_expired",
    missing="a job of this inventory call was taken back before the call was sent (the "
    "console stalled past its lease): nothing was sent",
    retry_note="nothing was sent; the retry reads both systems again",
)


def send_key(domain: str, jobs: Sequence[StockJob], actions: Sequence[Action]) -> str:
    """A call's idempotency key: the same call (same jobs at the same attempt, same
    quantities) always gets the same key; anything else gets another."""
    blob = json.dumps(
        [domain, [(j.key, j.ctx.job.attempts) for j in jobs], [a.key for a in actions]],
        sort_keys=True,
    )
    return "shopodoo-stock-" + hashlib.sha256(blob.encode()).hexdigest()[:40]


def _key(text: str) -> str:
    return "shopodoo-stock-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _row(target: QuantityTarget) -> list[Any]:
    return [target.inventory_item_id, target.location_id, target.quantity, target.change_from]


def _target(action: Action) -> QuantityTarget:
    d = action.data
    return QuantityTarget(d["item"], d["location"], int(d["quantity"]), d["change_from"])


def _sets(job: StockJob) -> list[Action]:
    if job.plan is None or not job.open or not job.going:
        return []
    return [a for a in job.plan.actions if a.kind == SET]


class StockApply:
    def __init__(
        self,
        store: Store,
        shop: ShopRef,
        shopify: ShopifyClient,
        *,
        levels: int,
        names: dict[str, str],
        replan: Replan,
    ) -> None:
        self.store = store
        self.shop = shop
        self.shopify = shopify
        self.levels = levels
        self.names = names  # Shopify location names, for what the operator reads
        self.replan = replan

    # ------------------------------------------------------------ an interrupted send

    def replay(self, jobs: Sequence[StockJob]) -> None:
        """Jobs whose last attempt recorded a send and did not finish: resend that call with
        its key. What Shopify applied then is replayed, not applied again; a job whose
        quantities all took effect is done. Any other answer: the job plans afresh."""
        groups: dict[str, list[StockJob]] = {}
        for job in jobs:
            intent = job.ctx.job.intent or {}
            if job.open and intent.get("stock_send"):
                groups.setdefault(str(intent["stock_send"]), []).append(job)
        for key, group in groups.items():
            rows = store_stock.load_send(self.store, key)
            if rows is None:
                continue  # kept for a week only: plan afresh (compare-and-set still guards)
            targets = [QuantityTarget(r[0], r[1], int(r[2]), r[3]) for r in rows]
            batches = self.shopify.set_inventory(targets, idempotency_key=key, reason=REASON)
            status = {
                (o.target.inventory_item_id, o.target.location_id): o.status
                for batch in batches
                for o in batch.outcomes
            }
            for job in group:
                self._replayed(job, key, status)

    def _replayed(self, job: StockJob, key: str, status: dict[tuple[str, str], str]) -> None:
        intent = job.ctx.job.intent or {}
        mine = [QuantityTarget(r[0], r[1], int(r[2]), r[3]) for r in intent.get("targets", [])]
        if not mine or any(status.get((t.inventory_item_id, t.location_id)) not in APPLIED
                           for t in mine):  # fmt: skip
            job.audit("shopify", "replay_refused", f"Resent {key}: not applied; planning afresh")
            return
        names = intent.get("names", {})
        actions = [
            Action(
                SET,
                f"{names.get(t.location_id, t.location_id)} {t.change_from} → {t.quantity}",
                Guard.IDEMPOTENCY_KEY,
                key=key,
                data={"item": t.inventory_item_id, "location": t.location_id,
                      "quantity": t.quantity, "change_from": t.change_from},
            )
            for t in mine
        ]  # fmt: skip
        summary = f"{intent.get('title') or job.label}: " + ", ".join(a.summary for a in actions)
        job.plan = Plan.to_do(job.label, actions, summary, replayed=True)
        for action in actions:
            job.record(Effect.done(action, "replayed", key=key))
        job.variant_id = intent.get("variant")
        job.replayed = True
        job.audit(
            "shopify",
            "replayed",
            f"Resent the interrupted inventorySetQuantities {key}: Shopify replayed its first "
            "result — set once",
        )
        job.end(
            Done(
                f"Set {summary.partition(': ')[2]} (resent after an interruption; "
                "Shopify replayed it: set once)",
                job.result(),
            )
        )

    # ------------------------------------------------------------ this attempt

    def run(self, jobs: Sequence[StockJob]) -> None:
        self._activate(jobs)
        pending = [j for j in jobs if _sets(j)]
        for _ in range(ROUNDS):
            stale: list[StockJob] = []
            for call in self._calls(pending):
                stale += self._send(call)
            if not stale:
                return
            self._reread(stale)
            pending = [j for j in stale if _sets(j)]
        for job in pending:
            self._keep_sold(job)
            job.fail(
                Cause(
                    code="shopify.inventory_busy",
                    missing=f"the level changed in Shopify between each read and write, "
                    f"{ROUNDS} times in a row (sales coming in)",
                    retry_note="nothing was overwritten: each write was refused as stale; the "
                    "retry reads the level again",
                )
            )

    @staticmethod
    def _keep_sold(job: StockJob) -> None:
        """The units seen sold since the first read outlive this attempt: the retry holds
        them back too (Odoo has not seen those orders yet)."""
        with contextlib.suppress(LeaseLost):  # no longer ours: its outcome is discarded
            job.ctx.record_intent({**(job.ctx.job.intent or {}), "sold": job.sold})

    def _calls(self, jobs: list[StockJob]) -> list[list[StockJob]]:
        """Jobs grouped into calls of at most 250 quantities, each job whole."""
        calls: list[list[StockJob]] = []
        size = 0
        for job in jobs:
            n = len(_sets(job))
            if not calls or size + n > MAX_PER_CALL:
                calls.append([])
                size = 0
            calls[-1].append(job)
            size += n
        return calls

    def _send(self, jobs: list[StockJob]) -> list[StockJob]:
        """One call; returns the jobs to read again (stale, or no longer stocked)."""
        actions = [(job, a) for job in jobs for a in _sets(job)]
        targets = [_target(a) for _, a in actions]
        key = send_key(self.shop.domain, jobs, [a for _, a in actions])
        store_stock.save_send(self.store, self.shop.id, key, [_row(t) for t in targets])
        try:
            for job in jobs:
                job.ctx.record_intent(self._intent(job, key))
        except LeaseLost:  # a claim expired (the process stalled): send nothing
            for job in jobs:
                job.fail(LEASE_LOST)
            return []
        crashpoint("stock.before_set")
        batches = self.shopify.set_inventory(targets, idempotency_key=key, reason=REASON)
        crashpoint("stock.after_set")
        outcomes = {
            (o.target.inventory_item_id, o.target.location_id): (o, b)
            for b in batches
            for o in b.outcomes
        }
        again: dict[int, StockJob] = {}
        for job, action in actions:
            outcome, batch = outcomes[(action.data["item"], action.data["location"])]
            if outcome.status in APPLIED:
                job.record(
                    Effect.done(
                        action,
                        "set" if outcome.status == inv.SET else "already there",
                        key=batch.key,
                        before=action.data["change_from"],
                        after=action.data["quantity"],
                    )
                )
            elif outcome.status in (inv.STALE_STATUS, inv.NOT_STOCKED_STATUS):
                again[id(job)] = job
            elif outcome.status == inv.REJECTED:
                job.record(Effect.failed(action, self._refused(outcome, action)))
            elif batch.conflict is not None or outcome.error is not None:
                job.record(Effect.failed(action, self._batch_refused(batch)))
            else:
                again[id(job)] = job  # refused for another quantity of its call: send again
        return [job for job in again.values() if job.going]

    def _intent(self, job: StockJob, key: str) -> dict[str, Any]:
        names = {a.data["location"]: self.names.get(a.data["location"], "") for a in _sets(job)}
        return {
            "stock_send": key,
            "sold": job.sold,
            "targets": [_row(_target(a)) for a in _sets(job)],
            "variant": job.variant_id,
            "title": job.title,
            "names": names,
        }

    def _reread(self, jobs: list[StockJob]) -> None:
        """Read the items again and plan again: a new quantity read, a new key."""
        items = [j.inventory.item_id for j in jobs if j.inventory is not None]
        fresh = self.shopify.inventory_by_items(items, levels=self.levels)
        for job in jobs:
            assert job.inventory is not None
            now = fresh.get(job.inventory.item_id)
            if now is None:
                job.fail(
                    Cause(
                        code="shopify.not_found",
                        missing=f"Shopify no longer returns the inventory item of {job.title}",
                        retry_note="nothing was written",
                    )
                )
                continue
            changed = []
            for location, level in job.inventory.levels.items():
                again = now.levels.get(location)
                if again is None or again.available == level.available:
                    continue
                name = self.names.get(location, location)
                changed.append(f"{name} {level.available} → {again.available}")
                sold = level.available - again.available
                if sold > 0:  # sold since the read: Odoo has not seen that order yet
                    job.sold[location] = job.sold.get(location, 0) + sold
            job.inventory = dataclasses.replace(
                job.inventory, levels=now.levels, tracked=now.tracked
            )
            job.audit(
                "shopify",
                "stale",
                "The level changed in Shopify between the read and the write ("
                + (", ".join(changed) or "no longer stocked")
                + "): nothing was overwritten; planned again from the fresh level",
            )
            self.replan(job)

    def _refused(self, outcome: inv.QuantityOutcome, action: Action) -> Cause:
        error = outcome.error
        return Cause(
            code="shopify.user_error",
            missing=f"Shopify refused {action.summary}: "
            f"{error.message if error else 'no reason given'}",
            operation="Shopify inventorySetQuantities",
            detail=f"{error.code}: {error.message}" if error else "",
            retry_note="nothing was applied for this item (Shopify applies a call whole or "
            "not at all)",
        )

    def _batch_refused(self, batch: inv.InventoryBatch) -> Cause:
        errors = "; ".join(f"{e.code or ''} {e.message}".strip() for e in batch.result.user_errors)
        code = batch.conflict
        return Cause(
            code="shopify.idempotency_conflict" if code else "shopify.user_error",
            missing=f"Shopify refused the inventory call {batch.key}: {errors}",
            operation="Shopify inventorySetQuantities",
            detail=errors,
            retry_note="nothing was applied; the retry sends a fresh call with a fresh key",
        )

    # ------------------------------------------------------------ activations

    def _activate(self, jobs: Sequence[StockJob]) -> None:
        """Stock items at mapped locations where Shopify does not stock them yet (only when
        the shop allows it); the key is the action's, so a retry cannot stock it twice."""
        for job in jobs:
            if job.plan is None or not job.open:
                continue
            for action in [a for a in job.plan.actions if a.kind == ACTIVATE]:
                result = self.shopify.inventory_activate(
                    action.data["item"],
                    action.data["location"],
                    idempotency_key=_key(action.key),
                    available=int(action.data["quantity"]),
                )
                if result.ok:
                    job.record(Effect.done(action, "stocked", after=action.data["quantity"]))
                else:
                    message = "; ".join(e.message for e in result.user_errors) or "refused"
                    job.record(
                        Effect.failed(
                            action,
                            Cause(
                                code="shopify.user_error",
                                missing=f"Shopify refused to stock {job.title} there: {message}",
                                operation="Shopify inventoryActivate",
                                retry_note="nothing was stocked",
                            ),
                        )
                    )
