"""Property tests: a fulfilment plan never ships twice, never over, and is idempotent.

Random orders (lines spread over fulfillment orders at several locations, some on hold, some
units already fulfilled by hand) and random cumulative targets: what the plan sends plus what
was already fulfilled never exceeds the target or what was ordered; after applying the plan
(:func:`apply_created`), planning the same targets again sends nothing — the property that
makes a retry safe — and what is left is explained line by line.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shopodoo_console.shopify import fulfillment as rules
from shopodoo_console.shopify.models import nodes


@st.composite
def orders(draw: Any) -> tuple[dict[str, Any], dict[str, int]]:
    n_lines = draw(st.integers(min_value=1, max_value=4))
    locations = ["gid://shopify/Location/1", "gid://shopify/Location/2"]
    fos: list[dict[str, Any]] = []
    fulfillments = []
    targets = {}
    for index in range(n_lines):
        line_id = f"gid://shopify/LineItem/{index}"
        quantity = draw(st.integers(min_value=1, max_value=5))
        by_hand = draw(st.integers(min_value=0, max_value=quantity))
        where = draw(st.integers(min_value=0, max_value=1))
        held = draw(st.booleans()) and draw(st.booleans())
        fo = next((f for f in fos if f["_where"] == where and f["_held"] == held), None)
        if fo is None:
            fo = {
                "id": f"gid://shopify/FulfillmentOrder/{len(fos)}",
                "status": "ON_HOLD" if held else "OPEN",
                "fulfillmentHolds": [{"reason": "OTHER"}] if held else [],
                "assignedLocation": {"location": {"id": locations[where]}},
                "lineItems": {"nodes": []},
                "_where": where,
                "_held": held,
            }
            fos.append(fo)
        fo["lineItems"]["nodes"].append(
            {
                "id": f"gid://shopify/FulfillmentOrderLineItem/{index}",
                "totalQuantity": quantity,
                "remainingQuantity": quantity - by_hand,
                "lineItem": {"id": line_id},
            }
        )
        if by_hand:
            fulfillments.append(
                {
                    "status": "SUCCESS",
                    "trackingInfo": [],
                    "fulfillmentLineItems": {
                        "nodes": [{"quantity": by_hand, "lineItem": {"id": line_id}}]
                    },
                }
            )
        targets[line_id] = draw(st.integers(min_value=0, max_value=quantity + 2))
    state = {"fulfillments": fulfillments, "fulfillmentOrders": {"nodes": fos}}
    return state, targets


def _sent(call: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, int]:
    line_of = {
        item["id"]: item["lineItem"]["id"]
        for fo in nodes(state["fulfillmentOrders"])
        for item in nodes(fo["lineItems"])
    }
    out: dict[str, int] = {}
    for group in call:
        for item in group.get("fulfillmentOrderLineItems") or []:
            out[line_of[item["id"]]] = out.get(line_of[item["id"]], 0) + item["quantity"]
    return out


def _created(call: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "SUCCESS",
        "trackingInfo": [],
        "fulfillmentLineItems": {
            "nodes": [
                {"quantity": q, "lineItem": {"id": line}} for line, q in _sent(call, state).items()
            ]
        },
    }


@settings(max_examples=200, deadline=None)
@given(orders())
def test_plans_never_ship_twice_never_over_and_explain_the_rest(example):
    state, targets = example
    ordered = {
        item["lineItem"]["id"]: item["totalQuantity"]
        for fo in nodes(state["fulfillmentOrders"])
        for item in nodes(fo["lineItems"])
    }
    done = rules.fulfilled_quantities(state)
    current = state
    shipped: dict[str, int] = {}
    for _ in range(4):  # at most one call per location
        plan = rules.plan_detailed(current, targets)
        if not plan.calls:
            break
        call = plan.calls[0]
        locations = {
            fo["assignedLocation"]["location"]["id"]
            for fo in nodes(current["fulfillmentOrders"])
            if fo["id"] in {g["fulfillmentOrderId"] for g in call}
        }
        assert len(locations) == 1  # Shopify's rule: one location per call
        for line, units in _sent(call, current).items():
            shipped[line] = shipped.get(line, 0) + units
        current = rules.apply_created(current, call, _created(call, current))
    final = rules.plan_detailed(current, targets)
    assert final.calls == []  # a retry with the same targets sends nothing
    for line, target in targets.items():
        total = done.get(line, 0) + shipped.get(line, 0)
        assert shipped.get(line, 0) == 0 or total <= target  # never past the target
        assert total <= ordered[line]  # never past what was ordered
        missing = max(0, target - total)
        assert final.shortfall.get(line, 0) == missing
        if missing:
            reasons = {b.reason for b in final.blocked if b.line_id == line}
            assert reasons <= {rules.ON_HOLD, rules.NOTHING_OPEN} and reasons
