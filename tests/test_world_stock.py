"""The demo world gives the stock and fulfillment flows something to do (over real HTTP).

Shopify's locations are Odoo warehouses at the same addresses under other names; the two
systems disagree on some stock; the awkward cases are seeded (untracked, archived, 3PL,
inactive location, held and split orders); the warehouse ships while the demo runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from odoo_helpers import client_for as odoo_client_for
from shopify_support import FIXED_NOW, client_for

from shopodoo_console.sim.world import (
    ARCHIVED_SKU,
    THIRD_PARTY,
    WarehouseActivity,
    World,
    build_scenarios,
)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    shopify, odoo = build_scenarios(seed=7, orders=40, now=FIXED_NOW)
    with World(shopify, odoo, odoo_version=19) as running:
        yield running


def test_locations_and_warehouses_share_addresses_not_names(world: World) -> None:
    with client_for(world.shopify) as shopify:
        locations = shopify.locations(include_inactive=True, include_legacy=True)
    names = {loc["name"] for loc in locations}
    assert {"Main Warehouse", "Outlet Store", THIRD_PARTY, "Old Depot"} <= names
    assert next(loc for loc in locations if loc["name"] == THIRD_PARTY)["isFulfillmentService"]
    assert not next(loc for loc in locations if loc["name"] == "Old Depot")["isActive"]
    odoo = odoo_client_for(world.odoo)
    layout = odoo.stock_layout()
    by_place = {
        (w.address.city, w.address.zip, w.address.country_code): w.code
        for w in layout.warehouses
        if w.address
    }
    for loc in (x for x in locations if x["name"] in ("Main Warehouse", "Outlet Store")):
        address = loc["address"]
        key = (address["city"], address["zip"], address["countryCode"])
        assert key in by_place, loc["name"]  # a suggestion by address finds it
        assert by_place[key] not in loc["name"]
    facts = world.facts()
    main = world.shopify.store.location("Main Warehouse")["id"]
    assert layout.locations[facts["stock_locations"][main]].complete_name == "BER/Stock"
    odoo.close()


def test_stock_disagrees_for_some_products_and_the_odd_cases_are_there(world: World) -> None:
    shopify, odoo = world.shopify_scenario, world.odoo_scenario
    stock = {p["sku"]: p["stock"] for p in odoo["products"]}
    differ = same = 0
    for product in shopify["products"]:
        for variant in product["variants"]:
            if variant.get("sku") in stock and variant.get("stock"):
                shop = variant["stock"].get("Main Warehouse", 0)
                if stock[variant["sku"]]["BER"] == shop:
                    same += 1
                else:
                    differ += 1
    assert differ and same
    assert ARCHIVED_SKU in stock
    archived = next(p for p in shopify["products"] if p.get("status") == "ARCHIVED")
    assert archived["variants"][0]["sku"] == ARCHIVED_SKU
    untracked = [v for p in shopify["products"] for v in p["variants"] if v.get("tracked") is False]
    assert untracked
    statuses = [
        world.shopify.control.order(o)["displayFulfillmentStatus"]
        for o in world.shopify.store.orders
    ]
    assert "ON_HOLD" in statuses and "IN_PROGRESS" in statuses
    split = [
        o
        for o in world.shopify.store.orders
        if len(world.shopify.control.fulfillment_orders(o)) == 2
    ]
    assert split


def test_the_warehouse_ships_ready_deliveries_with_tracking(world: World) -> None:
    odoo = odoo_client_for(world.odoo)
    partner = odoo.search("res.partner", [("email", "!=", False)], limit=1)[0]
    products = odoo.search("product.product", [("default_code", "!=", False)], limit=2)
    for product in products:
        world.odoo.control.set_stock(product, "BER", 10)
    taxes = odoo.field_name("sale.order.line", "taxes")
    order = odoo.create(
        "sale.order",
        {
            "partner_id": partner,
            "client_order_ref": "#9001",
            "order_line": [
                (0, 0, {"product_id": p, "product_uom_qty": 2.0, taxes: []}) for p in products
            ],
        },
    )
    odoo.call("sale.order", "action_confirm", [order])
    activity = WarehouseActivity(world, seed=3, every=60)
    activity.ticks = 2  # the next round is a third: a part only, leaving a backorder
    start = datetime.now(UTC).replace(microsecond=0)
    shipped = activity.tick()
    assert shipped is not None and shipped["state"] == "done"
    assert shipped["carrier_tracking_ref"].startswith("1Z")
    assert shipped["backorder"] is not None
    pickings = [p for page in odoo.done_pickings(start) for p in page]
    assert any(p.id == shipped["id"] and p.tracking_numbers for p in pickings)
    odoo.close()
