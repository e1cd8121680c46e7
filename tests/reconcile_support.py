"""A console over a seeded, synced world for the audit, backfill and review tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orders_support import Console, open_console

from shopodoo_console import demo
from shopodoo_console.sim.seed_orders import SeededOrder
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store import links
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.reconcile.service import Reconcile

NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = NOW - timedelta(days=30)
UNTIL = NOW - timedelta(days=10)


@dataclass
class Setup:
    world: World
    console: Console
    reconcile: Reconcile
    connections: Connections

    @property
    def domain(self) -> str:
        return self.world.shopify.domain


@contextmanager
def reconcile_world(home: Path, version: int = 19) -> Iterator[Setup]:
    shopify, odoo = build_scenarios(orders=0, customers=8, products=10)
    with World(shopify, odoo, odoo_version=version) as world:
        console = open_console(world, home)
        connections = Connections(console.config, secret_source=demo.secret_source(console.facts))
        reconcile = Reconcile(console.store, console.config, connections, console.engine.queue)
        try:
            yield Setup(world, console, reconcile, connections)
        finally:
            connections.close()
            console.engine.close_flows()
            console.store.close()


def link_seeded(console: Console, seeded: Sequence[SeededOrder]) -> None:
    """The console's links for orders it synced (as the orders flow would have written)."""
    for order in seeded:
        if order.odoo_id is not None:
            links.save_link(
                console.store,
                console.shop_id,
                "order",
                order.gid,
                "sale.order",
                order.odoo_id,
                label=order.odoo_name or "",
            )
