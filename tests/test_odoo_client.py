"""The Odoo client against the simulator over real HTTP, on every version and protocol."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from odoo_helpers import COMBO_IDS, COMBOS, client_for, order_values, running

from shopodoo_console.causes import CauseError, Kind
from shopodoo_console.odoo import OdooClient
from shopodoo_console.sim.odoo import OdooSimulator

Combo = tuple[OdooSimulator, OdooClient]


@pytest.fixture(params=COMBOS, ids=COMBO_IDS)
def combo(request: pytest.FixtureRequest) -> Iterator[Combo]:
    yield from running(*request.param)


def _cause(fn: Any, *args: Any, **kw: Any) -> Any:
    with pytest.raises(CauseError) as info:
        fn(*args, **kw)
    return info.value.cause


def _products(client: OdooClient, n: int = 3) -> list[int]:
    skus = [f"SKU-{i:04d}" for i in range(1, n + 1)]
    return [r["id"] for r in client.search_read_in("product.product", "default_code", skus, ["id"])]


def test_connect_detects_version_protocol_and_field_names(combo: Combo) -> None:
    sim, client = combo
    info = client.connect()
    assert info.major == sim.version
    assert info.protocol == ("json2" if client.protocol == "json2" else "jsonrpc")
    assert info.uid == sim.uid
    v = sim.version
    assert client.field_name("sale.order.line", "taxes") == ("tax_ids" if v >= 19 else "tax_id")
    assert client.field_name("sale.order.line", "uom") == (
        "product_uom_id" if v >= 19 else "product_uom"
    )
    assert client.field_name("product.product", "storable") == (
        "is_storable" if v >= 18 else "detailed_type"
    )
    assert client.field_name("stock.move", "done_qty") == (
        "quantity_done" if v == 16 else "quantity"
    )
    assert (client.field_name("stock.move", "picked") is None) == (v == 16)
    assert (client.field_name("res.partner", "mobile") is None) == (v >= 19)
    calls = sim.call_count("sale.order.line", "fields_get")
    client.fields("sale.order.line")
    assert sim.call_count("sale.order.line", "fields_get") == calls == 1  # cached


def test_auto_protocol_picks_json2_on_19_and_jsonrpc_before(combo: Combo) -> None:
    sim, _ = combo
    auto = client_for(sim)
    assert auto.connect().protocol == ("json2" if sim.version >= 19 else "jsonrpc")
    # 16-18 document no /web/version: the client falls back to common.version (odoo.md §2.4)
    assert sim.call_count("common", "version") == (1 if sim.version < 19 else 0)


def test_create_returns_int_for_a_dict_and_a_list_for_a_list(combo: Combo) -> None:
    _, client = combo
    one = client.create("res.partner", {"name": "Solo"})
    many = client.create("res.partner", [{"name": "A"}, {"name": "B"}])
    assert isinstance(one, int)
    assert isinstance(many, list) and len(many) == 2 and many[0] < many[1]
    rows = client.read("res.partner", [one, *many], ["name", "country_id"])
    assert [r["name"] for r in rows] == ["Solo", "A", "B"]
    assert client.write("res.partner", many, {"city": "Zzyzx"}) is True
    assert client.search_count("res.partner", [("city", "=", "Zzyzx")]) == 2


def test_many2one_reads_as_id_and_name(combo: Combo) -> None:
    _, client = combo
    rows = client.search_read(
        "res.partner", [("country_id.code", "=", "BE")], ["country_id"], limit=1
    )
    assert rows and rows[0]["country_id"][1] == "Belgium"


def test_stamped_create_with_lines_then_lookup_and_no_duplicate(combo: Combo) -> None:
    sim, client = combo
    partner = client.create_stamped(
        "res.partner", "shop_demo_customer_1", {"name": "Jane Doe", "email": "jane@example.com"}
    )
    values = order_values(client, partner, _products(client))
    made = client.create_stamped_many(
        "sale.order", [("shop_demo_order_1001", values), ("shop_demo_order_1002", values)]
    )
    assert set(made) == {"shop_demo_order_1001", "shop_demo_order_1002"}
    found = client.find_stamped(
        "sale.order", ["shop_demo_order_1001", "shop_demo_order_1002", "shop_demo_order_9999"]
    )
    assert found == made
    assert client.find_stamped("res.partner", ["shop_demo_customer_1"]) == {
        "shop_demo_customer_1": partner
    }
    order = client.read(
        "sale.order", [made["shop_demo_order_1001"]], ["order_line", "partner_id", "amount_total"]
    )[0]
    assert len(order["order_line"]) == 3 and order["partner_id"][0] == partner
    # The same stamped create again returns the same record and changes nothing.
    before = sim.env["sale.order"].search_count([])
    again = client.create_stamped(
        "sale.order", "shop_demo_order_1001", {**values, "client_order_ref": "changed"}
    )
    assert again == made["shop_demo_order_1001"]
    assert sim.env["sale.order"].search_count([]) == before
    assert sim.env["sale.order"].read([again], ["client_order_ref"])[0]["client_order_ref"] == (
        "#1001"
    )


def test_search_read_in_batches_and_pages(combo: Combo) -> None:
    sim, client = combo
    skus = [f"SKU-{i:04d}" for i in range(1, 1101)]  # 1100 values, 40 exist
    sim.reset_calls()
    rows = client.search_read_in(
        "product.product", "default_code", skus, ["default_code"], chunk=500
    )
    assert len(rows) == 40
    assert sim.call_count("product.product", "search_read") == 3
    paged = client.search_read("product.product", [], ["id"], page_size=15)
    assert len(paged) == sim.env["product.product"].search_count([])
    assert len({r["id"] for r in paged}) == len(paged)


def test_order_confirm_and_validate_the_delivery_on_every_version(combo: Combo) -> None:
    sim, client = combo
    partner = client.search("res.partner", [("email", "!=", False)], limit=1)[0]
    order = client.create_stamped(
        "sale.order", "o_flow", order_values(client, partner, _products(client, 4))
    )
    assert client.call("sale.order", "action_confirm", [order]) is True
    read = client.read("sale.order", [order], ["state", "picking_ids"])[0]
    assert read["state"] == "sale" and len(read["picking_ids"]) == 1
    picking = read["picking_ids"][0]
    assert client.validate_picking(picking) is True
    assert client.read("stock.picking", [picking], ["state"])[0]["state"] == "done"
    immediate = sim.call_count("stock.immediate.transfer", "process")
    assert immediate == (1 if sim.version == 16 else 0)  # odoo.md §6
    uncertain = _cause(client.call, "sale.order", "action_confirm", [order])
    assert uncertain.code == "odoo.validation"
    assert "not in a state requiring confirmation" in uncertain.detail


# -- errors → causes -------------------------------------------------------------------------------


def test_bad_api_key_is_access_denied(combo: Combo) -> None:
    sim, client = combo
    bad = OdooClient(
        sim.url,
        database=sim.database,
        login=sim.login,
        api_key="wrong-key-123",
        protocol=client.protocol,
    )
    cause = _cause(bad.connect)
    assert cause.code == "odoo.access_denied"
    assert cause.kind is Kind.CONFIGURATION
    assert "Odoo refused the login 'shopodoo-bot' or its API key" in cause.missing


def test_expired_key_mid_session_is_access_denied(combo: Combo) -> None:
    sim, client = combo
    client.connect()
    sim.expire_api_key()
    cause = _cause(client.search_read, "res.partner", [], ["name"], limit=1)
    assert cause.code == "odoo.access_denied"
    assert cause.operation == "Odoo res.partner search_read"


def test_missing_right_names_model_operation_and_group(combo: Combo) -> None:
    sim, client = combo
    sim.revoke(sim.login, "sale.order", "create")
    partner = client.search("res.partner", [], limit=1)[0]
    cause = _cause(client.create, "sale.order", {"partner_id": partner})
    assert cause.code == "odoo.permission_missing"
    assert cause.kind is Kind.PERMISSION
    assert cause.operation == "Odoo sale.order create"
    assert "may not create sale.order records" in cause.missing
    assert "Sales / User: Own Documents Only" in cause.missing
    assert cause.detail.startswith("You are not allowed to create 'Sales Order' (sale.order)")
    # load() reports the same refusal as a message: still the same cause
    via_load = _cause(client.create_stamped, "sale.order", "o_denied", {"partner_id": partner})
    assert via_load.code == "odoo.permission_missing"
    assert "Sales / User: Own Documents Only" in via_load.missing
    assert "shopodoo.o_denied" in via_load.record
    assert client.find_stamped("sale.order", ["o_denied"]) == {}


def test_missing_group_for_partners(combo: Combo) -> None:
    sim, client = combo
    sim.set_user(sim.login, groups=["base.group_user", "sales_team.group_sale_salesman"])
    cause = _cause(client.create, "res.partner", {"name": "New customer"})
    assert cause.code == "odoo.permission_missing"
    assert "Extra Rights / Contact Creation" in cause.missing


def test_unauthorized_company_is_company_access(combo: Combo) -> None:
    sim, _ = combo
    us = sim.company_id("us")
    client = client_for(sim, combo[1].protocol, company_ids=[us])
    cause = _cause(client.search_read, "sale.order", [], ["name"])
    assert cause.code == "odoo.company_access"
    assert cause.detail == "Access to unauthorized or invalid companies."
    assert f"not allowed in company {us}" in cause.missing


def test_record_rule_on_another_company_is_company_access(combo: Combo) -> None:
    sim, client = combo
    eu, us = sim.company_id("eu"), sim.company_id("us")
    sim.set_user(sim.login, company_ids=[eu, us])
    tax_us = sim.env["account.tax"].search([("company_id", "=", us)])[0]
    cause = _cause(
        client.read, "account.tax", [tax_us], ["name"], context={"allowed_company_ids": [eu]}
    )
    assert cause.code == "odoo.company_access"
    assert "A record rule hides Odoo account.tax" in cause.missing
    marker = "Due to security restrictions" if sim.version >= 19 else "top-secret records"
    assert marker in cause.detail
    # with the company allowed in the context, the same read works
    assert client.read("account.tax", [tax_us], ["name"], context={"allowed_company_ids": [eu, us]})


def test_creates_land_in_the_first_allowed_company(combo: Combo) -> None:
    sim, client = combo
    eu, us = sim.company_id("eu"), sim.company_id("us")
    sim.set_user(sim.login, company_ids=[eu, us])
    partner = client.create("res.partner", {"name": "US buyer"})
    order = client.create(
        "sale.order", {"partner_id": partner}, context={"allowed_company_ids": [us, eu]}
    )
    assert client.read("sale.order", [order], ["company_id"])[0]["company_id"][0] == us


def test_deleted_record_is_record_deleted(combo: Combo) -> None:
    sim, client = combo
    partner = client.create("res.partner", {"name": "Gone soon"})
    sim.delete_record("res.partner", partner)
    cause = _cause(client.write, "res.partner", [partner], {"name": "x"})
    assert cause.code == "odoo.record_deleted"
    assert cause.record == f"Odoo res.partner {partner}"
    assert "does not exist in Odoo any more" in cause.missing
    assert cause.detail.startswith("Record does not exist or has been deleted.")


def test_record_deleted_behind_our_back_by_a_fault(combo: Combo) -> None:
    sim, client = combo
    partner = client.create("res.partner", {"name": "Victim"})
    sim.faults.add(kind="delete", model="res.partner", method="read")
    assert _cause(client.read, "res.partner", [partner]).code == "odoo.record_deleted"


def test_validation_keeps_odoos_message(combo: Combo) -> None:
    _, client = combo
    cause = _cause(client.create, "sale.order", {"client_order_ref": "no partner"})
    assert cause.code == "odoo.validation"
    assert cause.kind is Kind.DATA
    assert "a mandatory field is not set" in cause.detail
    assert "Field: Customer (partner_id)" in cause.detail
    cause = _cause(client.create, "sale.order", {"partner_id": 1, "state": "bogus"})
    assert cause.code == "odoo.validation" and "Wrong value for sale.order.state" in cause.detail


def test_unknown_model_is_a_configuration_problem(combo: Combo) -> None:
    _, client = combo
    cause = _cause(client.search_read, "x_shopify.thing", [], ["name"])
    assert cause.code == "odoo.validation" and cause.kind is Kind.CONFIGURATION
    assert "module that provides it is not installed" in cause.missing


def test_write_conflicts_are_concurrency_and_not_retried(combo: Combo) -> None:
    sim, client = combo
    partner = client.create("res.partner", {"name": "Busy"})
    sim.faults.add(kind="serialization", model="res.partner", method="write", times=5)
    cause = _cause(client.write, "res.partner", [partner], {"name": "x"})
    assert cause.code == "odoo.concurrency" and cause.kind is Kind.TEMPORARY
    assert "could not serialize access due to concurrent update" in cause.detail
    assert sim.call_count("res.partner", "write") == 1
    sim.faults.clear()
    sim.faults.add(kind="lock", model="res.partner", method="write")
    assert _cause(client.write, "res.partner", [partner], {"name": "x"}).code == (
        "odoo.concurrency"
    )


def test_reads_retry_transient_faults(combo: Combo) -> None:
    sim, client = combo
    client.connect()
    sim.faults.add(kind="status", status=503, model="res.partner", method="search_read")
    sim.faults.add(kind="serialization", model="res.partner", method="search_read")
    events: list[str] = []
    client.on_event = lambda name, data: events.append(name)
    assert client.search_read("res.partner", [], ["name"], limit=1)
    assert sim.call_count("res.partner", "search_read") == 3
    assert events.count("retry") == 2
    sim.faults.add(kind="status", status=502, method="search_read", times=None)
    cause = _cause(client.search_read, "res.partner", [], ["name"])
    assert cause.code == "odoo.unreachable" and "HTTP 502" in cause.missing


def test_a_lost_write_answer_is_outcome_unknown_and_the_stamp_finds_it(combo: Combo) -> None:
    sim, client = combo
    partner = client.search("res.partner", [], limit=1)[0]
    values = order_values(client, partner, _products(client))
    before = sim.env["sale.order"].search_count([])
    sim.faults.add(kind="drop", model="sale.order", method="load")
    cause = _cause(client.create_stamped, "sale.order", "shop_x_order_42", values)
    assert cause.code == "odoo.outcome_unknown"
    assert cause.retry_safe is True
    assert "look up the stamp (shopodoo.shop_x_order_42) before any retry" in cause.retry_note
    assert sim.call_count("sale.order", "load") == 1  # never retried blindly
    found = client.find_stamped("sale.order", ["shop_x_order_42"])
    assert list(found) == ["shop_x_order_42"]
    assert (
        client.create_stamped("sale.order", "shop_x_order_42", values) == found["shop_x_order_42"]
    )
    assert sim.env["sale.order"].search_count([]) == before + 1
    lines = sim.env["sale.order.line"].search_count([("order_id", "=", found["shop_x_order_42"])])
    assert lines == 3


def test_a_502_after_the_write_is_outcome_unknown(combo: Combo) -> None:
    sim, client = combo
    sim.faults.add(kind="status", status=502, after=True, model="res.partner", method="create")
    cause = _cause(client.create, "res.partner", {"name": "Maybe"})
    assert cause.code == "odoo.outcome_unknown"
    assert cause.retry_safe is False  # an unstamped create: look before retrying
    assert sim.env["res.partner"].search_count([("name", "=", "Maybe")]) == 1


def test_unreachable_server() -> None:
    sim = OdooSimulator(19).start()
    url = sim.url
    sim.stop()
    client = OdooClient(url, database="x", login="bot", api_key="k" * 20, backoff=0.001)
    cause = _cause(client.connect)
    assert cause.code == "odoo.unreachable" and cause.kind is Kind.TEMPORARY
    assert "did not answer (ConnectError)" in cause.missing


def test_a_write_timeout_is_outcome_unknown() -> None:
    with OdooSimulator(19) as sim:
        client = client_for(sim, timeout=httpx.Timeout(2.0, read=0.2))
        client.connect()
        sim.faults.add(kind="latency", delay=0.5, model="res.partner", method="create")
        cause = _cause(client.create, "res.partner", {"name": "Slow"})
        assert cause.code == "odoo.outcome_unknown"
        assert "ReadTimeout" in cause.missing


def test_rpc_disabled_switches_to_json2() -> None:
    with OdooSimulator(19, rpc_disabled=True) as sim:
        events: list[tuple[str, dict[str, Any]]] = []
        client = client_for(sim, "jsonrpc", on_event=lambda n, d: events.append((n, d)))
        assert client.connect().protocol == "json2"
        assert (
            "protocol_switched",
            {"from": "jsonrpc", "to": "json2", "reason": "HTTP 404 on /jsonrpc"},
        ) in events
        assert client.search_count("res.partner", []) > 0


def test_rpc_switched_off_mid_session_switches_to_json2() -> None:
    with OdooSimulator(19) as sim:
        client = client_for(sim, "jsonrpc")
        assert client.connect().protocol == "jsonrpc"
        sim.rpc_disabled = True
        assert client.search_count("res.partner", []) > 0
        assert client.info and client.info.protocol == "json2"


def test_json2_forced_on_an_older_server_is_a_configuration_cause() -> None:
    with OdooSimulator(17) as sim:
        cause = _cause(client_for(sim, "json2").connect)
        assert cause.code == "odoo.unreachable" and cause.kind is Kind.CONFIGURATION
        assert "has no JSON-2 API (Odoo 19+)" in cause.missing


def test_malformed_answers_become_causes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/web/version":
            return httpx.Response(
                200, json={"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
            )
        if request.url.path.endswith("context_get"):
            return httpx.Response(200, json={"uid": 2})
        return httpx.Response(200, text="<html>captive portal</html>")

    client = OdooClient(
        "http://127.0.0.1:1",
        database="d",
        login="l",
        api_key="k" * 20,
        transport=httpx.MockTransport(handler),
        backoff=0.001,
    )
    assert _cause(client.search_read, "res.partner").code == "odoo.unreachable"
    assert _cause(client.create, "res.partner", {"name": "x"}).code == "odoo.outcome_unknown"


def test_threads_share_one_client(combo: Combo) -> None:
    _, client = combo
    partner = client.search("res.partner", [], limit=1)[0]
    products = _products(client)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for k in range(5):
                name = f"t{n}_o{k}"
                results[name] = client.create_stamped(
                    "sale.order", name, order_values(client, partner, products)
                )
                client.search_read("product.product", [("id", "in", products)], ["name"])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results.values())) == 30
    assert client.find_stamped("sale.order", list(results)) == results
    assert client.latency.count >= 60 and client.latency.p95 is not None


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(ValueError, match="must be https"):
        OdooClient("http://odoo.example.com", database="d", login="l", api_key="k" * 20)
    OdooClient("https://odoo.example.com", database="d", login="l", api_key="k" * 20).close()


def test_invoice_post_through_call(combo: Combo) -> None:
    sim, client = combo
    eu = sim.company_id("eu")
    partner = client.search("res.partner", [("email", "!=", False)], limit=1)[0]
    journal = client.search(
        "account.journal", [("type", "=", "sale"), ("company_id", "=", eu)], limit=1
    )[0]
    move = client.create(
        "account.move",
        {
            "move_type": "out_invoice",
            "partner_id": partner,
            "journal_id": journal,
            "invoice_line_ids": [(0, 0, {"name": "Mug", "quantity": 2.0, "price_unit": 9.5})],
        },
    )
    assert client.call("account.move", "action_post", [move]) is False  # odoo.md §6
    posted = client.read("account.move", [move], ["state", "name", "amount_total"])[0]
    assert posted["state"] == "posted" and posted["name"].startswith("INV/")
    assert posted["amount_total"] == 19.0
