"""The client against the simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from shopify_support import client_for, scenario

from shopodoo_console.causes import CauseError
from shopodoo_console.shopify import (
    ClientCredentials,
    QuantityTarget,
    ShopifyClient,
    StaticToken,
    Tracking,
)
from shopodoo_console.sim.shopify import ShopifySimulator

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(), bucket=(2000, 1000.0)) as running:
        yield running


@pytest.fixture
def client(sim):
    with client_for(sim) as shopify:
        yield shopify


def all_stamps(client, since=EPOCH, **kwargs):
    return [stamp for page in client.orders_updated_since(since, **kwargs) for stamp in page]


# -- polling ----------------------------------------------------------------------------------


def test_poll_pages_through_every_order_in_updated_order(sim, client):
    pages = list(client.orders_updated_since(EPOCH, page_size=7))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    stamps = [s for p in pages for s in p]
    assert len({s.gid for s in stamps}) == 30
    assert [s.updated_at for s in stamps] == sorted(s.updated_at for s in stamps)
    assert all(s.name.startswith("#") and s.legacy_id > 0 for s in stamps)


def test_poll_with_overlap_sees_the_boundary_and_a_change_made_now(sim, client):
    stamps = all_stamps(client)
    watermark = stamps[-1].updated_at
    again = all_stamps(client, watermark, overlap=timedelta(seconds=0))
    assert [s.gid for s in again] == [stamps[-1].gid]  # >= includes the boundary
    window = all_stamps(client, watermark, overlap=timedelta(days=2))
    assert len(window) > 1
    changed = stamps[0].gid
    new_version = sim.control.touch_order(changed)
    after = all_stamps(client, watermark, overlap=timedelta(minutes=5))
    assert after[-1].gid == changed
    assert after[-1].updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") == new_version


def test_poll_refuses_a_naive_datetime(client):
    with pytest.raises(ValueError, match="aware"):
        next(client.orders_updated_since(datetime(2026, 1, 1)))


# -- reading orders -----------------------------------------------------------------------------


def test_orders_by_ids_batches_and_completes_long_orders(sim, client):
    ids = [s.gid for s in all_stamps(client)]
    missing = "gid://shopify/Order/1"
    orders = client.orders_by_ids([*ids, missing], line_items_first=5)
    assert orders[missing] is None
    assert all(orders[i] is not None for i in ids)
    long = next(o for o in orders.values() if o and len(o["lineItems"]["nodes"]) == 12)
    assert long["lineItems"]["pageInfo"]["hasNextPage"] is False
    assert len({line["id"] for line in long["lineItems"]["nodes"]}) == 12
    assert sim.counters.operations["OrderLineItems"] >= 1
    assert client.cost_per_unit("OrdersByIds") > 0
    assert sim.counters.operations["OrdersByIds"] < len(ids)  # batched


def test_order_detail_has_what_the_orders_flow_needs(client):
    stamps = all_stamps(client)
    orders = client.orders_by_ids([s.gid for s in stamps])
    full = [o for o in orders.values() if o]
    guest = [o for o in full if o["customer"] is None]
    assert guest and all(o["email"] for o in guest)
    custom = [line for o in full for line in o["lineItems"]["nodes"] if line["variant"] is None]
    assert custom and custom[0]["title"] == "Gift wrapping"
    paid = next(o for o in full if o["displayFinancialStatus"] == "PAID")
    assert paid["transactions"][0]["kind"] == "SALE"
    assert paid["totalPriceSet"]["shopMoney"]["amount"]
    line = next(line for o in full for line in o["lineItems"]["nodes"] if line["variant"])
    assert line["variant"]["inventoryItem"]["id"].startswith("gid://shopify/InventoryItem/")
    assert line["variant"]["barcode"]
    assert full[0]["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"]
    assert client.order(stamps[0].gid)["id"] == stamps[0].gid
    assert client.order("gid://shopify/Order/1") is None


def test_customers_and_catalogue_reads(sim, client):
    customers = [c for page in client.customers_search("state:enabled", page_size=4) for c in page]
    assert len(customers) == len(sim.store.customers)
    email = customers[1]["defaultEmailAddress"]["emailAddress"]
    assert client.customer_by_email(email.upper())["id"] == customers[1]["id"]
    assert client.customer_by_email("nobody@example.com") is None
    assert client.customer(customers[0]["id"])["displayName"]
    duplicates = client.variants_by_sku("DUP-SKU-1")
    assert len(duplicates) == 2
    barcode = duplicates[0]["barcode"]
    assert [v["id"] for v in client.variants_by_barcode(barcode)] == [duplicates[0]["id"]]
    assert client.variants_by_sku("NO-SUCH-SKU") == []
    sim.control.update_variant(duplicates[1]["id"], sku="RENAMED-1")
    assert [v["id"] for v in client.variants_by_sku("RENAMED-1")] == [duplicates[1]["id"]]
    locations = client.locations()
    assert [loc["name"] for loc in locations] == sorted(loc["name"] for loc in locations)
    item = client.inventory_levels(duplicates[0]["inventoryItem"]["id"])
    names = {q["name"] for q in item["inventoryLevels"]["nodes"][0]["quantities"]}
    assert {"available", "on_hand"} <= names


def test_access_scopes_for_doctor(sim, client):
    info = client.access_scopes()
    assert info.missing() == []
    assert info.shop["myshopifyDomain"] == sim.domain
    sim.control.set_scopes(["read_products"])
    assert "read_orders" in client.access_scopes().missing()


# -- writes ---------------------------------------------------------------------------------


def _level(client, sku):
    variant = client.variants_by_sku(sku)[0]
    item = client.inventory_levels(variant["inventoryItem"]["id"])
    level = item["inventoryLevels"]["nodes"][0]
    available = next(q["quantity"] for q in level["quantities"] if q["name"] == "available")
    return item["id"], level["location"]["id"], available


def test_inventory_set_is_idempotent_by_key_even_when_the_answer_is_lost(sim, client):
    item, location, available = _level(client, "DUP-SKU-1")
    sim.faults.add(action="drop_after_apply", field="inventorySetQuantities")
    target = QuantityTarget(item, location, available + 5, change_from=available)
    result = client.inventory_set_quantities([target], idempotency_key="job-1:item:loc")
    assert result.ok and result.group is not None
    assert sim.counters["dropped"] == 1
    assert sim.counters.operations["InventorySetQuantities"] == 2  # resent with the same key
    assert _level(client, "DUP-SKU-1")[2] == available + 5  # applied once
    replay = client.inventory_set_quantities([target], idempotency_key="job-1:item:loc")
    assert replay.group == result.group
    other = QuantityTarget(item, location, available + 9, change_from=available + 5)
    mismatch = client.inventory_set_quantities([other], idempotency_key="job-1:item:loc")
    assert mismatch.has_code("IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
    stale = client.inventory_set_quantities(
        [QuantityTarget(item, location, 1, change_from=available)], idempotency_key="job-2"
    )
    assert stale.stale and stale.group is None
    with pytest.raises(ValueError):
        client.inventory_set_quantities([target], idempotency_key=" ")


def _unfulfilled_order(client, sim):
    stamps = all_stamps(client)
    for stamp in stamps:
        snap = sim.control.order(stamp.gid)
        if snap["displayFulfillmentStatus"] == "UNFULFILLED" and not snap["cancelledAt"]:
            shippable = [li for li in snap["lineItems"] if li["requiresShipping"]]
            if any(li["quantity"] >= 2 for li in shippable):
                return stamp.gid, shippable
    raise AssertionError("scenario has no suitable order")


def test_fulfill_rereads_before_retrying_a_lost_answer(sim, client):
    order_id, lines = _unfulfilled_order(client, sim)
    line = next(li for li in lines if li["quantity"] >= 2)
    sim.faults.add(action="drop_after_apply", field="fulfillmentCreate")
    outcome = client.fulfill(order_id, lines={line["id"]: 1})
    assert outcome.already_done  # the lost call had applied: nothing sent twice
    fulfillments = sim.control.fulfillments(order_id)
    assert len(fulfillments) == 1
    # A retry of the same job (same cumulative target) is a no-op...
    assert client.fulfill(order_id, lines={line["id"]: 1}).already_done
    # ...and raising the target ships only the difference.
    more = client.fulfill(order_id, lines={line["id"]: 2}, tracking=Tracking(number="T-2"))
    assert len(more.created) == 1
    shipped = more.created[0]["fulfillmentLineItems"]["nodes"]
    assert [n["quantity"] for n in shipped] == [1]
    again = client.fulfill(order_id, lines={line["id"]: 5}, tracking=Tracking(number="T-2"))
    assert again.existing is not None and again.existing["name"].endswith("-F2")
    assert len(sim.control.fulfillments(order_id)) == 2


def test_fulfillment_create_alone_reports_an_unknown_outcome(sim, client):
    order_id, _ = _unfulfilled_order(client, sim)
    state = client.fulfillment_state(order_id)
    fo = state["fulfillmentOrders"]["nodes"][0]["id"]
    sim.faults.add(action="drop_after_apply", field="fulfillmentCreate")
    with pytest.raises(CauseError) as info:
        client.fulfillment_create([{"fulfillmentOrderId": fo}])
    assert info.value.cause.code == "shopify.outcome_unknown"
    assert info.value.cause.retry_safe
    closed = client.fulfillment_create([{"fulfillmentOrderId": fo}])
    assert not closed.ok and "unfulfillable status= closed" in closed.messages
    outcome = client.fulfill(order_id, lines={"gid://shopify/LineItem/1": 1})
    assert outcome.already_done and outcome.shortfall == {"gid://shopify/LineItem/1": 1}


def test_metafields_and_tags_write_back(sim, client):
    order_id = all_stamps(client)[0].gid
    written = client.metafields_set(
        [
            {
                "ownerId": order_id,
                "namespace": "shopodoo",
                "key": "odoo_id",
                "value": "S00042",
                "type": "single_line_text_field",
                "compareDigest": None,
            }
        ]
    )
    assert written.ok and written.metafields[0]["value"] == "S00042"
    again = client.metafields_set(
        [
            {
                "ownerId": order_id,
                "namespace": "shopodoo",
                "key": "odoo_id",
                "value": "S00042",
                "type": "single_line_text_field",
                "compareDigest": None,
            }
        ]
    )
    assert again.has_code("STALE_OBJECT")
    upsert = client.metafields_set(
        [{"ownerId": order_id, "namespace": "shopodoo", "key": "odoo_id", "value": "S00043"}]
    )
    assert upsert.ok and upsert.metafields[0]["id"] == written.metafields[0]["id"]
    order = client.order(order_id)
    assert order["metafields"]["nodes"][0]["value"] == "S00043"
    assert client.tags_add(order_id, ["synced", "Synced"]).ok
    assert client.tags_add(order_id, ["synced"]).node_id == order_id
    assert "synced" in sim.control.order(order_id)["tags"]
    missing = client.tags_add("gid://shopify/Order/1", ["x"])
    assert missing.messages == "Order does not exist"
    with pytest.raises(CauseError) as info:
        client.tags_add("gid://shopify/Unsupported/1", ["x"])
    assert info.value.cause.code == "shopify.not_found"


# -- rate limits ------------------------------------------------------------------------------


def test_a_burst_from_many_threads_never_spends_past_the_bucket():
    with ShopifySimulator(scenario(), bucket=(600, 2000.0)) as sim, client_for(sim) as client:
        waits = []
        client._on_event = lambda name, data: waits.append(name)
        errors = []

        def worker():
            try:
                for _ in range(6):
                    all_stamps(client)  # 252 points requested per page of 250
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sim.counters["throttled"] == 0
        assert sim.counters.operations["OrdersUpdatedSince"] == 24
        assert "wait" in waits  # it had to pace itself
        budget = client.budget
        assert budget is not None and budget.maximum == 600 and budget.restore_rate == 2000


def test_recovers_when_shopify_throttles_anyway(sim, client):
    all_stamps(client)
    sim.control.drain_bucket()  # someone else spent the bucket: the client cannot know
    events = []
    client._on_event = lambda name, data: events.append((name, data))
    assert len(all_stamps(client)) == 30
    assert sim.counters["throttled"] >= 1
    throttled = [d for n, d in events if n == "throttled"]
    assert throttled and throttled[0]["requested"] == 252  # 2 + 250 (first: 250)
    sim.faults.add(action="throttle", operation="OrdersUpdatedSince", times=2)
    events.clear()
    assert len(all_stamps(client)) == 30
    assert [d["requested"] for n, d in events if n == "throttled"] == [252, 252]


def test_http_429_waits_for_retry_after(sim, client):
    sim.faults.add(action="status", status=429, retry_after=0.2)
    events = []
    client._on_event = lambda name, data: events.append((name, data))
    assert client.locations()
    assert sim.counters["http_429"] == 1
    assert (
        "throttled",
        {"operation": "Locations", "http_status": 429, "wait": 0.2, "requested": None},
    ) in events


def test_max_cost_exceeded_shrinks_the_page(sim, client):
    ids = [s.gid for s in all_stamps(client)]
    order = client.order(ids[0], line_items_first=250)  # > 1000 points: halved until it fits
    assert order["id"] == ids[0]
    client._costs["OrdersByIds"] = 1.0  # a wrong belief about the cost: batch far too big
    assert len(client.orders_by_ids(ids)) == 30


# -- auth ---------------------------------------------------------------------------------------


def test_client_credentials_token_renewed_once_for_all_threads(sim):
    auth = ClientCredentials(sim.client_id, sim.client_secret)
    with client_for(sim, auth) as client:
        barrier = threading.Barrier(6)

        def worker():
            barrier.wait()
            client.locations()

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sim.counters["tokens_issued"] == 1


def test_token_expiry_mid_run_is_renewed_transparently(sim):
    auth = ClientCredentials(sim.client_id, sim.client_secret)
    with client_for(sim, auth) as client:
        pages = client.orders_updated_since(EPOCH, page_size=10)
        first = next(pages)
        sim.control.expire_tokens()  # expired on Shopify's side: a 401, then a new token
        rest = [s for page in pages for s in page]
        assert len(first) + len(rest) == 30
        assert sim.counters["tokens_issued"] == 2
    sim.control.set_token_ttl(2.0)  # short-lived tokens are renewed ahead of expiry
    with client_for(sim, auth) as client:
        client.locations()
        client._token_expires = 0  # pretend the margin is reached
        client.locations()
        assert sim.counters["tokens_issued"] == 4


def test_wrong_credentials_are_unauthorized_after_one_renewal(sim):
    wrong = StaticToken("shpat_not_the_right_token_0000")
    with client_for(sim, wrong) as client, pytest.raises(CauseError) as info:
        client.locations()
    assert info.value.cause.code == "shopify.unauthorized"
    auth = ClientCredentials(sim.client_id, "shpss_wrong_secret_00000000")
    with client_for(sim, auth) as client:
        for _ in range(2):  # a failed renewal must not keep its budget reservation
            with pytest.raises(CauseError) as info:
                client.locations()
            assert info.value.cause.code == "shopify.unauthorized"
        assert client._throttle._reserved == 0


# -- each HTTP error class → its cause --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (402, "shopify.shop_frozen", "pay the outstanding balance"),
        (403, "shopify.scope_missing", "access scope"),
        (423, "shopify.shop_frozen", "locked"),
        (430, "shopify.unauthorized", "Security Rejection"),
        (404, "shopify.query_rejected", "API version"),
        (400, "shopify.query_rejected", "HTTP 400"),
    ],
)
def test_http_errors_become_causes(sim, client, status, code, words):
    sim.faults.add(action="status", status=status)
    with pytest.raises(CauseError) as info:
        client.locations()
    cause = info.value.cause
    assert (cause.code, cause.operation) == (code, "Shopify Locations")
    assert words in cause.missing
    assert cause.detail  # Shopify's own words, verbatim


def test_frozen_shop_and_missing_scope(sim, client):
    sim.control.freeze(402)
    with pytest.raises(CauseError) as info:
        client.locations()
    assert info.value.cause.code == "shopify.shop_frozen"
    sim.control.freeze(None)
    sim.control.set_scopes(["read_products"])
    with pytest.raises(CauseError) as info:
        all_stamps(client)
    assert info.value.cause.code == "shopify.scope_missing"
    assert "read_orders" in info.value.cause.missing


def test_server_errors_are_retried_for_reads(sim, client):
    sim.faults.add(action="status", status=502, times=2)
    sim.faults.add(action="reset", operation="Locations", skip=2, times=1)
    assert client.locations()
    assert sim.counters.operations["Locations"] == 1
    sim.faults.add(action="status", status=503, times=None)
    with pytest.raises(CauseError) as info:
        client.locations()
    assert info.value.cause.code == "shopify.unavailable"


def test_write_with_lost_answer_is_outcome_unknown_unless_idempotent(sim, client):
    order_id, _ = _unfulfilled_order(client, sim)
    fo = client.fulfillment_state(order_id)["fulfillmentOrders"]["nodes"][0]["id"]
    sim.faults.add(action="status", status=500, field="fulfillmentCreate")
    with pytest.raises(CauseError) as info:
        client.fulfillment_create([{"fulfillmentOrderId": fo}])
    assert info.value.cause.code == "shopify.outcome_unknown"
    sim.faults.add(action="status", status=504, field="tagsAdd")
    assert client.tags_add(order_id, ["retried"]).ok  # idempotent by nature: resent


def test_timeouts_on_every_call(sim):
    short = httpx.Timeout(connect=1.0, read=0.2, write=1.0, pool=1.0)
    with client_for(sim, timeout=short, retries=1) as client:
        sim.faults.add(action="latency", delay=0.6, operation="Locations", times=1)
        assert client.locations()  # a read times out once, then succeeds
        order_id = all_stamps(client)[0].gid
        sim.faults.add(action="latency", delay=0.6, field="metafieldsSet", times=1)
        with pytest.raises(CauseError) as info:
            client.metafields_set(
                [
                    {
                        "ownerId": order_id,
                        "namespace": "shopodoo",
                        "key": "k1",
                        "value": "v",
                        "type": "single_line_text_field",
                        "compareDigest": None,
                    }
                ]
            )
        assert info.value.cause.code == "shopify.outcome_unknown"


def test_unreachable_shop_is_unavailable():
    with ShopifySimulator(scenario()) as sim:
        base = sim.base_url
    client = ShopifyClient(
        "gone.myshopify.com",
        auth=StaticToken("shpat_gone_gone_gone_0001"),
        base_url=base,
        backoff=0.01,
        retries=1,
    )
    with pytest.raises(CauseError) as info:
        client.locations()
    assert info.value.cause.code == "shopify.unavailable"


def test_plain_http_only_on_loopback():
    auth = StaticToken("shpat_loopback_check_000001")
    with pytest.raises(ValueError, match="loopback"):
        ShopifyClient("x.myshopify.com", auth=auth, base_url="http://example.com")
    ShopifyClient("x.myshopify.com", auth=auth, base_url="http://localhost:1").close()
    ShopifyClient("x.myshopify.com", auth=auth, base_url="http://[::1]:1").close()
    client = ShopifyClient("x.myshopify.com", auth=auth)
    assert client.graphql_url == "https://x.myshopify.com/admin/api/2026-07/graphql.json"
