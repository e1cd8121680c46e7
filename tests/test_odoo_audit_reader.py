"""The audit's Odoo reads over real HTTP (Odoo 17 JSON-RPC, Odoo 19 JSON-2), on a world seeded
in sync and then broken on purpose (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from odoo_helpers import client_for

from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.odoo.audit import (
    OrderRef,
    SaleOrderReader,
    delivery_status,
    parse_order_stamp,
)
from shopodoo_console.sim.mismatches import Mismatches
from shopodoo_console.sim.seed_orders import SeededOrder, order_stamp, origin_of, synced_orders
from shopodoo_console.sim.world import World, build_scenarios

SINCE = datetime(2026, 10, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(
    params=[16, 17, 18, 19],
    ids=["odoo16-jsonrpc", "odoo17-jsonrpc", "odoo18-jsonrpc", "odoo19-json2"],
)
def world(request: pytest.FixtureRequest) -> Iterator[tuple[World, list[SeededOrder]]]:
    shopify, odoo = build_scenarios(orders=0, customers=8, products=10)
    with World(shopify, odoo, odoo_version=request.param) as running:
        seeded = synced_orders(running.shopify, running.odoo, 60, since=SINCE, until=UNTIL)
        yield running, seeded


def _ref(world: World, order: SeededOrder) -> OrderRef:
    domain = world.shopify.domain
    return OrderRef(
        key=order.gid,
        stamps=(order_stamp(domain, order.legacy_id),),
        names=(order.name,),
        origins=(origin_of(domain, order.name),),
    )


def _shopify_amounts(world: World, gid: str) -> dict[str, Decimal]:
    order = world.shopify.store.nodes[gid]
    return {
        key: Decimal(order[field]["shopMoney"]["amount"])
        for key, field in (
            ("total", "totalPriceSet"),
            ("tax", "totalTaxSet"),
            ("shipping", "totalShippingPriceSet"),
            ("discount", "totalDiscountsSet"),
        )
    }


def _odoo_amounts(order) -> dict[str, Decimal]:
    return {
        "total": order.amount_total,
        "tax": order.amount_tax,
        "shipping": order.shipping,
        "discount": order.discount,
    }


def test_a_period_reads_every_order_with_its_amounts_in_three_calls_a_page(world):
    world, seeded = world
    client = client_for(world.odoo)
    company = world.odoo.company_id("eu")
    reader = SaleOrderReader(client, company_id=company, page_size=25)
    client.fields("sale.order"), client.fields("sale.order.line")  # learnt at connect time
    world.odoo.reset_calls()
    pages = list(reader.in_period(SINCE, UNTIL))
    client.close()
    assert [len(p) for p in pages] == [25, 25, 10]
    assert reader.calls == 9 == world.odoo.call_count(method="search_read")
    by_id = {o.id: o for page in pages for o in page}
    assert sorted(by_id) == sorted(s.odoo_id for s in seeded)
    for seed in seeded:
        order = by_id[seed.odoo_id]
        assert order.name == seed.odoo_name and order.company_id == company
        assert order.stamps == (seed.stamp,)
        assert order.client_order_ref == seed.name
        assert order.origin == origin_of(world.shopify.domain, seed.name)
        assert _odoo_amounts(order) == _shopify_amounts(world, seed.gid), seed.name
        expected = "cancel" if seed.cancelled else "sale" if seed.paid else "draft"
        assert order.state == expected
        assert order.delivery_status is None  # nothing shipped yet
    assert any(s.cancelled for s in seeded) and any(not s.paid for s in seeded)


def test_orders_outside_the_period_are_left_out(world):
    world, seeded = world
    client = client_for(world.odoo)
    middle = datetime(2026, 10, 16, tzinfo=UTC)
    reader = SaleOrderReader(client, page_size=500)
    first_half = [o.id for page in reader.in_period(SINCE, middle) for o in page]
    second_half = [o.id for page in reader.in_period(middle) for o in page]
    client.close()
    assert sorted(first_half + second_half) == sorted(s.odoo_id for s in seeded)
    assert first_half and second_half and not set(first_half) & set(second_half)


def test_references_are_found_every_way_in_four_calls(world):
    world, seeded = world
    client = client_for(world.odoo)
    client.fields("sale.order"), client.fields("sale.order.line")
    reader = SaleOrderReader(client)
    world.odoo.reset_calls()
    found = reader.by_refs([_ref(world, s) for s in seeded])
    assert reader.calls == 4 == world.odoo.call_count(method="search_read")
    client.close()
    assert set(found) == {s.gid for s in seeded}
    for seed in seeded:
        (match,) = found[seed.gid]
        assert match.order.id == seed.odoo_id
        assert match.by == {"stamp", "client_order_ref", "origin"}


def test_every_planted_mismatch_shows_in_what_the_readers_return(world):
    world, seeded = world
    plants = Mismatches(world.shopify, world.odoo).every_kind(seeded)
    assert {(p.kind, p.detail) for p in plants} == {
        ("missing", "deleted"),
        ("missing", "never synced"),
        ("duplicate", "stamp"),
        ("duplicate", "client_order_ref"),
        ("duplicate", "origin"),
        ("amount", "total"),
        ("amount", "tax"),
        ("amount", "shipping"),
        ("amount", "discount"),
        ("state", "cancelled"),
        ("state", "paid"),
        ("state", "fulfilled"),
        ("unlinked", "by hand"),
    }
    client = client_for(world.odoo)
    reader = SaleOrderReader(client)
    by_gid = {s.gid: s for s in seeded}
    refs = [_ref(world, s) for s in seeded]
    never = next(p for p in plants if p.detail == "never synced")
    slug = world.shopify.domain.split(".", 1)[0]
    refs.append(
        OrderRef(
            never.shopify_gid or "",
            (f"{slug}_order_{never.shopify_gid.rsplit('/', 1)[-1]}",) if never.shopify_gid else (),
            (never.shopify_name,),
        )
    )
    found = reader.by_refs(refs)
    in_period = {o.id: o for page in reader.in_period(SINCE, UNTIL) for o in page}
    client.close()
    for plant in plants:
        gid = plant.shopify_gid
        assert gid is not None
        matches = found.get(gid, [])
        if plant.kind == "missing":
            assert matches == [], plant
        elif plant.kind == "duplicate" and plant.detail == "stamp":
            # stamped under another shop name: the period's stamps tell the legacy id
            legacy = by_gid[gid].legacy_id
            stamped = [
                o.id
                for o in in_period.values()
                for stamp in o.stamps
                if (parsed := parse_order_stamp(stamp)) and parsed[1] == legacy
            ]
            assert sorted(stamped) == sorted(plant.odoo_ids)
            second = in_period[plant.odoo_ids[1]]
            assert second.client_order_ref is None and second.origin is None
            assert parse_order_stamp(second.stamps[0])[0] != slug
            assert [m.order.id for m in matches] == [plant.odoo_ids[0]]
        elif plant.kind == "duplicate":
            assert sorted(m.order.id for m in matches) == sorted(plant.odoo_ids)
            second = next(m for m in matches if m.order.id == plant.odoo_ids[1])
            assert second.by == {plant.detail} and second.order.stamps == ()
        elif plant.kind == "amount":
            (match,) = matches
            difference = {
                k: v - _shopify_amounts(world, gid)[k]
                for k, v in _odoo_amounts(match.order).items()
                if v != _shopify_amounts(world, gid)[k]
            }
            assert difference == plant.expected and plant.detail in difference
            if plant.detail != "total":
                assert "total" in difference
        elif plant.kind == "state":
            (match,) = matches
            shopify = world.shopify.store.nodes[gid]
            if plant.detail == "cancelled":
                assert shopify["cancelledAt"] and match.order.state == "sale"
            elif plant.detail == "paid":
                assert shopify["displayFinancialStatus"] == "PAID"
                assert match.order.state == "draft"
            else:
                assert shopify["displayFulfillmentStatus"] == "FULFILLED"
                assert not match.order.delivered
        else:  # unlinked: found by the typed reference only, no stamp
            (match,) = matches
            assert match.by == {"client_order_ref"} and match.order.stamps == ()
            assert plant.unlink == gid and match.order.id in in_period


def test_invoices_tell_whether_odoo_has_the_order_paid(world):
    world, seeded = world
    order = next(s for s in seeded if s.paid and not s.cancelled)
    world.odoo.env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "invoice_origin": order.odoo_name,
                "state": "posted",
                "payment_state": "paid",
            }
        ]
    )
    client = client_for(world.odoo)
    reader = SaleOrderReader(client, invoices=True)
    (match,) = reader.by_refs([_ref(world, order)])[order.gid]
    client.close()
    assert match.order.payment == "paid"
    assert match.order.invoices and match.order.invoices[0].state == "posted"


def test_without_a_delivery_status_field_the_pickings_tell_it(world):
    world, _ = world
    client = client_for(world.odoo)
    fields = client.fields("sale.order")
    fields.pop("delivery_status")  # what an Odoo without sale_stock's field looks like
    reader = SaleOrderReader(client, page_size=100)
    world.odoo.reset_calls()
    (page,) = reader.in_period(SINCE, UNTIL)
    client.close()
    assert world.odoo.call_count("stock.picking", "search_read") == 1
    assert all(o.delivery_status is None for o in page)


def test_delivery_status_from_picking_states():
    assert delivery_status([]) is None
    assert delivery_status(["cancel"]) is None
    assert delivery_status(["assigned", "confirmed"]) == "pending"
    assert delivery_status(["done", "assigned"]) == "partial"
    assert delivery_status(["done", "cancel"]) == "full"


def test_order_stamps_parse_back_to_the_shopify_order():
    from shopodoo_console.workflows.orders.match import order_stamp as flow_stamp

    class Order:
        legacy_id = "450789469"

    shop = ShopRef(id=1, domain="acme-eu.myshopify.com")
    name = flow_stamp(shop, Order())  # type: ignore[arg-type]
    assert name == order_stamp("acme-eu.myshopify.com", 450789469)
    assert parse_order_stamp(name) == ("acme-eu", 450789469)
    assert parse_order_stamp("acme_customer_12") is None
