"""The simulator's fulfillment orders behave like Shopify's (raw GraphQL and control over HTTP).

One fulfillment order per location with remaining quantities; holds that stop work until
released; fulfillment-service orders requested and accepted by the service, never fulfilled by
the merchant's app; closed ones refused with the captured message; tracking and notifyCustomer
kept; the order's displayFulfillmentStatus following all of it; lines fulfilled by hand.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from shopify_support import gql, scenario

from shopodoo_console.shopify import documents
from shopodoo_console.sim.shopify import ShopifySimulator

CREATE = documents.load("FulfillmentCreate").text
STATES = documents.load("FulfillmentStates").text
PAGES = {"fulfillments": 4, "fulfillmentOrders": 3, "lines": 10}


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(), bucket=(2000, 1000.0)) as running:
        yield running


def _skus(sim: ShopifySimulator, n: int) -> list[str]:
    skus = []
    for variant_id in sim.store.variants:
        sku = sim.store.nodes[variant_id]["sku"]
        if sku and sku not in skus and len(sim.store.variants_by_sku(sku)) == 1:
            skus.append(sku)
        if len(skus) == n:
            return skus
    raise AssertionError("not enough SKUs")


def _order(sim: ShopifySimulator, lines: list[dict[str, Any]], **extra: Any) -> str:
    spec = {"customer": None, "email": "ops@example.com", "lines": lines, **extra}
    return sim.control.create_order(spec)


def _state(sim: ShopifySimulator, order_id: str) -> dict[str, Any]:
    _, body = gql(sim, STATES, {"ids": [order_id], **PAGES})
    return body["data"]["nodes"][0]


def _create(sim: ShopifySimulator, groups: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    fulfillment = {"lineItemsByFulfillmentOrder": groups, **extra}
    _, body = gql(sim, CREATE, {"fulfillment": fulfillment})
    return body["data"]["fulfillmentCreate"]


def test_lines_at_two_locations_make_two_fulfillment_orders(sim):
    a, b = _skus(sim, 2)
    order = _order(
        sim, [{"sku": a, "quantity": 2}, {"sku": b, "quantity": 1, "location": "Outlet Store"}]
    )
    state = _state(sim, order)
    fos = state["fulfillmentOrders"]["nodes"]
    assert [fo["status"] for fo in fos] == ["OPEN", "OPEN"]
    locations = [fo["assignedLocation"]["location"]["id"] for fo in fos]
    assert locations == [
        sim.store.location("Main Warehouse")["id"],
        sim.store.location("Outlet Store")["id"],
    ]
    assert [li["remainingQuantity"] for fo in fos for li in fo["lineItems"]["nodes"]] == [2, 1]
    assert all(
        {a["action"] for a in fo["supportedActions"]} >= {"CREATE_FULFILLMENT", "HOLD"}
        for fo in fos
    )
    both = _create(sim, [{"fulfillmentOrderId": fo["id"]} for fo in fos])
    assert both["userErrors"][0]["message"].startswith(
        "All fulfillment orders must be assigned to a single location."
    )


def test_tracking_names_partial_then_full_and_the_order_status(sim):
    (sku,) = _skus(sim, 1)
    order = _order(sim, [{"sku": sku, "quantity": 3}])
    fo = _state(sim, order)["fulfillmentOrders"]["nodes"][0]
    line = fo["lineItems"]["nodes"][0]
    first = _create(
        sim,
        [
            {
                "fulfillmentOrderId": fo["id"],
                "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 1}],
            }
        ],
        trackingInfo={
            "numbers": ["1Z001", "1Z002"],
            "urls": ["https://t.example/1Z001", "https://t.example/1Z002"],
            "company": "UPS",
        },
        notifyCustomer=True,
    )
    assert first["userErrors"] == []
    assert first["fulfillment"]["trackingInfo"] == [
        {"number": "1Z001", "url": "https://t.example/1Z001", "company": "UPS"},
        {"number": "1Z002", "url": "https://t.example/1Z002", "company": "UPS"},
    ]
    snap = sim.control.order(order)
    assert snap["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    assert snap["fulfillments"][0]["notifyCustomer"] is True
    assert snap["fulfillmentOrders"][0]["status"] == "IN_PROGRESS"
    rest = _create(sim, [{"fulfillmentOrderId": fo["id"]}], trackingInfo={"number": "X9"})
    assert rest["fulfillment"]["name"].endswith("-F2")
    assert [n["quantity"] for n in rest["fulfillment"]["fulfillmentLineItems"]["nodes"]] == [2]
    state = _state(sim, order)
    assert state["displayFulfillmentStatus"] == "FULFILLED"
    closed = state["fulfillmentOrders"]["nodes"][0]
    assert closed["status"] == "CLOSED" and closed["supportedActions"] == []
    assert closed["lineItems"]["nodes"][0]["remainingQuantity"] == 0


def test_a_hold_stops_fulfilment_until_released(sim):
    (sku,) = _skus(sim, 1)
    order = _order(sim, [{"sku": sku, "quantity": 1}])
    before = sim.control.order(order)["updatedAt"]
    held = sim.control.hold_fulfillment(order, "INCORRECT_ADDRESS", "Street number missing")
    assert [fo["status"] for fo in held] == ["ON_HOLD"]
    state = _state(sim, order)
    fo = state["fulfillmentOrders"]["nodes"][0]
    assert state["displayFulfillmentStatus"] == "ON_HOLD"
    assert fo["fulfillmentHolds"][0]["reason"] == "INCORRECT_ADDRESS"
    assert fo["fulfillmentHolds"][0]["reasonNotes"] == "Street number missing"
    assert fo["supportedActions"] == [{"action": "RELEASE_HOLD"}]
    assert sim.control.order(order)["updatedAt"] > before
    refused = _create(sim, [{"fulfillmentOrderId": fo["id"]}])
    legacy = fo["id"].rsplit("/", 1)[1]
    assert refused["userErrors"][0]["message"] == (
        f"Fulfillment order {legacy} has an unfulfillable status= on_hold."
    )
    released = sim.control.release_fulfillment(order)
    assert [r["status"] for r in released] == ["OPEN"]
    assert _create(sim, [{"fulfillmentOrderId": fo["id"]}])["userErrors"] == []
    with pytest.raises(Exception, match="nothing on hold"):
        sim.control.release_fulfillment(order)


def test_a_fulfillment_service_order_is_requested_and_never_fulfilled_by_the_app(sim):
    (sku,) = _skus(sim, 1)
    sim.control.create_location({"name": "ShipFast 3PL", "isFulfillmentService": True})
    sim.control.set_stock(sku, "ShipFast 3PL", 20)
    order = _order(sim, [{"sku": sku, "quantity": 2, "location": "ShipFast 3PL"}])
    fo = _state(sim, order)["fulfillmentOrders"]["nodes"][0]
    assert fo["requestStatus"] == "UNSUBMITTED"
    assert {a["action"] for a in fo["supportedActions"]} == {"REQUEST_FULFILLMENT", "MOVE", "HOLD"}
    sim.control.request_fulfillment(fo["id"])
    accepted = sim.control.accept_fulfillment_request(fo["id"])[0]
    assert (accepted["status"], accepted["requestStatus"]) == ("IN_PROGRESS", "ACCEPTED")
    assert _state(sim, order)["displayFulfillmentStatus"] == "IN_PROGRESS"
    refused = _create(sim, [{"fulfillmentOrderId": fo["id"]}])
    assert "assigned to a fulfillment service" in refused["userErrors"][0]["message"]
    assert sim.control.order(order)["fulfillments"] == []


def test_fulfilled_by_hand_and_cancelled_orders(sim):
    a, b = _skus(sim, 2)
    order = _order(sim, [{"sku": a, "quantity": 2}, {"sku": b, "quantity": 1}])
    names = sim.control.fulfill_by_hand(order, {a: 1}, tracking_number="HAND-1", company="DHL")
    assert names == [f"{sim.control.order(order)['name']}-F1"]
    fo = sim.control.fulfillment_orders(order)[0]
    assert [li["remainingQuantity"] for li in fo["lineItems"]] == [1, 1]
    cancelled = _order(sim, [{"sku": a, "quantity": 1}])
    sim.control.cancel_order(cancelled)
    fo = _state(sim, cancelled)["fulfillmentOrders"]["nodes"][0]
    assert fo["status"] == "CLOSED"
    refused = _create(sim, [{"fulfillmentOrderId": fo["id"]}])
    assert refused["userErrors"][0]["message"].endswith("has an unfulfillable status= closed.")


def test_many_orders_states_fit_one_request(sim):
    ids = sim.store.orders[:10]
    _, body = gql(sim, STATES, {"ids": ids, **PAGES})
    assert [n["id"] for n in body["data"]["nodes"]] == ids
    assert body["extensions"]["cost"]["requestedQueryCost"] <= 1000


def test_fulfillment_control_over_http(sim):
    (sku,) = _skus(sim, 1)
    order = _order(sim, [{"sku": sku, "quantity": 1}])
    base = f"{sim.base_url}/_sim/control"
    bad = httpx.post(f"{base}/hold_fulfillment", json={"ref": order, "reason": "NOPE"})
    assert bad.status_code == 400 and "unknown hold reason" in bad.json()["error"]
    held = httpx.post(f"{base}/hold_fulfillment", json={"ref": order, "reason": "OTHER"}).json()
    assert held["result"][0]["status"] == "ON_HOLD"
    httpx.post(f"{base}/release_fulfillment", json={"ref": order})
    done = httpx.post(f"{base}/fulfill_by_hand", json={"order": order}).json()["result"]
    assert len(done) == 1
    assert sim.control.order(order)["displayFulfillmentStatus"] == "FULFILLED"
    sold = httpx.post(
        f"{base}/sell", json={"item": sku, "location": "Main Warehouse", "quantity": 1}
    ).json()["result"]
    assert sold["committed"] >= 1
