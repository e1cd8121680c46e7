"""Orders end to end: Shopify orders into Odoo sale orders through both simulators.

2,000 orders (1-5 lines, about half from returning customers) on Shopify's standard plan
(2,000-point bucket, 100 points/s) and an Odoo that answers every call 20 ms late. The
console's engine (4 workers, batches of 25, one nodes() fetch and one stamp lookup per batch)
against a naive baseline run in the same process: one order at a time, one call per lookup
(fetch the order, look up each SKU, the customer, create, stamp, confirm, write back).

The naive baseline runs on a slice (``--naive-orders``, default 200) and is reported per order
and per minute; both runs use fresh simulators with the same settings.

Usage: python bench/orders_e2e.py [--orders 2000] [--naive-orders 200] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopodoo_console import demo
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.odoo import OdooClient
from shopodoo_console.shopify.auth import StaticToken
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store.db import Store
from shopodoo_console.workflows import build_flows

RESTORE_RATE = 100.0


def make_world(orders: int, latency: float) -> World:
    # ~0.63 customers per order leaves about half of the orders to returning customers.
    shopify, odoo = build_scenarios(
        seed=11, orders=orders, customers=max(5, int(orders * 0.63)), days=20
    )
    world = World(shopify, odoo, odoo_version=19).start()
    if latency:
        world.odoo.faults.add(kind="latency", delay=latency, times=None)
    return world


def duplicates(world: World) -> int:
    refs = Counter(
        o["client_order_ref"]
        for o in world.odoo.env["sale.order"].search_read([], ["client_order_ref"])
    )
    return sum(n - 1 for n in refs.values() if n > 1)


def odoo_calls(world: World) -> int:
    """Calls the console made (the simulator's own version probe excluded)."""
    return world.odoo.call_count() - world.odoo.call_count("web", "version")


# ---------------------------------------------------------------- the engine


def run_engine(orders: int, latency: float) -> dict[str, Any]:
    world = make_world(orders, latency)
    try:
        with tempfile.TemporaryDirectory(prefix="shopodoo-e2e-") as tmp:
            facts = world.facts()
            paths = demo.demo_home(Path(tmp))
            config = demo.write_config(
                paths, facts, odoo_protocol="json2", engine={"workers": 4, "lease_seconds": 120}
            )
            store = Store(paths.database_file)
            metrics = Metrics()
            flows = build_flows(
                config, store, metrics=metrics, secret_source=demo.secret_source(facts)
            )
            engine = Engine(store, config, flows, metrics=metrics)
            demo.seed_mappings(engine.queue, next(iter(engine.shops)), facts)
            world.shopify.counters.reset()
            calls_before = odoo_calls(world)
            started = time.monotonic()
            summary = engine.sync_once()
            elapsed = time.monotonic() - started
            states = dict(
                store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall()
            )
            created = world.odoo.env["sale.order"].search_count([])
            points = world.shopify.counters["points_spent"]
            throttled = world.shopify.counters["throttled"]
            second = _second_pass(engine, store, world)
            engine.close_flows()
            store.close()
    finally:
        world.stop()
    return {
        "orders": orders,
        "created": created,
        "seconds": elapsed,
        "states": states,
        "polled": sum(p.new for p in summary.polls),
        "calls": odoo_calls(world) - calls_before,
        "points": points,
        "throttled": throttled,
        "duplicates": duplicates(world),
        **second,
    }


def _second_pass(engine: Engine, store: Store, world: World) -> dict[str, Any]:
    """The next poll after the sync: it sees every order again, bumped by our own write-back.
    What it costs (points, jobs, fetches, Odoo calls) is what our own writes cost."""
    jobs_before = store.execute("SELECT count(*) FROM job").fetchone()[0]
    points_before = world.shopify.counters["points_spent"]
    fetches_before = world.shopify.counters.operations.get("OrdersForSync", 0)
    calls_before = odoo_calls(world)
    summary = engine.sync_once()
    return {
        "second_points": world.shopify.counters["points_spent"] - points_before,
        "second_seen": sum(p.new + p.seen for p in summary.polls),
        "second_jobs": store.execute("SELECT count(*) FROM job").fetchone()[0] - jobs_before,
        "second_fetches": world.shopify.counters.operations.get("OrdersForSync", 0)
        - fetches_before,
        "second_calls": odoo_calls(world) - calls_before,
    }


# ---------------------------------------------------------------- the naive baseline


def run_naive(orders: int, latency: float) -> dict[str, Any]:
    """One order at a time, one call per lookup, no batching, no caching."""
    world = make_world(orders, latency)
    try:
        facts = world.facts()
        shopify = ShopifyClient(
            facts["shop_domain"],
            auth=StaticToken(facts["shop_token"]),
            base_url=facts["shop_base_url"],
        )
        odoo = OdooClient(
            facts["odoo_url"],
            database=facts["odoo_database"],
            login=facts["odoo_login"],
            api_key=facts["odoo_api_key"],
        )
        odoo.connect()
        ids = [
            s.gid
            for page in shopify.orders_updated_since(datetime(2020, 1, 1, tzinfo=UTC))
            for s in page
        ]
        world.shopify.counters.reset()
        calls_before = odoo_calls(world)
        started = time.monotonic()
        created = 0
        for gid in ids:
            created += _naive_order(shopify, odoo, facts, gid)
        elapsed = time.monotonic() - started
        points = world.shopify.counters["points_spent"]
        calls = odoo_calls(world) - calls_before
        dupes = duplicates(world)
        shopify.close()
        odoo.close()
    finally:
        world.stop()
    return {
        "orders": len(ids),
        "created": created,
        "seconds": elapsed,
        "calls": calls,
        "points": points,
        "duplicates": dupes,
    }


def _naive_order(shopify: ShopifyClient, odoo: OdooClient, facts: dict[str, Any], gid: str) -> int:
    order = shopify.order(gid)
    if order is None or order.get("customer") is None:
        return 0
    stamp = f"naive_order_{order['legacyResourceId']}"
    if odoo.find_stamps([stamp]):
        return 0
    lines = []
    for line in order["lineItems"]["nodes"]:
        sku = line.get("sku")
        found = (
            odoo.search_read("product.product", [("default_code", "=", sku)], ["id"], limit=1)
            if sku
            else []
        )
        if not found:
            return 0
        price = float(line["originalUnitPriceSet"]["shopMoney"]["amount"])
        lines.append(
            (
                0,
                0,
                {
                    "product_id": found[0]["id"],
                    "product_uom_qty": line["currentQuantity"],
                    "price_unit": price,
                },
            )
        )
    email = (order["customer"].get("defaultEmailAddress") or {}).get("emailAddress") or ""
    partners = odoo.search_read("res.partner", [("email", "=ilike", email)], ["id"], limit=1)
    partner = (
        partners[0]["id"]
        if partners
        else odoo.create(
            "res.partner", {"name": order["customer"].get("displayName") or email, "email": email}
        )
    )
    sale = odoo.create_stamped(
        "sale.order",
        stamp,
        {
            "partner_id": partner,
            "client_order_ref": order["name"],
            "company_id": facts["company_id"],
            "order_line": lines,
        },
    )
    if order.get("displayFinancialStatus") == "PAID":
        odoo.call("sale.order", "action_confirm", [sale])
    shopify.metafields_set(
        [
            {
                "ownerId": gid,
                "namespace": "shopodoo",
                "key": "odoo_id",
                "type": "single_line_text_field",
                "value": str(sale),
            }
        ]
    )
    return 1


# ---------------------------------------------------------------- report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--naive-orders", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    naive = run_naive(args.naive_orders, latency)
    naive_rate = naive["created"] / naive["seconds"] * 60
    print(
        f"naive:  {naive['created']} of {naive['orders']} orders in {naive['seconds']:.1f} s"
        f" = {naive_rate:.0f} orders/min, {naive['calls'] / max(1, naive['created']):.2f} "
        f"odoo calls/order, {naive['points'] / max(1, naive['created']):.1f} Shopify "
        f"points/order, {naive['duplicates']} duplicates"
    )

    run = run_engine(args.orders, latency)
    rate = run["created"] / run["seconds"] * 60
    calls = run["calls"] / max(1, run["created"])
    budget = run["points"] / (run["seconds"] * RESTORE_RATE + 2000) * 100
    print(
        f"engine: {run['polled']} orders polled, {run['created']} sale orders in "
        f"{run['seconds']:.1f} s = {rate:.0f} orders/min; jobs {run['states']}"
    )
    print(
        f"engine: {calls:.2f} odoo calls/order, {run['points'] / max(1, run['created']):.1f} "
        f"Shopify points/order, {run['points']} points over {run['seconds']:.0f} s "
        f"(restore {RESTORE_RATE:.0f}/s + 2000 bucket), {run['throttled']} throttled"
    )
    print(f"engine vs naive: x{rate / naive_rate:.2f} orders/min")
    share = run["second_points"] / max(1, run["points"]) * 100
    print(
        f"second pass: {run['second_jobs']} jobs, {run['second_fetches']} fetches, "
        f"{run['second_calls']} odoo calls, {run['second_points']} points"
    )
    print(
        f"orders e2e: {rate:.0f} orders/min, {calls:.2f} odoo calls/order, "
        f"{budget:.0f}% shopify budget, {run['duplicates']} duplicates, "
        f"second pass {run['second_points']} points ({share:.1f}% of first)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
