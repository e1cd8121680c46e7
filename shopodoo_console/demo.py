"""Pointing a console at a simulated world: config, credentials and starter mappings.

Used by ``shopodoo demo`` (and by the tests and benchmarks that run the real flow against the
simulators). The credentials of a simulated world are handed over in memory — the demo never
writes to the user's keyring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w

from shopodoo_console.config import Config, OdooConfig, Paths, ShopConfig, load_config
from shopodoo_console.engine import mappings
from shopodoo_console.engine.queue import Queue

# Shopify shipping codes of the simulated store → the simulated Odoo carriers.
CARRIERS = {"STD": "Standard delivery", "EXP": "DHL Express", "FREE": "Standard delivery"}
# Payment gateways → journals. PayPal is left out on purpose in the demo: its orders wait
# with "payment gateway not mapped" until someone maps it.
JOURNALS = {"shopify_payments": "Shopify Payments", "manual": "Bank"}


def write_config(
    paths: Paths,
    facts: dict[str, Any],
    *,
    mode: str = "auto",
    options: dict[str, Any] | None = None,
    odoo_protocol: str = "auto",
    poll_seconds: int = 5,
    engine: dict[str, Any] | None = None,
    flows: Mapping[str, str] | Sequence[str] = ("orders",),
) -> Config:
    """Write ``config.toml`` for the simulated shop and Odoo, and load it back (validated).
    ``flows``: the flows switched on, each with its mode, or their names (all in ``mode``)."""
    paths.ensure()
    modes = dict(flows) if isinstance(flows, Mapping) else dict.fromkeys(flows, mode)
    shop: dict[str, Any] = {
        "domain": facts["shop_domain"],
        "base_url": facts["shop_base_url"],
        "odoo_company_id": facts["company_id"],
        "flows": modes,
        "poll_seconds": dict.fromkeys(modes, poll_seconds),
        "options": {"initial_days": 60, **(options or {})},
    }
    if facts.get("warehouse_id"):
        shop["odoo_warehouse_id"] = facts["warehouse_id"]
    data: dict[str, Any] = {
        "odoo": {
            "url": facts["odoo_url"],
            "database": facts["odoo_database"],
            "login": facts["odoo_login"],
            "protocol": odoo_protocol,
        },
        "shops": [shop],
    }
    if engine:
        data["engine"] = engine
    paths.config_file.write_text(
        "# Written by shopodoo for a simulated shop and Odoo.\n" + tomli_w.dumps(data),
        encoding="utf-8",
    )
    paths.config_file.chmod(0o600)
    return load_config(paths.config_file)


def secret_source(facts: dict[str, Any]) -> Callable[[str], str | None]:
    """The simulated world's credentials, by keyring entry name, from memory."""
    shop = ShopConfig(domain=facts["shop_domain"])
    odoo = OdooConfig(facts["odoo_url"], facts["odoo_database"], facts["odoo_login"])
    values = {shop.secret_name: facts["shop_token"], odoo.secret_name: facts["odoo_api_key"]}
    return values.get


def seed_mappings(queue: Queue, shop_id: int, facts: dict[str, Any]) -> int:
    """Carrier and gateway mappings for the simulated shop; returns how many were saved."""
    saved = 0
    for kind, wanted, found in (
        ("carrier", CARRIERS, facts["carriers"]),
        ("gateway", JOURNALS, facts.get("journals", {})),
    ):
        for key, name in wanted.items():
            if found.get(name):
                mappings.save_mapping(queue, shop_id, kind, key, found[name], label=name)
                saved += 1
    return saved


def seed_location_mappings(
    queue: Queue, shop_id: int, facts: dict[str, Any], locations: list[str] | None = None
) -> int:
    """Map Shopify locations (GIDs or names; default: all of them) to the stock location of
    the Odoo warehouse at the same address, as an operator accepting the suggestion would."""
    saved = 0
    names = {gid: name for name, gid in facts.get("shop_locations", {}).items()}
    for gid, odoo_location in facts["stock_locations"].items():
        if locations is None or gid in locations or names.get(gid) in locations:
            label = facts.get("stock_location_names", {}).get(odoo_location, "")
            mappings.save_mapping(queue, shop_id, "location", gid, odoo_location, label=label)
            saved += 1
    return saved


def demo_home(root: Path) -> Paths:
    """All of the demo's files under one throw-away folder."""
    return Paths(root / "config", root / "data", root / "state", root / "logs")


# ---------------------------------------------------------------- `shopodoo demo`

DEMO_UNMAPPED = ("OT-XL-001",)  # a SKU the simulated Odoo lacks: "product not mapped"
# The demo's shop rules: everything since the scenario began, and payments into journals.
DEMO_OPTIONS = {"initial_days": 60, "register_payments": True}
# Orders flow in by themselves; the simulated warehouse ships them and the shipments go back;
# stock changes wait in review for a bulk approval (Queue, A).
DEMO_FLOWS = {"orders": "auto", "fulfillments": "auto", "stock": "review"}
# The Main Warehouse is mapped to Odoo's "Berlin DC"; the Outlet Store is left for the
# operator to map — the Mappings screen suggests Odoo's "Lyon Store" by its address.
DEMO_MAPPED_LOCATIONS = ("Main Warehouse",)


def start_world(*, seed: int, orders: int, odoo_version: int) -> Any:
    """The simulated shop and Odoo, with the demo's awkward moments armed."""
    from shopodoo_console.sim.world import World, build_scenarios

    shopify, odoo = build_scenarios(seed=seed, orders=orders, unmapped_skus=DEMO_UNMAPPED)
    world = World(shopify, odoo, odoo_version=odoo_version).start()
    # A lost Odoo answer: the first sale order batch commits, then the response is dropped.
    world.odoo.faults.add(kind="drop", model="sale.order", method="load", times=1)
    # A throttled burst: Shopify answers THROTTLED twice while orders are fetched.
    world.shopify.faults.add(action="throttle", operation="OrdersForSync", times=2)
    return world


def warehouse(world: Any, *, seed: int, every: float = 10.0) -> Any:
    """The simulated warehouse at work: it ships deliveries in Odoo (the seeded held, split
    and 3PL orders first), so the fulfillments flow has shipments to send back."""
    from shopodoo_console.sim.world import WarehouseActivity

    return WarehouseActivity(world, seed=seed, every=every)


class ShopActivity:
    """New orders keep arriving in the simulated shop while the console is open."""

    def __init__(self, world: Any, *, seed: int, every: float = 8.0) -> None:
        import random
        import threading

        self.world = world
        self.every = every
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-shop", daemon=True)
        scenario = world.shopify_scenario
        self.emails = [c["email"] for c in scenario["customers"] if c.get("email")]
        self.skus = sorted(
            {v["sku"] for p in scenario["products"] for v in p["variants"] if v.get("sku")}
        )

    def start(self) -> ShopActivity:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def _run(self) -> None:
        while not self.stop_event.wait(self.every):
            lines = [
                {"sku": self.rng.choice(self.skus), "quantity": self.rng.randint(1, 3)}
                for _ in range(self.rng.randint(1, 3))
            ]
            self.world.shopify.control.create_order(
                {
                    "customer": self.rng.choice(self.emails),
                    "lines": lines,
                    "shipping": [{"title": "Standard", "code": "STD", "price": "4.90"}],
                    "financialStatus": self.rng.choice(["PAID", "PAID", "PENDING"]),
                }
            )
