"""The simulator's bulk operations answer like Shopify's (raw GraphQL and HTTP, shopify.md §8.8).

Shapes and messages are compared with the captures in ``../shared`` when they are there; the
same behaviour is also asserted on its own, so the file means something on a clean clone.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from bulk_support import (
    CANCEL,
    PRODUCTS_LIKE,
    capture,
    finished,
    poll,
    post,
    run,
    shape,
    wait_for,
)
from shopify_support import scenario

from shopodoo_console.sim.shopify import ShopifySimulator

ORDERS_WITH_LINES = (
    '{ orders(query: "financial_status:paid") { edges { node { id name '
    "totalPriceSet { shopMoney { amount } } "
    "lineItems { edges { node { id sku quantity } } } } } } }"
)
VALIDATORS = "2026-04/bulk-operations/bulk-operation-run-query-validators.json"
CONCURRENCY = "2026-04/bulk-operations/bulk-operation-run-query-concurrency-limit.json"
ONE_AT_A_TIME = "2025-01/bulk-operations/bulk-operation-run-query-operation-in-progress.json"
GROUPED = "2026-04/bulk-operations/bulk-operation-run-query-group-objects.json"
NESTED = "2026-04/bulk-operations/bulk-operation-root-count-and-search-filters.json"


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(30)) as running:
        yield running


def _op(body: dict) -> dict:
    return body["data"]["bulkOperationRunQuery"]["bulkOperation"]


def _errors(body: dict) -> list[dict]:
    return body["data"]["bulkOperationRunQuery"]["userErrors"]


# -- validation -------------------------------------------------------------------------------


def test_every_captured_validator_gives_the_captured_user_errors(sim, reference_dir):
    cases = capture(reference_dir, VALIDATORS)["validations"]
    assert len(cases) == 8
    for name, case in cases.items():
        body = post(sim, case["query"].removeprefix("#graphql"), case["variables"])
        expected = case["response"]["data"]["bulkOperationRunQuery"]
        assert body["data"]["bulkOperationRunQuery"] == expected, name
        assert body["extensions"]["cost"]["requestedQueryCost"] == 10


@pytest.mark.parametrize(
    ("inner", "message"),
    [
        (
            "{ orders { nodes { id } } }",
            "All connection fields in a bulk query must select their contents using 'edges' > "
            "'node', e.g: 'orders { edges { node {'. Selecting via 'nodes' is not supported. "
            "Invalid connection fields: 'orders'.",
        ),
        (
            "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }",
            "The parent 'node' field for a nested connection must select the 'id' field without "
            "an alias and must be of 'ID' return type. Connection fields without 'id': orders.",
        ),
        (
            "{ orders { edges { node { key: id lineItems { edges { node { id } } } } } } }",
            "The parent 'node' field for a nested connection must select the 'id' field without "
            "an alias and must be of 'ID' return type. Connection fields without 'id': orders.",
        ),
        (
            "{ orders { edges { node { id fulfillments { fulfillmentLineItems { edges { node "
            "{ id } } } } } } } }",
            "Queries that contain a connection field within a list field are not currently "
            "supported.",
        ),
        ("{ shop { name } }", "Bulk queries must contain at least one connection."),
        (
            'mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) { node { id } } }',
            "Invalid operation type. Only `query` operations are supported.",
        ),
    ],
)
def test_inner_queries_breaking_a_bulk_rule_are_refused(sim, inner, message):
    body = run(sim, inner)
    assert _op(body) is None
    assert _errors(body) == [{"field": ["query"], "message": message, "code": "INVALID"}]
    assert post(sim, "{ bulkOperations(first: 5) { nodes { id } } }")["data"] == {
        "bulkOperations": {"nodes": []}
    }


def test_an_inner_query_with_an_unknown_field_is_invalid(sim):
    body = run(sim, "{ orders { edges { node { id financialStatus } } } }")
    (error,) = _errors(body)
    assert error["code"] == "INVALID" and error["field"] == ["query"]
    assert "financialStatus" in error["message"]


# -- lifecycle --------------------------------------------------------------------------------


def test_a_bulk_query_runs_to_a_jsonl_file_with_children_on_their_own_lines(sim):
    body = run(sim, ORDERS_WITH_LINES)
    created = _op(body)
    assert created["status"] == "CREATED" and created["type"] == "QUERY"
    assert (created["objectCount"], created["rootObjectCount"]) == ("0", "0")
    assert created["url"] is None and created["completedAt"] is None
    assert created["query"] == ORDERS_WITH_LINES
    done = finished(sim, created["id"])
    assert done["status"] == "COMPLETED" and done["completedAt"] and done["errorCode"] is None
    response = httpx.get(done["url"], timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert int(done["fileSize"]) == len(response.content)
    lines = response.text.splitlines()
    assert '"gid:\\/\\/shopify\\/Order\\/' in lines[0]  # slashes escaped, as Shopify writes
    records = [json.loads(line) for line in lines]
    roots = [r for r in records if "__parentId" not in r]
    children = [r for r in records if "__parentId" in r]
    paid = [
        o
        for o in (sim.store.nodes[i] for i in sim.store.orders)
        if o["displayFinancialStatus"] == "PAID"
    ]
    assert [r["id"] for r in roots] == [o["id"] for o in paid]  # default sort, one line each
    assert int(done["rootObjectCount"]) == len(roots)
    assert int(done["objectCount"]) == len(records)
    lines_of = {o["id"]: set(o["_lines"]) for o in paid}
    assert {c["id"] for c in children} == set().union(*lines_of.values())
    for child in children:
        assert child["id"] in lines_of[child["__parentId"]]
        assert list(child)[-1] == "__parentId"
    assert roots[0] == {
        "id": paid[0]["id"],
        "name": paid[0]["name"],
        "totalPriceSet": {"shopMoney": {"amount": paid[0]["totalPriceSet"]["shopMoney"]["amount"]}},
    }


def test_grouped_objects_put_children_right_after_their_parent(sim):
    body = post(
        sim,
        "mutation R($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) "
        "{ bulkOperation { id } userErrors { message } } }",
        {"q": ORDERS_WITH_LINES},
    )
    done = finished(sim, body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"])
    records = [json.loads(line) for line in httpx.get(done["url"]).text.splitlines()]
    parent = None
    for record in records:
        if "__parentId" in record:
            assert record["__parentId"] == parent
        else:
            parent = record["id"]


def test_run_poll_and_cancel_look_like_the_captures(sim, reference_dir):
    data = capture(reference_dir, GROUPED)["runs"]["runQueryGroupObjectsDefault"]
    sim.bulk.add_fault(action="hold")
    body = run(sim, PRODUCTS_LIKE)
    assert shape(body) == shape(data["run"]["response"])
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    op_id = _op(body)["id"]
    polled = post(sim, data["statusPolls"][0]["query"].removeprefix("#graphql"), {"id": op_id})
    assert polled["extensions"]["cost"]["requestedQueryCost"] == 1
    assert shape(polled["data"]) == shape(data["statusPolls"][0]["response"]["data"])
    cancel_capture = capture(reference_dir, CONCURRENCY)["cancelAttempts"][0]
    cancelled = post(sim, cancel_capture["query"].removeprefix("#graphql"), {"id": op_id})
    assert cancelled["data"]["bulkOperationCancel"]["bulkOperation"]["status"] == "CANCELING"
    assert cancelled["extensions"]["cost"]["requestedQueryCost"] == 10
    expected = shape(cancel_capture["response"]["data"])
    assert shape(cancelled["data"]) == expected
    assert finished(sim, op_id)["status"] == "CANCELED"
    sim.bulk.clear_faults()
    completed = finished(sim, _op(run(sim, PRODUCTS_LIKE))["id"])
    assert shape(completed) == shape(data["terminalOperation"])
    assert re.search(r"[?&]Expires=\d+&Signature=[^&]+", completed["url"])
    assert "GoogleAccessId=" in completed["url"] and completed["url"].count(".jsonl") == 2


def test_cancel_stops_an_operation_and_a_finished_one_cannot_be_cancelled(sim):
    sim.bulk.add_fault(action="hold", after_objects=5)
    op_id = _op(run(sim, ORDERS_WITH_LINES))["id"]
    wait_for(lambda: poll(sim, op_id)["rootObjectCount"] == "5")
    assert poll(sim, op_id)["status"] == "RUNNING"
    body = post(sim, CANCEL, {"id": op_id})["data"]["bulkOperationCancel"]
    assert body["bulkOperation"]["status"] == "CANCELING" and body["userErrors"] == []
    gone = finished(sim, op_id)
    assert gone["status"] == "CANCELED" and gone["url"] is None
    assert gone["rootObjectCount"] == "5"
    again = post(sim, CANCEL, {"id": op_id})["data"]["bulkOperationCancel"]
    assert again["userErrors"] == [
        {"field": None, "message": "A bulk operation cannot be canceled when it is canceled"}
    ]
    missing = post(sim, CANCEL, {"id": "gid://shopify/BulkOperation/1"})
    assert missing["data"]["bulkOperationCancel"]["bulkOperation"] is None


# -- concurrency ------------------------------------------------------------------------------


def test_five_query_operations_per_app_then_operation_in_progress(sim, reference_dir):
    sim.bulk.add_fault(action="hold", times=None)
    ids = [_op(run(sim, PRODUCTS_LIKE))["id"] for _ in range(5)]
    sixth = run(sim, PRODUCTS_LIKE)
    assert _op(sixth) is None
    expected = "A bulk query operation for this app and shop is already in progress: " + (
        ", ".join(ids) + "."
    )
    assert _errors(sixth) == [{"field": None, "message": expected, "code": "OPERATION_IN_PROGRESS"}]
    rejected = capture(reference_dir, CONCURRENCY)["sixthRun"]["response"]
    assert shape(sixth) == shape(rejected)
    (captured_error,) = rejected["data"]["bulkOperationRunQuery"]["userErrors"]
    captured_ids = re.findall(r"gid://shopify/BulkOperation/\d+", captured_error["message"])
    assert captured_error["message"] == expected.replace(", ".join(ids), ", ".join(captured_ids))
    # another app on the same shop has its own limit
    token = httpx.post(
        f"{sim.base_url}/admin/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": sim.client_id,
            "client_secret": sim.client_secret,
        },
    ).json()["access_token"]
    assert _op(run(sim, PRODUCTS_LIKE, token=token))["status"] == "CREATED"
    assert poll(sim, ids[0], token=token) is None  # and cannot see this app's operations
    post(sim, CANCEL, {"id": ids[0]})
    assert finished(sim, ids[0])["status"] == "CANCELED"
    assert _op(run(sim, PRODUCTS_LIKE))["status"] == "CREATED"  # a place is free again


def test_older_api_versions_allow_one_bulk_query_at_a_time(sim, reference_dir):
    sim.bulk.add_fault(action="hold", times=None)
    first = _op(run(sim, PRODUCTS_LIKE, version="2025-01"))
    second = run(sim, PRODUCTS_LIKE, version="2025-01")
    message = f"A bulk query operation for this app and shop is already in progress: {first['id']}."
    assert _errors(second) == [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}]
    captured = capture(reference_dir, ONE_AT_A_TIME)["secondRun"]["response"]
    assert shape(second) == shape(captured)


# -- listing ----------------------------------------------------------------------------------


def test_bulk_operations_filter_by_status_newest_first(sim, reference_dir):
    sim.bulk.add_fault(action="hold")
    held = _op(run(sim, PRODUCTS_LIKE))["id"]
    done = [finished(sim, _op(run(sim, PRODUCTS_LIKE))["id"])["id"] for _ in range(2)]
    query = "query L($q: String) { bulkOperations(first: 10, query: $q) { nodes { id status } } }"

    def listed(q: str | None) -> list[str]:
        return [n["id"] for n in post(sim, query, {"q": q})["data"]["bulkOperations"]["nodes"]]

    assert listed("status:completed") == done[::-1]
    assert listed("status:running") == [held]
    assert listed(None) == [*done[::-1], held]
    assert listed("status:completed AND created_at:>=2000-01-01") == done[::-1]
    assert listed("created_at:<2000-01-01") == []
    body = post(sim, query, {"q": "made_up:value"})
    assert [n["id"] for n in body["data"]["bulkOperations"]["nodes"]] == listed(None)
    warning = capture(reference_dir, NESTED)["filters"]["unknown"]["response"]["extensions"]
    assert body["extensions"]["search"] == warning["search"]
    sim.bulk.release()


# -- the result file --------------------------------------------------------------------------


def test_the_result_url_needs_no_token_serves_ranges_and_checks_its_signature(sim):
    done = finished(sim, _op(run(sim, ORDERS_WITH_LINES))["id"])
    whole = httpx.get(done["url"]).content
    part = httpx.get(done["url"], headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == whole[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(whole)}"
    forged = re.sub(r"Signature=[^&]+", "Signature=AAAA", done["url"])
    refused = httpx.get(forged)
    assert refused.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in refused.content
    later = re.sub(r"Expires=\d+", "Expires=9999999999", done["url"])
    assert httpx.get(later).status_code == 403  # the expiry is part of what is signed


def test_an_expired_result_is_gone_and_the_operation_says_expired(sim):
    done = finished(sim, _op(run(sim, PRODUCTS_LIKE))["id"])
    assert sim.bulk.expire(done["id"]) == "EXPIRED"
    expired = poll(sim, done["id"])
    assert expired["status"] == "EXPIRED" and expired["url"] is None
    refused = httpx.get(done["url"])
    assert refused.status_code == 400 and b"<Code>ExpiredToken</Code>" in refused.content
    sim.bulk.add_fault(action="expire", url_ttl=0)
    assert finished(sim, _op(run(sim, PRODUCTS_LIKE))["id"])["status"] == "EXPIRED"


# -- failures ---------------------------------------------------------------------------------


def test_a_failed_operation_keeps_what_it_wrote_at_the_partial_data_url(sim):
    sim.bulk.add_fault(action="fail", error_code="TIMEOUT", after_objects=4)
    failed = finished(sim, _op(run(sim, ORDERS_WITH_LINES))["id"])
    assert (failed["status"], failed["errorCode"]) == ("FAILED", "TIMEOUT")
    assert failed["url"] is None and failed["completedAt"] is None
    assert failed["rootObjectCount"] == "4"
    records = [json.loads(x) for x in httpx.get(failed["partialDataUrl"]).text.splitlines()]
    assert len([r for r in records if "__parentId" not in r]) == 4
    assert int(failed["objectCount"]) == len(records)
    sim.bulk.add_fault(action="fail")
    nothing = finished(sim, _op(run(sim, ORDERS_WITH_LINES))["id"])
    assert nothing["errorCode"] == "INTERNAL_SERVER_ERROR" and nothing["partialDataUrl"] is None


def test_an_inner_query_the_app_may_not_read_fails_with_access_denied(sim):
    sim.set_scopes(["read_products"])
    failed = finished(sim, _op(run(sim, PRODUCTS_LIKE))["id"])
    assert (failed["status"], failed["errorCode"]) == ("FAILED", "ACCESS_DENIED")


def test_a_slow_operation_reports_progress_while_it_runs(sim):
    sim.bulk.add_fault(action="slow", rate=40.0)
    op_id = _op(run(sim, PRODUCTS_LIKE))["id"]
    seen = wait_for(lambda: (p := poll(sim, op_id))["status"] == "RUNNING" and p)
    assert seen and int(seen["rootObjectCount"]) < len(sim.store.orders)
    counts = {int(poll(sim, op_id)["rootObjectCount"])}
    wait_for(lambda: counts.add(int(poll(sim, op_id)["rootObjectCount"])) or len(counts) > 2)
    assert len(counts) > 2  # the count grew in steps
    assert finished(sim, op_id)["rootObjectCount"] == str(len(sim.store.orders))


def test_bulk_hooks_are_reachable_over_http(sim):
    answer = httpx.post(
        f"{sim.base_url}/_sim/bulk/add_fault", json={"action": "fail", "error_code": "TIMEOUT"}
    )
    assert answer.status_code == 200 and answer.json()["result"]["action"] == "fail"
    op_id = _op(run(sim, PRODUCTS_LIKE))["id"]
    assert finished(sim, op_id)["errorCode"] == "TIMEOUT"
    listed = httpx.post(f"{sim.base_url}/_sim/bulk/snapshot", json={}).json()["result"]
    assert [op["id"] for op in listed] == [op_id]
    bad = httpx.post(f"{sim.base_url}/_sim/bulk/add_fault", json={"action": "explode"})
    assert bad.status_code == 400 and "explode" in bad.json()["error"]
