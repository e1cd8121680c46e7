"""The client's stock operations against the simulator over real HTTP on 127.0.0.1.

Batched reads (many variants per request, sized by the measured cost), every variant page by
page, batched compare-and-set writes whose every quantity reports what became of it, and the
idempotency rules of shopify.md §8.4 applied by the client: a lost answer is resent with the
same key, a key in flight is waited for, a spent key is replaced by a derived one.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from shopify_support import client_for, scenario, wait_until

from shopodoo_console.shopify import QuantityTarget
from shopodoo_console.shopify import inventory as inv
from shopodoo_console.sim.shopify import ShopifySimulator


@pytest.fixture
def sim():
    with ShopifySimulator(scenario(), bucket=(2000, 1000.0)) as running:
        yield running


@pytest.fixture
def client(sim):
    with client_for(sim) as shopify:
        yield shopify


def _targets(sim: ShopifySimulator, delta: int = 1, limit: int | None = None) -> list[Any]:
    """A target for every level of every SKU'd variant: available + ``delta``."""
    out = []
    for variant_id in sim.store.variants:
        item = sim.store.nodes[variant_id]["_item"]
        for location in sim.store.locations:
            level = sim.control.level(item, location)
            if level is not None and level["isActive"]:
                out.append(
                    QuantityTarget(
                        item, location, level["available"] + delta, change_from=level["available"]
                    )
                )
    return out[:limit] if limit else out


def _available(sim: ShopifySimulator, target: QuantityTarget) -> int:
    level = sim.control.level(target.inventory_item_id, target.location_id)
    assert level is not None
    return int(level["available"])


def test_reads_many_variants_in_few_requests_sized_by_their_cost(sim, client):
    ids = list(sim.store.variants)
    archived = sim.control.create_product(
        {"title": "Old Mug", "status": "ARCHIVED", "variants": [{"sku": "OLD-MUG"}]}
    )["variants"][0]
    sim.control.set_tracked(ids[1], False)
    wanted = [*ids, archived["id"], "gid://shopify/ProductVariant/1"]
    found = client.inventory_by_variants(wanted, levels=2)
    assert found["gid://shopify/ProductVariant/1"] is None
    first = found[ids[0]]
    assert first is not None and first.variant_id == ids[0] and first.tracked
    assert first.product_status == "ACTIVE"
    assert set(first.levels) == set(sim.store.locations)
    for location_id, level in first.levels.items():
        assert level.available == sim.control.level(first.item_id, location_id)["available"]
    assert found[ids[1]] is not None and found[ids[1]].tracked is False
    assert found[archived["id"]].product_status == "ARCHIVED"
    assert sim.counters.operations["InventoryByVariants"] == 2  # 10 to learn, then the rest
    assert client.cost_per_unit("InventoryByVariants") == 3  # 1 + 2 levels per variant
    again = client.inventory_by_variants(ids, levels=2)
    assert again.keys() == set(ids)
    assert sim.counters.operations["InventoryByVariants"] == 3  # all in one, now it knows


def test_an_item_stocked_at_more_locations_than_asked_is_completed(sim, client):
    item = sim.store.nodes[sim.store.variants[0]]["_item"]
    sim.control.create_location({"name": "Pop-up"})
    sim.control.set_stock(item, "Pop-up", 4)
    found = client.inventory_by_items([item], levels=2)[item]
    assert found is not None and len(found.levels) == 3
    assert found.available_at(sim.store.location("Pop-up")["id"]) == 4
    assert sim.counters.operations["InventoryLevels"] == 1


def test_every_variant_page_by_page(sim, client):
    pages = list(client.variant_inventory_pages(levels=2, page_size=7))
    seen = [item.variant_id for page in pages for item in page]
    assert seen == sorted(sim.store.variants, key=lambda g: int(g.rsplit("/", 1)[1]))
    assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
    whole = list(client.variant_inventory_pages(levels=2))
    assert len(whole) == 1 and len(whole[0]) == len(sim.store.variants)


def test_batched_set_reports_each_quantity_and_replays_on_retry(sim, client):
    targets = _targets(sim)
    assert len(targets) > 30
    batches = client.set_inventory(targets, idempotency_key="job-1", batch=15)
    assert [b.key for b in batches] == ["job-1:0", "job-1:1", "job-1:2"][: len(batches)]
    assert all(b.applied and b.conflict is None for b in batches)
    assert {o.status for b in batches for o in b.outcomes} == {inv.SET}
    assert all(_available(sim, t) == t.quantity for t in targets)
    calls = sim.counters.operations["InventorySetQuantities"]
    retry = client.set_inventory(targets, idempotency_key="job-1", batch=15)  # the job's retry
    assert [o.status for b in retry for o in b.outcomes] == [inv.SET] * len(targets)  # replayed
    assert all(_available(sim, t) == t.quantity for t in targets)  # not applied twice
    assert sim.counters.operations["InventorySetQuantities"] == calls + len(batches)
    same = [
        QuantityTarget(t.inventory_item_id, t.location_id, t.quantity, t.quantity) for t in targets
    ]
    unchanged = client.set_inventory(same[:5], idempotency_key="job-2")
    assert [o.status for o in unchanged[0].outcomes] == [inv.UNCHANGED] * 5
    assert client.cost_per_unit("InventorySetQuantities") == 13  # per call, whatever its size
    assert client.sustained_rate("InventorySetQuantities") == pytest.approx(1000 / 13)


def test_a_sale_between_read_and_write_makes_that_quantity_stale_and_its_batch_wait(sim, client):
    targets = _targets(sim, limit=10)
    sim.control.sell(targets[3].inventory_item_id, targets[3].location_id, 1)
    (batch,) = client.set_inventory(targets, idempotency_key="job-3")
    assert not batch.applied
    assert batch.with_status(inv.STALE_STATUS) == [targets[3]]
    assert len(batch.with_status(inv.NOT_APPLIED)) == 9
    assert _available(sim, targets[0]) == targets[0].change_from  # all or nothing
    fresh = client.inventory_by_items([targets[3].inventory_item_id], levels=2)
    item = fresh[targets[3].inventory_item_id]
    assert item is not None
    now = item.available_at(targets[3].location_id)
    assert now == targets[3].change_from - 1
    redo = [
        QuantityTarget(
            t.inventory_item_id,
            t.location_id,
            t.quantity,
            now if t is targets[3] else t.change_from,
        )
        for t in targets
    ]
    (again,) = client.set_inventory(redo, idempotency_key="job-3-recomputed")
    assert again.applied and all(_available(sim, t) == t.quantity for t in redo)


def test_a_lost_answer_is_resent_with_the_same_key_and_applied_once(sim, client):
    targets = _targets(sim, limit=4)
    sim.faults.add(action="drop_after_apply", field="inventorySetQuantities")
    (batch,) = client.set_inventory(targets, idempotency_key="job-4")
    assert batch.applied and sim.counters["dropped"] == 1
    assert sim.counters.operations["InventorySetQuantities"] == 2
    assert all(_available(sim, t) == t.quantity for t in targets)


def test_a_spent_key_is_replaced_by_a_derived_one(sim, client):
    targets = _targets(sim, limit=3)
    sim.faults.add(action="fail_keyed", field="inventorySetQuantities")
    (batch,) = client.set_inventory(targets, idempotency_key="job-5")
    assert batch.applied
    assert (batch.key, batch.replaced_keys) == ("job-5:0~1", ("job-5:0",))
    assert all(_available(sim, t) == t.quantity for t in targets)
    (retry,) = client.set_inventory(targets, idempotency_key="job-5")  # the job retried later
    assert retry.key == "job-5:0~1" and retry.applied  # derived again: replayed
    assert all(_available(sim, t) == t.quantity for t in targets)


def test_a_key_in_flight_is_waited_for_not_doubled(sim, client):
    targets = _targets(sim, limit=2)
    sim.faults.add(action="latency", delay=0.8, field="inventorySetQuantities", times=1)
    results: list[Any] = []
    slow = threading.Thread(
        target=lambda: results.append(client.set_inventory(targets, idempotency_key="job-6"))
    )
    slow.start()
    try:
        wait_until(lambda: "job-6:0" in sim.control.inflight_keys())
        with client_for(sim) as other:
            (second,) = other.set_inventory(targets, idempotency_key="job-6")
    finally:
        slow.join()
    (first,) = results[0]
    assert first.applied and second.applied
    assert [o.status for o in second.outcomes] == [o.status for o in first.outcomes]
    assert all(_available(sim, t) == t.quantity for t in targets)


def test_a_key_reused_with_other_targets_is_reported(sim, client):
    targets = _targets(sim, limit=2)
    client.set_inventory(targets, idempotency_key="job-7")
    other = [QuantityTarget(t.inventory_item_id, t.location_id, 0, t.quantity) for t in targets]
    (batch,) = client.set_inventory(other, idempotency_key="job-7")
    assert batch.conflict == inv.MISMATCH
    assert {o.status for o in batch.outcomes} == {inv.NOT_APPLIED}
    assert all(_available(sim, t) == t.quantity for t in targets)


def test_not_stocked_then_activated(sim, client):
    item = sim.store.nodes[sim.store.variants[0]]["_item"]
    pop_up = sim.control.create_location({"name": "Pop-up"})
    target = QuantityTarget(item, pop_up, 6, change_from=0)
    (batch,) = client.set_inventory([target], idempotency_key="job-8")
    assert batch.with_status(inv.NOT_STOCKED_STATUS) == [target]
    activated = client.inventory_activate(item, pop_up, idempotency_key="job-8:activate")
    assert activated.ok and activated.level is not None and activated.level.available == 0
    (batch,) = client.set_inventory([target], idempotency_key="job-8b")
    assert batch.applied and _available(sim, target) == 6
    with pytest.raises(ValueError):
        client.set_inventory([target, target], idempotency_key="dup")
    with pytest.raises(ValueError):
        client.inventory_activate(item, pop_up, idempotency_key=" ")


def test_writes_are_paced_by_the_bucket_not_throttled(sim):
    with ShopifySimulator(scenario(), bucket=(60, 200.0)) as small, client_for(small) as client:
        targets = _targets(small)
        batches = client.set_inventory(targets, idempotency_key="job-9", batch=2)
        assert all(b.applied for b in batches)
        assert small.counters["throttled"] == 0
