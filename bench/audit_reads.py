"""What the audit and backfill groundwork costs at scale (not a test; issue 14).

Seeds a synced world of ``--orders`` orders (Shopify orders with their Odoo sale orders), then
reads it the ways an audit or a backfill can:

* seeding: the fast hooks (``sim.seed_orders``) against the scenario generator (baseline);
* Shopify, paged: ``OrdersForAudit`` paced to ``--share`` of the bucket (points per order,
  share actually used, orders/min, first page latency) on ``--plan``;
* Shopify, bulk: one bulk operation and a streamed JSONL (points spent, orders/min);
* Odoo: sale orders of the period with stamps and line amounts (RPCs per page, orders/min).

Figures are the simulators' (they run in this process): compare the ratios, not absolutes.

    .venv/bin/python bench/audit_reads.py --orders 20000
"""

from __future__ import annotations

import argparse
import gc
import time
from datetime import UTC, datetime

import httpx

from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.audit import SaleOrderReader
from shopodoo_console.shopify import ShopifyClient, StaticToken
from shopodoo_console.shopify.audit import audit_order_of, audit_query, orders_for_audit
from shopodoo_console.shopify.bulk import BulkOperations
from shopodoo_console.shopify.pacing import BudgetShare
from shopodoo_console.sim.seed_orders import odoo_counterparts, shopify_orders
from shopodoo_console.sim.shopify import PLANS, ShopifySimulator, generate
from shopodoo_console.sim.world import World, build_scenarios

SINCE = datetime(2026, 10, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
TIMEOUT = httpx.Timeout(60.0)


def seeding(orders: int) -> World:
    shopify, odoo = build_scenarios(orders=0, customers=40, products=20)
    world = World(shopify, odoo, odoo_version=19).start()
    started = time.monotonic()
    seeded = shopify_orders(world.shopify, orders, since=SINCE, until=UNTIL)
    fast = time.monotonic() - started
    started = time.monotonic()
    odoo_counterparts(world.shopify, world.odoo, seeded)
    odoo = time.monotonic() - started
    started = time.monotonic()
    baseline = ShopifySimulator(generate(orders=orders, customers=40, products=20))
    slow = time.monotonic() - started
    del baseline
    gc.collect()
    gc.freeze()  # the seeded world stays: later collections need not scan it again
    print(
        f"seed: {orders} Shopify orders in {fast:.1f}s ({orders / fast:,.0f}/s) vs the scenario "
        f"generator {slow:.1f}s -> {slow / fast:.1f}x; their Odoo sale orders, stamps and "
        f"write-backs in {odoo:.1f}s ({orders / odoo:,.0f}/s)"
    )
    return world


def shopify_paged(world: World, share_of: float, plan: str) -> dict[str, float]:
    world.shopify.control.set_plan(plan)
    client = ShopifyClient(
        world.shopify.domain,
        auth=StaticToken(world.shopify.static_token),
        base_url=world.shopify.base_url,
        timeout=TIMEOUT,
    )
    share = BudgetShare(share_of)
    world.shopify.counters.reset()
    started = time.monotonic()
    first = None
    count = points = 0
    for page in orders_for_audit(client, SINCE, UNTIL, share=share):
        first = first if first is not None else time.monotonic() - started
        count += len(page.orders)
        points += page.actual_cost or 0
    seconds = time.monotonic() - started
    client.close()
    report = share.report()
    print(
        f"shopify paged ({plan}, share {share_of:.0%}): {count} orders in {seconds:.1f}s "
        f"({count / seconds * 60:,.0f}/min), first page after {first:.2f}s, "
        f"{points / max(count, 1):.3f} points/order, budget used {report.fraction:.0%}"
    )
    return {"rate": count / seconds * 60, "fraction": report.fraction}


def shopify_bulk(world: World) -> float:
    client = ShopifyClient(
        world.shopify.domain,
        auth=StaticToken(world.shopify.static_token),
        base_url=world.shopify.base_url,
        timeout=TIMEOUT,
    )
    world.shopify.counters.reset()
    started = time.monotonic()
    with BulkOperations(client, poll_interval=0.5) as bulk:
        count = sum(
            1 for record in bulk.run(audit_query(SINCE, UNTIL)) if audit_order_of(record.data)
        )
    seconds = time.monotonic() - started
    client.close()
    points = world.shopify.counters["points_spent"]
    print(
        f"shopify bulk: {count} orders in {seconds:.1f}s ({count / seconds * 60:,.0f}/min), "
        f"{points} points in all"
    )
    return count / seconds * 60


def odoo_period(world: World) -> float:
    client = OdooClient(
        world.odoo.url,
        database=world.odoo.database,
        login=world.odoo.login,
        api_key=world.odoo.api_key,
        timeout=TIMEOUT,
    )
    reader = SaleOrderReader(client, page_size=500)
    started = time.monotonic()
    pages = count = 0
    for page in reader.in_period(SINCE, UNTIL):
        pages += 1
        count += len(page)
    seconds = time.monotonic() - started
    client.close()
    print(
        f"odoo period: {count} sale orders in {seconds:.1f}s ({count / seconds * 60:,.0f}/min), "
        f"{reader.calls} RPCs for {pages} pages"
    )
    return count / seconds * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--plan", default="plus", choices=sorted(PLANS))
    args = parser.parse_args()
    world = seeding(args.orders)
    try:
        paged = shopify_paged(world, args.share, args.plan)
        bulk = shopify_bulk(world)
        odoo = odoo_period(world)
    finally:
        world.stop()
    print(
        f"audit reads: shopify {paged['rate']:,.0f}/min paged at "
        f"{paged['fraction']:.0%} budget, {bulk:,.0f}/min bulk ({bulk / paged['rate']:.1f}x); "
        f"odoo {odoo:,.0f}/min"
    )


if __name__ == "__main__":
    main()
