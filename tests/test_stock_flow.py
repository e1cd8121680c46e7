"""The stock flow, Odoo → Shopify, over real HTTP on Odoo 17 (JSON-RPC) and 19 (JSON-2).

Every test drives the real engine (poll, queue, batch handler) against both simulators and
asserts on what Shopify holds afterwards — each level, and every quantity change Shopify
applied (``adjustments``: a replayed key or a level already right adds none).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stock_support import MAIN, OUTLET, StockConsole, make_world, open_console

from shopodoo_console.engine.poller import Poller
from shopodoo_console.sim.world import ARCHIVED_SKU, World
from shopodoo_console.store import stock as store_stock

SKU = "CM-RED-000"


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param) as w:
        yield w


@pytest.fixture
def console(world: World, tmp_path: Path) -> Iterator[StockConsole]:
    """A console whose first sync is over (every level in step), counters reset."""
    c = open_console(world, tmp_path / "home")
    c.settle()
    yield c
    c.close()


def _poll(c: StockConsole) -> tuple[int, int]:
    shop = next(iter(c.engine.shops.values()))
    flow = c.engine.flows.get("stock")
    assert flow is not None
    result = c.engine.poller.poll(shop, flow)
    assert result.ok, result.message
    return result.new, result.seen


def _rewind(c: StockConsole, minutes: int = 60) -> None:
    when = datetime.now(UTC) - timedelta(minutes=minutes)
    Poller(c.engine.queue).set_position(c.shop_id, "stock", when.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _free(c: StockConsole, sku: str, code: str) -> int:
    quants = [q for q in c.world.odoo.control.quants(sku) if q["location"].startswith(code)]
    return int(sum(q["quantity"] - q["reserved_quantity"] for q in quants))


# ---------------------------------------------------------------- exactly once


def test_duplicate_and_overlapping_polls_set_each_level_once(console: StockConsole) -> None:
    c = console
    before = c.available(SKU)
    assert before is not None and before != 42
    c.odoo_stock(SKU, MAIN, 42)
    assert _poll(c)[0] == 1
    assert _poll(c)[0] == 0  # the same version seen again: counted, not a second job
    c.engine.runner.drain()
    assert c.available(SKU) == 42
    c.sync()  # the overlap reads the change again
    _rewind(c)
    c.sync()  # and a rewind reads everything since an hour ago
    jobs = c.jobs("AND source_id = ?", (f"product/{_product_id(c, SKU)}",))
    assert [j["state"] for j in jobs] == ["done"]
    assert jobs[0]["seen_count"] == 2  # later sightings are our link's version: no job at all
    assert [a["delta"] for a in c.adjustments(SKU, MAIN)] == [42 - before]  # set once
    assert c.world.shopify.counters.operations["InventorySetQuantities"] == 1
    assert c.available(SKU) == 42


def test_two_changes_within_one_second_end_at_the_second_set_once(
    console: StockConsole,
) -> None:
    """``write_date`` has whole seconds: a change made in the second of one the poll already
    saw has the same time, another digest — a new version that supersedes the held job."""
    c = console
    for _ in range(50):  # until both writes land in one second (a condition, not a nap)
        first = c.world.odoo.control.set_stock(SKU, "BER", 30)
        new_first, _ = _poll(c)
        second = c.world.odoo.control.set_stock(SKU, "BER", 31)
        if first["write_date"] == second["write_date"]:
            break
        c.engine.runner.drain()
        c.settle()
    assert first["write_date"] == second["write_date"]
    assert new_first == 1
    assert _poll(c)[0] == 1  # same write_date, another digest: a new version
    c.engine.runner.drain()
    assert c.available(SKU) == 31
    assert c.states().get("superseded", 0) >= 1  # the first version's job never ran
    assert len(c.adjustments(SKU, MAIN)) == 1


def test_reserved_stock_is_not_published_and_options_choose_on_hand_and_a_buffer(
    world: World, tmp_path: Path
) -> None:
    c = open_console(world, tmp_path / "free")
    c.odoo_stock(SKU, MAIN, 20)
    world.odoo.control.reserve(SKU, "BER", 5)
    c.sync()
    assert c.available(SKU) == 15  # free: on hand 20 − reserved 5
    c.close()
    c = open_console(
        world, tmp_path / "onhand", options={"stock_quantity": "on_hand", "stock_buffer": 2}
    )
    c.odoo_stock(SKU, OUTLET, 9)
    c.sync()
    assert c.available(SKU) == 18  # on hand 20 − buffer 2
    assert c.available(SKU, OUTLET) == 7
    c.close()


# ---------------------------------------------------------------- never blind


def test_a_sale_between_read_and_write_is_not_overwritten(console: StockConsole) -> None:
    c = console
    before = c.available(SKU)
    assert before is not None
    c.odoo_stock(SKU, MAIN, 40)
    c.world.shopify.faults.add(
        action="sale", operation="InventorySetQuantities", item=SKU, location=MAIN, quantity=2
    )
    c.sync()
    level = c.world.shopify.control.level(SKU, MAIN)
    assert level is not None
    # Stale → read again → the 2 units sold meanwhile are held back (Odoo has not seen that
    # order yet): 40 in Odoo, 38 sellable, the sale still committed.
    assert level["available"] == 38 and level["committed"] == 2
    assert c.world.shopify.counters.operations["InventorySetQuantities"] == 2
    job = c.jobs("AND state = 'done'")[0]
    events = [
        r[0]
        for r in c.store.execute(
            "SELECT event FROM audit WHERE job_id = ? ORDER BY id", (job["id"],)
        )
    ]
    assert "stale" in events
    assert [a["delta"] for a in c.adjustments(SKU, MAIN)] == [38 - (before - 2)]


def test_a_level_already_right_is_not_written(console: StockConsole) -> None:
    c = console
    c.odoo_stock(SKU, MAIN, c.available(SKU) or 0)  # a count that changes nothing
    c.sync()
    assert c.adjustments(SKU) == []
    assert c.world.shopify.counters.operations.get("InventorySetQuantities", 0) == 0
    (job,) = c.jobs()
    assert job["state"] == "skipped" and job["result"].startswith("In step")
    link = c.link_of(c.world.shopify.store.variants_by_sku(SKU)[0]["id"])
    assert link is not None and link.last_version.startswith(job["source_version"] + "|")


# ---------------------------------------------------------------- left alone, with reasons


def test_unmapped_location_untracked_item_and_archived_product_are_skipped_with_reasons(
    world: World, tmp_path: Path
) -> None:
    c = open_console(world, tmp_path / "home", locations=[MAIN])
    untracked = "CM-BLU-000"
    world.shopify.control.set_tracked(untracked, False)
    for sku in (SKU, untracked, ARCHIVED_SKU):
        c.odoo_stock(sku, MAIN, 11)
        c.odoo_stock(sku, OUTLET, 4)
    c.sync()
    by_label = {j["label"]: j for j in c.jobs()}
    mug = next(j for label, j in by_label.items() if SKU in label)
    blue = next(j for label, j in by_label.items() if untracked in label)
    poster = next(j for label, j in by_label.items() if ARCHIVED_SKU in label)
    assert mug["state"] == "done" and c.available(SKU) == 11
    assert c.available(SKU, OUTLET) == 8  # Outlet Store is not mapped: left as it was
    assert blue["state"] == "skipped" and "does not track" in blue["result"]
    assert poster["state"] == "skipped" and "archived in Shopify" in poster["result"]
    assert c.states().get("failed", 0) == c.states().get("needs_attention", 0) == 0
    skips = {(s.kind, s.label): s.reason for s in store_stock.list_skips(c.store, c.shop_id)}
    assert skips[("location", OUTLET)].startswith("not mapped to an Odoo location")
    assert any("does not track" in r for (k, label), r in skips.items() if untracked in label)
    assert any("archived" in r for (k, label), r in skips.items() if ARCHIVED_SKU in label)
    # Mapping the location takes it off the list (no job needed).
    demo_gid = world.shopify.store.location(OUTLET)["id"]
    from shopodoo_console import demo

    demo.seed_location_mappings(c.engine.queue, c.shop_id, c.facts, [demo_gid])
    kinds = {s.kind for s in store_stock.list_skips(c.store, c.shop_id)}
    assert "location" not in kinds
    c.close()


def test_an_item_not_stocked_at_a_mapped_location_is_activated_only_if_allowed(
    world: World, tmp_path: Path
) -> None:
    world.shopify.control.deactivate_level(SKU, OUTLET)
    c = open_console(world, tmp_path / "off")
    c.odoo_stock(SKU, OUTLET, 6)
    c.sync()
    assert world.shopify.control.level(SKU, OUTLET)["isActive"] is False
    assert any(s.kind == "level" for s in store_stock.list_skips(c.store, c.shop_id))
    assert world.shopify.counters.operations.get("InventoryActivate", 0) == 0
    c.close()
    c = open_console(world, tmp_path / "on", options={"stock_activate": True})
    c.odoo_stock(SKU, OUTLET, 7)
    c.sync()
    level = world.shopify.control.level(SKU, OUTLET)
    assert level["isActive"] is True and level["available"] == 7
    assert world.shopify.counters.operations["InventoryActivate"] == 1
    assert not any(s.kind == "level" for s in store_stock.list_skips(c.store, c.shop_id))
    c.close()


# ---------------------------------------------------------------- protection


def test_review_mode_shows_each_plan_and_bulk_approval_applies_it(
    world: World, tmp_path: Path
) -> None:
    c = open_console(world, tmp_path / "home", mode="review")
    for job in c.sync() and c.jobs("AND state = 'awaiting_approval'"):
        c.engine.queue.cancel([job["id"]], reason="the scenario's drift, not this test's")
    world.shopify.control.set_stock(SKU, MAIN, 56)
    c.odoo_stock(SKU, MAIN, 44)
    c.odoo_stock("OT-S-001", MAIN, 9)
    c.sync()
    waiting = c.jobs("AND state = 'awaiting_approval'")
    assert len(waiting) == 2
    assert c.adjustments() == []  # nothing written before approval
    shown = [json.loads(j["plan"]) for j in waiting]
    mug = next(p for p in shown if SKU in p["summary"])
    assert f"{MAIN} 56 → 44" in mug["summary"]
    assert any("free 44 = on hand 44" in d for d in mug["details"])
    moved = c.engine.queue.approve([j["id"] for j in waiting])
    assert len(moved) == 2
    c.sync()
    assert c.available(SKU) == 44 and c.available("OT-S-001") == 9
    assert [j["state"] for j in c.jobs("AND id IN (?, ?)", tuple(moved))] == ["done", "done"]
    c.close()


def test_a_plan_approved_runs_only_while_shopify_still_shows_what_was_approved(
    world: World, tmp_path: Path
) -> None:
    c = open_console(world, tmp_path / "home", mode="review")
    c.odoo_stock(SKU, MAIN, 44)
    c.sync()
    job = next(j for j in c.jobs("AND state = 'awaiting_approval'") if SKU in j["label"])
    world.shopify.control.sell(SKU, MAIN, 1)  # Shopify shows one less than approved
    c.engine.queue.approve([job["id"]])
    c.sync()
    (again,) = c.jobs("AND id = ?", (job["id"],))
    assert again["state"] == "awaiting_approval"
    assert "Changed since approval" in again["result"]
    assert c.adjustments() == []
    c.close()


def test_the_stock_flow_off_polls_nothing(world: World, tmp_path: Path) -> None:
    c = open_console(world, tmp_path / "home", mode="off")
    c.odoo_stock(SKU, MAIN, 44)
    summary = c.sync()
    assert [p.stream for p in summary.polls] == []
    assert c.jobs() == [] and c.adjustments() == []
    c.close()


def _product_id(c: StockConsole, sku: str) -> int:
    rows = c.world.odoo.env["product.product"].search_read([("default_code", "=", sku)], ["id"])
    return int(rows[0]["id"])


def test_no_job_is_made_for_a_version_the_link_is_in_step_at(console: StockConsole) -> None:
    c = console
    c.odoo_stock(SKU, MAIN, 42)
    c.sync()
    product = f"product/{_product_id(c, SKU)}"
    c.store.execute("DELETE FROM job WHERE flow = 'stock'")  # pruned long ago
    _rewind(c)
    _poll(c)
    assert c.jobs("AND source_id = ?", (product,)) == []  # in step at that version: no job
    linked = {link_product for (link_product,) in c.store.execute(
        "SELECT odoo_id FROM link WHERE kind = 'stock'")}  # fmt: skip
    remade = {int(j["source_id"].rpartition("/")[2]) for j in c.jobs()}
    assert linked and not remade & linked  # only the products left alone come back


# ---------------------------------------------------------------- lost answers and refusals


def test_a_lost_answer_is_resent_with_the_same_key_and_applied_once(
    console: StockConsole,
) -> None:
    c = console
    c.odoo_stock(SKU, MAIN, 12)
    c.world.shopify.faults.add(action="drop_after_apply", operation="InventorySetQuantities")
    c.sync()
    assert c.available(SKU) == 12
    assert c.world.shopify.counters.operations["InventorySetQuantities"] == 2  # resent
    assert len(c.adjustments(SKU, MAIN)) == 1  # Shopify replayed the first result
    assert c.states() == {"done": 1}


def test_a_key_whose_attempt_failed_inside_shopify_is_replaced_and_the_retry_sets_once(
    console: StockConsole,
) -> None:
    """``IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED``: the first call took its key and failed inside
    Shopify; resent, the key is refused as spent and replaced by one derived from it (so a
    later retry derives the same again), and the quantities are applied once."""
    c = console
    c.odoo_stock(SKU, MAIN, 13)
    c.world.shopify.faults.add(action="fail_keyed", operation="InventorySetQuantities")
    c.sync()
    assert c.available(SKU) == 13
    (job,) = c.jobs()
    assert job["state"] == "done"
    assert c.world.shopify.counters["faults_fired"] == 1
    assert len(c.adjustments(SKU, MAIN)) == 1
    key = json.loads(job["intent"])["stock_send"]
    assert f"{key}:0" in c.world.shopify.store.failed_keys
    assert f"{key}:0~1" in c.world.shopify.store.idempotency


def test_a_quantity_shopify_refuses_fails_its_job_and_the_rest_of_the_call_is_applied(
    console: StockConsole,
) -> None:
    c = console
    c.odoo_stock(SKU, MAIN, 2_000_000_000)  # beyond what Shopify accepts
    c.odoo_stock("OT-S-001", MAIN, 3)
    c.sync()
    bad = next(j for j in c.jobs() if SKU in j["label"])
    good = next(j for j in c.jobs() if "OT-S-001" in j["label"])
    assert bad["state"] == "needs_attention" and bad["cause_code"] == "shopify.user_error"
    assert (
        "can't be higher"
        in json.loads(
            c.store.execute("SELECT cause FROM job WHERE id = ?", (bad["id"],)).fetchone()[0]
        )["missing"]
    )
    assert good["state"] == "done" and c.available("OT-S-001") == 3
    assert c.adjustments(SKU) == []


def test_sales_racing_every_write_end_the_rounds_then_the_retry_sets_the_level(
    console: StockConsole,
) -> None:
    """Three stale answers in a row: the job stops (nothing overwritten), waits, retries."""
    c = console
    c.odoo_stock(SKU, MAIN, 40)
    c.world.shopify.faults.add(
        action="sale", operation="InventorySetQuantities", item=SKU, location=MAIN, times=3
    )
    c.sync()
    (job,) = c.jobs()
    assert job["state"] == "done" and job["attempts"] == 2
    attempts = c.store.execute(
        "SELECT outcome, cause_code FROM attempt WHERE job_id = ? ORDER BY number", (job["id"],)
    ).fetchall()
    assert attempts[0] == ("failed", "shopify.inventory_busy")
    level = c.world.shopify.control.level(SKU, MAIN)
    assert level is not None and level["committed"] == 3
    assert level["available"] == 40 - 3  # the three units sold are not undone
    assert len(c.adjustments(SKU, MAIN)) == 1
