"""Stock sync: 5,000 variants × 2 locations changed in Odoo, pushed to Shopify.

The shop is on Shopify's standard plan (2,000-point bucket, 100 points/s). Setup, not
measured: a world of about 5,000 variants whose two locations are mapped to the Odoo
warehouses at the same addresses (the 3PL location is switched off: two locations, the common
case), and a first resync on a Plus bucket so every variant is linked to its Odoo product.
Then every variant's stock changes in Odoo at both warehouses, and the console's engine
(4 workers, batches of 125 products, one ``nodes()`` read and one ``inventorySetQuantities`` of
250 quantities per batch) pushes them: that is what is measured.

The baseline, run in the same process on a slice (``--naive-variants``): one variant at a
time, its levels read, then one ``inventorySetQuantities`` per level — what a simple
integration does. Both use fresh simulators with the same settings.

The ceiling is what the budget allows at the measured costs: per level, the read's cost per
variant over the levels it carries, plus the mutation's cost shared by 250 quantities:
``C = 60 × restore_rate / (cost(InventoryByVariants)/L + cost(InventorySetQuantities)/250)``.

Last line: ``stock sync: N levels/min (ceiling C), P% shopify budget, T throttled, W wrong
levels`` — targets: P ≥ 90, T = 0, W = 0.

Usage: python bench/stock_sync.py [--variants 5000] [--naive-variants 150]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from shopodoo_console import demo
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.shopify.auth import StaticToken
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import QuantityTarget
from shopodoo_console.sim.world import THIRD_PARTY, World, build_scenarios
from shopodoo_console.store.db import Store
from shopodoo_console.workflows import build_flows
from shopodoo_console.workflows.stock.resync import Resync

BUCKET, RESTORE_RATE = 2000, 100.0
LOCATIONS = {"Main Warehouse": "BER", "Outlet Store": "LYO"}


def make_world(variants: int) -> World:
    shopify, odoo = build_scenarios(seed=5, orders=0, customers=3, products=variants // 2)
    world = World(shopify, odoo, odoo_version=19).start()
    world.shopify.control.set_location_active(THIRD_PARTY, False)
    return world


def syncable(world: World) -> list[dict[str, Any]]:
    """Variants the flow publishes: tracked, not archived, one per SKU, present in Odoo."""
    store = world.shopify.store
    skus = Counter(store.nodes[v].get("sku") for v in store.variants)
    out = []
    for variant_id in store.variants:
        variant = store.nodes[variant_id]
        item = store.nodes[variant["_item"]]
        if not variant.get("sku") or skus[variant["sku"]] > 1 or not item["tracked"]:
            continue
        if store.nodes[variant["_product"]].get("status") == "ARCHIVED":
            continue
        out.append(variant)
    return out


def change_everything(world: World, variants: list[dict[str, Any]]) -> int:
    """Every variant's stock changes in Odoo at both warehouses (a count that differs from
    what Shopify shows); returns the number of levels changed."""
    store = world.shopify.store
    changed = 0
    for n, variant in enumerate(variants):
        for name, code in LOCATIONS.items():
            level = store.levels.get((variant["_item"], store.location(name)["id"]))
            if level is None or not level["isActive"]:
                continue
            units = (level["_q"]["available"] + 7 + n % 5) % 90
            world.odoo.control.set_stock(variant["sku"], code, units)
            changed += 1
    return changed


def wrong_levels(world: World, variants: list[dict[str, Any]]) -> int:
    """Levels Shopify shows that differ from Odoo's free quantity at the mapped warehouse."""
    free: dict[tuple[str, str], float] = {}
    for quant in world.odoo.env["stock.quant"].search_read(
        [], ["product_id", "location_id", "quantity", "reserved_quantity"]
    ):
        key = (quant["product_id"][1], quant["location_id"][1].split("/")[0])
        free[key] = free.get(key, 0.0) + quant["quantity"] - quant["reserved_quantity"]
    names = {
        p["default_code"]: p["display_name"]
        for p in world.odoo.env["product.product"].search_read([], ["default_code", "display_name"])
    }
    store = world.shopify.store
    wrong = 0
    for variant in variants:
        if variant["sku"] not in names:
            continue
        for name, code in LOCATIONS.items():
            level = store.levels.get((variant["_item"], store.location(name)["id"]))
            if level is None or not level["isActive"]:
                continue
            want = max(0, int(free.get((names[variant["sku"]], code), 0.0)))
            wrong += level["_q"]["available"] != want
    return wrong


def _engine(home: Path, world: World) -> tuple[Engine, Store]:
    facts = world.facts()
    paths = demo.demo_home(home)
    config = demo.write_config(
        paths,
        facts,
        odoo_protocol="json2",
        flows={"stock": "auto"},
        engine={"workers": 4, "lease_seconds": 300},
    )
    store = Store(paths.database_file)
    metrics = Metrics()
    flows = build_flows(config, store, metrics=metrics, secret_source=demo.secret_source(facts))
    return Engine(store, config, flows, metrics=metrics), store


# ---------------------------------------------------------------- the engine


def run_engine(variants: int) -> dict[str, Any]:
    world = make_world(variants)
    try:
        with tempfile.TemporaryDirectory(prefix="shopodoo-stock-") as tmp:
            home = Path(tmp)
            setup = _setup(home, world)
            targets = syncable(world)
            changed = change_everything(world, targets)
            world.shopify.control.set_plan("standard")
            engine, store = _engine(home, world)  # fresh clients: they learn the new bucket
            world.shopify.counters.reset()
            applied_before = len(world.shopify.store.adjustments)
            started = time.monotonic()
            summary = engine.sync_once()
            elapsed = time.monotonic() - started
            counters = world.shopify.counters.snapshot()
            levels = len(world.shopify.store.adjustments) - applied_before
            shopify = engine.flows.get("stock").connections.shopify(  # type: ignore[union-attr]
                engine.config.shops[0]
            )
            read = shopify.cost_per_unit("InventoryByVariants") or 0.0
            write = shopify.cost_per_unit("InventorySetQuantities") or 0.0
            states = dict(
                store.execute(
                    "SELECT state, count(*) FROM job WHERE source_version NOT LIKE '%resync%' "
                    "GROUP BY state"
                ).fetchall()
            )
            engine.close_flows()
            store.close()
            wrong = wrong_levels(world, targets)
    finally:
        world.stop()
    return {
        "variants": len(targets),
        "changed": changed,
        "levels": levels,
        "seconds": elapsed,
        "polled": sum(p.new for p in summary.polls),
        "states": states,
        "points": counters.get("points_spent", 0),
        "requested": counters.get("points_requested", 0),
        "throttled": counters.get("throttled", 0),
        "operations": counters.get("operations", {}),
        "read_cost": read,
        "write_cost": write,
        "wrong": wrong,
        **setup,
    }


def _setup(home: Path, world: World) -> dict[str, Any]:
    """Map both locations and link every variant with a resync, on a Plus bucket."""
    world.shopify.control.set_plan("plus")
    engine, store = _engine(home, world)
    shop = next(iter(engine.shops.values()))
    demo.seed_location_mappings(engine.queue, shop.id, world.facts())
    flow = engine.flows.get("stock")
    connections = flow.connections  # type: ignore[union-attr]
    assert shop.config is not None
    resync = Resync(
        store,
        engine.queue,
        shop,
        connections.shopify(shop.config),
        connections.odoo(),
        company_id=shop.config.odoo_company_id,
    )
    started = time.monotonic()
    resync.list_variants()
    engine.runner.drain()
    progress = resync.follow(lambda _p: None)
    seconds = time.monotonic() - started
    links = store.execute("SELECT count(*) FROM link WHERE kind = 'stock'").fetchone()[0]
    engine.close_flows()
    store.close()
    assert progress is not None and progress.done
    return {"setup_seconds": seconds, "setup_links": links, "setup_total": progress.total}


# ---------------------------------------------------------------- the naive baseline


def run_naive(variants: int) -> dict[str, Any]:
    """One variant at a time: read its levels, then one mutation per level."""
    world = make_world(variants)
    try:
        targets = syncable(world)
        changed = change_everything(world, targets)
        facts = world.facts()
        world.shopify.control.set_plan("standard")
        shopify = ShopifyClient(
            facts["shop_domain"],
            auth=StaticToken(facts["shop_token"]),
            base_url=facts["shop_base_url"],
        )
        store = world.shopify.store
        locations = {code: store.location(name)["id"] for name, code in LOCATIONS.items()}
        world.shopify.counters.reset()
        started = time.monotonic()
        levels = 0
        for n, variant in enumerate(targets):
            read = shopify.inventory_by_variants([variant["id"]], levels=2)[variant["id"]]
            if read is None:
                continue
            quants = world.odoo.control.quants(variant["sku"])
            for code, location in locations.items():
                level = read.levels.get(location)
                units = sum(
                    q["quantity"] - q["reserved_quantity"]
                    for q in quants
                    if q["location"].startswith(code)
                )
                if level is None or level.available == int(units):
                    continue
                shopify.set_inventory(
                    [QuantityTarget(read.item_id, location, int(units), level.available)],
                    idempotency_key=f"naive-{n}-{code}",
                )
                levels += 1
        elapsed = time.monotonic() - started
        counters = world.shopify.counters.snapshot()
        shopify.close()
    finally:
        world.stop()
    return {
        "variants": len(targets),
        "changed": changed,
        "levels": levels,
        "seconds": elapsed,
        "points": counters.get("points_spent", 0),
        "throttled": counters.get("throttled", 0),
    }


# ---------------------------------------------------------------- report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=5000)
    parser.add_argument("--naive-variants", type=int, default=150)
    args = parser.parse_args()

    naive = run_naive(args.naive_variants)
    naive_rate = naive["levels"] / naive["seconds"] * 60
    print(
        f"naive:  {naive['levels']} levels of {naive['variants']} variants in "
        f"{naive['seconds']:.1f} s = {naive_rate:.0f} levels/min, "
        f"{naive['points'] / max(1, naive['levels']):.1f} Shopify points/level, "
        f"{naive['throttled']} throttled"
    )

    run = run_engine(args.variants)
    rate = run["levels"] / run["seconds"] * 60
    per_level = run["read_cost"] / len(LOCATIONS) + run["write_cost"] / 250
    ceiling = 60 * RESTORE_RATE / per_level if per_level else 0.0
    budget = run["points"] / (run["seconds"] * RESTORE_RATE + BUCKET) * 100
    print(
        f"setup:  resync on a Plus bucket linked {run['setup_links']} variants of "
        f"{run['setup_total']} in {run['setup_seconds']:.1f} s (not measured)"
    )
    print(
        f"engine: {run['changed']} levels changed in Odoo ({run['variants']} variants × "
        f"{len(LOCATIONS)} locations), {run['polled']} jobs polled, {run['levels']} levels "
        f"set in {run['seconds']:.1f} s = {rate:.0f} levels/min; jobs {run['states']}"
    )
    print(
        f"engine: measured cost {run['read_cost']:.2f} points per variant read "
        f"(InventoryByVariants), {run['write_cost']:.0f} per inventorySetQuantities of up to "
        f"250; {run['points']} points spent ({run['requested']} requested) over "
        f"{run['seconds']:.0f} s (restore {RESTORE_RATE:.0f}/s + {BUCKET} bucket); calls "
        f"{run['operations']}"
    )
    burst = BUCKET / per_level if per_level else 0.0
    print(
        f"ceiling: {ceiling:.0f} levels/min sustained at {RESTORE_RATE:.0f} points/s "
        f"({per_level:.3f} points per level); the run also starts with a full bucket "
        f"({BUCKET} points ≈ {burst:.0f} levels), so over {run['seconds']:.0f} s the budget "
        f"allows {ceiling + burst / run['seconds'] * 60:.0f} levels/min"
    )
    print(
        f"engine vs naive: x{rate / max(naive_rate, 1e-9):.2f} levels/min, "
        f"{naive['points'] / max(1, naive['levels']) / max(per_level, 1e-9):.1f}x fewer "
        "points per level"
    )
    print(
        f"stock sync: {rate:.0f} levels/min (ceiling {ceiling:.0f}), {budget:.0f}% shopify "
        f"budget, {run['throttled']} throttled, {run['wrong']} wrong levels"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
