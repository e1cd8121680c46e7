"""Stock and deliveries: the Odoo simulator and the client's batched reads over real HTTP,
on Odoo 16 and 17 (JSON-RPC) and 19 (JSON-2).

Quants per location with reservations, inventory adjustments as done moves, deliveries
validated in full or in part (a backorder), cancelled, returned; warehouses with addresses and
a location tree; and the client reading all of it in few, constant calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from odoo_helpers import client_for

from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.stock import odoo_time
from shopodoo_console.sim.odoo import OdooSimulator, default_scenario

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
COMBOS = [(16, "jsonrpc"), (17, "jsonrpc"), (19, "json2")]
Combo = tuple[OdooSimulator, OdooClient]


def stock_scenario() -> dict[str, Any]:
    scenario = default_scenario(products=12)
    scenario["companies"][0]["warehouses"] = [
        {
            "name": "Brussels Warehouse",
            "code": "WH",
            "address": {
                "street": "Rue Haute 12",
                "city": "Brussels",
                "zip": "1000",
                "country": "BE",
            },
            "sublocations": ["Shelf 1"],
        },
        {
            "name": "Lyon Outlet",
            "code": "LYO",
            "address": {
                "street": "12 Rue de la République",
                "city": "Lyon",
                "zip": "69002",
                "country": "FR",
            },
        },
    ]
    return scenario


@pytest.fixture(params=COMBOS, ids=[f"{v}-{p}" for v, p in COMBOS])
def combo(request: pytest.FixtureRequest) -> Iterator[Combo]:
    version, protocol = request.param
    with OdooSimulator(version, stock_scenario()) as sim:
        client = client_for(sim, protocol)
        yield sim, client
        client.close()


def _product(client: OdooClient, sku: str) -> int:
    return int(client.search("product.product", [("default_code", "=", sku)])[0])


def _sale(client: OdooClient, lines: dict[str, float], ref: str = "#1001") -> int:
    partner = client.search("res.partner", [("email", "!=", False)], limit=1)[0]
    taxes = client.field_name("sale.order.line", "taxes")
    assert taxes
    order = client.create(
        "sale.order",
        {
            "partner_id": partner,
            "client_order_ref": ref,
            "order_line": [
                (0, 0, {"product_id": _product(client, sku), "product_uom_qty": qty, taxes: []})
                for sku, qty in lines.items()
            ],
        },
    )
    assert isinstance(order, int)
    client.call("sale.order", "action_confirm", [order])
    return order


def test_layout_warehouses_addresses_and_location_tree(combo: Combo) -> None:
    sim, client = combo
    client.fields("res.partner")  # learnt once per connection, like every model's fields
    before = sim.call_count()
    layout = client.stock_layout()
    assert sim.call_count() - before == 3
    by_code = {w.code: w for w in layout.warehouses}
    assert set(by_code) == {"WH", "LYO"}  # the US company's NWK is not the bot user's
    lyon = by_code["LYO"]
    assert lyon.address is not None
    assert (lyon.address.city, lyon.address.zip, lyon.address.country_code) == (
        "Lyon",
        "69002",
        "FR",
    )
    assert lyon.stock_location_id is not None
    assert layout.locations[lyon.stock_location_id].complete_name == "LYO/Stock"
    shelf = next(loc for loc in layout.locations.values() if loc.name == "Shelf 1")
    assert shelf.complete_name == "WH/Stock/Shelf 1"
    assert layout.under(shelf.id, by_code["WH"].stock_location_id or 0)
    assert not layout.under(shelf.id, lyon.stock_location_id)
    assert layout.warehouse_of(shelf.id) == by_code["WH"]


def test_free_quantity_per_product_per_location_set_in_one_call(combo: Combo) -> None:
    sim, client = combo
    layout = client.stock_layout()
    wh = next(w for w in layout.warehouses if w.code == "WH")
    lyo = next(w for w in layout.warehouses if w.code == "LYO")
    sim.control.set_stock("SKU-0001", "WH", 10)
    sim.control.set_stock("SKU-0001", "WH/Stock/Shelf 1", 5)
    sim.control.set_stock("SKU-0001", "LYO", 7)
    sim.control.reserve("SKU-0001", "WH", 2)
    sim.control.set_stock("SKU-0002", "LYO", 0)
    products = [_product(client, "SKU-0001"), _product(client, "SKU-0002")]
    sets = {"main": [wh.stock_location_id], "outlet": [lyo.stock_location_id]}
    sets["both"] = [*sets["main"], *sets["outlet"]]
    method = "formatted_read_group" if sim.version >= 19 else "read_group"
    before = sim.call_count()
    levels = client.stock_levels(products, sets, layout=layout)
    assert sim.call_count() - before == 1 and sim.call_count("stock.quant", method) == 1
    main = levels[(products[0], "main")]
    assert (main.on_hand, main.reserved, main.free) == (15.0, 2.0, 13.0)
    assert levels[(products[0], "outlet")].free == 7.0
    assert levels[(products[0], "both")].on_hand == 22.0
    assert levels[(products[1], "outlet")].on_hand == 0.0  # zero, but present


def test_changed_quants_page_by_write_date_then_id(combo: Combo) -> None:
    sim, client = combo
    everything = [q for page in client.changed_quants(EPOCH, page_size=3) for q in page]
    ids = [q["id"] for q in everything]
    assert len(ids) == len(set(ids)) > 6
    keys = [(q["write_date"], q["id"]) for q in everything]
    assert keys == sorted(keys)  # ties on write_date broken by id: none skipped, none twice
    last = max(q["write_date"] for q in everything)
    quant = sim.control.set_stock("SKU-0003", "LYO", 4)
    since = datetime.strptime(last, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    recent = [q for page in client.changed_quants(since, overlap=timedelta(0)) for q in page]
    assert quant["id"] in [q["id"] for q in recent]
    assert all(q["write_date"] >= last for q in recent)
    with pytest.raises(ValueError, match="aware"):
        next(client.changed_quants(datetime(2026, 1, 1)))


def test_done_moves_include_adjustments_with_their_done_quantity(combo: Combo) -> None:
    sim, client = combo
    start = datetime.now(UTC) - timedelta(seconds=1)
    sim.control.set_stock("SKU-0004", "LYO", 6)
    moves = [m for page in client.done_moves(start, overlap=timedelta(0)) for m in page]
    adjustment = next(m for m in moves if m["product_id"][0] == _product(client, "SKU-0004"))
    assert adjustment["done_qty"] == 6.0
    assert adjustment["location_dest_id"][1] == "LYO/Stock"


def test_done_deliveries_with_backorders_tracking_and_returns(combo: Combo) -> None:
    sim, client = combo
    for sku in ("SKU-0001", "SKU-0002", "SKU-0003"):
        sim.control.set_stock(sku, "WH", 20)
    order = _sale(client, {"SKU-0001": 2, "SKU-0002": 1, "SKU-0003": 1})
    (first,) = sim.control.pickings(order)
    shipped = sim.control.validate_picking(
        first["id"], {"SKU-0001": 1, "SKU-0002": 1}, tracking_ref="JD0001, JD0002", carrier="bpost"
    )
    backorder = shipped["backorder"]
    assert backorder is not None and backorder["state"] == "assigned"
    sim.control.validate_picking(backorder["id"], tracking_ref="1Z999", carrier="DHL Express")
    returned = sim.control.return_picking(first["id"], {"SKU-0001": 1})
    other = _sale(client, {"SKU-0001": 1}, ref="#1002")
    sim.control.cancel_picking(sim.control.pickings(other)[0]["id"])
    for model in ("stock.picking", "stock.move"):
        client.fields(model)  # learnt once per connection
    before = sim.call_count()
    pages = list(client.done_pickings(EPOCH))
    per_page = 4 if sim.version == 16 else 3  # 16 finds a return through its moves
    assert sim.call_count() - before <= per_page * len(pages)
    found = {p.name: p for page in pages for p in page}
    one = found[first["name"]]
    assert (one.code, one.state, one.client_order_ref) == ("outgoing", "done", "#1001")
    assert one.sale_order_id == order and one.sale_order_name
    assert one.tracking_numbers == ["JD0001", "JD0002"] and one.carrier == "bpost"
    assert one.tracking_url is not None and one.tracking_url.endswith("itemCode=JD0001")
    done = sorted((m.product.split("]")[0], m.done) for m in one.moves if m.state == "done")
    assert done == [("[SKU-0001", 1.0), ("[SKU-0002", 1.0)]
    later = found[backorder["name"]]
    assert later.backorder_of == one.id and later.tracking_url and "AWB=1Z999" in later.tracking_url
    assert [(m.done, m.sale_line_id is not None) for m in later.moves] == [(1.0, True), (1.0, True)]
    back = found[returned["name"]]
    assert back.is_return and back.return_of == one.id and back.code == "incoming"
    assert back.moves[0].returned_move_id in {m.id for m in one.moves}
    assert all(p.state == "done" for p in found.values())
    with_cancelled = [
        p for page in client.done_pickings(EPOCH, states=("done", "cancel")) for p in page
    ]
    assert any(p.state == "cancel" for p in with_cancelled)
    lines = client.search_read(
        "sale.order.line", [("order_id", "=", order)], ["product_id", "qty_delivered"]
    )
    delivered = {line["product_id"][0]: line["qty_delivered"] for line in lines}
    assert delivered[_product(client, "SKU-0001")] == 1.0  # 2 shipped, 1 returned


def test_return_wizard_and_write_dates_over_rpc(combo: Combo) -> None:
    sim, client = combo
    sim.control.set_stock("SKU-0005", "WH", 5)
    order = _sale(client, {"SKU-0005": 2})
    picking = sim.control.pickings(order)[0]
    written = client.read("stock.picking", [picking["id"]], ["write_date"])[0]["write_date"]
    assert client.validate_picking(picking["id"]) is True
    after = client.read("stock.picking", [picking["id"]], ["write_date", "state"])[0]
    assert after["state"] == "done" and after["write_date"] >= written
    wizard = client.create("stock.return.picking", {}, context={"active_id": picking["id"]})
    assert isinstance(wizard, int)
    action = client.call("stock.return.picking", "create_returns", [wizard])
    assert action["res_model"] == "stock.picking" and action["res_id"]
    receipt = client.read("stock.picking", [action["res_id"]], ["state", "origin"])[0]
    assert receipt["state"] == "assigned" and receipt["origin"] == f"Return of {picking['name']}"
    quant = sim.control.quants("SKU-0005")
    assert sum(q["quantity"] for q in quant) == 3.0  # 5 - 2 shipped; the return not in yet


def test_warehouse_control_over_http() -> None:
    with OdooSimulator(17, stock_scenario()) as sim:
        base = f"{sim.url}/_sim/control"
        quant = httpx.post(
            f"{base}/set_stock", json={"product": "SKU-0006", "location": "LYO", "quantity": 9}
        ).json()["result"]
        assert quant["location"] == "LYO/Stock" and quant["quantity"] == 9.0
        bad = httpx.post(
            f"{base}/set_stock", json={"product": "NOPE", "location": "LYO", "quantity": 1}
        )
        assert bad.status_code == 422 and "No product.product matches" in bad.json()["message"]
        unknown = httpx.post(f"{base}/no_such_hook", json={})
        assert unknown.status_code == 400
        assert odoo_time(datetime(2026, 5, 1, 12, 0, tzinfo=UTC)) == "2026-05-01 12:00:00"
