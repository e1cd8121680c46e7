"""A console running the stock flow against both simulators over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orders_support import fast_policy

from shopodoo_console import demo
from shopodoo_console.config import Config, Paths, load_config
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows import build_flows

MAIN, OUTLET = "Main Warehouse", "Outlet Store"
ODOO_CODES = {MAIN: "BER", OUTLET: "LYO"}


def make_world(version: int, *, products: int = 3, seed: int = 7) -> World:
    shopify, odoo = build_scenarios(seed=seed, orders=0, customers=3, products=products)
    return World(shopify, odoo, odoo_version=version)


@dataclass
class StockConsole:
    world: World
    paths: Paths
    config: Config
    store: Store
    engine: Engine
    facts: dict[str, Any]
    _before: set[str] = field(default_factory=set)
    _after_job: int = 0  # jobs() and states() count from here (after settle())

    @property
    def shop_id(self) -> int:
        return next(iter(self.engine.shops))

    def sync(self) -> Any:
        return self.engine.sync_once()

    def close(self) -> None:
        self.engine.close_flows()
        self.store.close()

    # -------------------------------------------------------------- both sides

    def available(self, sku: str, location: str = MAIN) -> int | None:
        level = self.world.shopify.control.level(sku, location)
        return None if level is None else int(level["available"])

    def odoo_stock(self, sku: str, location: str = MAIN, quantity: float = 0.0) -> None:
        self.world.odoo.control.set_stock(sku, ODOO_CODES.get(location, location), quantity)

    def adjustments(self, sku: str | None = None, location: str | None = None) -> list[dict]:
        """Quantity changes Shopify applied since :meth:`settle` (or since the start); jobs and
        states count from there too."""
        found = self.world.shopify.control.adjustments(sku, location)
        return [a for a in found if a["group"] not in self._before]

    def settle(self) -> None:
        """One sync of everything the first poll finds (the scenario's drift), then a clean
        slate: adjustments and Shopify counters from here on."""
        self.sync()
        self._before = {a["group"] for a in self.world.shopify.control.adjustments()}
        self._after_job = self.store.execute("SELECT coalesce(max(id), 0) FROM job").fetchone()[0]
        self.world.shopify.counters.reset()

    def jobs(self, where: str = "", params: tuple = ()) -> list[dict[str, Any]]:
        cursor = self.store.execute(
            "SELECT id, state, seen_count, attempts, source_id, source_version, label, result, "
            f"cause_code, intent, plan FROM job WHERE flow = 'stock' AND id > ? {where} "
            "ORDER BY id",
            (self._after_job, *params),
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def states(self) -> dict[str, int]:
        rows = self.store.execute(
            "SELECT state, count(*) FROM job WHERE flow = 'stock' AND id > ? GROUP BY state",
            (self._after_job,),
        ).fetchall()
        return dict(rows)

    def link_of(self, variant: str) -> links.LinkRow | None:
        return links.find_link(self.store, self.shop_id, "stock", variant)


def open_console(
    world: World,
    home: Path,
    *,
    mode: str = "auto",
    options: dict[str, Any] | None = None,
    write_config: bool = True,
    workers: int = 2,
    locations: list[str] | None = None,
) -> StockConsole:
    """A console on ``home`` with the stock flow on and the locations mapped (by default both
    of the shop's; ``locations`` names the ones to map)."""
    paths = demo.demo_home(home)
    facts = world.facts()
    protocol = "jsonrpc" if world.odoo_version < 19 else "json2"
    if write_config:
        config = demo.write_config(
            paths,
            facts,
            options=options,
            odoo_protocol=protocol,
            engine={"workers": workers, "lease_seconds": 30},
            flows={"stock": mode},
        )
    else:
        config = load_config(paths.config_file)
    store = Store(paths.database_file)
    metrics = Metrics()
    flows = build_flows(config, store, metrics=metrics, secret_source=demo.secret_source(facts))
    engine = Engine(store, config, flows, metrics=metrics, policy=fast_policy())
    console = StockConsole(world, paths, config, store, engine, facts)
    gids = None
    if locations is not None:
        gids = [world.shopify.store.location(name)["id"] for name in locations]
    demo.seed_location_mappings(engine.queue, console.shop_id, facts, gids)
    return console
