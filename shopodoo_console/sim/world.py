"""A Shopify store and an Odoo database that belong together, for the demo, tests and benches.

Both simulators are seeded from one seed so the catalogues line up (every Shopify SKU that
should sync exists in Odoo with the same ``default_code`` and barcode), while chosen SKUs are
left out of Odoo on purpose: those orders fail with "product not mapped" until someone maps
them. Stock lives where it does in a real business: Shopify's two locations (Berlin, Lyon)
are two Odoo warehouses with the same addresses under other names (a location mapping is
suggested by address, not guessed by name), and for every third product the two systems
disagree, so a stock sync has work to do. The awkward stock and shipping cases are there too:
an untracked item, an archived product, a fulfillment-service (3PL) location and an inactive
one, orders split across locations, held, or requested to the 3PL. :class:`WarehouseActivity`
plays the warehouse while the demo runs: it ships ready deliveries (some in part, leaving a
backorder) with tracking numbers, takes a return now and then and recounts a shelf.

Imports only the simulators.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopodoo_console.sim.odoo import OdooSimulator
from shopodoo_console.sim.odoo.scenario import default_scenario
from shopodoo_console.sim.shopify import ShopifySimulator
from shopodoo_console.sim.shopify.scenario import generate

# Shopify location → the Odoo warehouse holding its stock (same address, another name).
WAREHOUSES: dict[str, dict[str, Any]] = {
    "Main Warehouse": {
        "name": "Berlin DC",
        "code": "BER",
        "address": {
            "street": "Friedrichstraße 12",
            "city": "Berlin",
            "zip": "10115",
            "country": "DE",
        },
        "sublocations": ["Shelf A"],
    },
    "Outlet Store": {
        "name": "Lyon Store",
        "code": "LYO",
        "address": {
            "street": "12 Rue de la République",
            "city": "Lyon",
            "zip": "69002",
            "country": "FR",
        },
    },
}
THIRD_PARTY = "ShipFast 3PL"  # a fulfillment service's location: Odoo does not ship it
AWKWARD_TAG = "demo-awkward"  # orders seeded held, split or at the 3PL
ARCHIVED_SKU = "RP-OLD-900"  # a product archived in Shopify, still stocked in Odoo
UNTRACKED_TITLE = "Enamel Pin"  # made to order: Shopify does not track its inventory


def _shop_extras(shopify: dict[str, Any], unmapped_skus: tuple[str, ...] = ()) -> None:
    """The stock and shipping cases a demo needs, added without disturbing what the seed made."""
    shopify["locations"] = [
        *shopify["locations"],
        {
            "name": THIRD_PARTY,
            "isFulfillmentService": True,
            "fulfillsOnlineOrders": True,
            "address": {
                "address1": "Industrieweg 4",
                "city": "Venlo",
                "zip": "5928",
                "countryCode": "NL",
            },
        },
        {"name": "Old Depot", "isActive": False, "fulfillsOnlineOrders": False},
    ]
    names = [loc["name"] for loc in shopify["locations"][:2]]
    for product in shopify["products"]:
        for variant in product["variants"]:
            if product["title"] == UNTRACKED_TITLE or variant.get("sku") is None:
                variant["tracked"] = False
    shopify["products"].append(
        {
            "title": "Retired Poster",
            "status": "ARCHIVED",
            "vendor": "Shopodoo Goods",
            "variants": [
                {
                    "title": "Default Title",
                    "sku": ARCHIVED_SKU,
                    "price": "9.00",
                    "stock": dict.fromkeys(names, 3),
                },
            ],
        }
    )
    _awkward_orders(shopify["orders"], names, unmapped_skus)


def _awkward_orders(
    orders: list[dict[str, Any]], names: list[str], unmapped_skus: tuple[str, ...]
) -> None:
    """A split, a held and a 3PL order among the paid ones: they are confirmed in Odoo, so the
    warehouse ships them and the fulfillments flow meets each case (tagged, so the demo's
    warehouse ships them first)."""
    open_orders = [o for o in orders[20:] if _goes_through(o, unmapped_skus)]
    split = next((o for o in open_orders if len(o["lines"]) >= 2), None)
    if split is not None:
        split["lines"][-1]["location"] = names[1]  # split across two locations
        _tag(split, "demo-split")
    rest = [o for o in open_orders if o is not split]
    if len(rest) >= 1:
        rest[0]["hold"] = {"reason": "INCORRECT_ADDRESS", "notes": "No house number"}
        _tag(rest[0], "demo-held")
    if len(rest) >= 2:
        for line in rest[1]["lines"]:
            line["location"] = THIRD_PARTY
        rest[1]["fulfillmentRequest"] = "accepted"
        _tag(rest[1], "demo-3pl")


def _goes_through(order: dict[str, Any], unmapped_skus: tuple[str, ...]) -> bool:
    """Open, paid, with a customer, not by PayPal, no unmapped SKU: nothing stops it in the
    orders flow (the demo leaves PayPal, guests and one SKU waiting on purpose)."""
    return (
        not order.get("fulfilled")
        and not order.get("cancelled")
        and bool(order["lines"][0].get("sku"))
        and order.get("financialStatus") == "PAID"
        and bool(order.get("customer"))
        and order.get("gateway") != "paypal"
        and not any(line.get("sku") in unmapped_skus for line in order["lines"])
    )


def _tag(order: dict[str, Any], tag: str) -> None:
    order["tags"] = [*(order.get("tags") or []), AWKWARD_TAG, tag]


def build_scenarios(
    *,
    seed: int = 7,
    orders: int = 50,
    customers: int | None = None,
    products: int | None = None,
    unmapped_skus: tuple[str, ...] = (),
    days: int = 30,
    now: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Shopify scenario, Odoo scenario) with matching catalogues, except ``unmapped_skus``."""
    shopify = generate(
        seed=seed, orders=orders, customers=customers, products=products, days=days, now=now
    )
    _shop_extras(shopify, unmapped_skus)
    odoo = default_scenario(seed=seed, products=0, partners=10)
    odoo["companies"][0]["warehouses"] = [dict(w) for w in WAREHOUSES.values()]
    catalogue: dict[str, dict[str, Any]] = {}
    for product in shopify["products"]:
        for variant in product["variants"]:
            sku = variant.get("sku")
            if not sku or sku in catalogue:
                continue
            unmapped = sku in unmapped_skus
            catalogue[sku] = {
                # An "unmapped" SKU exists in Odoo under another reference and without the
                # barcode (the classic mismatch): only a mapping, or a suggestion, finds it.
                "sku": f"LEGACY-{len(catalogue):03d}" if unmapped else sku,
                "barcode": None if unmapped else variant.get("barcode"),
                "name": f"{product['title']} ({variant.get('title')})",
                "price": float(variant.get("price") or 0),
                "type": "storable",
                "company": None,
                "stock": _odoo_stock(variant.get("stock") or {}, drift=len(catalogue) % 3 == 0),
            }
    odoo["products"] = list(catalogue.values())
    # A journal for each gateway the shop takes (the demo maps all but PayPal at first).
    odoo["journals"] = [
        *odoo["journals"],
        {"name": "PayPal", "code": "PAYPL", "type": "bank", "company": "eu"},
    ]
    return shopify, odoo


def _odoo_stock(shop_stock: dict[str, Any], *, drift: bool) -> dict[str, int]:
    """Odoo's count per warehouse: Shopify's, except where the two systems drifted apart."""
    out = {}
    for location, warehouse in WAREHOUSES.items():
        units = int(shop_stock.get(location) or 0)
        out[warehouse["code"]] = units + (3 if drift else 0)
    return out


@dataclass
class World:
    """Both simulators, started on free loopback ports."""

    shopify_scenario: dict[str, Any]
    odoo_scenario: dict[str, Any]
    odoo_version: int = 19
    plan: str = "standard"
    bucket: tuple[int, float] | None = None
    shopify: ShopifySimulator = field(init=False)
    odoo: OdooSimulator = field(init=False)

    def __post_init__(self) -> None:
        self.shopify = ShopifySimulator(self.shopify_scenario, plan=self.plan, bucket=self.bucket)
        self.odoo = OdooSimulator(version=self.odoo_version, scenario=self.odoo_scenario)

    def start(self) -> World:
        self.shopify.start()
        self.odoo.start()
        return self

    def stop(self) -> None:
        self.shopify.stop()
        self.odoo.stop()

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def facts(self) -> dict[str, Any]:
        """Everything a console needs to connect, and the Odoo ids a config refers to."""
        company = self.odoo.company_id("eu")
        warehouses = self.odoo.env["stock.warehouse"].search_read(
            [("company_id", "=", company)], ["code", "lot_stock_id"]
        )
        carriers = self.odoo.env["delivery.carrier"].search_read([], ["name", "product_id"])
        journals = self.odoo.env["account.journal"].search_read(
            [("company_id", "=", company)], ["name"]
        )
        return {
            "shop_domain": self.shopify.domain,
            "shop_base_url": self.shopify.base_url,
            "shop_token": self.shopify.static_token,
            "odoo_url": self.odoo.url,
            "odoo_database": self.odoo.database,
            "odoo_login": self.odoo.login,
            "odoo_api_key": self.odoo.api_key,
            "company_id": company,
            "warehouse_id": warehouses[0]["id"] if warehouses else None,
            "carriers": {c["name"]: c["id"] for c in carriers},
            "journals": {j["name"]: j["id"] for j in journals},
            # Shopify location GID → the stock location of the Odoo warehouse behind it
            "stock_locations": self._stock_locations(warehouses),
            "shop_locations": {
                self.shopify.store.nodes[gid]["name"]: gid for gid in self.shopify.store.locations
            },
            "stock_location_names": {
                w["lot_stock_id"][0]: w["lot_stock_id"][1] for w in warehouses if w["lot_stock_id"]
            },
        }

    def _stock_locations(self, warehouses: list[dict[str, Any]]) -> dict[str, int]:
        by_code = {w["code"]: w["lot_stock_id"][0] for w in warehouses if w["lot_stock_id"]}
        out = {}
        for name, warehouse in WAREHOUSES.items():
            if warehouse["code"] in by_code:
                out[self.shopify.store.location(name)["id"]] = by_code[warehouse["code"]]
        return out


class WarehouseActivity:
    """The warehouse at work while the demo runs: every ``every`` seconds it ships the oldest
    ready delivery (the seeded held, split and 3PL orders' first) — one in three in part,
    leaving a backorder — with a tracking number, takes one delivery in seven back, and
    recounts a shelf now and then."""

    def __init__(self, world: World, *, seed: int, every: float = 10.0) -> None:
        self.world = world
        self.every = every
        self.rng = random.Random(seed)
        self.ticks = 0
        self.awkward: set[str] | None = None  # Shopify names of the seeded awkward orders
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-warehouse", daemon=True)

    def start(self) -> WarehouseActivity:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def _run(self) -> None:
        while not self.stop_event.wait(self.every):
            self.tick()

    def tick(self) -> dict[str, Any] | None:
        """One round of work; returns what was shipped (``None`` when nothing was ready)."""
        self.ticks += 1
        odoo = self.world.odoo
        if self.ticks % 5 == 0:
            products = odoo.env["product.product"].search_read(
                [("default_code", "!=", False)], ["default_code"]
            )
            if products:
                sku = self.rng.choice(products)["default_code"]
                odoo.control.set_stock(sku, "BER/Stock/Shelf A", self.rng.randint(0, 6))
        done = odoo.env["stock.picking"].search(
            [("state", "=", "done"), ("picking_type_code", "=", "outgoing")], order="id"
        )
        if self.ticks % 7 == 0 and done:
            odoo.control.return_picking(done[-1])
        ready = odoo.env["stock.picking"].search(
            [("state", "=", "assigned"), ("picking_type_code", "=", "outgoing")], order="id"
        )
        if not ready:
            return None
        picking = self._next(ready)
        moves = odoo.env["stock.move"].search_read(
            [("picking_id", "=", picking)], ["product_id", "product_uom_qty"]
        )
        quantities = None
        if self.ticks % 3 == 0 and moves and moves[0]["product_uom_qty"] > 1:
            quantities = {moves[0]["product_id"][0]: moves[0]["product_uom_qty"] - 1}
            quantities.update({m["product_id"][0]: m["product_uom_qty"] for m in moves[1:]})
        number = f"1Z{self.rng.randrange(10**9, 10**10)}"
        shipped: dict[str, Any] = odoo.control.validate_picking(
            picking, quantities, tracking_ref=number
        )
        return shipped

    def _next(self, ready: list[int]) -> int:
        """The oldest ready delivery — the seeded awkward orders' first, so the demo meets
        them early."""
        names = self._awkward()
        if names:
            rows = self.world.odoo.env["stock.picking"].search_read(
                [("id", "in", ready)], ["sale_id"]
            )
            sales = {r["sale_id"][0]: r["id"] for r in rows if r.get("sale_id")}
            refs = self.world.odoo.env["sale.order"].search_read(
                [("id", "in", sorted(sales))], ["client_order_ref"]
            )
            first = sorted(sales[r["id"]] for r in refs if r.get("client_order_ref") in names)
            if first:
                return first[0]
        return ready[0]

    def _awkward(self) -> set[str]:
        if self.awkward is None:
            store = self.world.shopify.store
            self.awkward = {
                store.nodes[gid]["name"]
                for gid in list(store.orders)
                if AWKWARD_TAG in (store.nodes[gid].get("tags") or [])
            }
        return self.awkward
