"""The orders flow: every Shopify order becomes exactly one Odoo sale order (DESIGN §3, §7).

It reads as its stages: **poll** (orders changed, at which version) → for a batch of jobs:
**fetch** the orders fresh → **match** what exists (linked, stamped in Odoo, or new) →
**plan** per order (pure; review mode stops here for approval) → **apply** the actions →
**link** in step. A job is done only when every action of its plan took effect.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from shopodoo_console.causes import CauseError
from shopodoo_console.engine.flows import JobContext, Outcome, Page, ShopRef
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.orders.apply import Apply
from shopodoo_console.workflows.orders.fetch import fetch_orders
from shopodoo_console.workflows.orders.jobs import OrderJob
from shopodoo_console.workflows.orders.link import OrderLinks
from shopodoo_console.workflows.orders.match import (
    CountryCache,
    Lookups,
    Matcher,
    ProductCache,
    match_orders,
)
from shopodoo_console.workflows.orders.plan import Rules, plan_order
from shopodoo_console.workflows.orders.poll import OrdersPoll
from shopodoo_console.workflows.orders.report import done_message
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.pipeline import LinkWriter, open_items, outcome, review, shop_config

log = logging.getLogger(__name__)

NAME = "orders"
# What a person changed in Odoo when a Shopify change was not written (the Review counts them).
CONFLICT_FIELDS = {
    "conflict.edited_in_odoo": ("order_line",),
    "conflict.order_locked": ("state",),
}


class OrdersFlow:
    name = NAME
    stream = NAME
    batch_size = 25  # one nodes() fetch, one stamp lookup, one metafieldsSet per batch

    def __init__(self, store: Store, connections: Connections) -> None:
        self.store = store
        self.connections = connections
        self.products = ProductCache()
        self.countries = CountryCache()

    def close(self) -> None:
        self.connections.close()

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]:
        config = shop_config(shop)
        settings = OrdersSettings.from_shop(config)
        shopify = self.connections.shopify(config)
        return OrdersPoll(self.store, shop, shopify, settings).pages(since)

    def handle(self, ctx: JobContext) -> Outcome:
        return self.handle_batch([ctx])[0]

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]:
        jobs = [OrderJob(ctx) for ctx in contexts]
        try:
            batch = _Batch(self, contexts[0].shop)
            fetch_orders(batch.shopify, jobs)
            lookups = match_orders(batch.matcher, open_items(jobs), batch.rules, batch.links)
            for job in open_items(jobs):
                batch.plan(job, lookups)
            batch.apply.run(open_items(jobs))
            for job in open_items(jobs):
                batch.link(job)
        except CauseError as exc:  # Odoo or Shopify unavailable for the whole batch
            for job in jobs:
                job.fail(exc.cause)
        return [outcome(job, done_message(job), job.result()) for job in jobs]


class _Batch:
    """One batch of order jobs of one shop: its rules, clients and stages."""

    def __init__(self, flow: OrdersFlow, shop: ShopRef) -> None:
        config = shop_config(shop)
        settings = OrdersSettings.from_shop(config)
        self.mode = config.mode(NAME)
        self.rules = Rules(
            shop,
            settings,
            config.odoo_company_id,
            config.odoo_warehouse_id,
            config.odoo_pricelist_id,
        )
        self.shopify = flow.connections.shopify(config)
        odoo = flow.connections.odoo()
        self.matcher = Matcher(
            flow.store, odoo, shop, config.odoo_company_id, flow.products, flow.countries
        )
        self.links = OrderLinks(LinkWriter(flow.store), shop, self.rules.include_taxes)
        reason = "paid in Shopify" if settings.confirm == "paid" else "shop rule"
        self.apply = Apply(odoo, self.shopify, self.links, config.odoo_company_id, reason)

    def plan(self, job: OrderJob, lookups: Lookups) -> None:
        assert job.order is not None and job.match is not None
        job.plan = plan_order(job.order, job.match, lookups, self.rules)
        if job.plan.blocked is not None:
            job.audit("console", "blocked", job.plan.blocked.cause().missing)
            return
        waiting = review(job, self.mode)
        if waiting is not None:
            job.end(waiting)
            job.audit("console", "planned", f"Waiting for approval: {waiting.summary}")

    def link(self, job: OrderJob) -> None:
        """In step: every action took effect, or there was nothing to do."""
        plan, match = job.plan, job.match
        if plan is None or match is None or job.odoo_id is None or plan.blocked is not None:
            return
        if plan.skip is not None:
            if plan.skip.in_step and not match.unchanged:
                self.links.settle(job, None)
            if plan.skip.cause is not None:
                code = plan.skip.cause.code
                job.audit(
                    "console",
                    "conflict",
                    plan.skip.reason,
                    code=code,
                    model="sale.order",
                    odoo_id=job.odoo_id,
                    fields=list(CONFLICT_FIELDS.get(code, ())),
                )
            return
        if job.all_done:
            back = job.effect("write_back")
            self.links.settle(job, back.data.get("own_version") if back else None)
