"""Property tests of the fulfillments flow's pure stages: pairing, plan, recognition.

Random Shopify orders (lines with repeated titles, fulfillment orders at two locations, some on
hold, units fulfilled by hand) and random Odoo deliveries of them (the sale lines named as the
orders flow names them, done moves of any part of the order):

* every move pairs with the line item it was made for, never another one of a different name;
* a plan never sends more than the delivery shipped nor more than is open, and every unit it
  does not send is explained (fulfilled already, or blocked with a cause);
* once Shopify applied the plan's call, the delivery's fulfillment is recognised — by its
  tracking number, or by the intent recorded before the call — so a retry never sends again;
  and without that evidence it would not be (the recognition is what protects).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shopodoo_console.odoo.stock import Picking, ShippedMove
from shopodoo_console.shopify import fulfillment as rules
from shopodoo_console.shopify.models import nodes
from shopodoo_console.workflows.fulfillments.lines import pair_moves, pair_sale_lines, shop_lines
from shopodoo_console.workflows.fulfillments.match import Evidence, OrderLink, find_ours
from shopodoo_console.workflows.fulfillments.plan import Facts, Locations, Rules, plan_shipment

LOCATIONS = ["gid://shopify/Location/1", "gid://shopify/Location/2"]
TITLES = ["Mug", "Tee", "Poster"]
ORDER = OrderLink("gid://shopify/Order/1", "#1001", "S00001")


@st.composite
def shipments(draw: Any) -> dict[str, Any]:
    n_lines = draw(st.integers(min_value=1, max_value=5))
    fos: list[dict[str, Any]] = []
    fulfillments = []
    sale_lines: dict[int, str] = {}
    moves = []
    quantities: dict[str, int] = {}
    for index in range(n_lines):
        line_id = f"gid://shopify/LineItem/{100 + index}"
        title = draw(st.sampled_from(TITLES))
        variant = draw(st.sampled_from(["", "Red", "Blue"]))
        quantity = draw(st.integers(min_value=1, max_value=4))
        by_hand = draw(st.integers(min_value=0, max_value=quantity)) if draw(st.booleans()) else 0
        where = draw(st.integers(min_value=0, max_value=1))
        held = draw(st.integers(min_value=0, max_value=5)) == 0
        fo = next((f for f in fos if f["_key"] == (where, held)), None)
        if fo is None:
            fo = {
                "id": f"gid://shopify/FulfillmentOrder/{len(fos)}",
                "status": "ON_HOLD" if held else "OPEN",
                "fulfillmentHolds": [{"reason": "OTHER"}] if held else [],
                "supportedActions": [{"action": "RELEASE_HOLD"}]
                if held
                else [{"action": "CREATE_FULFILLMENT"}],
                "assignedLocation": {"location": {"id": LOCATIONS[where], "name": f"L{where}"}},
                "lineItems": {"nodes": []},
                "_key": (where, held),
            }
            fos.append(fo)
        fo["lineItems"]["nodes"].append(
            {
                "id": f"gid://shopify/FulfillmentOrderLineItem/{index}",
                "totalQuantity": quantity,
                "remainingQuantity": quantity - by_hand,
                "lineItem": {"id": line_id, "sku": "", "title": title, "variantTitle": variant},
            }
        )
        if by_hand:
            fulfillments.append(
                {
                    "id": f"gid://shopify/Fulfillment/{index}",
                    "status": "SUCCESS",
                    "trackingInfo": [{"number": f"HAND-{index}"}],
                    "fulfillmentLineItems": {
                        "nodes": [{"quantity": by_hand, "lineItem": {"id": line_id}}]
                    },
                }
            )
        sale_lines[10 + index] = title + (f" — {variant}" if variant else "")
        quantities[line_id] = quantity
        shipped = draw(st.integers(min_value=0, max_value=quantity))
        if shipped:
            moves.append(
                ShippedMove(
                    id=index,
                    product_id=index,
                    product=title,
                    demand=quantity,
                    done=float(shipped),
                    state="done",
                    sale_line_id=10 + index,
                    returned_move_id=None,
                )
            )
    sale_lines[10 + n_lines] = "Shipping: Standard"  # the orders flow's shipping line
    state = {"id": ORDER.gid, "fulfillments": fulfillments, "fulfillmentOrders": {"nodes": fos}}
    tracking = draw(st.sampled_from([None, "1ZTRACK"]))
    picking = Picking(
        id=7,
        name="WH/OUT/00007",
        state="done",
        code="outgoing",
        origin="S00001",
        write_date="2026-01-01 10:00:00",
        date_done="2026-01-01 10:00:00",
        location_id=1,
        location_dest_id=2,
        sale_order_id=1,
        sale_order_name="S00001",
        client_order_ref="#1001",
        carrier_id=None,
        carrier=None,
        tracking_ref=tracking,
        tracking_url=None,
        backorder_of=None,
        return_of=None,
        moves=tuple(moves),
    )
    return {"state": state, "sale_lines": sale_lines, "picking": picking, "quantities": quantities}


def _plan(case: dict[str, Any]) -> tuple[Any, Any]:
    picking, state = case["picking"], case["state"]
    pairing = pair_moves(picking.moves, case["sale_lines"], case["sale_lines"], state)
    facts = Facts(picking=picking, order=ORDER, state=state, pairing=pairing)
    plan, _ = plan_shipment(facts, Rules("acme", True), "job")
    return plan, pairing


@settings(max_examples=150, deadline=None)
@given(shipments())
def test_every_move_pairs_with_the_line_it_was_made_for(case: dict[str, Any]) -> None:
    lines = shop_lines(case["state"])
    paired = pair_sale_lines(case["sale_lines"], lines)
    # The orders flow writes sale line n for line item n: the n-th of a name takes the n-th.
    for sale_id, line in paired.items():
        assert line.id == f"gid://shopify/LineItem/{100 + sale_id - 10}"
    assert len({line.id for line in paired.values()}) == len(paired) == len(lines)


@settings(max_examples=200, deadline=None)
@given(shipments())
def test_a_plan_never_sends_more_than_shipped_or_open_and_explains_the_rest(
    case: dict[str, Any],
) -> None:
    plan, pairing = _plan(case)
    state = case["state"]
    wanted = pairing.targets
    if not wanted:
        assert plan.skip is not None
        return
    if plan.blocked is not None:
        assert all(c.code.startswith("fulfillment.") for c in plan.blocked.causes)
        assert not plan.actions
        return
    fulfill = plan.action("fulfill")
    if fulfill is None:
        assert plan.skip is not None and "already fulfilled" in plan.skip.reason
        return
    sent = fulfill.data["lines"]
    remaining = {
        item["lineItem"]["id"]: item["remainingQuantity"]
        for fo in nodes(state["fulfillmentOrders"])
        for item in nodes(fo["lineItems"])
    }
    for line, units in sent.items():
        assert 0 < units <= wanted[line]
        assert units <= remaining[line]
    by_hand = plan.extra.get("by_hand", {})
    for line, units in wanted.items():  # every unit: sent, or already fulfilled
        assert sent.get(line, 0) + by_hand.get(line, 0) == units


@settings(max_examples=200, deadline=None)
@given(shipments())
def test_once_applied_the_fulfillment_is_recognised_and_nothing_is_sent_again(
    case: dict[str, Any],
) -> None:
    plan, _ = _plan(case)
    fulfill = plan.action("fulfill")
    if fulfill is None:
        return
    state, picking = case["state"], case["picking"]
    before = [f["id"] for f in state["fulfillments"]]
    made = {
        "id": "gid://shopify/Fulfillment/999",
        "status": "SUCCESS",
        "trackingInfo": [{"number": picking.tracking_ref}] if picking.tracking_ref else [],
        "fulfillmentLineItems": {
            "nodes": [
                {"quantity": n, "lineItem": {"id": line}}
                for line, n in fulfill.data["lines"].items()
            ]
        },
    }
    after = rules.apply_created(state, fulfill.data["groups"], made)
    intent = {"picking": picking.id, "before": before, "lines": fulfill.data["lines"]}
    found = find_ours(picking, after, Evidence(intents=(intent,)), "acme")
    assert found is not None and found.id == made["id"]
    retry = Facts(picking=picking, order=ORDER, state=after, found=found, locations=Locations())
    again, _ = plan_shipment(retry, Rules("acme", True), "job")
    assert again.action("fulfill") is None  # recorded, never sent twice
    blind = find_ours(picking, after, Evidence(), "acme")
    if picking.tracking_ref is None:
        assert blind is None  # without the intent nothing would say it is ours
