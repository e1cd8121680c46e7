"""The reconciliation audit at scale (issue 14): 50,000 orders, paced to half the budget.

Seeds a synced world of ``--orders`` orders (Shopify orders, their Odoo sale orders and the
console's links), plants one mismatch of every kind, then:

* baseline: Shopify's paced order pages alone (``orders_for_audit`` under the same budget
  share, no Odoo, no comparison) — the ceiling the budget share allows;
* the audit itself (both passes, findings stored), while a "live sync" thread polls the same
  shop with the same client every second — its worst wait for the bucket shows whether the
  audit starves it.

Figures are the simulators' (they run in this process): compare the ratios, not absolutes.
The last line is ``audit: N orders/min, P% shopify budget, first finding after S s``.

    .venv/bin/python bench/audit.py --orders 50000
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shopodoo_console import demo
from shopodoo_console.shopify.audit import orders_for_audit
from shopodoo_console.shopify.pacing import BudgetShare
from shopodoo_console.sim.mismatches import Mismatches
from shopodoo_console.sim.seed_orders import synced_orders
from shopodoo_console.sim.shopify import PLANS
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.reconcile.service import Reconcile

NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = NOW - timedelta(days=40)
UNTIL = NOW - timedelta(days=1)


def seed(world: World, orders: int, store: Store, shop_id: int) -> int:
    started = time.monotonic()
    seeded = synced_orders(world.shopify, world.odoo, orders, since=SINCE, until=UNTIL)
    with store.atomic():
        for order in seeded:
            assert order.odoo_id is not None
            links.save_link(store, shop_id, "order", order.gid, "sale.order", order.odoo_id)
    planted = Mismatches(world.shopify, world.odoo).every_kind(seeded)
    for p in planted:
        if p.unlink:
            links.delete_link(store, shop_id, "order", p.unlink)
    gc.collect()
    gc.freeze()  # the seeded world stays: later collections need not scan it again
    print(
        f"seed: {orders:,} synced orders with links, {len(planted)} planted mismatches in "
        f"{time.monotonic() - started:.1f}s"
    )
    return len(planted)


class LiveSync(threading.Thread):
    """A stand-in for the live poll: a cheap page of changes since its cursor every second, on
    the client the audit uses (one bucket)."""

    def __init__(self, client: object) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.stop = threading.Event()
        self.polls = 0
        self.worst = 0.0
        self.cursor = datetime.now(UTC)  # a live poll sees the few changes since its cursor

    def once(self) -> float:
        """One poll's time with nothing else running (the reference)."""
        self.stop.set()
        self.run(first=True)
        return self.worst

    def run(self, first: bool = False) -> None:
        while first or not self.stop.wait(1.0):
            first = False
            started = time.monotonic()
            pages = self.client.orders_updated_since(  # type: ignore[attr-defined]
                self.cursor, timedelta(0), page_size=50
            )
            next(pages, None)  # one page of changes, as a poll with little new reads
            pages.close()
            self.worst = max(self.worst, time.monotonic() - started)
            self.polls += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--plan", default="plus", choices=sorted(PLANS))
    args = parser.parse_args()
    shopify, odoo = build_scenarios(orders=0, customers=40, products=20)
    root = Path(tempfile.mkdtemp(prefix="shopodoo-bench-audit-"))
    with World(shopify, odoo, odoo_version=19) as world:
        world.shopify.control.set_plan(args.plan)
        facts = world.facts()
        paths = demo.demo_home(root)
        config = demo.write_config(paths, facts)
        store = Store(paths.database_file)
        connections = Connections(config, secret_source=demo.secret_source(facts))
        tools = Reconcile(store, config, connections)
        shop = tools.shop(world.shopify.domain)
        planted = seed(world, args.orders, store, shop.id)
        client = connections.shopify(config.shops[0])

        # Baseline: the paced Shopify pages alone.
        share = BudgetShare(0.5)
        started = time.monotonic()
        count = sum(len(p.orders) for p in orders_for_audit(client, SINCE, UNTIL, share=share))
        base_seconds = time.monotonic() - started
        base_rate = count / base_seconds * 60
        print(
            f"baseline, paced Shopify pages alone ({args.plan}): {count:,} orders in "
            f"{base_seconds:.1f}s ({base_rate:,.0f}/min), {share.report().fraction:.0%} budget"
        )

        alone = LiveSync(client).once()
        live = LiveSync(client)
        live.start()
        last = [0.0]

        def progress(p: object) -> None:
            now = time.monotonic()
            if now - last[0] > 15:
                last[0] = now
                from shopodoo_console.engine.progress import bar_line

                print("  " + bar_line(p), flush=True)  # type: ignore[arg-type]

        result = tools.audit(world.shopify.domain, SINCE, UNTIL, on_progress=progress)
        live.stop.set()
        live.join()
        connections.close()
        store.close()
    found = result.findings
    print(
        f"audit: {result.orders:,} Shopify orders and {result.odoo_orders:,} Odoo sale orders "
        f"in {result.seconds:.1f}s; {found} findings for {planted} planted "
        f"({', '.join(f'{n} {k}' for k, n in sorted(result.counts.items()))})"
    )
    print(
        f"audit vs baseline: {result.orders_per_minute / base_rate:.2f}x the paced pages' rate "
        f"(the comparison costs {max(0.0, result.seconds - base_seconds):.1f}s over the reads)"
    )
    print(
        f"live sync during the audit: {live.polls} polls, slowest {live.worst:.2f}s "
        f"(alone: {alone:.2f}s; waiting for the bucket included)"
    )
    print(
        f"audit: {result.orders_per_minute:,.0f} orders/min, {result.budget:.0%} shopify budget, "
        f"first finding after {result.first_finding or 0:.1f} s"
    )


if __name__ == "__main__":
    main()
