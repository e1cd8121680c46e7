"""Property tests: cursors, search parsing and time filters, the cost model, the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from shopodoo_console.shopify.budget import Throttle
from shopodoo_console.shopify.client import search_time
from shopodoo_console.shopify.errors import ThrottleStatus
from shopodoo_console.sim.shopify import cursor, search
from shopodoo_console.sim.shopify.cost import actual_cost, analyse
from shopodoo_console.sim.shopify.engine import schema

times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))


@given(st.integers(min_value=0, max_value=2**63), st.one_of(st.none(), st.text(), st.integers()))
def test_cursor_round_trip(last_id, last_value):
    assert cursor.decode(cursor.encode(last_id, last_value)) == (last_id, last_value)


@given(times, times)
def test_quoted_timestamps_compare_exactly(record_time, bound):
    record = {"updatedAt": record_time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    fields = {"updated_at": search.time_matcher("updatedAt", UTC)}
    for op, expected in (
        (">=", record_time >= bound),
        ("<=", record_time <= bound),
        (">", record_time > bound),
        ("<", record_time < bound),
    ):
        outcome = search.compile_query(f"updated_at:{op}{search_time(bound)}", fields)
        assert outcome.warnings == []
        assert outcome.predicate(record) is expected, op


@given(
    st.text(
        alphabet=st.characters(blacklist_characters="'\"\\", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=30,
    )
)
def test_quoted_values_stay_whole(value):
    terms = search.terms(search.parse(f"sku:'{value}'"))
    assert terms == [search.Term("sku", ":", value)]


@given(times)
def test_unquoted_timestamps_are_cut_at_the_colon(when):
    text = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    outcome = search.compile_query(f"updated_at:>={text}", {"updated_at": lambda r, t: True})
    assert [w["field"] for w in outcome.warnings] == [when.strftime("%M")]


def _cost(query: str, variables: dict, data: dict | None = None) -> tuple[int, int]:
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    requested = analyse(schema(), operation, fragments, variables).requested
    return requested, actual_cost(schema(), operation, fragments, variables, data)


@settings(max_examples=50)
@given(
    st.integers(min_value=1, max_value=250),
    st.integers(min_value=0, max_value=250),
    st.integers(min_value=0, max_value=5),
)
def test_connection_cost_scales_with_first_and_refunds_what_is_not_returned(first, found, lines):
    found = min(found, first)
    query = "query Q($n: Int!) { orders(first: $n) { nodes { id lineItems(first: 5) { nodes { id } } customer { id } } } }"  # noqa: E501
    node = {"id": "x", "lineItems": {"nodes": [{"id": "l"}] * lines}, "customer": {"id": "c"}}
    requested, actual = _cost(query, {"n": first}, {"orders": {"nodes": [node] * found}})
    assert requested == 2 + first * (1 + 5)  # the customer inside a node is free
    assert actual == 2 + found * (1 + lines)
    assert actual <= requested


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(0, 500), st.floats(0, 3)), min_size=1, max_size=20))
def test_budget_never_promises_more_than_the_bucket_holds(steps):
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    throttle.update(ThrottleStatus(maximum=1000, available=1000, restore_rate=100))
    spent = 0.0
    for cost, pause in steps:
        now[0] += pause
        wait = throttle.wait_needed(cost)
        now[0] += wait
        throttle.acquire(cost, max_wait=0.0, on_wait=lambda _w: None)
        budget = throttle.budget()
        assert budget is not None and budget.available >= -1e-6
        spent += cost
        # Shopify's answer: the cost is taken from what was there
        throttle.update(ThrottleStatus(1000, max(0.0, budget.available), 100))
        throttle.release(cost)
    assert spent >= 0


def test_search_time_requires_aware_datetimes():
    assert search_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "'2026-01-02T03:04:05Z'"
    later = datetime(2026, 1, 2, 4, 4, 5, tzinfo=UTC) + timedelta(hours=1)
    assert search_time(later.astimezone()) == "'2026-01-02T05:04:05Z'"
