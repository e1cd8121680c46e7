"""The simulator itself: wire shapes and status codes (odoo.md §2-§3), versions, business
methods, load(), the command line and the control endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shopodoo_console.sim.odoo import OdooSimulator, default_scenario, ean13, main


@pytest.fixture(scope="module", params=[16, 17, 18, 19])
def sim(request: pytest.FixtureRequest) -> Iterator[OdooSimulator]:
    with OdooSimulator(request.param) as s:
        yield s


def rpc(sim: OdooSimulator, service: str, method: str, *args: Any) -> httpx.Response:
    body = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 7,
        "params": {"service": service, "method": method, "args": list(args)},
    }
    return httpx.post(f"{sim.url}/jsonrpc", json=body)


def kw(
    sim: OdooSimulator,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    key: str | None = None,
) -> httpx.Response:
    return rpc(
        sim,
        "object",
        "execute_kw",
        sim.database,
        sim.uid,
        key or sim.api_key,
        model,
        method,
        args,
        kwargs or {},
    )


def j2(
    sim: OdooSimulator, model: str, method: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    return httpx.post(
        f"{sim.url}/json/2/{model}/{method}",
        json=body,
        headers={"Authorization": f"bearer {key or sim.api_key}"},
    )


def test_version_endpoints(sim: OdooSimulator) -> None:
    r = rpc(sim, "common", "version")
    assert r.json()["result"]["server_version_info"][:2] == [sim.version, 0]
    web = httpx.get(f"{sim.url}/web/version")
    if sim.version >= 19:
        assert web.json() == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
    else:
        assert web.status_code == 404


def test_jsonrpc_error_envelope(sim: OdooSimulator) -> None:
    r = kw(sim, "sale.order", "read", [[999999]])
    assert r.status_code == 200  # errors travel with HTTP 200 (odoo.md §3.2)
    error = r.json()["error"]
    assert error["code"] == (0 if sim.version >= 19 else 200)
    assert error["message"] == "Odoo Server Error"
    assert error["data"]["name"] == "odoo.exceptions.MissingError"
    assert set(error["data"]) == {"name", "message", "arguments", "context", "debug"}
    denied = kw(sim, "res.partner", "search", [[]], key="nope").json()["error"]["data"]
    assert denied["name"] == "odoo.exceptions.AccessDenied" and denied["debug"] == ""
    assert (
        rpc(sim, "common", "authenticate", sim.database, sim.login, "bad", {}).json()["result"]
        is False
    )
    bad = httpx.post(f"{sim.url}/jsonrpc", content=b"{not json")
    assert (bad.status_code, bad.text) == (400, "Invalid JSON data")
    unknown = kw(sim, "no.such", "search", [[]]).json()["error"]["data"]
    assert unknown["message"] == "Object no.such doesn't exist"


def test_create_returns_int_or_list_over_rpc(sim: OdooSimulator) -> None:
    assert isinstance(kw(sim, "res.partner", "create", [{"name": "A"}]).json()["result"], int)
    assert isinstance(kw(sim, "res.partner", "create", [[{"name": "B"}]]).json()["result"], list)


def test_json2_shapes_and_statuses() -> None:
    with OdooSimulator(19) as s:
        assert j2(s, "res.partner", "create", {"vals_list": [{"name": "A"}]}).json()[0] > 0
        cases = [
            (
                j2(s, "res.partner", "search", {"domain": []}, key="bad"),
                401,
                "werkzeug.exceptions.Unauthorized",
            ),
            (j2(s, "no.model", "search", {"domain": []}), 404, "werkzeug.exceptions.NotFound"),
            (j2(s, "res.partner", "nope", {}), 404, "werkzeug.exceptions.NotFound"),
            (j2(s, "res.partner", "_private", {}), 404, "werkzeug.exceptions.NotFound"),
            (
                j2(s, "res.partner", "search", {"ids": [1], "domain": []}),
                422,
                "werkzeug.exceptions.UnprocessableEntity",
            ),
            (
                j2(s, "res.partner", "search", {"domain": [], "badparameter": 1}),
                422,
                "werkzeug.exceptions.UnprocessableEntity",
            ),
            (j2(s, "res.partner", "read", {"ids": [10**6]}), 404, "odoo.exceptions.MissingError"),
            (
                j2(s, "sale.order", "create", {"vals_list": [{}]}),
                422,
                "odoo.exceptions.ValidationError",
            ),
            (
                j2(
                    s,
                    "account.move",
                    "search",
                    {"domain": [], "context": {"allowed_company_ids": [99]}},
                ),
                403,
                "odoo.exceptions.AccessError",
            ),
        ]
        for response, status, name in cases:
            assert (response.status_code, response.json()["name"]) == (status, name)
        assert cases[0][0].json()["message"] == "Invalid apikey"
        assert "cannot call res.partner.search with ids" in cases[4][0].json()["message"]
        assert "unexpected keyword argument 'badparameter'" in cases[5][0].json()["message"]
        get = httpx.get(f"{s.url}/json/2/res.partner/search")
        assert get.status_code == 404 and "Did you mean POST" in get.json()["message"]
        s.faults.add(kind="lock")
        assert j2(s, "res.partner", "search", {"domain": []}).status_code == 409
        s.faults.add(kind="serialization")
        r = j2(s, "res.partner", "search", {"domain": []})
        assert (r.status_code, r.json()["name"]) == (500, "psycopg2.errors.SerializationFailure")
        s.faults.add(kind="status", status=503)
        r = j2(s, "res.partner", "search", {"domain": []})
        assert r.status_code == 503 and "nginx" in r.text


def test_json2_absent_before_19() -> None:
    with OdooSimulator(18) as s:
        assert j2(s, "res.partner", "search", {"domain": []}).status_code == 404


def test_fields_follow_the_version(sim: OdooSimulator) -> None:
    v = sim.version
    line = sim.env["sale.order.line"].fields_get()
    assert ("tax_ids" in line, "tax_id" in line) == (v >= 19, v < 19)
    assert ("product_uom_id" in line) == (v >= 19)
    product = sim.env["product.product"].fields_get()
    assert ("is_storable" in product, "detailed_type" in product) == (v >= 18, v < 18)
    states = [k for k, _ in sim.env["sale.order"].fields_get()["state"]["selection"]]
    assert ("done" in states) == (v == 16)
    assert ("locked" in sim.env["sale.order"].fields_get()) == (v >= 17)
    assert ("mobile" in sim.env["res.partner"].fields_get()) == (v < 19)
    move = sim.env["stock.move"].fields_get()
    assert ("quantity_done" in move, "picked" in move) == (v == 16, v >= 17)
    order = sim.env["sale.order"].fields_get()["order_line"]
    assert order["type"] == "one2many" and order["relation"] == "sale.order.line"


def test_x2many_commands_and_reads() -> None:
    with OdooSimulator(17) as s:
        env = s.env
        pid = env["res.partner"].create([{"name": "Buyer"}])[0]
        products = env["product.product"].search([("type", "=", "product")], limit=3)
        oid = env["sale.order"].create(
            [
                {
                    "partner_id": pid,
                    "order_line": [
                        (0, 0, {"product_id": p, "product_uom_qty": 1.0}) for p in products
                    ],
                }
            ]
        )[0]
        lines = env["sale.order"].read([oid], ["order_line"])[0]["order_line"]
        env["sale.order"].write(
            [oid], {"order_line": [(1, lines[0], {"product_uom_qty": 5.0}), (2, lines[1])]}
        )
        rows = env["sale.order.line"].search_read(
            [("order_id", "=", oid)], ["product_uom_qty", "order_id"]
        )
        assert [r["product_uom_qty"] for r in rows] == [5.0, 1.0]
        assert rows[0]["order_id"][0] == oid and rows[0]["order_id"][1].startswith("S")
        env["sale.order.line"].write([lines[0]], {"tax_id": [(6, 0, [1, 2])]})
        assert env["sale.order.line"].read([lines[0]], ["tax_id"])[0]["tax_id"] == [1, 2]


def test_confirm_creates_the_delivery_and_validation_per_version(sim: OdooSimulator) -> None:
    env = sim.env.with_context(allowed_company_ids=[sim.company_id("eu")])
    pid = env["res.partner"].search([("email", "!=", False)], limit=1)[0]
    sku = env["product.product"].search_read([("qty_available", ">", 5)], ["id"], limit=1)[0]
    oid = env["sale.order"].create(
        [
            {
                "partner_id": pid,
                "order_line": [(0, 0, {"product_id": sku["id"], "product_uom_qty": 2.0})],
            }
        ]
    )[0]
    assert env["sale.order"].action_confirm([oid]) is True
    order = env["sale.order"].read([oid], ["state", "picking_ids"])[0]
    assert order["state"] == "sale"
    picking = order["picking_ids"][0]
    moves = env["stock.move"].search_read(
        [("picking_id", "=", picking)], ["product_uom_qty", "state"]
    )
    assert moves == [{"id": moves[0]["id"], "product_uom_qty": 2.0, "state": "assigned"}]
    result = env["stock.picking"].button_validate([picking])
    if sim.version == 16:
        assert result["res_model"] == "stock.immediate.transfer"
        assert result["context"]["button_validate_picking_ids"] == [picking]
        assert env["stock.picking"].read([picking], ["state"])[0]["state"] == "assigned"
    else:
        assert result is True  # 17+: nothing picked means everything picked
        assert env["stock.picking"].read([picking], ["state"])[0]["state"] == "done"
        line = env["sale.order.line"].search_read([("order_id", "=", oid)], ["qty_delivered"])
        assert line[0]["qty_delivered"] == 2.0


def test_partial_quantities_return_the_backorder_wizard() -> None:
    with OdooSimulator(18) as s:
        env = s.env.with_context(allowed_company_ids=[s.company_id("eu")])
        pid = env["res.partner"].search([], limit=1)[0]
        product = env["product.product"].search_read(
            [("qty_available", "=", 3.0)], ["id"], limit=1
        )[0]["id"]
        oid = env["sale.order"].create(
            [
                {
                    "partner_id": pid,
                    "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 5.0})],
                }
            ]
        )[0]
        env["sale.order"].action_confirm([oid])
        picking = env["sale.order"].read([oid], ["picking_ids"])[0]["picking_ids"][0]
        action = env["stock.picking"].button_validate([picking])
        assert action["res_model"] == "stock.backorder.confirmation"
        assert (
            env["stock.picking"].with_context(skip_backorder=True).button_validate([picking])
            is True
        )
        backorders = env["stock.picking"].search_read([("backorder_id", "=", picking)], ["state"])
        assert len(backorders) == 1


def test_ir_model_data_constraints(sim: OdooSimulator) -> None:
    imd = sim.env["ir.model.data"]
    row = {"module": "shopodoo", "name": "dup_check", "model": "res.partner", "res_id": 1}
    imd.create([row])
    r = j2(sim, "ir.model.data", "create", {"vals_list": [row]}) if sim.version >= 19 else None
    if r is not None:
        assert r.status_code == 422
        assert "ir_model_data_module_name_uniq_index" in r.json()["message"]
    spaced = kw(sim, "ir.model.data", "create", [{**row, "name": "has space"}]).json()
    assert spaced["error"]["data"]["message"] == (
        "The operation cannot be completed: External IDs cannot contain spaces"
    )


def test_load_upserts_by_external_id() -> None:
    with OdooSimulator(19) as s:
        partners = s.env["res.partner"]
        fields = ["id", "name", "email"]
        first = partners.load(fields, [["shopodoo.c1", "Ann", "a@x.be"]])
        assert first["messages"] == [] and len(first["ids"]) == 1
        again = partners.load(fields, [["shopodoo.c1", "Ann B", "a@x.be"]])
        assert again["ids"] == first["ids"]  # init mode: updated in place
        assert partners.read(first["ids"], ["name"])[0]["name"] == "Ann B"
        keep = s.env.with_context(mode="update")["res.partner"].load(
            fields, [["shopodoo.c2", "Bo", ""]]
        )
        # registered with noupdate: mode=update leaves it alone
        s.env.with_context(noupdate=True)["res.partner"].load(fields, [["shopodoo.c3", "C", ""]])
        upd = s.env.with_context(mode="update")["res.partner"]
        assert upd.load(fields, [["shopodoo.c3", "Changed", ""]])["ids"]
        assert partners.search_read([("name", "=", "C")], ["id"])
        assert keep["ids"]
        s.delete_record("res.partner", first["ids"][0])
        recreated = partners.load(fields, [["shopodoo.c1", "Ann", ""]])
        assert recreated["ids"] != first["ids"]  # stale external id replaced
        wrong = s.env["sale.order"].load(["id", "partner_id/.id"], [["shopodoo.c1", "1"]])
        assert wrong["ids"] is False
        assert "found record of different model res.partner" in wrong["messages"][0]["message"]
        ranked = ["id", "name", "customer_rank"]
        broken = partners.load(ranked, [["shopodoo.ok", "fine", "1"], ["shopodoo.ko", "x", "n/a"]])
        assert broken["ids"] is False and broken["messages"][0]["record"] == 1
        assert "'n/a' does not seem to be an integer" in broken["messages"][0]["message"]
        assert not partners.search([("name", "=", "fine")])  # all or nothing


def test_call_counter_and_control_endpoint() -> None:
    with OdooSimulator(19) as s:
        base = s.url
        assert httpx.get(f"{base}/_sim/info").json()["login"] == s.login
        httpx.post(
            f"{base}/_sim/faults", json={"kind": "status", "status": 503, "model": "res.partner"}
        )
        assert j2(s, "res.partner", "search", {"domain": []}).status_code == 503
        assert j2(s, "res.partner", "search", {"domain": []}).status_code == 200
        assert httpx.get(f"{base}/_sim/calls").json()["res.partner/search"] == 2
        httpx.delete(f"{base}/_sim/calls")
        assert s.call_count() == 0
        httpx.post(f"{base}/_sim/users", json={"revoke": {"res.partner": ["read"]}})
        assert j2(s, "res.partner", "search", {"domain": []}).status_code == 403
        httpx.post(f"{base}/_sim/users", json={"grant": {"res.partner": ["read"]}})
        out = httpx.post(
            f"{base}/_sim/exec",
            json={"model": "res.partner", "method": "search", "args": [[["name", "=", "OdooBot"]]]},
        )
        assert out.json() == {"result": [1]}
        httpx.post(f"{base}/_sim/settings", json={"rpc_disabled": True})
        assert rpc(s, "object", "execute_kw").status_code == 404


def test_command_line_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    code: list[int] = []
    t = threading.Thread(
        target=lambda: code.append(main(["--port", "0", "--version", "17", "--json"], stop=stop))
    )
    t.start()
    try:
        line = ""
        for _ in range(200):  # bounded: the line appears once the server listens
            line = capsys.readouterr().out.strip() or line
            if line:
                break
            stop.wait(0.01)
        info = json.loads(line)
        assert info["version"] == "17.0"
        assert httpx.post(
            f"{info['url']}/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "params": {"service": "common", "method": "version", "args": []},
            },
        ).json()["result"]
    finally:
        stop.set()
        t.join(5)
    assert code == [0]


def test_scenario_is_deterministic_and_configurable() -> None:
    a, b = default_scenario(seed=3), default_scenario(seed=3)
    assert a == b
    custom = default_scenario(products=5, sku_format="MUG-{n:02d}", barcode_prefix="54")
    assert [p["sku"] for p in custom["products"]] == [f"MUG-{n:02d}" for n in range(1, 6)]
    assert ean13("400638133393", 0) == "4006381333931"  # a known EAN-13
    with OdooSimulator(19, custom) as s:
        assert s.env["product.product"].search_count([("default_code", "=like", "MUG-%")]) == 5
