"""The client's bulk operations against the simulator over real HTTP (shopify.md §8.8)."""

from __future__ import annotations

import json
import threading
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from shopify_support import FIXED_NOW, client_for, scenario

from shopodoo_console.causes import CauseError, Kind
from shopodoo_console.shopify.audit import audit_order_of, audit_query, stamp_of, stamps_query
from shopodoo_console.shopify.bulk import (
    BulkOperation,
    BulkOperationBusy,
    BulkOperationCanceled,
    BulkOperationFailed,
    BulkOperations,
    BulkQueryInvalid,
    BulkResultExpired,
    BulkStatus,
    BulkStillRunning,
    group_children,
    inner_query,
    parse_record,
)
from shopodoo_console.sim.shopify import ShopifySimulator, generate

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
WITH_LINES = "{ orders { edges { node { id name lineItems { edges { node { id sku } } } } } } }"


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(40)) as running:
        yield running


@pytest.fixture
def bulk(sim):
    client = client_for(sim)
    operations = BulkOperations(client, poll_interval=0.02, max_poll_interval=0.2)
    yield operations
    operations.close()
    client.close()


def _ids(sim: ShopifySimulator) -> list[str]:
    return list(sim.store.orders)


def test_a_period_is_exported_streamed_and_parsed_for_a_few_points(sim, bulk):
    sim.counters.reset()
    stamps = [stamp_of(r.data) for r in bulk.run(stamps_query(SINCE))]
    assert [s.gid for s in stamps] == _ids(sim)
    order = sim.store.nodes[stamps[0].gid]
    assert stamps[0].name == order["name"] and stamps[0].legacy_id == int(order["legacyResourceId"])
    seen = sim.counters.snapshot()
    assert seen["operations"]["BulkRun"] == 1
    assert seen["points_spent"] <= 10 + 27 + seen["operations"]["BulkPoll"]  # run, list, polls
    audit = [audit_order_of(r.data) for r in bulk.run(audit_query(SINCE, FIXED_NOW))]
    assert [a.gid for a in audit] == _ids(sim)
    assert audit[0].total == Decimal(order["totalPriceSet"]["shopMoney"]["amount"])


def test_records_carry_their_parent_and_a_resume_offset(sim, bulk):
    records = list(bulk.run(WITH_LINES))
    operation = bulk.operations()[0]
    body = httpx.get(operation.url).content
    assert records[-1].offset == len(body) == operation.file_size
    for record in records:
        assert body[record.offset - 1 : record.offset] == b"\n"
    children = [r for r in records if r.parent_id is not None]
    assert children and all(r.parent_id in sim.store.orders for r in children)
    assert "__parentId" not in children[0].data


def test_resume_by_id_and_offset_after_a_kill_reads_every_record_once(sim):
    first_client = client_for(sim)
    first = BulkOperations(first_client, poll_interval=0.02)
    operation = first.start(stamps_query(SINCE))
    reader = first.resume(operation.id)
    kept = [next(reader) for _ in range(7)]  # ...and the process dies here
    reader.close()
    first.close()
    first_client.close()
    saved_id, saved_offset = operation.id, kept[-1].offset
    second_client = client_for(sim)
    with BulkOperations(second_client, poll_interval=0.02) as second:
        rest = list(second.resume(saved_id, offset=saved_offset))
    second_client.close()
    gids = [r.data["id"] for r in kept + rest]
    assert gids == _ids(sim)
    assert rest[0].line == 1  # counted from the offset


def test_a_download_that_breaks_off_goes_on_from_the_last_whole_line(sim):
    class Flaky(httpx.HTTPTransport):
        def __init__(self) -> None:
            super().__init__()
            self.broken = 0
            self.ranges: list[str | None] = []
            self.tokens: list[str | None] = []

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            self.ranges.append(request.headers.get("range"))
            self.tokens.append(request.headers.get("x-shopify-access-token"))
            if self.broken:
                return response
            self.broken += 1
            data = response.read()

            class Breaks(httpx.SyncByteStream):
                def __iter__(self):
                    yield data[:1500]
                    raise httpx.ReadError("connection reset by peer")

            return httpx.Response(response.status_code, headers=response.headers, stream=Breaks())

    transport = Flaky()
    client = client_for(sim)
    with BulkOperations(client, poll_interval=0.02, transport=transport) as bulk:
        records = list(bulk.run(stamps_query(SINCE)))
    client.close()
    assert [r.data["id"] for r in records] == _ids(sim)
    assert transport.ranges[0] is None and transport.ranges[1].startswith("bytes=")
    assert int(transport.ranges[1].removeprefix("bytes=").rstrip("-")) < 1500
    assert transport.tokens == [None, None]  # the signed URL never gets the shop's token


def test_a_failed_export_says_why_and_its_partial_data_can_be_read(sim, bulk):
    sim.bulk.add_fault(action="fail", error_code="TIMEOUT", after_objects=5)
    with pytest.raises(BulkOperationFailed) as failed:
        list(bulk.run(stamps_query(SINCE)))
    cause = failed.value.cause
    assert cause.code == "shopify.bulk_failed" and cause.kind is Kind.TEMPORARY
    assert "timed out" in cause.missing and "Part of the data" in cause.missing
    partial = list(bulk.records(failed.value.operation))
    assert [r.data["id"] for r in partial] == _ids(sim)[:5]
    text = cause.to_json() + str(failed.value) + repr(failed.value.operation)
    assert "Signature" not in text and "http" not in text


def test_an_export_the_app_may_not_read_is_a_missing_scope(sim, bulk):
    sim.set_scopes(["read_products"])
    with pytest.raises(BulkOperationFailed) as failed:
        list(bulk.run(stamps_query(SINCE)))
    assert failed.value.cause.code == "shopify.scope_missing"
    assert failed.value.cause.kind is Kind.PERMISSION


def test_cancel_and_expiry_end_the_wait_with_their_own_causes(sim, bulk):
    sim.bulk.add_fault(action="hold", after_objects=3)
    operation = bulk.start(stamps_query(SINCE))
    assert bulk.cancel(operation.id).status is BulkStatus.CANCELING
    with pytest.raises(BulkOperationCanceled) as cancelled:
        bulk.wait(operation.id)
    assert cancelled.value.cause.code == "shopify.bulk_canceled"
    sim.bulk.add_fault(action="expire", url_ttl=0)
    with pytest.raises(BulkResultExpired) as expired:
        list(bulk.run(stamps_query(SINCE)))
    assert expired.value.cause.kind is Kind.TEMPORARY


def test_a_result_that_expires_between_poll_and_download_is_reported_expired(sim, bulk):
    operation = bulk.wait(bulk.start(stamps_query(SINCE)).id)
    sim.bulk.expire(operation.id)
    with pytest.raises(BulkResultExpired) as expired:
        list(bulk.records(operation))
    assert expired.value.cause.code == "shopify.bulk_expired"


def test_starting_twice_adopts_the_running_operation_even_after_a_lost_answer(sim, bulk):
    sim.bulk.add_fault(action="hold", times=None)
    text = stamps_query(SINCE)
    first = bulk.start(text)
    assert bulk.start(text).id == first.id
    other = inner_query("BulkOrderStamps", {"query": "created_at:>='2026-02-01T00:00:00Z'"})
    sim.faults.add(action="drop_after_apply", operation="BulkRun")
    adopted = bulk.start(other)  # Shopify started it, the answer was lost
    running = [op["id"] for op in sim.bulk.snapshot() if op["status"] in ("CREATED", "RUNNING")]
    assert sorted(running) == sorted([first.id, adopted.id])
    sim.bulk.release()


def test_all_slots_taken_is_a_temporary_busy_cause_naming_them(sim, bulk):
    sim.bulk.add_fault(action="hold", times=None)
    ids = [
        bulk.start(inner_query("BulkOrderStamps", {"query": f"name:#{n}"})).id
        for n in range(1001, 1006)
    ]
    with pytest.raises(BulkOperationBusy) as busy:
        bulk.start(stamps_query(SINCE))
    assert busy.value.in_progress == tuple(ids)
    assert busy.value.cause.code == "shopify.bulk_busy" and busy.value.cause.kind is Kind.TEMPORARY
    sim.bulk.release()


def test_an_invalid_inner_query_is_refused_with_shopifys_message(bulk):
    with pytest.raises(BulkQueryInvalid) as invalid:
        bulk.start("{ orders { nodes { id } } }")
    assert invalid.value.messages[0].startswith("All connection fields in a bulk query must")
    assert invalid.value.cause.code == "shopify.query_rejected"


def test_waiting_stops_on_timeout_or_request_and_the_operation_can_be_picked_up(sim, bulk):
    sim.bulk.add_fault(action="hold", after_objects=4)
    operation = bulk.start(stamps_query(SINCE))
    with pytest.raises(BulkStillRunning) as still:
        bulk.wait(operation.id, timeout=0.3)
    assert still.value.cause.code == "shopify.bulk_running"
    assert still.value.operation.id == operation.id
    stop = threading.Event()
    stop.set()
    with pytest.raises(BulkStillRunning):
        bulk.wait(operation.id, stop=stop)
    sim.bulk.release()
    assert len(list(bulk.resume(operation.id))) == len(sim.store.orders)


def test_polls_back_off_while_nothing_moves(sim):
    sim.bulk.add_fault(action="hold")
    client = client_for(sim)
    with BulkOperations(client, poll_interval=0.02, max_poll_interval=1.0, backoff=2.0) as bulk:
        operation = bulk.start(stamps_query(SINCE))
        sim.counters.reset()
        with pytest.raises(BulkStillRunning):
            bulk.wait(operation.id, timeout=1.2)
    client.close()
    polls = sim.counters.snapshot()["operations"]["BulkPoll"]
    assert 3 <= polls <= 9  # 0.02 · 2^k up to 1.2 s; a fixed 20 ms pace would be ~60
    sim.bulk.release()


def test_grouped_results_come_back_as_roots_with_children(sim, bulk):
    pairs = list(group_children(bulk.run(WITH_LINES, group_objects=True)))
    assert [root.data["id"] for root, _ in pairs] == _ids(sim)
    for root, children in pairs:
        assert {c.data["id"] for c in children} == set(sim.store.nodes[root.data["id"]]["_lines"])
    with pytest.raises(CauseError) as ungrouped:
        list(group_children(bulk.run(WITH_LINES)))
    assert "not grouped" in ungrouped.value.cause.missing


def test_a_result_url_that_is_not_https_is_not_fetched(bulk):
    operation = BulkOperation(
        id="gid://shopify/BulkOperation/1",
        status=BulkStatus.COMPLETED,
        query="{}",
        url="http://example.com/result.jsonl",
    )
    with pytest.raises(CauseError) as refused:
        list(bulk.records(operation))
    assert refused.value.cause.code == "data.invalid_payload"


def test_a_big_result_is_streamed_not_loaded():
    class Counting(httpx.HTTPTransport):
        delivered = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            outer = self

            class Counted(httpx.SyncByteStream):
                def __iter__(self):
                    for chunk in response.stream:
                        outer.delivered += len(chunk)
                        yield chunk

                def close(self) -> None:
                    response.close()

            return httpx.Response(response.status_code, headers=response.headers, stream=Counted())

    transport = Counting()
    with ShopifySimulator(generate(seed=5, orders=3000, customers=50, products=10)) as big:
        client = client_for(big)
        with BulkOperations(client, poll_interval=0.05, transport=transport) as bulk:
            operation = bulk.wait(bulk.start(stamps_query(SINCE)).id)
            records = bulk.records(operation)
            next(records)
            at_first_record = transport.delivered
            tracemalloc.start()
            count = 1 + sum(1 for _ in records)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        client.close()
    assert count == 3000 and operation.file_size and operation.file_size > 400_000
    assert at_first_record < operation.file_size / 3  # parsed while the rest is still coming
    assert peak < 1_000_000  # a few network buffers, whatever the file's size


def test_the_operations_call_reads_the_list_the_poll_reads_one(sim, bulk):
    finished = bulk.wait(bulk.start(stamps_query(SINCE)).id)
    assert bulk.get(finished.id) == finished
    assert [op.id for op in bulk.operations("status:completed")] == [finished.id]
    assert bulk.in_progress() == []
    assert bulk.get("gid://shopify/BulkOperation/1") is None


# -- captured answers through the client's parsing ----------------------------------------------


def _bulk_nodes(data):
    if isinstance(data, dict):
        if str(data.get("id", "")).startswith("gid://shopify/BulkOperation/") and "status" in data:
            yield data
        for value in data.values():
            yield from _bulk_nodes(value)
    elif isinstance(data, list):
        for item in data:
            yield from _bulk_nodes(item)


def test_every_captured_bulk_operation_parses(reference_dir):
    folder = reference_dir / "shopify" / "captures"
    files = sorted(folder.glob("*/bulk-operations/*.json"))
    if not files:
        pytest.skip("no bulk operation captures")
    parsed = [
        BulkOperation.from_node(node)
        for path in files
        for node in _bulk_nodes(json.loads(path.read_text("utf-8")))
    ]
    assert len(parsed) >= 20
    statuses = {op.status for op in parsed}
    assert {BulkStatus.CREATED, BulkStatus.COMPLETED, BulkStatus.CANCELING} <= statuses
    completed = [op for op in parsed if op.status is BulkStatus.COMPLETED and op.file_size]
    assert completed and all(op.url and op.url.startswith("https://") for op in completed)
    assert any(op.root_object_count < op.object_count for op in completed)  # nested: 1 vs 4


def test_the_captured_nested_jsonl_parses_to_roots_and_children(reference_dir):
    from bulk_support import capture

    data = capture(
        reference_dir, "2026-04/bulk-operations/bulk-operation-root-count-and-search-filters.json"
    )
    operation = BulkOperation.from_node(data["run"]["terminalOperation"])
    lines = data["run"]["result"]["body"].splitlines()
    records = [parse_record(operation, line.encode(), 0, n) for n, line in enumerate(lines, 1)]
    (root, children), *rest = list(group_children(iter(records)))
    assert rest == []
    assert root.data["id"].startswith("gid://shopify/Product/")  # escaped slashes read back
    assert len(children) == operation.object_count - operation.root_object_count == 3
    assert {c.parent_id for c in children} == {root.data["id"]}
