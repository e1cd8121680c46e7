"""Issue 13's cases: a delivery done in Odoo becomes one Shopify fulfillment, over real HTTP.

Every test runs against the simulators on Odoo 17 (JSON-RPC) and Odoo 19 (JSON-2): orders are
placed in the simulated Shopify, synced into Odoo by the orders flow, shipped by the
simulated warehouse, and the fulfillments flow brings each shipment back to Shopify — once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fulfil_support import (
    SKUS,
    attempts_of,
    fulfillments,
    fulfilment_jobs,
    job_of,
    pickings,
    place,
    retry_until_settled,
    ship,
    shipped,
    shipping_console,
    stamps,
    timeline,
)
from orders_support import Console, make_world

from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.engine import mappings
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.sim.world import World
from shopodoo_console.store import links
from shopodoo_console.workflows.pipeline import Synced

HERE = Path(__file__).parent


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param) as w:
        yield w


@pytest.fixture
def console(world: World, tmp_path: Path) -> Iterator[Console]:
    c = shipping_console(world, tmp_path / "home")
    yield c
    c.engine.close_flows()
    c.store.close()


# ---------------------------------------------------------------- seen twice: one fulfillment


def test_the_same_done_picking_seen_by_two_polls_is_one_fulfillment(console: Console) -> None:
    gid, name = place(console, [(SKUS[0], 2)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    console.engine.sync_once()  # the poll's overlap sees the same delivery again
    cursor = console.engine.poller.position(console.shop_id, "fulfillments")
    console.engine.poller.set_position(console.shop_id, "fulfillments", "2020-01-01T00:00:00Z")
    console.engine.sync_once()  # and a rewound cursor once more
    (job,) = fulfilment_jobs(console)
    assert job["state"] == "done" and job["attempts"] == 1
    assert job["seen_count"] == 1  # later sightings were the version the link is in step at
    (fulfillment,) = fulfillments(console, gid)
    assert fulfillment["trackingInfo"][0]["number"] == "1Z999AA10123456784"
    assert fulfillment["trackingInfo"][0]["company"] == "DHL Express"
    assert "1Z999AA10123456784" in (fulfillment["trackingInfo"][0]["url"] or "")
    assert console.shopify_order(gid)["displayFulfillmentStatus"] == "FULFILLED"
    link = links.find_link(console.store, console.shop_id, "fulfillment", fulfillment["id"])
    assert link is not None and link.odoo_id == picking["id"]
    assert Synced.parse(link.last_version) is not None
    assert cursor is not None
    assert world_calls(console, "FulfillmentCreate") == 1


def test_a_sighting_before_the_job_ran_counts_as_seen_again(console: Console) -> None:
    gid, name = place(console, [(SKUS[0], 1)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    shop = console.engine.shops[console.shop_id]
    flow = console.engine.flows.get("fulfillments")
    assert flow is not None
    console.engine.poller.poll(shop, flow)
    console.engine.poller.poll(shop, flow)  # before any worker ran it
    console.engine.runner.drain()
    (job,) = fulfilment_jobs(console)
    assert (job["state"], job["seen_count"]) == ("done", 2)
    assert len(fulfillments(console, gid)) == 1


def world_calls(console: Console, operation: str) -> int:
    return int(console.world.shopify.counters.operations.get(operation, 0))


# ---------------------------------------------------------------- lost answers


def test_a_lost_answer_on_fulfillment_create_is_recovered_by_the_read(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 3)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"], {SKUS[0]: 2})  # partial: a second create would duplicate
    world.shopify.faults.add(action="drop_after_apply", operation="FulfillmentCreate")
    console.engine.sync_once()
    retry_until_settled(console)
    job = job_of(console, picking["id"])
    assert attempts_of(console, job["id"]) == [
        ("failed", "shopify.outcome_unknown"),
        ("done", None),
    ]
    assert job["state"] == "done"
    assert "found by its tracking number" in job["result"]
    (fulfillment,) = fulfillments(console, gid)
    assert shipped(console, gid) == {SKUS[0]: 2}
    assert world_calls(console, "FulfillmentCreate") == 1
    assert [s["res_id"] for s in stamps(console)] == [picking["id"]]
    assert fulfillment["name"] in json.dumps(console.shopify_order(gid)["metafields"])


def test_without_a_tracking_number_the_lost_answer_is_recovered_by_the_intent(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 3)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"], {SKUS[0]: 1}, tracking=None, carrier=None)
    world.shopify.faults.add(action="drop_after_apply", operation="FulfillmentCreate")
    console.engine.sync_once()
    retry_until_settled(console)
    job = job_of(console, picking["id"])
    assert job["state"] == "done"
    assert "found by the lines sent when Shopify's answer was lost" in job["result"]
    assert len(fulfillments(console, gid)) == 1 and shipped(console, gid) == {SKUS[0]: 1}


def test_a_newer_version_of_a_delivery_whose_answer_was_lost_recovers_it_too(
    console: Console, world: World
) -> None:
    """The job that lost the answer is superseded by a newer version of the delivery (a note
    written on the picking): the new job finds the earlier job's intent and adopts."""
    gid, name = place(console, [(SKUS[1], 3)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"], {SKUS[1]: 1}, tracking=None, carrier=None)
    world.shopify.faults.add(action="drop_after_apply", operation="FulfillmentCreate")
    console.engine.queue.policy = RetryPolicy(base=60.0, cap=60.0)  # the retry waits a minute
    console.engine.sync_once()
    (first,) = fulfilment_jobs(console)
    assert first["state"] == "retrying"
    world.odoo.env["stock.picking"].write([picking["id"]], {"origin": "edited after shipping"})
    console.engine.sync_once()
    retry_until_settled(console)
    jobs = fulfilment_jobs(console)
    assert [j["state"] for j in jobs] == ["superseded", "done"]
    assert len(fulfillments(console, gid)) == 1 and shipped(console, gid) == {SKUS[1]: 1}


# ---------------------------------------------------------------- later steps fail


def test_picking_stamped_then_shopify_fails_the_retry_only_records_the_marker(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 1)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    world.shopify.faults.add(action="status", status=503, operation="MetafieldsSet", times=20)
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert job["state"] == "retrying"
    (fulfillment,) = fulfillments(console, gid)
    assert [s["res_id"] for s in stamps(console)] == [picking["id"]]  # committed in Odoo
    link = links.find_link(console.store, console.shop_id, "fulfillment", fulfillment["id"])
    assert link is not None and link.last_version is None  # linked, not in step yet
    cause = Cause.from_json(job["cause"])
    assert "the retry only records the picking on the order" in cause.retry_note
    world.shopify.faults.clear()
    console.engine.queue.retry([job["id"]])
    console.engine.runner.drain()
    job = job_of(console, picking["id"])
    assert job["state"] == "done"
    assert "recorded it on the order" in job["result"]
    assert len(fulfillments(console, gid)) == 1 and len(stamps(console)) == 1
    assert world_calls(console, "FulfillmentCreate") == 1


def test_fulfilled_then_the_odoo_stamp_fails_the_retry_only_stamps(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 1)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    world.odoo.faults.add(
        kind="status", status=503, model="ir.model.data", method="create", times=30
    )
    console.engine.sync_once()
    assert job_of(console, picking["id"])["state"] in ("retrying", "failed")
    assert stamps(console) == [] and len(fulfillments(console, gid)) == 1
    world.odoo.faults.clear()
    console.engine.queue.retry([job_of(console, picking["id"])["id"]])
    console.engine.runner.drain()
    assert job_of(console, picking["id"])["state"] == "done"
    assert len(fulfillments(console, gid)) == 1 and len(stamps(console)) == 1


# ---------------------------------------------------------------- real warehouses


def test_a_three_line_order_shipped_in_two_pickings(console: Console) -> None:
    gid, name = place(console, [(SKUS[0], 2), (SKUS[1], 1), (SKUS[2], 3)])
    (first,) = pickings(console, name)
    shipped_first = ship(console, first["id"], {SKUS[0]: 2, SKUS[2]: 1}, tracking="1ZFIRST")
    backorder = shipped_first["backorder"]
    assert backorder is not None  # the rest waits in a backorder
    console.engine.sync_once()
    assert shipped(console, gid) == {SKUS[0]: 2, SKUS[2]: 1}
    assert console.shopify_order(gid)["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    ship(console, backorder["id"], tracking="1ZSECOND")
    console.engine.sync_once()
    made = fulfillments(console, gid)
    assert [f["trackingInfo"][0]["number"] for f in made] == ["1ZFIRST", "1ZSECOND"]
    assert [f["totalQuantity"] for f in made] == [3, 3]
    assert shipped(console, gid) == {SKUS[0]: 2, SKUS[1]: 1, SKUS[2]: 3}
    assert console.shopify_order(gid)["displayFulfillmentStatus"] == "FULFILLED"
    assert [j["state"] for j in fulfilment_jobs(console)] == ["done", "done"]


def test_a_line_fulfilled_by_hand_in_shopify_first_only_the_rest_is_shipped(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 2), (SKUS[1], 1)])
    world.shopify.control.fulfill_by_hand(gid, {SKUS[1]: 1}, tracking_number="HAND-1")
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert job["state"] == "done"
    made = fulfillments(console, gid)
    assert len(made) == 2 and made[1]["totalQuantity"] == 2  # only the rest
    assert shipped(console, gid) == {SKUS[0]: 2, SKUS[1]: 1}
    notes = " ".join(m for _, _, m in timeline(console, job["id"]))
    assert "already fulfilled in Shopify" in notes or "not sent again" in notes


def test_everything_fulfilled_by_hand_is_skipped_with_the_reason(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 1)])
    world.shopify.control.fulfill_by_hand(gid)
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert job["state"] == "skipped"
    assert "already fulfilled in Shopify (by hand, or by another delivery)" in job["result"]
    assert len(fulfillments(console, gid)) == 1


def test_a_fulfillment_order_on_hold_waits_with_a_cause_then_goes_through(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 1)])
    world.shopify.control.hold_fulfillment(gid, "INCORRECT_ADDRESS", "No house number")
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert (job["state"], job["cause_code"]) == ("needs_attention", "fulfillment.on_hold")
    cause = Cause.from_json(job["cause"])
    assert cause.explain().splitlines()[:4] == [
        f"Which record: Odoo {picking['name']} → Shopify order {name}",
        "What is missing: 1 × Ceramic Mug — Blue (CM-BLU-000): the fulfillment order at Main "
        "Warehouse is on hold: incorrect address (No house number) in Shopify",
        "Temporary or configuration: configuration — needs a fix before retry",
        "Retry safe after the fix: yes — nothing was sent to Shopify for this delivery; the "
        "retry reads the order's fulfillments first and sends only what is still open",
    ]
    assert fulfillments(console, gid) == []
    world.shopify.control.release_fulfillment(gid)
    console.engine.queue.retry([job["id"]])
    console.engine.runner.drain()
    assert job_of(console, picking["id"])["state"] == "done"
    assert len(fulfillments(console, gid)) == 1


def test_a_cancelled_picking_makes_no_fulfillment(console: Console, world: World) -> None:
    gid, name = place(console, [(SKUS[0], 1)])
    (picking,) = pickings(console, name)
    world.odoo.control.cancel_picking(picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert job["state"] == "skipped"
    assert job["result"] == (
        f"{picking['name']} was cancelled in Odoo: nothing shipped, no fulfillment"
    )
    assert fulfillments(console, gid) == []


def test_a_return_is_reported_on_its_job_not_synced(console: Console, world: World) -> None:
    gid, name = place(console, [(SKUS[0], 2)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    returned = world.odoo.control.return_picking(picking["id"], {SKUS[0]: 1})
    console.engine.sync_once()
    job = job_of(console, returned["id"])
    assert job["state"] == "skipped"
    assert job["result"].startswith(f"Return {returned['name']} (1 unit(s)")
    assert f"of {picking['name']} → " in job["result"]  # the delivery and its fulfillment
    assert "not synced to Shopify yet" in job["result"]
    assert len(fulfillments(console, gid)) == 1


def test_an_order_the_console_did_not_create_is_skipped_with_the_reason(
    console: Console, world: World
) -> None:
    env = world.odoo.env
    partner = env["res.partner"].search([], limit=1)[0]
    product = env["product.product"].search([("default_code", "=", SKUS[0])])[0]
    sale = env["sale.order"].create(
        [
            {
                "partner_id": partner,
                "client_order_ref": "#PHONE-1",
                "warehouse_id": console.facts["warehouse_id"],
                "company_id": console.facts["company_id"],
                "order_line": [(0, 0, {"product_id": product, "product_uom_qty": 1})],
            }
        ]
    )[0]
    env["sale.order"].action_confirm([sale])
    (picking,) = world.odoo.control.pickings(sale)
    ship(console, picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    (sale_name,) = [s["name"] for s in env["sale.order"].read([sale], ["name"])]
    assert job["state"] == "skipped"
    assert job["result"] == (
        f"{sale_name} was not created by the console (no link to a Shopify order): its "
        "deliveries are not sent to Shopify"
    )


# ---------------------------------------------------------------- locations, 3PL, split


def test_an_order_assigned_to_a_fulfillment_service_is_explained(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 1, "ShipFast 3PL")], fulfillmentRequest="accepted")
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert job["cause_code"] == "fulfillment.service"
    cause = Cause.from_json(job["cause"])
    assert "ShipFast 3PL" in cause.missing and "ships them and reports" in cause.missing
    assert fulfillments(console, gid) == []


def test_lines_at_two_locations_in_one_delivery_are_explained_then_mapped(
    console: Console, world: World
) -> None:
    gid, name = place(console, [(SKUS[0], 1), (SKUS[1], 1, "Outlet Store")])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    console.engine.sync_once()
    job = job_of(console, picking["id"])
    assert job["cause_code"] == "fulfillment.split"
    cause = Cause.from_json(job["cause"])
    assert "Main Warehouse: 1 × " in cause.missing and "Outlet Store: 1 × " in cause.missing
    # The operator maps Main Warehouse to the Odoo warehouse that shipped: the job re-queues
    # and now says which units sit at the other location.
    main = world.shopify.store.location("Main Warehouse")["id"]
    _, requeued = mappings.save_mapping(
        console.engine.queue,
        console.shop_id,
        "location",
        main,
        console.facts["warehouse_id"],
        label="Berlin DC",
    )
    assert job["id"] in requeued
    console.engine.runner.drain()
    job = job_of(console, picking["id"])
    assert job["cause_code"] == "fulfillment.other_location"
    assert "Outlet Store" in Cause.from_json(job["cause"]).missing
    assert fulfillments(console, gid) == []


# ---------------------------------------------------------------- review mode


def test_review_mode_waits_then_bulk_approval_ships(
    world: World, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review mode shows each delivery's plan and waits; `jobs approve --flow fulfillments`
    approves them all at once; `jobs show` then tells the picking, the fulfillment and the
    tracking."""
    console = shipping_console(world, isolated_home, mode="review")
    try:
        orders = [place_approved(console, [(SKUS[n], 1)]) for n in range(2)]
        for _, name in orders:
            ship(console, pickings(console, name)[0]["id"])
        console.engine.sync_once()
        waiting = [j for j in fulfilment_jobs(console) if j["state"] == "awaiting_approval"]
        assert len(waiting) == 2
        assert all(fulfillments(console, gid) == [] for gid, _ in orders)
        assert main(["jobs", "approve", "--flow", "fulfillments"]) == 0
        assert "2 fulfillments plan(s) approved" in capsys.readouterr().out
        console.engine.runner.drain()
        assert [j["state"] for j in fulfilment_jobs(console)] == ["done", "done"]
        assert all(len(fulfillments(console, gid)) == 1 for gid, _ in orders)
        assert main(["jobs", "show", str(waiting[0]["id"])]) == 0
        shown = capsys.readouterr().out
        assert "[odoo] Fetched Odoo delivery BER/OUT/" in shown
        assert "tracking 1Z999AA10123456784 (DHL Express)" in shown
        assert "[shopify] Created fulfillment #10" in shown
        assert "Plan approved by the operator" in shown
    finally:
        console.engine.close_flows()
        console.store.close()


def place_approved(console: Console, lines: list[tuple[str, int]]) -> tuple[str, str]:
    """Orders also wait for approval in review mode: approve them, then ship."""
    gid = console.world.shopify.control.create_order(
        {
            "customer": "chloe.dubois.0@example.com",
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "financialStatus": "PAID",
        }
    )
    console.engine.sync_once()
    console.engine.queue.approve([console.job(gid)["id"]])
    console.engine.runner.drain()
    return gid, console.shopify_order(gid)["name"]


# ---------------------------------------------------------------- two OS processes


def test_two_processes_seeing_the_same_done_picking_make_one_fulfillment(
    console: Console, world: World, tmp_path: Path
) -> None:
    """Two console processes on one database both poll the same done delivery before either
    works the queue: one job (seen twice), claimed by one of them, one fulfillment."""
    gid, name = place(console, [(SKUS[0], 2)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"])
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(console.facts))
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    home = console.paths.config_dir.parent
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE / "fulfil_worker.py"),
                str(home),
                str(facts),
                str(rendezvous),
                "2",
            ],
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted((r["new"], r["seen"]) for r in reports) == [(0, 1), (1, 0)]
    assert sum(r["claimed"] for r in reports) == 1
    (job,) = fulfilment_jobs(console)
    assert (job["state"], job["seen_count"], job["attempts"]) == ("done", 2, 1)
    assert len(fulfillments(console, gid)) == 1
    assert world_calls(console, "FulfillmentCreate") == 1
    assert len(stamps(console)) == 1


def test_a_second_console_with_its_own_database_adopts_through_the_stamp(
    console: Console, world: World, tmp_path: Path
) -> None:
    """A console on a fresh database (a new laptop, a lost file) sees a delivery another
    console already sent: it finds it by the picking's stamp in Odoo, creates nothing."""
    gid, name = place(console, [(SKUS[0], 1)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"], tracking=None, carrier=None)
    console.engine.sync_once()
    other = shipping_console(world, tmp_path / "other-home")
    try:
        other.engine.sync_once()  # its orders job adopts the sale order by its stamp
        job = job_of(other, picking["id"])
        assert job["state"] in ("done", "skipped")
        assert "found by the picking's stamp in Odoo" in job["result"]
        assert len(fulfillments(console, gid)) == 1
        assert world_calls(console, "FulfillmentCreate") == 1
    finally:
        other.engine.close_flows()
        other.store.close()


def test_without_link_or_stamp_the_marker_on_the_order_says_which_delivery_it_is(
    console: Console, world: World, tmp_path: Path
) -> None:
    """A fresh console, and the picking's stamp gone from Odoo (someone cleaned up external
    ids): the picking reference recorded on the Shopify order still names its fulfillment —
    and the stamp is written again."""
    gid, name = place(console, [(SKUS[2], 2)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"], tracking=None, carrier=None)
    console.engine.sync_once()
    (fulfillment,) = fulfillments(console, gid)
    world.odoo.env["ir.model.data"].unlink([s["id"] for s in stamps(console)])
    other = shipping_console(world, tmp_path / "other-home")
    try:
        other.engine.sync_once()
        job = job_of(other, picking["id"])
        assert job["state"] == "done", job
        assert "found by the picking reference recorded on the Shopify order" in job["result"]
        assert "stamped the picking" in job["result"]
        assert [s["res_id"] for s in stamps(console)] == [picking["id"]]
        assert [f["id"] for f in fulfillments(console, gid)] == [fulfillment["id"]]
    finally:
        other.engine.close_flows()
        other.store.close()


def test_tracking_added_in_odoo_later_is_set_on_the_fulfillment(
    console: Console, world: World
) -> None:
    """Validated without a tracking number, the number typed in later: the next version of
    the delivery sets it on its fulfillment — no second fulfillment."""
    gid, name = place(console, [(SKUS[0], 1)])
    (picking,) = pickings(console, name)
    ship(console, picking["id"], tracking=None)
    console.engine.sync_once()
    (before,) = fulfillments(console, gid)
    assert before["trackingInfo"] == []
    world.odoo.env["stock.picking"].write([picking["id"]], {"carrier_tracking_ref": "1ZLATER"})
    console.engine.sync_once()
    (after,) = fulfillments(console, gid)
    assert after["id"] == before["id"]
    assert [(t["number"], t["company"]) for t in after["trackingInfo"]] == [
        ("1ZLATER", "DHL Express")
    ]
    jobs = fulfilment_jobs(console)
    assert [j["state"] for j in jobs] == ["done", "done"]
    assert jobs[1]["result"].startswith(f"Set the tracking of {before['name']} to 1ZLATER")
    assert world_calls(console, "FulfillmentCreate") == 1
    console.engine.sync_once()  # in step now: the same version makes nothing more
    assert len(fulfilment_jobs(console)) == 2
    assert world_calls(console, "FulfillmentTrackingInfoUpdate") == 1
