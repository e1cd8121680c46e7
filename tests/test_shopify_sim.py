"""The simulator answers like Shopify: shapes, costs, limits, contracts (raw GraphQL)."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from shopify_support import FIXED_NOW, gql, scenario

from shopodoo_console.shopify import documents
from shopodoo_console.sim.shopify import ShopifySimulator, generate

ORDERS = "query Q($first: Int, $q: String) { orders(first: $first, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt } } }"  # noqa: E501


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(), bucket=(2000, 1000.0)) as running:
        yield running


def test_executed_responses_carry_cost(sim):
    status, body = gql(sim, ORDERS, {"first": 5})
    assert status == 200 and len(body["data"]["orders"]["nodes"]) == 5
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 7 and cost["actualQueryCost"] == 7
    assert cost["throttleStatus"]["maximumAvailable"] == 2000
    assert cost["throttleStatus"]["restoreRate"] == 1000


def test_actual_cost_refunds_what_was_not_returned(sim):
    _, body = gql(sim, ORDERS, {"first": 100})
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (102, 32)


def test_validation_errors_have_shopify_shapes_and_no_cost(sim):
    _, body = gql(sim, "query Broken {\n  orders(first: 1) {\n")
    assert body == {
        "errors": [
            {
                "message": body["errors"][0]["message"],
                "locations": [{"line": 3, "column": 1}],
                "extensions": {"code": "PARSE_ERROR"},
            }
        ]
    }
    assert body["errors"][0]["message"].startswith("syntax error, ")
    _, body = gql(sim, "query U { orders(first: 1) { nodes { financialStatus } } }")
    error = body["errors"][0]
    assert error["message"] == "Field 'financialStatus' doesn't exist on type 'Order'"
    assert error["extensions"] == {
        "code": "undefinedField",
        "typeName": "Order",
        "fieldName": "financialStatus",
    }
    assert "data" not in body and "extensions" not in body
    _, body = gql(sim, "query S { shop }")
    assert body["errors"][0]["extensions"]["code"] == "selectionMismatch"
    _, body = gql(sim, "query A { orders(first: 1) { nodes { id } } } query B { shop { name } }")
    assert body == {"errors": [{"message": "An operation name is required"}]}


def test_invalid_variable(sim):
    query = documents.load("InventorySetQuantities").text
    bad = {
        "input": {
            "name": "available",
            "reason": "correction",
            "quantities": [],
            "ignoreCompareQuantity": True,
        },
        "key": "k",
    }
    _, body = gql(sim, query, bad)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_VARIABLE"
    assert error["extensions"]["problems"][0]["explanation"].startswith("Field is not defined")
    assert "data" not in body


def test_page_limits_and_max_cost(sim):
    _, body = gql(sim, ORDERS, {"first": 251})
    assert body["errors"][0]["extensions"]["code"] == "MAX_PAGE_SIZE_EXCEEDED"
    _, body = gql(sim, "query N { orders { nodes { id } } }")
    assert body["errors"][0]["message"] == "you must provide one of first or last"
    ids = [f"gid://shopify/Order/{i}" for i in range(20)]
    _, body = gql(sim, documents.load("OrdersByIds").text, {"ids": ids, "lineItemsFirst": 50})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["maxCost"] == 1000 and error["extensions"]["cost"] > 1000
    assert error["message"].startswith(f"Query cost is {error['extensions']['cost']}, which")


def test_throttled_when_the_bucket_is_short(sim):
    sim.control.drain_bucket()
    _, body = gql(sim, ORDERS, {"first": 250})
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ]
    assert "data" not in body
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 252 and cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < 252
    assert sim.counters["throttled"] == 1


def test_plans_size_the_bucket():
    for plan, expected in (("standard", (2000, 100)), ("plus", (20000, 1000))):
        with ShopifySimulator(scenario(), plan=plan) as sim:
            _, body = gql(sim, ORDERS, {"first": 1})
            status = body["extensions"]["cost"]["throttleStatus"]
            assert (status["maximumAvailable"], status["restoreRate"]) == expected


def test_search_quirks(sim):
    _, body = gql(sim, ORDERS, {"first": 250, "q": "updated_at:>='2000-01-01T00:00:00Z'"})
    assert len(body["data"]["orders"]["nodes"]) == 30
    assert "search" not in body["extensions"]
    _, body = gql(sim, ORDERS, {"first": 250, "q": "updated_at:>=2000-01-01T00:00:00Z"})
    search = body["extensions"]["search"][0]
    assert search["path"] == ["orders"]
    assert search["warnings"] == [
        {"field": "00", "message": "Invalid search field for this query.", "code": "invalid_field"}
    ]
    assert {"field": "updated_at", "range_gte": "2000-01-01T00:00:00-05:00"} in search["parsed"][
        "and"
    ]
    nodes = body["data"]["orders"]["nodes"]
    middle = nodes[len(nodes) // 2]["updatedAt"]
    _, body = gql(sim, ORDERS, {"first": 250, "q": f"updated_at:<='{middle}'"})
    assert body["data"]["orders"]["nodes"][-1]["updatedAt"] == middle
    _, body = gql(sim, ORDERS, {"first": 250, "q": "made_up:value"})
    assert body["extensions"]["search"][0]["warnings"][0]["field"] == "made_up"
    assert len(body["data"]["orders"]["nodes"]) == 30  # ignored, wider than asked


def test_cursor_pagination(sim):
    query = "query P($after: String) { orders(first: 4, after: $after, sortKey: UPDATED_AT) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }"  # noqa: E501
    seen, after = [], None
    while True:
        _, body = gql(sim, query, {"after": after})
        connection = body["data"]["orders"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        assert connection["pageInfo"]["endCursor"] == connection["edges"][-1]["cursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 30
    _, body = gql(sim, ORDERS, {"first": 1, "q": "name:#99999"})
    assert body["data"]["orders"]["nodes"] == []


def test_idempotent_and_change_from_quantity_contracts(sim):
    bare = documents.load("InventorySetQuantities").text.replace(" @idempotent(key: $key)", "")
    bare = bare.replace(", $key: String!", "")
    item = sim.store.nodes[sim.store.variants[0]]["_item"]
    location = sim.store.locations[0]
    quantity = {
        "inventoryItemId": item,
        "locationId": location,
        "quantity": 3,
        "changeFromQuantity": None,
    }
    data = {"name": "available", "reason": "correction", "quantities": [quantity]}
    _, body = gql(sim, bare, {"input": data})
    assert body["data"] == {"inventorySetQuantities": None}
    assert body["errors"][0]["message"] == (
        "The @idempotent directive is required for this mutation but was not provided."
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    full = documents.load("InventorySetQuantities").text
    no_cfq = {
        **data,
        "quantities": [{k: v for k, v in quantity.items() if k != "changeFromQuantity"}],
    }
    _, body = gql(sim, full, {"input": no_cfq, "key": "a"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert "changeFromQuantity" in body["errors"][0]["message"]
    _, body = gql(sim, full, {"input": {**data, "name": "damaged"}, "key": "b"})
    assert body["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_NAME"
    _, first = gql(sim, full, {"input": data, "key": "c"})
    changes = first["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert {c["name"] for c in changes} == {"available", "on_hand"}
    assert all(c["quantityAfterChange"] is None for c in changes)
    _, replay = gql(sim, full, {"input": data, "key": "c"})
    assert replay["data"] == first["data"]


def test_fulfillment_create_checks(sim):
    order = next(
        sim.store.nodes[i]
        for i in sim.store.orders
        if sim.store.nodes[i]["displayFulfillmentStatus"] == "UNFULFILLED"
        and not sim.store.nodes[i]["cancelledAt"]
        and sim.store.nodes[i]["_fulfillment_orders"]
    )
    fo = sim.store.nodes[order["_fulfillment_orders"][0]]
    fo_line = sim.store.nodes[fo["_lines"][0]]
    create = documents.load("FulfillmentCreate").text

    def call(groups):
        _, body = gql(sim, create, {"fulfillment": {"lineItemsByFulfillmentOrder": groups}})
        return body["data"]["fulfillmentCreate"]

    zero = call(
        [
            {
                "fulfillmentOrderId": fo["id"],
                "fulfillmentOrderLineItems": [{"id": fo_line["id"], "quantity": 0}],
            }
        ]
    )
    assert zero["userErrors"] == [
        {
            "field": [
                "fulfillment",
                "lineItemsByFulfillmentOrder",
                "0",
                "fulfillmentOrderLineItems",
                "0",
                "quantity",
            ],
            "message": "Quantity must be greater than 0",
        }
    ]
    over = call(
        [
            {
                "fulfillmentOrderId": fo["id"],
                "fulfillmentOrderLineItems": [
                    {"id": fo_line["id"], "quantity": fo_line["remainingQuantity"] + 1}
                ],
            }
        ]
    )
    assert (
        over["userErrors"][0]["message"]
        == "Invalid fulfillment order line item quantity requested."
    )
    missing = call([{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1"}])
    assert missing["userErrors"][0]["message"] == "Fulfillment order does not exist."
    done = call([{"fulfillmentOrderId": fo["id"]}])
    assert done["userErrors"] == [] and done["fulfillment"]["status"] == "SUCCESS"
    assert done["fulfillment"]["name"] == f"{order['name']}-F1"
    again = call([{"fulfillmentOrderId": fo["id"]}])
    legacy = fo["id"].rsplit("/", 1)[1]
    assert again["userErrors"][0]["message"] == (
        f"Fulfillment order {legacy} has an unfulfillable status= closed."
    )
    assert sim.control.order(order["id"])["displayFulfillmentStatus"] == "FULFILLED"


def test_metafields_set_limits_and_digest(sim):
    order_id = sim.store.orders[0]
    query = documents.load("MetafieldsSet").text
    many = [
        {
            "ownerId": order_id,
            "namespace": "shopodoo",
            "key": f"k{i:02d}",
            "value": "v",
            "type": "single_line_text_field",
        }
        for i in range(26)
    ]
    _, body = gql(sim, query, {"metafields": many})
    payload = body["data"]["metafieldsSet"]
    assert payload["metafields"] is None
    assert payload["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    _, body = gql(sim, query, {"metafields": [{**many[0], "compareDigest": "f" * 64}]})
    assert body["data"]["metafieldsSet"]["userErrors"][0]["code"] == "STALE_OBJECT"
    _, body = gql(sim, query, {"metafields": [{**many[0], "compareDigest": "nothex"}]})
    assert body["data"]["metafieldsSet"]["userErrors"][0]["code"] == "INVALID_COMPARE_DIGEST"
    _, body = gql(sim, query, {"metafields": [{k: v for k, v in many[0].items() if k != "type"}]})
    assert body["data"]["metafieldsSet"]["userErrors"][0]["message"] == "Type can't be blank"


def test_tags_add_unsupported_id_is_resource_not_found(sim):
    _, body = gql(
        sim, documents.load("TagsAdd").text, {"id": "gid://shopify/Nope/1", "tags": ["a"]}
    )
    assert body["data"] == {"tagsAdd": None}
    assert body["errors"][0]["extensions"]["code"] == "RESOURCE_NOT_FOUND"


def test_tokens_and_http_errors(sim):
    status, body = gql(sim, ORDERS, {"first": 1}, token="shpat_bogus_bogus_bogus_00")
    assert status == 401
    assert body == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    url = f"{sim.base_url}/admin/oauth/access_token"
    form = {
        "grant_type": "client_credentials",
        "client_id": sim.client_id,
        "client_secret": sim.client_secret,
    }
    issued = httpx.post(url, data=form).json()
    assert issued["expires_in"] == 86399 and "read_orders" in issued["scope"].split(",")
    assert httpx.post(url, json=form).status_code == 200
    assert httpx.post(url, json={**form, "client_secret": "x"}).status_code == 401
    assert gql(sim, ORDERS, {"first": 1}, token=issued["access_token"])[0] == 200
    sim.control.expire_tokens()
    assert gql(sim, ORDERS, {"first": 1}, token=issued["access_token"])[0] == 401
    sim.faults.add(action="status", status=429, retry_after=2)
    response = httpx.post(
        sim.graphql_url(),
        json={"query": ORDERS},
        headers={"X-Shopify-Access-Token": sim.static_token},
    )
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"


def test_http_control_api(sim):
    base = f"{sim.base_url}/_sim"
    info = httpx.get(f"{base}/info").json()
    assert info["domain"] == sim.domain
    order_id = sim.store.orders[0]
    before = sim.store.nodes[order_id]["updatedAt"]
    answer = httpx.post(f"{base}/control/touch_order", json={"id": order_id}).json()
    assert answer["result"] > before
    created = httpx.post(
        f"{base}/control/create_order",
        json={
            "spec": {
                "customer": None,
                "email": "walk-in@example.com",
                "lines": [{"sku": "DUP-SKU-1", "quantity": 2}],
            }
        },
    ).json()["result"]
    assert sim.control.order(created)["lineItems"][0]["quantity"] == 2
    rule = httpx.post(f"{base}/faults", json={"action": "status", "status": 503}).json()
    assert rule["action"] == "status"
    assert gql(sim, ORDERS, {"first": 1})[0] == 503
    httpx.delete(f"{base}/faults")
    assert httpx.get(f"{base}/counters").json()["requests"] >= 1
    bad = httpx.post(f"{base}/control/no_such_thing", json={})
    assert bad.status_code == 400


def test_generated_scenarios_are_deterministic_and_awkward():
    one = generate(seed=11, orders=40, now=FIXED_NOW)
    assert one == generate(seed=11, orders=40, now=FIXED_NOW)
    assert one != generate(seed=12, orders=40, now=FIXED_NOW)
    orders = one["orders"]
    assert any(o["customer"] is None for o in orders)
    assert any(len(o["lines"]) == 12 for o in orders)
    assert any(o.get("cancelled") for o in orders)
    assert any(o.get("fulfilled") == "partial" for o in orders)
    assert any(o.get("presentmentCurrencyCode") == "USD" for o in orders)
    assert all(1 <= len(o["lines"]) <= 13 for o in orders)
    assert json.loads(json.dumps(one)) == one  # JSON-friendly


def test_command_line_serves_until_stopped():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopodoo_console.sim.shopify",
            "--port",
            "0",
            "--orders",
            "5",
            "--json",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        response = httpx.post(
            info["graphql_url"],
            json={"query": ORDERS, "variables": {"first": 10}},
            headers={"X-Shopify-Access-Token": info["static_token"]},
        )
        assert len(response.json()["data"]["orders"]["nodes"]) == 5
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
