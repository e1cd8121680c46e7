"""Real Shopify responses (../shared captures) go through the client's own response handling.

For every captured request whose root field is one the client uses, the captured answer must
either become data the client reads (cost, connections, user errors, fulfillment state) or a
cause with the right code — never a raw exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse

from shopodoo_console.causes import CauseError
from shopodoo_console.shopify import (
    QuantityTarget,
    ShopifyClient,
    StaticToken,
    UserError,
    nodes,
    read_reply,
)
from shopodoo_console.shopify import fulfillment as fulfillment_plan

OUR_ROOTS = {
    "orders",
    "order",
    "nodes",
    "customers",
    "customer",
    "customerByIdentifier",
    "productVariants",
    "locations",
    "inventoryItem",
    "currentAppInstallation",
    "shop",
    "inventorySetQuantities",
    "fulfillmentCreate",
    "metafieldsSet",
    "tagsAdd",
}
EXPECTED_CAUSE = {
    "ACCESS_DENIED": "shopify.scope_missing",
    "RESOURCE_NOT_FOUND": "shopify.not_found",
    "NOT_FOUND": "shopify.not_found",
    "THROTTLED": "shopify.throttled",
}


def triples(data: Any) -> Iterator[tuple[str | None, dict[str, Any], int, Any]]:
    """(query, variables, HTTP status, body) for every captured request in a file (some
    captures keep only the variables and the answer: their query is ``None``)."""
    if isinstance(data, dict):
        query, response = data.get("query"), data.get("response")
        if isinstance(response, dict) and (isinstance(query, str) or "variables" in data):
            status = response.get("status", 200)
            body = response.get("payload", response.get("body", response))
            if "status" not in response:
                body = response
            yield query, data.get("variables") or {}, int(status), body
        for key, value in data.items():
            if key != "response":
                yield from triples(value)
    elif isinstance(data, list):
        for item in data:
            yield from triples(item)


def roots(query: str) -> list[str]:
    """Root field names of a document's operations."""
    try:
        document = parse(query)
    except GraphQLError:
        return []
    return [
        selection.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        for selection in definition.selection_set.selections
        if hasattr(selection, "name") and selection.name is not None
    ]


@pytest.fixture(scope="module")
def captured(reference_dir: Path) -> list[tuple[str, str, dict, int, Any, list[str]]]:
    folder = reference_dir / "shopify" / "captures"
    if not folder.is_dir():
        pytest.skip(f"no captures at {folder}")
    found = []
    for path in sorted(folder.rglob("*.json")):
        for query, variables, status, body in triples(json.loads(path.read_text("utf-8"))):
            data = body.get("data") if isinstance(body, dict) else None
            names = roots(query) if query else list(data or {})
            if OUR_ROOTS & set(names) and isinstance(body, dict):
                found.append((path.name, query, variables, status, body, names))
    return found


def test_every_matching_capture_is_understood(captured):
    understood = causes = 0
    for name, _query, _variables, status, body, _roots in captured:
        codes = {
            (e.get("extensions") or {}).get("code")
            for e in body.get("errors") or []
            if isinstance(e, dict)
        }
        try:
            reply = read_reply(status, {}, json.dumps(body).encode(), operation="Capture")
        except CauseError as exc:
            causes += 1
            expected = next((EXPECTED_CAUSE[c] for c in codes if c in EXPECTED_CAUSE), None)
            if expected is None:
                search = (body.get("extensions") or {}).get("search")
                assert codes or search or "data" not in body, name
                expected = "shopify.query_rejected"
                if body.get("data") is None and not body.get("errors"):
                    expected = "data.invalid_payload"
            assert exc.cause.code == expected, (name, codes, exc.cause)
            assert exc.cause.operation == "Shopify Capture"
            continue
        understood += 1
        cost = (body.get("extensions") or {}).get("cost")
        if cost:
            assert reply.cost is not None and reply.cost.throttle is not None
            assert reply.cost.throttle.maximum == 2000 and reply.cost.throttle.restore_rate == 100
            assert reply.cost.requested == cost["requestedQueryCost"]
        for value in reply.data.values():
            if isinstance(value, dict) and ("nodes" in value or "edges" in value):
                assert all(isinstance(n, dict) for n in nodes(value)), name
            if isinstance(value, dict) and "userErrors" in value:
                errors = UserError.many(value["userErrors"])
                assert [e.message for e in errors] == [e["message"] for e in value["userErrors"]]
    assert understood >= 40 and causes >= 4, (understood, causes)


def test_fulfillment_state_of_real_orders_plans_correctly(captured):
    planned = 0
    for name, _query, _variables, status, body, names in captured:
        if status != 200 or "order" not in names or not isinstance(body.get("data"), dict):
            continue
        order = body["data"].get("order")
        if not order or "fulfillmentOrders" not in order:
            continue
        calls, shortfall = fulfillment_plan.plan(order, None)
        open_units = sum(
            li["remainingQuantity"]
            for fo in nodes(order["fulfillmentOrders"])
            if fo["status"] in ("OPEN", "IN_PROGRESS")
            for li in nodes(fo["lineItems"])
        )
        assert bool(calls) == (open_units > 0), name
        assert shortfall == {}
        planned += 1
    assert planned >= 1


def _replaying(body: dict[str, Any]) -> ShopifyClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    return ShopifyClient(
        "capture.myshopify.com",
        auth=StaticToken("shpat_capture_replay_00000001"),
        transport=httpx.MockTransport(handler),
        retries=0,
    )


def test_captured_mutation_answers_through_the_client_methods(captured):
    seen: set[str] = set()
    for name, _query, variables, status, body, names in captured:
        data = body.get("data") or {}
        if status != 200 or body.get("errors") or not data:
            continue
        client = _replaying(body)
        if "tagsAdd" in names and data.get("tagsAdd"):
            result = client.tags_add(variables.get("id", "gid://shopify/Order/1"), ["x"])
            assert [e.message for e in result.user_errors] == [
                e["message"] for e in data["tagsAdd"]["userErrors"]
            ], name
            seen.add("tagsAdd")
        elif "metafieldsSet" in names and data.get("metafieldsSet") is not None:
            metafields = [{"ownerId": "gid://shopify/Product/1", "key": "k1", "value": "v"}]
            result = client.metafields_set(metafields)
            assert [e.code for e in result.user_errors] == [
                e.get("code") for e in data["metafieldsSet"]["userErrors"]
            ], name
            seen.add("metafieldsSet")
        elif "inventorySetQuantities" in names and data.get("inventorySetQuantities"):
            target = QuantityTarget(
                "gid://shopify/InventoryItem/1", "gid://shopify/Location/1", 1, change_from=None
            )
            result = client.inventory_set_quantities([target], idempotency_key="capture")
            payload = data["inventorySetQuantities"]
            assert result.group == payload["inventoryAdjustmentGroup"], name
            assert [e.code for e in result.user_errors] == [
                e.get("code") for e in payload["userErrors"]
            ]
            seen.add("inventorySetQuantities")
        elif "fulfillmentCreate" in names and data.get("fulfillmentCreate"):
            result = client.fulfillment_create([{"fulfillmentOrderId": "gid://x/1"}])
            payload = data["fulfillmentCreate"]
            assert result.ok == (not payload["userErrors"]), name
            assert result.fulfillment == payload["fulfillment"]
            seen.add("fulfillmentCreate")
        client.close()
    assert seen == {"tagsAdd", "metafieldsSet", "inventorySetQuantities", "fulfillmentCreate"}
