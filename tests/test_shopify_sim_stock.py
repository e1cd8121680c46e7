"""The simulator's inventory answers like Shopify 2026-07 (raw GraphQL over HTTP).

inventorySetQuantities / inventoryActivate: @idempotent required, a replayed key returns the
first result, a key reused with other parameters, in flight, or spent by a failed attempt
errs as shopify.md §8.4 says; changeFromQuantity required and compared; the captured cost;
the 250-item input limit. And stock moves like a shop's: sales commit, shipments take away,
cancellations give back.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shopify_support import gql, scenario, wait_until

from shopodoo_console.shopify import documents
from shopodoo_console.sim.shopify import ShopifySimulator

SET = documents.load("InventorySetQuantities").text
ACTIVATE = documents.load("InventoryActivate").text


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(), bucket=(2000, 1000.0)) as running:
        yield running


def _item(sim: ShopifySimulator, index: int = 0) -> str:
    return sim.store.nodes[sim.store.variants[index]]["_item"]


def _available(sim: ShopifySimulator, item: str, location: str) -> int:
    level = sim.control.level(item, location)
    assert level is not None
    return int(level["available"])


def _set(
    sim: ShopifySimulator,
    key: str | None,
    quantities: list[dict[str, Any]],
    **input_: Any,
) -> dict[str, Any]:
    data = {"name": "available", "reason": "correction", "quantities": quantities, **input_}
    variables: dict[str, Any] = {"input": data}
    query = SET
    if key is None:
        query = SET.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    else:
        variables["key"] = key
    status, body = gql(sim, query, variables)
    assert status == 200
    return body


def _q(item: str, location: str, quantity: int, change_from: int | None) -> dict[str, Any]:
    return {
        "inventoryItemId": item,
        "locationId": location,
        "quantity": quantity,
        "changeFromQuantity": change_from,
    }


def test_set_costs_what_shopify_charged_in_the_captures(sim):
    item, location = _item(sim), sim.store.locations[0]
    now = _available(sim, item, location)
    body = _set(sim, "cost-1", [_q(item, location, now + 1, now)])
    assert body["extensions"]["cost"]["requestedQueryCost"] == 13
    assert body["extensions"]["cost"]["actualQueryCost"] == 13
    refused = _set(sim, "cost-2", [_q(item, location, 1, now)], name="damaged")
    assert refused["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_NAME"
    assert refused["extensions"]["cost"]["actualQueryCost"] == 10  # as captured on errors


def test_a_replayed_key_returns_the_first_result_even_after_the_level_moved(sim):
    item, location = _item(sim), sim.store.locations[0]
    now = _available(sim, item, location)
    first = _set(sim, "job-7:0", [_q(item, location, now + 4, now)])
    group = first["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert [c["delta"] for c in group["changes"]] == [4, 4]
    sim.control.sell(item, location, 2)  # the shop moves on
    replay = _set(sim, "job-7:0", [_q(item, location, now + 4, now)])
    assert replay["data"] == first["data"]
    assert _available(sim, item, location) == now + 2  # applied once, then the sale


def test_a_key_reused_with_other_parameters_is_refused_and_changes_nothing(sim):
    item, location = _item(sim), sim.store.locations[0]
    now = _available(sim, item, location)
    _set(sim, "k", [_q(item, location, now + 1, now)])
    other = _set(sim, "k", [_q(item, location, now + 5, now + 1)])
    payload = other["data"]["inventorySetQuantities"]
    assert payload == {
        "inventoryAdjustmentGroup": None,
        "userErrors": [
            {
                "field": None,
                "message": "The same idempotency key cannot be used with different operation "
                "parameters.",
                "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            }
        ],
    }
    assert _available(sim, item, location) == now + 1


def test_a_key_still_in_flight_is_a_concurrent_request(sim):
    item, location = _item(sim), sim.store.locations[0]
    now = _available(sim, item, location)
    sim.faults.add(action="latency", delay=1.0, field="inventorySetQuantities", times=1)
    bodies: list[dict[str, Any]] = []
    first = threading.Thread(
        target=lambda: bodies.append(_set(sim, "slow", [_q(item, location, now + 1, now)]))
    )
    first.start()
    try:
        wait_until(lambda: "slow" in sim.control.inflight_keys())
        second = _set(sim, "slow", [_q(item, location, now + 1, now)])
    finally:
        first.join()
    errors = second["data"]["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == ["IDEMPOTENCY_CONCURRENT_REQUEST"]
    assert bodies[0]["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _available(sim, item, location) == now + 1
    assert sim.control.inflight_keys() == []
    again = _set(sim, "slow", [_q(item, location, now + 1, now)])
    assert again["data"] == bodies[0]["data"]  # done now: the first result


def test_a_key_spent_by_a_failed_attempt_needs_a_new_key(sim):
    item, location = _item(sim), sim.store.locations[0]
    now = _available(sim, item, location)
    sim.faults.add(action="fail_keyed", field="inventorySetQuantities")
    failed = _set(sim, "spent", [_q(item, location, now + 3, now)])
    assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert failed["errors"][0]["extensions"]["requestId"]
    assert "data" not in failed
    assert _available(sim, item, location) == now  # nothing applied
    reused = _set(sim, "spent", [_q(item, location, now + 3, now)])
    assert reused["data"]["inventorySetQuantities"]["userErrors"][0] == {
        "field": None,
        "message": "A previous request with this idempotency key failed. Retry with a new "
        "idempotency key.",
        "code": "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
    }
    fresh = _set(sim, "spent~1", [_q(item, location, now + 3, now)])
    assert fresh["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _available(sim, item, location) == now + 3


def test_change_from_quantity_is_required_and_compared(sim):
    item, location = _item(sim), sim.store.locations[0]
    other = _item(sim, 1)
    now, other_now = _available(sim, item, location), _available(sim, other, location)
    no_cfq = {k: v for k, v in _q(item, location, 1, 0).items() if k != "changeFromQuantity"}
    missing = _set(sim, "a", [no_cfq])
    assert missing["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert missing["data"] == {"inventorySetQuantities": None}
    sim.control.sell(item, location, 1)  # a sale between our read and our write
    stale = _set(
        sim, "b", [_q(other, location, other_now + 1, other_now), _q(item, location, 9, now)]
    )
    payload = stale["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", "1", "changeFromQuantity"])
    ]
    assert _available(sim, other, location) == other_now  # all or nothing
    assert _available(sim, item, location) == now - 1
    blind = _set(sim, "c", [_q(item, location, 9, None)])  # null: no compare
    assert blind["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _available(sim, item, location) == 9


def test_the_sale_fault_buys_just_before_the_write_runs(sim):
    item, location = _item(sim), sim.store.locations[0]
    before = sim.control.level(item, location)
    assert before is not None
    sim.faults.add(action="sale", field="inventorySetQuantities", quantity=2)
    body = _set(sim, "raced", [_q(item, location, before["available"] + 10, before["available"])])
    codes = [e["code"] for e in body["data"]["inventorySetQuantities"]["userErrors"]]
    assert codes == ["CHANGE_FROM_QUANTITY_STALE"]
    after = sim.control.level(item, location)
    assert after is not None
    assert (after["available"], after["committed"], after["on_hand"]) == (
        before["available"] - 2,
        before["committed"] + 2,
        before["on_hand"],
    )


def test_no_more_than_250_quantities_per_call(sim):
    item = _item(sim)
    many = [_q(item, f"gid://shopify/Location/{i}", 1, 0) for i in range(251)]
    body = _set(sim, "big", many)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert error["message"] == (
        "The input array size of 251 is greater than the maximum allowed of 250."
    )


def test_the_key_is_required_and_not_blank(sim):
    item, location = _item(sim), sim.store.locations[0]
    body = _set(sim, None, [_q(item, location, 1, None)])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert body["data"] == {"inventorySetQuantities": None}
    body = _set(sim, "   ", [_q(item, location, 1, None)])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def _activate(sim, key, item, location, available=None):
    variables = {"itemId": item, "locationId": location, "available": available}
    query = ACTIVATE
    if key is None:
        query = ACTIVATE.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
        query = query.replace("\n  @idempotent(key: $key)", "")
    else:
        variables["key"] = key
    return gql(sim, query, variables)[1]


def test_an_item_is_activated_at_a_location_before_it_can_be_set_there(sim):
    item = _item(sim)
    pop_up = sim.control.create_location(
        {"name": "Pop-up Berlin", "address": {"city": "Berlin", "countryCode": "DE"}}
    )
    refused = _set(sim, "p1", [_q(item, pop_up, 3, 0)])
    assert refused["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == (
        "ITEM_NOT_STOCKED_AT_LOCATION"
    )
    assert _activate(sim, None, item, pop_up, 5)["errors"][0]["extensions"]["code"] == (
        "BAD_REQUEST"
    )
    first = _activate(sim, "act-1", item, pop_up, 5)
    level = first["data"]["inventoryActivate"]["inventoryLevel"]
    assert {q["name"]: q["quantity"] for q in level["quantities"]} == {
        "available": 5,
        "on_hand": 5,
        "committed": 0,
    }
    assert first["extensions"]["cost"]["requestedQueryCost"] == 13  # as captured
    assert _activate(sim, "act-1", item, pop_up, 5)["data"] == first["data"]  # replayed
    mismatch = _activate(sim, "act-1", item, pop_up, 7)["data"]["inventoryActivate"]
    assert mismatch["userErrors"][0]["message"].startswith("The same idempotency key")
    again = _activate(sim, "act-2", item, pop_up, 9)["data"]["inventoryActivate"]
    quantities = {q["name"]: q["quantity"] for q in again["inventoryLevel"]["quantities"]}
    assert quantities["available"] == 5  # already stocked: left as it is
    assert (
        _set(sim, "p2", [_q(item, pop_up, 3, 5)])["data"]["inventorySetQuantities"]["userErrors"]
        == []
    )
    sim.control.set_location_active(pop_up, False)
    closed = _activate(sim, "act-3", _item(sim, 1), pop_up, 1)["data"]["inventoryActivate"]
    assert closed["inventoryLevel"] is None and closed["userErrors"][0]["field"] == ["locationId"]
    gone = _set(sim, "p3", [_q(item, pop_up, 1, 3)])
    assert gone["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == (
        "ITEM_NOT_STOCKED_AT_LOCATION"
    )


def test_sales_commit_shipments_take_and_cancellations_give_back(sim):
    variant = sim.store.nodes[sim.store.variants[2]]
    sku, item = variant["sku"], variant["_item"]
    before = sim.control.level(item, "Main Warehouse")
    assert before is not None
    order = sim.control.create_order(
        {"customer": None, "email": "a@example.com", "lines": [{"sku": sku, "quantity": 3}]}
    )
    sold = sim.control.level(item, "Main Warehouse")
    assert (sold["available"], sold["committed"], sold["on_hand"]) == (
        before["available"] - 3,
        before["committed"] + 3,
        before["on_hand"],
    )
    sim.control.fulfill_by_hand(order, {sku: 2})
    shipped = sim.control.level(item, "Main Warehouse")
    assert (shipped["committed"], shipped["on_hand"]) == (
        before["committed"] + 1,
        before["on_hand"] - 2,
    )
    sim.control.cancel_order(order)
    back = sim.control.level(item, "Main Warehouse")
    assert (back["available"], back["committed"]) == (before["available"] - 2, before["committed"])
    untracked = sim.control.set_tracked(item, False)
    assert untracked == item
    sim.control.create_order({"customer": None, "email": "b@example.com", "lines": [{"sku": sku}]})
    assert sim.control.level(item, "Main Warehouse")["available"] == back["available"]


# -- properties: the key store and compare-and-set against a model ----------------------------

EXAMPLES = itertools.count()
operations = st.lists(
    st.tuples(
        st.sampled_from(["k1", "k2", "k3", "k4"]),  # keys get reused
        st.integers(min_value=0, max_value=20),  # the quantity asked for
        st.booleans(),  # whether changeFromQuantity is the value last read
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture(scope="module")
def shared_sim():
    with ShopifySimulator(scenario(), bucket=(100000, 100000.0)) as running:
        yield running


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
def test_keys_replay_and_compare_and_set_follow_the_model(shared_sim, ops):
    sim = shared_sim
    salt = next(EXAMPLES)  # every example its own keys: the store outlives examples
    item, location = _item(sim, 3), sim.store.locations[1]
    level = _available(sim, item, location)
    seen: dict[str, tuple[int, int | None, Any]] = {}
    for key, quantity, fresh in ops:
        change_from = level if fresh else level + 1
        body = _set(sim, f"{salt}:{key}", [_q(item, location, quantity, change_from)])
        payload = body["data"]["inventorySetQuantities"]
        codes = [e["code"] for e in payload["userErrors"]]
        if key in seen:
            first_params, first_payload = seen[key][:2], seen[key][2]
            if first_params == (quantity, change_from):
                assert payload == first_payload  # replay, whatever the level is now
            else:
                assert codes == ["IDEMPOTENCY_KEY_PARAMETER_MISMATCH"]
            continue
        seen[key] = (quantity, change_from, payload)
        if fresh:
            assert codes == []
            level = quantity
        else:
            assert codes == ["CHANGE_FROM_QUANTITY_STALE"]
        assert _available(sim, item, location) == level
