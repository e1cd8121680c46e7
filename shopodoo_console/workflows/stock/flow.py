"""The stock flow: Odoo is where stock is true; Shopify shows what can be sold (issue 12).

It reads as its stages: **poll** Odoo (products whose quants or done moves changed, at which
version) → for a batch of jobs: **replay** a send an earlier attempt left unfinished →
**fetch** the Odoo products → **match** each to its Shopify variant and read its levels →
read the Odoo **quantities** of the mapped locations → **plan** per product (pure; review mode
stops here for approval) → **apply** (one ``inventorySetQuantities`` per 250 quantities,
compare-and-set, idempotent) → **link** in step. A job is done only when every quantity of its
plan took effect; what is left alone is skipped with its reason and listed on the Mappings
screen.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence

from shopodoo_console.causes import CauseError
from shopodoo_console.engine.flows import Failed, JobContext, Outcome, Page, ShopRef
from shopodoo_console.store import stock as store_stock
from shopodoo_console.store.db import Store
from shopodoo_console.store.stock import STOCK_LINK
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.pipeline import (
    LinkTarget,
    LinkWriter,
    Synced,
    open_items,
    outcome,
    review,
    shop_config,
)
from shopodoo_console.workflows.stock.apply import StockApply
from shopodoo_console.workflows.stock.jobs import StockJob
from shopodoo_console.workflows.stock.locations import LocationCache, mapped_locations
from shopodoo_console.workflows.stock.match import (
    Sides,
    match_variants,
    read_products,
    read_quantities,
)
from shopodoo_console.workflows.stock.plan import StockFacts, plan_levels
from shopodoo_console.workflows.stock.poll import StockPoll
from shopodoo_console.workflows.stock.settings import StockSettings

log = logging.getLogger(__name__)

NAME = "stock"


class StockFlow:
    name = NAME
    stream = NAME
    batch_size = 125  # 250 quantities at two locations: one read, one mutation per batch

    def __init__(self, store: Store, connections: Connections) -> None:
        self.store = store
        self.connections = connections
        self.locations = LocationCache()

    def close(self) -> None:
        self.connections.close()

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]:
        config = shop_config(shop)
        roots = [m.odoo_location_id for m in mapped_locations(self.store, shop.id).values()]
        return StockPoll(
            self.store,
            shop,
            self.connections.odoo(),
            StockSettings.from_shop(config),
            roots,
        ).pages(since)

    def handle(self, ctx: JobContext) -> Outcome:
        return self.handle_batch([ctx])[0]

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]:
        jobs = [StockJob(ctx) for ctx in contexts]
        batch: _Batch | None = None
        try:
            batch = _Batch(self, contexts[0].shop)
            batch.run(jobs)
        except CauseError as exc:  # Odoo or Shopify unavailable for the whole batch
            for job in jobs:
                if not job.all_done:
                    job.fail(exc.cause)
        outcomes = [outcome(job, done_message(job), job.result()) for job in jobs]
        if batch is not None:
            finishing = [j.ctx.job.id for j, o in zip(jobs, outcomes, strict=True) if not
                         isinstance(o, Failed)]  # fmt: skip
            batch.settle(jobs, finishing)
        return outcomes


class _Batch:
    """One batch of stock jobs of one shop: its rules, clients and stages."""

    def __init__(self, flow: StockFlow, shop: ShopRef) -> None:
        config = shop_config(shop)
        self.store = flow.store
        self.shop = shop
        self.settings = StockSettings.from_shop(config)
        self.mode = config.mode(NAME)
        shopify = flow.connections.shopify(config)
        locations = flow.locations.get(
            shop.domain, lambda: shopify.locations(include_inactive=True, include_legacy=True)
        )
        self.names = {loc.id: loc.name for loc in locations}
        active = [loc for loc in locations if loc.active]
        self.sellable = frozenset(loc.id for loc in active)
        self.sides = Sides(
            store=flow.store,
            shop=shop,
            odoo=flow.connections.odoo(),
            shopify=shopify,
            levels=max(1, len(active)),
            mapped=mapped_locations(flow.store, shop.id),
            company_id=config.odoo_company_id,
        )
        self.apply = StockApply(
            flow.store,
            shop,
            shopify,
            levels=self.sides.levels,
            names=self.names,
            replan=self.plan,
        )
        self.links = LinkWriter(flow.store)

    def run(self, jobs: list[StockJob]) -> None:
        self.apply.replay(jobs)
        for job in open_items(jobs):  # units an earlier attempt saw sold, still unknown to Odoo
            sold = (job.ctx.job.intent or {}).get("sold") or {}
            job.sold = {str(k): int(v) for k, v in sold.items()}
        read_products(self.sides, open_items(jobs))
        match_variants(self.sides, open_items(jobs))
        read_quantities(self.sides, open_items(jobs))
        for job in open_items(jobs):
            self.plan(job)
        self.apply.run(open_items(jobs))

    def plan(self, job: StockJob) -> None:
        assert job.inventory is not None and job.product is not None
        facts = StockFacts(
            job_key=job.key,
            record=f"{job.label} → Shopify {job.title}",
            title=job.title,
            inventory=job.inventory,
            quantities=job.quantities,
            mapped=self.sides.mapped,
            names=self.names,
            sellable=self.sellable,
            sold=job.sold,
        )
        job.plan, notes = plan_levels(facts, self.settings)
        job.notes = notes
        waiting = review(job, self.mode)
        if waiting is not None:
            job.end(waiting)
            job.audit("console", "planned", f"Waiting for approval: {waiting.summary}")

    def settle(self, jobs: Sequence[StockJob], finishing: list[int]) -> None:
        """Links in step for every job that finished in step; skips noted, or forgotten."""
        synced: list[str] = []
        for job in jobs:
            if job.variant_id is None or not _in_step(job):
                continue
            target = LinkTarget(
                self.shop.id, STOCK_LINK, job.variant_id, "product.product", job.product_id,
                job.title,
            )  # fmt: skip
            self.links.synced(target, Synced(job.ctx.job.source_version, _digest(job)))
            synced.append(job.variant_id)
        notes = [n for job in jobs for n in job.notes]
        try:
            store_stock.note_skips(self.store, self.shop.id, notes)
            noted = {n.subject for n in notes}
            fine = [v for v in synced if v not in noted]
            store_stock.clear_skips(self.store, self.shop.id, "variant", fine)
            levels = [f"{v}@{loc}" for v in fine for loc in self.sides.mapped]
            store_stock.clear_skips(
                self.store, self.shop.id, "level", [s for s in levels if s not in noted]
            )
            # A resync is done once none of its jobs waits (its last one may be this batch's,
            # or one a newer change superseded): every batch of the shop looks.
            store_stock.finish_resyncs(self.store, self.shop.id, finishing)
        except Exception:  # bookkeeping for the screens: it must not cost the jobs their outcome
            log.exception("could not record the stock flow's skips or resync progress")


def _in_step(job: StockJob) -> bool:
    """Every quantity of the plan took effect, or every level was already right."""
    if job.replayed:
        return True
    plan = job.plan
    if not job.open or plan is None or plan.blocked is not None:
        return False
    if plan.skip is not None:
        return bool(plan.extra.get("in_step"))
    return job.all_done


def _digest(job: StockJob) -> str:
    """What the levels were brought to: location → quantity, from the plan's actions (or the
    levels found already right)."""
    values = {}
    if job.plan is not None:
        for action in job.plan.actions:
            values[action.data.get("location")] = action.data.get("quantity")
    blob = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def done_message(job: StockJob) -> str:
    plan = job.plan
    if plan is None:
        return ""
    if job.replayed:
        return plan.summary
    changed = [e.action.summary for e in job.effects if e.ok and e.note == "set"]
    stocked = [e.action.summary for e in job.effects if e.ok and e.note == "stocked"]
    already = [e.action.summary for e in job.effects if e.ok and e.note == "already there"]
    parts = []
    if changed:
        parts.append("set " + ", ".join(changed))
    if stocked:
        parts.append(", ".join(stocked))
    if already:
        parts.append("already right: " + ", ".join(already))
    text = "; ".join(parts) or plan.summary
    return f"{job.title}: {text}"
