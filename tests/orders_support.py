"""A console wired to both simulators over real HTTP, for the orders flow tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shopodoo_console import demo
from shopodoo_console.config import Config, Paths
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store.db import Store
from shopodoo_console.workflows import build_flows

UNMAPPED = "OT-XL-001"


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")  # in Shopify, deliberately absent from Odoo


@dataclass
class Console:
    """One console process's worth of objects on a shared home folder."""

    world: World
    paths: Paths
    config: Config
    store: Store
    engine: Engine
    facts: dict[str, Any]

    @property
    def shop_id(self) -> int:
        return next(iter(self.engine.shops))

    # -------------------------------------------------------------- Shopify side

    def new_order(
        self,
        *,
        email: str = "chloe.dubois.0@example.com",
        sku: str = "CM-RED-000",
        quantity: int = 2,
        status: str = "PAID",
        **extra: Any,
    ) -> str:
        spec = {
            "customer": email,
            "lines": [{"sku": sku, "quantity": quantity}],
            "shipping": [{"title": "Standard", "code": "STD", "price": "4.90"}],
            "financialStatus": status,
            # Placed a moment ago: its updatedAt second is over, so its job is not held back
            # (tests of that hold pass ``createdAt=None`` for an order placed this second).
            "createdAt": iso(datetime.now(UTC) - timedelta(seconds=2)),
            **extra,
        }
        return self.world.shopify.control.create_order(spec)

    def shopify_order(self, gid: str) -> dict[str, Any]:
        order = self.world.shopify.control.order(gid)
        assert order is not None
        return order

    # -------------------------------------------------------------- Odoo side

    def sale_orders(self, name: str | None = None) -> list[dict[str, Any]]:
        domain = [("client_order_ref", "=", name)] if name else []
        return self.world.odoo.env["sale.order"].search_read(
            domain, ["name", "state", "client_order_ref", "partner_id", "order_line"]
        )

    def lines_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return self.world.odoo.env["sale.order.line"].search_read(
            [("order_id", "=", order["id"])], ["product_id", "product_uom_qty", "price_unit"]
        )

    # -------------------------------------------------------------- console side

    def job(self, gid: str | None = None) -> dict[str, Any]:
        rows = self.jobs(gid)
        assert len(rows) == 1, rows
        return rows[0]

    def jobs(self, gid: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE source_id = ?", [gid]) if gid else ("", [])
        cursor = self.store.execute(
            f"SELECT id, state, seen_count, attempts, cause_code, cause, result, source_version "
            f"FROM job {where} ORDER BY id",
            params,
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fast_policy() -> RetryPolicy:
    """Backoff of milliseconds, so a test can run the retry at once (same rules otherwise)."""
    return RetryPolicy(base=0.001, cap=0.002, rng=random.Random(3))


def make_world(version: int, *, orders: int = 0) -> World:
    shopify, odoo = build_scenarios(
        orders=orders, customers=3, products=3, unmapped_skus=(UNMAPPED,)
    )
    return World(shopify, odoo, odoo_version=version)


def open_console(
    world: World,
    home: Path,
    *,
    mode: str = "auto",
    options: dict[str, Any] | None = None,
    write_config: bool = True,
    workers: int = 2,
    flows: tuple[str, ...] = ("orders",),
) -> Console:
    """A console on ``home`` (a second call on the same home is "a restart")."""
    paths = demo.demo_home(home)
    facts = world.facts()
    protocol = "jsonrpc" if world.odoo_version < 19 else "json2"
    if write_config:
        config = demo.write_config(
            paths,
            facts,
            mode=mode,
            options=options,
            odoo_protocol=protocol,
            engine={"workers": workers, "lease_seconds": 30},
            flows=flows,
        )
    else:
        from shopodoo_console.config import load_config

        config = load_config(paths.config_file)
    store = Store(paths.database_file)
    metrics = Metrics()
    flows = build_flows(config, store, metrics=metrics, secret_source=demo.secret_source(facts))
    engine = Engine(store, config, flows, metrics=metrics, policy=fast_policy())
    console = Console(world, paths, config, store, engine, facts)
    demo.seed_mappings(engine.queue, console.shop_id, facts)
    return console
