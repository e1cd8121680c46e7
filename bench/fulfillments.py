"""Fulfillments end to end: Odoo deliveries into Shopify fulfillments through both simulators.

2,000 done deliveries over orders shipped in one to three pickings each (a partial delivery,
then its backorders), four in five with a tracking number, on Shopify's standard plan
(2,000-point bucket, 100 points/s) and an Odoo that answers every call 20 ms late. The orders
and their sale orders are seeded as the orders flow leaves them (sale lines named after the
line items, order links in the console's database); then the console's engine (4 workers,
batches of 25: one pickings read, one fulfillment-state read per ~10 orders, one stamp call,
one metafieldsSet for the batch) runs the fulfillments flow alone.

Baseline, in the same process on fresh simulators: the same flow one delivery at a time
(batches of one: its own state read, its own stamp and marker calls) on a slice
(``--baseline-pickings``, default 300). A second pass after the engine run shows what the
next poll costs once everything is in step (nothing: the deliveries' own versions).

Duplicates: Shopify fulfillments that are not exactly one per delivery (each delivery linked
to one fulfillment, no fulfillment left over).

Usage: python bench/fulfillments.py [--pickings 2000] [--baseline-pickings 300]
       [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shopodoo_console import demo
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows import build_flows
from shopodoo_console.workflows.fulfillments.flow import FulfillmentsFlow

RESTORE_RATE = 100.0
BUCKET = 2000.0


# ---------------------------------------------------------------- the world


def make_world(latency: float) -> World:
    shopify, odoo = build_scenarios(seed=13, orders=0, customers=20, products=12, days=5)
    for product in odoo["products"]:  # plenty on the shelves: every delivery can ship
        product["stock"] = {code: 10**6 for code in product["stock"]}
    world = World(shopify, odoo, odoo_version=19).start()
    if latency:
        world.odoo.faults.add(kind="latency", delay=latency, times=None)
    return world


def seed(world: World, store: Store, shop_id: int, pickings: int, rng: random.Random) -> int:
    """Orders as the orders flow leaves them (linked, confirmed), then shipped in one to three
    deliveries each until ``pickings`` are done; returns how many were done."""
    env = world.odoo.env
    facts = world.facts()
    products = {
        p["default_code"]: p["id"]
        for p in env["product.product"].search_read(
            [("default_code", "!=", False)], ["default_code"]
        )
    }
    sold = {
        v["sku"]
        for p in world.shopify_scenario["products"]
        if p.get("status", "ACTIVE") == "ACTIVE"
        for v in p["variants"]
        if v.get("sku")
    }
    skus = sorted(sold & set(products) - {"DUP-SKU-1"})
    emails = [c["email"] for c in world.shopify_scenario["customers"] if c.get("email")]
    partner = env["res.partner"].search([], limit=1)[0]
    done = 0
    while done < pickings:
        parts = min(rng.choice((1, 2, 2, 3)), pickings - done)
        lines = [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 3))]
        while sum(q for _, q in lines) < parts:
            lines[0] = (lines[0][0], lines[0][1] + 1)
        gid = world.shopify.control.create_order(
            {
                "customer": rng.choice(emails),
                "financialStatus": "PAID",
                "lines": [{"sku": s, "quantity": q} for s, q in lines],
            }
        )
        order = world.shopify.control.order(gid)
        assert order is not None
        sale = _sale_order(env, facts, partner, order, products)
        links.write_link(
            store, shop_id, "order", gid, "sale.order", sale, label=order["name"], last_version=None
        )
        done += _ship(world, sale, parts, rng)
    return done


def _sale_order(
    env: Any, facts: dict[str, Any], partner: int, order: dict[str, Any], products: dict
) -> int:
    lines = [
        (
            0,
            0,
            {
                "product_id": products[line["sku"]],
                "product_uom_qty": line["quantity"],
                "name": line["title"]
                + (f" — {line['variantTitle']}" if line.get("variantTitle") else ""),
            },
        )
        for line in order["lineItems"]
    ]
    sale = env["sale.order"].create(
        [
            {
                "partner_id": partner,
                "client_order_ref": order["name"],
                "warehouse_id": facts["warehouse_id"],
                "company_id": facts["company_id"],
                "order_line": lines,
            }
        ]
    )[0]
    env["sale.order"].action_confirm([sale])
    return int(sale)


def _ship(world: World, sale: int, parts: int, rng: random.Random) -> int:
    """Ship the order's delivery in ``parts`` deliveries (a partial one, then backorders)."""
    (picking,) = world.odoo.control.pickings(sale)
    for part in range(parts):
        units = {m["product"]: int(m["product_uom_qty"]) for m in picking["moves"]}
        if part < parts - 1:  # leave at least one unit per delivery still to come
            left = parts - part - 1
            quantities: dict[str, float] | None = {}
            for sku, qty in units.items():
                take = min(qty, max(0, sum(units.values()) - left - sum(quantities.values())))
                quantities[sku] = float(rng.randint(0, take) if take else 0)
            if not any(quantities.values()):
                first = next(iter(units))
                quantities[first] = 1.0
        else:
            quantities = None
        tracking = f"1Z{rng.randrange(10**9, 10**10)}" if rng.random() < 0.8 else None
        shipped = world.odoo.control.validate_picking(
            picking["id"], quantities, tracking_ref=tracking, carrier="DHL Express"
        )
        picking = shipped["backorder"]
        if picking is None:
            return part + 1
    return parts


# ---------------------------------------------------------------- a run


def run(pickings: int, latency: float, *, batch_size: int) -> dict[str, Any]:
    world = make_world(latency)
    previous = FulfillmentsFlow.batch_size
    try:
        with tempfile.TemporaryDirectory(prefix="shopodoo-fulfil-") as tmp:
            facts = world.facts()
            paths = demo.demo_home(Path(tmp))
            config = demo.write_config(
                paths,
                facts,
                odoo_protocol="json2",
                engine={"workers": 4, "lease_seconds": 120},
                flows=("fulfillments",),
            )
            store = Store(paths.database_file)
            flows = build_flows(
                config, store, metrics=Metrics(), secret_source=demo.secret_source(facts)
            )
            engine = Engine(store, config, flows)
            shop_id = next(iter(engine.shops))
            done = seed(world, store, shop_id, pickings, random.Random(5))
            FulfillmentsFlow.batch_size = batch_size
            world.shopify.counters.reset()
            started = time.monotonic()
            engine.sync_once()
            while store.execute(
                "SELECT count(*) FROM job WHERE state IN ('queued', 'retrying')"
            ).fetchone()[0]:
                engine.runner.drain()  # retries and the last held-back versions
            elapsed = time.monotonic() - started
            counters = world.shopify.counters.snapshot()
            states = dict(
                store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall()
            )
            result = {
                "pickings": done,
                "seconds": elapsed,
                "states": states,
                "calls": counters.get("requests", 0),
                "operations": counters.get("operations", {}),
                "points": counters.get("points_spent", 0),
                "throttled": counters.get("throttled", 0),
                **_outcome(world, store, shop_id),
            }
            world.shopify.counters.reset()
            jobs_before = store.execute("SELECT count(*) FROM job").fetchone()[0]
            engine.sync_once()
            result["second_jobs"] = store.execute("SELECT count(*) FROM job").fetchone()[0] - (
                jobs_before
            )
            result["second_calls"] = world.shopify.counters["requests"]
            engine.close_flows()
            store.close()
    finally:
        FulfillmentsFlow.batch_size = previous
        world.stop()
    return result


def _outcome(world: World, store: Store, shop_id: int) -> dict[str, int]:
    """Fulfillments made, and how many are not exactly one per delivery."""
    made = [
        f["id"]
        for gid in list(world.shopify.store.orders)
        for f in world.shopify.control.fulfillments(gid)
    ]
    linked = {
        row[0]: row[1]
        for row in store.execute(
            "SELECT shopify_id, odoo_id FROM link WHERE shop_id = ? AND kind = 'fulfillment'",
            (shop_id,),
        ).fetchall()
    }
    per_picking = len(set(linked.values()))
    return {
        "fulfillments": len(made),
        "linked": per_picking,
        "duplicates": (len(made) - per_picking) + (len(linked) - per_picking),
    }


# ---------------------------------------------------------------- report


def line(label: str, r: dict[str, Any]) -> str:
    rate = r["fulfillments"] / r["seconds"] * 60
    per = r["calls"] / max(1, r["fulfillments"])
    ops = ", ".join(f"{k} {v}" for k, v in sorted(r["operations"].items()))
    return (
        f"{label}: {r['fulfillments']} fulfillments for {r['pickings']} deliveries in "
        f"{r['seconds']:.1f} s = {rate:.0f}/min, {per:.2f} shopify calls/fulfillment "
        f"({ops}), {r['points'] / max(1, r['fulfillments']):.1f} points/fulfillment, "
        f"{r['throttled']} throttled, jobs {r['states']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pickings", type=int, default=2000)
    parser.add_argument("--baseline-pickings", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    base = run(args.baseline_pickings, latency, batch_size=1)
    print(line("baseline (one delivery at a time)", base))
    eng = run(args.pickings, latency, batch_size=FulfillmentsFlow.batch_size)
    print(line("engine (batches of 25)", eng))
    rate = eng["fulfillments"] / eng["seconds"] * 60
    base_rate = base["fulfillments"] / base["seconds"] * 60
    per = eng["calls"] / max(1, eng["fulfillments"])
    base_per = base["calls"] / max(1, base["fulfillments"])
    budget = eng["points"] / (eng["seconds"] * RESTORE_RATE + BUCKET) * 100
    print(
        f"engine vs baseline: x{rate / base_rate:.2f} fulfillments/min, "
        f"{per:.2f} vs {base_per:.2f} shopify calls/fulfillment"
    )
    print(
        f"second pass: {eng['second_jobs']} new jobs, {eng['second_calls']} shopify calls; "
        f"{eng['linked']} deliveries linked to {eng['fulfillments']} fulfillments"
    )
    print(
        f"fulfillments: {rate:.0f}/min, {per:.2f} shopify calls/fulfillment, "
        f"{budget:.0f}% shopify budget, {eng['duplicates']} duplicates"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
