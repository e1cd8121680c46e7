"""The audit's cheap order pages and the budget share that paces them (issue 14)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from graphql import FieldNode, OperationDefinitionNode, parse, print_ast
from hypothesis import given, settings
from hypothesis import strategies as st
from shopify_support import client_for, scenario

from shopodoo_console.causes import Kind
from shopodoo_console.shopify.audit import orders_for_audit, period_query, window_gap
from shopodoo_console.shopify.budget import Budget
from shopodoo_console.shopify.pacing import BudgetShare
from shopodoo_console.sim.shopify import ShopifySimulator, generate
from shopodoo_console.sim.shopify.state import DEFAULT_SCOPES

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def _orders(sim: ShopifySimulator) -> list[dict]:
    return [sim.store.nodes[i] for i in sim.store.orders]


def test_a_period_is_read_in_pages_the_first_one_small():
    with ShopifySimulator(scenario(60)) as sim:
        records = _orders(sim)
        until = datetime.fromisoformat(records[50]["createdAt"].replace("Z", "+00:00"))
        client = client_for(sim)
        pages = list(orders_for_audit(client, SINCE, until, page_size=30, first_page=10))
        client.close()
    assert [len(p.orders) for p in pages] == [10, 30, 10]
    got = [o for p in pages for o in p.orders]
    assert [o.gid for o in got] == [r["id"] for r in records[:50]]  # until is excluded
    for order, record in zip(got, records, strict=False):
        assert order.name == record["name"] and order.legacy_id == int(record["legacyResourceId"])
        assert order.total == Decimal(record["totalPriceSet"]["shopMoney"]["amount"])
        assert order.tax == Decimal(record["totalTaxSet"]["shopMoney"]["amount"])
        assert order.shipping == Decimal(record["totalShippingPriceSet"]["shopMoney"]["amount"])
        assert order.discounts == Decimal(record["totalDiscountsSet"]["shopMoney"]["amount"])
        assert order.financial_status == record["displayFinancialStatus"]
        assert order.fulfillment_status == record["displayFulfillmentStatus"]
        assert order.cancelled == bool(record["cancelledAt"])
        assert order.odoo_id is None
    assert any(o.cancelled for o in got) and any(o.fulfilled for o in got)


def test_pages_carry_their_measured_cost_and_the_odoo_id_metafield():
    with ShopifySimulator(scenario(40)) as sim:
        client = client_for(sim)
        target = _orders(sim)[3]["id"]
        result = client.metafields_set(
            [
                {
                    "ownerId": target,
                    "namespace": "shopodoo",
                    "key": "odoo_id",
                    "type": "single_line_text_field",
                    "value": "sale.order,42",
                }
            ]
        )
        assert result.ok
        (page,) = orders_for_audit(client, SINCE, first_page=250)
        sync_cost = client.execute(
            "OrdersForSync", {"ids": [o.gid for o in page.orders[:10]], "lineItemsFirst": 20}
        ).cost
        client.close()
    by_gid = {o.gid: o for o in page.orders}
    assert by_gid[target].odoo_id == "sale.order,42"
    assert page.requested_cost == 2 + 250 and page.actual_cost == 2 + 40
    assert page.cost_per_order == pytest.approx(42 / 40)
    assert sync_cost is not None and sync_cost.actual is not None
    assert sync_cost.actual / 10 > 10 * page.cost_per_order  # the audit page is the cheap read


def test_the_search_string_quotes_utc_times():
    text = period_query(SINCE, SINCE + timedelta(days=1), field="processed_at")
    assert text == (
        "processed_at:>='2026-01-01T00:00:00Z' AND processed_at:<'2026-01-02T00:00:00Z'"
    )


def test_paced_at_half_it_never_spends_more_than_half_of_the_refill():
    with ShopifySimulator(generate(seed=4, orders=700, customers=30, products=8)) as sim:
        sim.control.set_bucket(2000, 1000)
        client = client_for(sim)
        share = BudgetShare(0.5)
        started = time.monotonic()
        pages = list(orders_for_audit(client, SINCE, share=share, page_size=250))
        elapsed = time.monotonic() - started
        spent_by_shopify = sim.counters["points_spent"]
        client.close()
    assert sum(len(p.orders) for p in pages) == 700
    report = share.report()
    assert report.spent == spent_by_shopify == sum(p.actual_cost or 0 for p in pages)
    assert report.restore_rate == 1000
    assert report.fraction <= 0.5
    assert spent_by_shopify <= 0.5 * 1000 * (elapsed + 1.0)  # Shopify's count agrees
    assert report.waited > 0  # it had to hold back: unpaced it would take everything


def test_a_busy_bucket_holds_the_reader_back_to_leave_the_sync_its_half():
    with ShopifySimulator(generate(seed=4, orders=300, customers=30, products=8)) as sim:
        sim.control.set_bucket(2000, 400)
        client = client_for(sim)
        client.access_scopes()  # the client knows the bucket (a console already running)
        sim.control.drain_bucket()  # the live sync has just spent it all
        share = BudgetShare(0.5)
        pages = list(orders_for_audit(client, SINCE, share=share, page_size=100))
        client.close()
    assert sum(len(p.orders) for p in pages) == 300
    later = pages[1:]  # the first answer told the client how empty the bucket was
    assert all(p.waited > 0 for p in later)
    assert all((p.budget_after or 0) >= 1000 - 5 for p in later), [p.budget_after for p in later]


def test_the_bulk_audit_query_selects_what_the_page_selects():
    from shopodoo_console.shopify import documents

    def selection(text: str, name: str) -> str:
        doc = parse(text)
        for definition in doc.definitions:
            if getattr(definition.name, "value", None) == name:
                return print_ast(definition.selection_set)
        raise AssertionError(name)

    fragment = selection(documents.load("OrdersForAudit").text, "AuditOrder")
    bulk = parse(documents.load("BulkOrdersForAudit").text)
    operation = bulk.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode) and node.selection_set is not None
    edges = node.selection_set.selections[0]
    assert isinstance(edges, FieldNode) and edges.selection_set is not None
    inner = edges.selection_set.selections[0]
    assert isinstance(inner, FieldNode) and inner.selection_set is not None
    assert print_ast(inner.selection_set) == fragment


# -- the budget share on its own (a fake clock: no sleeping) -----------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _budget(available: float, maximum: float = 2000, rate: float = 100) -> Budget:
    return Budget(maximum, available, rate, datetime.now(UTC))


@settings(max_examples=60, deadline=None)
@given(
    fraction=st.sampled_from([0.25, 0.5, 0.9]),
    requests=st.lists(
        st.tuples(st.integers(1, 600), st.floats(0.1, 1.0), st.floats(0, 3)),
        min_size=1,
        max_size=25,
    ),
)
def test_spending_stays_within_the_share_of_the_refill(fraction, requests):
    clock = FakeClock()
    share = BudgetShare(fraction, clock=clock, sleep=clock.sleep)
    bucket = {"available": 2000.0, "at": clock.now}

    def budget() -> Budget:
        return _budget(min(2000.0, bucket["available"] + (clock.now - bucket["at"]) * 100))

    start = clock.now
    spent = 0.0
    for wanted, used, pause in requests:
        estimate = min(wanted, int(fraction * 2000))
        share.before(estimate, budget)
        left = budget().available - estimate
        assert left >= (1 - fraction) * 2000 - 1e-6  # the others' part of the bucket is kept
        actual = round(estimate * used)
        bucket["available"], bucket["at"] = budget().available - actual, clock.now
        share.after(estimate, actual)
        spent += actual
        assert spent <= fraction * 100 * (clock.now - start + 1.0) + 1e-6
        clock.sleep(pause)
    report = share.report()
    assert report.spent == spent and report.fraction <= fraction + 1e-9


def test_the_reserve_waits_for_the_bucket_to_refill():
    clock = FakeClock()
    share = BudgetShare(0.5, clock=clock, sleep=clock.sleep)
    state = {"available": 900.0, "at": clock.now}

    def budget() -> Budget:
        refilled = min(2000.0, state["available"] + (clock.now - state["at"]) * 100)
        return _budget(refilled)

    waited = share.before(40, budget)
    assert waited == pytest.approx(1.4, abs=0.05)  # 900 → 1040 at 100/s
    assert budget().available >= 1040 - 1e-6


def test_a_request_bigger_than_the_share_is_refused_not_waited_for_forever():
    clock = FakeClock()
    share = BudgetShare(0.1, clock=clock, sleep=clock.sleep)
    assert share.capacity() == 200
    with pytest.raises(ValueError, match="fewer records"):
        share.before(252, lambda: _budget(2000))


def test_a_request_that_never_ran_gives_its_reservation_back():
    clock = FakeClock()
    share = BudgetShare(0.5, clock=clock, sleep=clock.sleep)
    share.before(50, lambda: None)
    share.after(50, None)
    assert share.before(50, lambda: None) == 0  # the 50 points were still there
    assert share.report().spent == 0


def test_pages_shrink_to_fit_a_small_share():
    with ShopifySimulator(generate(seed=4, orders=300, customers=30, products=8)) as sim:
        sim.control.set_bucket(2000, 4000)
        client = client_for(sim)
        share = BudgetShare(0.1)
        pages = list(orders_for_audit(client, SINCE, share=share, page_size=250))
        client.close()
    assert sum(len(p.orders) for p in pages) == 300
    assert max(p.requested_cost or 0 for p in pages) <= 200


def test_a_period_past_the_60_day_window_without_the_scope_is_flagged_and_short():
    now = datetime.now(UTC).replace(microsecond=0)
    spec = generate(seed=4, orders=30, customers=10, products=6, days=120, now=now)
    spec["shop"]["orderWindowDays"] = 60
    scopes = [s for s in DEFAULT_SCOPES if s != "read_all_orders"]
    with ShopifySimulator(spec, scopes=scopes) as sim:
        client = client_for(sim)
        granted = client.access_scopes().scopes
        since = now - timedelta(days=119)
        gap = window_gap(granted, since, now=now)
        seen = sum(len(p.orders) for p in orders_for_audit(client, since))
        sim.set_scopes(DEFAULT_SCOPES)
        everything = sum(len(p.orders) for p in orders_for_audit(client, since))
        client.close()
    assert gap is not None and gap.code == "shopify.scope_missing"
    assert "read_all_orders" in gap.missing and gap.kind is Kind.PERMISSION
    assert 0 < seen < everything == 30  # fewer orders, and no error from Shopify
    assert window_gap(DEFAULT_SCOPES, since, now=now) is None
    assert window_gap(scopes, now - timedelta(days=10), now=now) is None
