"""The orders flow against both simulators over real HTTP (issue 5's merchant list).

Every test runs on Odoo 17 (JSON-RPC) and Odoo 19 (JSON-2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from orders_support import UNMAPPED, Console, make_world, open_console

from shopodoo_console.engine import mappings
from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.poller import Poller
from shopodoo_console.sim.world import World
from shopodoo_console.store import links


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param) as w:
        yield w


@pytest.fixture
def console(world: World, tmp_path: Path) -> Iterator[Console]:
    c = open_console(world, tmp_path / "home")
    yield c
    c.engine.close_flows()
    c.store.close()


def test_new_order_becomes_one_confirmed_sale_order(console: Console) -> None:
    gid = console.new_order(quantity=3)
    console.engine.sync_once()
    name = console.shopify_order(gid)["name"]
    (sale,) = console.sale_orders(name)
    assert sale["state"] == "sale"
    product = console.world.odoo.env["product.product"].search(
        [("default_code", "=", "CM-RED-000")]
    )
    lines = {
        "product" if line["product_id"][0] in product else "other": line
        for line in console.lines_of(sale)
    }
    assert set(lines) == {"product", "other"}
    assert lines["product"]["product_uom_qty"] == 3  # the product line, with its quantity
    assert lines["other"]["product_uom_qty"] == 1  # the shipping line
    job = console.job(gid)
    assert job["state"] == "done" and job["result"].startswith(f"Created {sale['name']}")
    link = links.find_link(console.store, console.shop_id, "order", gid)
    assert link is not None and link.odoo_id == sale["id"] and link.label == sale["name"]
    metafields = console.shopify_order(gid)["metafields"]
    assert any(m["key"] == "odoo_id" and m["value"] == str(sale["id"]) for m in metafields)
    timeline = [
        row[0]
        for row in console.store.execute(
            "SELECT event FROM audit WHERE job_id = ? ORDER BY id", (job["id"],)
        ).fetchall()
    ]
    assert timeline[:2] == ["fetched", "contact_created"] or timeline[0] == "fetched"
    assert {"created", "confirmed", "linked", "metafield_written"} <= set(timeline)


def test_duplicate_sightings_make_one_order_and_are_counted(
    console: Console, world: World, tmp_path: Path
) -> None:
    gid = console.new_order()
    engine = console.engine
    shop = engine.shops[console.shop_id]
    flow = engine.flows.get("orders")
    assert flow is not None
    engine.poll_all()  # 1: first sighting
    engine.poll_all()  # 2: the overlap of the next poll sees it again
    restarted = open_console(world, tmp_path / "home", write_config=False)  # 3: a restart
    restarted.engine.poll_all()
    poller = Poller(engine.queue)  # 4: a rewind
    poller.set_position(console.shop_id, "orders", "2020-01-01T00:00:00Z")
    poller.poll(shop, flow)
    poller.set_position(console.shop_id, "orders", "2020-01-01T00:00:00Z")  # 5: and again
    poller.poll(shop, flow)
    engine.runner.drain()
    job = console.job(gid)
    assert (job["seen_count"], job["state"], job["attempts"]) == (5, "done", 1)
    assert len(console.sale_orders(console.shopify_order(gid)["name"])) == 1
    restarted.engine.close_flows()


def test_retry_after_a_lost_odoo_answer_adopts_the_committed_order(
    console: Console, world: World
) -> None:
    gid = console.new_order()
    world.odoo.faults.add(kind="drop", model="sale.order", method="load", times=1)
    console.engine.sync_once()  # fails with the answer lost; the (test-short) retry follows
    console.engine.runner.drain()
    job = console.job(gid)
    history = console.store.execute(
        "SELECT outcome, cause_code FROM attempt WHERE job_id = ? ORDER BY id", (job["id"],)
    ).fetchall()
    assert history == [("failed", "odoo.outcome_unknown"), ("done", None)]
    assert job["state"] == "done" and "Adopted" in job["result"]
    name = console.shopify_order(gid)["name"]
    (sale,) = console.sale_orders(name)  # committed once, adopted, never re-created
    assert sale["state"] == "sale"
    assert world.odoo.call_count("sale.order", "load") == 1


def test_an_order_already_stamped_in_odoo_is_adopted(console: Console, world: World) -> None:
    gid = console.new_order()
    order = console.shopify_order(gid)
    partner = world.odoo.env["res.partner"].create([{"name": "Placed by hand"}])[0]
    existing = world.odoo.env["sale.order"].create(
        [{"partner_id": partner, "client_order_ref": order["name"]}]
    )[0]
    world.odoo.env["ir.model.data"].create(
        [
            {
                "module": "shopodoo",
                "name": f"shopodoo-demo_order_{order['legacyResourceId']}",
                "model": "sale.order",
                "res_id": existing,
                "noupdate": True,
            }
        ]
    )
    console.engine.sync_once()
    job = console.job(gid)
    assert job["state"] == "done" and "Adopted" in job["result"]
    assert [s["id"] for s in console.sale_orders(order["name"])] == [existing]
    link = links.find_link(console.store, console.shop_id, "order", gid)
    assert link is not None and link.odoo_id == existing


def test_a_linked_order_is_never_duplicated(console: Console) -> None:
    gid = console.new_order()
    console.engine.sync_once()
    name = console.shopify_order(gid)["name"]
    # The stamp is gone (say, someone cleaned external ids) but the local link remains.
    console.world.odoo.env["ir.model.data"].unlink(
        console.world.odoo.env["ir.model.data"].search([("model", "=", "sale.order")])
    )
    console.world.shopify.control.update_order(gid, note="gift")
    console.engine.sync_once()
    assert len(console.sale_orders(name)) == 1


def test_stale_link_to_a_deleted_order_is_explained(console: Console, world: World) -> None:
    gid = console.new_order()
    console.engine.sync_once()
    link = links.find_link(console.store, console.shop_id, "order", gid)
    assert link is not None
    world.odoo.delete_record("sale.order", link.odoo_id)
    world.shopify.control.update_order(gid, note="please deliver on Monday")
    console.engine.sync_once()
    job = console.jobs(gid)[-1]
    assert (job["state"], job["cause_code"]) == ("needs_attention", "odoo.record_deleted")
    cause = json.loads(job["cause"])
    assert cause["missing"] == (
        f"the Odoo sale order {link.odoo_id} that this Shopify order "
        "is linked to no longer exists (deleted in Odoo)"
    )
    assert "shopodoo links forget" in cause["fix"]
    assert len(console.sale_orders(console.shopify_order(gid)["name"])) == 0


def test_paid_and_updated_events_out_of_order_end_in_the_right_state(
    console: Console, world: World
) -> None:
    gid = console.new_order(status="PENDING")
    console.engine.sync_once()
    name = console.shopify_order(gid)["name"]
    (sale,) = console.sale_orders(name)
    assert sale["state"] == "draft"  # not paid: a quotation
    first_version = console.job(gid)["source_version"]
    paid_at = world.shopify.control.update_order(gid, financialStatus="PAID")
    queue, shop_id = console.engine.queue, console.shop_id
    # The "paid" sighting twice, then the stale older one arriving late.
    for version in (paid_at, paid_at, first_version):
        queue.enqueue(
            shop_id,
            console.facts["shop_domain"],
            "orders",
            [Change(gid, version, label=f"Shopify order {name}", payload={"order_id": gid})],
        )
    console.engine.runner.drain()
    (sale,) = console.sale_orders(name)
    assert sale["state"] == "sale"
    jobs = {j["source_version"]: j for j in console.jobs(gid)}
    assert jobs[paid_at]["seen_count"] == 2 and jobs[paid_at]["state"] == "done"
    assert jobs[first_version]["seen_count"] == 2  # re-sighted, not re-done
    assert world.odoo.call_count("sale.order", "action_confirm") == 1


def test_unmapped_sku_waits_then_mapping_requeues_and_completes(
    console: Console, world: World
) -> None:
    gid = console.new_order(sku=UNMAPPED)
    console.engine.sync_once()
    job = console.job(gid)
    assert (job["state"], job["cause_code"]) == ("needs_attention", "mapping.product_missing")
    cause = json.loads(job["cause"])
    assert f"SKU '{UNMAPPED}'" in cause["missing"] and "Organic T-Shirt — XL" in cause["missing"]
    assert cause["blocked_on"] == [f"product:{UNMAPPED}"]
    assert console.sale_orders() == []  # nothing half-written
    product = world.odoo.env["product.product"].create([{"name": "T-shirt XL (manual)"}])[0]
    _, requeued = mappings.save_mapping(
        console.engine.queue, console.shop_id, "product", UNMAPPED, product, label="T-shirt XL"
    )
    assert requeued == [job["id"]]
    console.engine.runner.drain()
    job = console.job(gid)
    assert job["state"] == "done"
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert product in [line["product_id"][0] for line in console.lines_of(sale)]


def test_missing_create_right_is_explained_word_for_word(console: Console, world: World) -> None:
    gid = console.new_order()
    world.odoo.revoke(world.odoo.login, "sale.order", "create")
    console.engine.sync_once()
    job = console.job(gid)
    name = console.shopify_order(gid)["name"]
    assert (job["state"], job["cause_code"]) == ("needs_attention", "odoo.permission_missing")
    from shopodoo_console.causes import Cause

    text = Cause.from_json(job["cause"]).explain().splitlines()
    assert text[:5] == [
        f"Which record: Shopify order {name}",
        "What is missing: The Odoo user 'shopodoo-bot' may not create sale.order records "
        "(Odoo sale.order load); the group that usually grants it: Sales / User: Own "
        "Documents Only.",
        "Temporary or configuration: permission — needs an access right before retry",
        "Retry safe after the fix: yes — load() is all or nothing: nothing was created",
        "What to do: Give the Odoo user the named access right, then retry.",
    ]
    world.odoo.grant(world.odoo.login, "sale.order", "create")
    console.engine.queue.retry([job["id"]])
    console.engine.runner.drain()
    assert console.job(gid)["state"] == "done"
    assert len(console.sale_orders(name)) == 1


def test_guest_order_waits_or_uses_the_guest_partner(world: World, tmp_path: Path) -> None:
    strict = open_console(world, tmp_path / "strict")
    gid = strict.new_order(email=None)  # type: ignore[arg-type]
    strict.engine.sync_once()
    job = strict.job(gid)
    assert (job["state"], job["cause_code"]) == ("needs_attention", "mapping.customer_missing")
    assert strict.sale_orders() == []  # never a silent empty partner
    guest = world.odoo.env["res.partner"].create([{"name": "Shopify guest"}])[0]
    console = open_console(world, tmp_path / "guest", options={"guest_partner_id": guest})
    console.engine.sync_once()
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert sale["partner_id"][0] == guest
    for c in (console, strict):
        c.engine.close_flows()


def test_returning_customer_is_matched_not_duplicated(console: Console, world: World) -> None:
    first = console.new_order()
    console.engine.sync_once()
    second = console.new_order(sku="CM-BLU-000")
    console.engine.sync_once()
    partners = {
        console.sale_orders(console.shopify_order(g)["name"])[0]["partner_id"][0]
        for g in (first, second)
    }
    assert len(partners) == 1
    assert (
        world.odoo.env["res.partner"].search_count(
            [("email", "=ilike", "chloe.dubois.0@example.com")]
        )
        == 1
    )


def test_review_mode_waits_for_approval_and_runs_that_plan(world: World, tmp_path: Path) -> None:
    console = open_console(world, tmp_path / "home", mode="review")
    gid = console.new_order()
    console.engine.sync_once()
    job = console.job(gid)
    assert job["state"] == "awaiting_approval" and console.sale_orders() == []
    plan = json.loads(
        console.store.execute("SELECT plan FROM job WHERE id = ?", (job["id"],)).fetchone()[0]
    )
    assert plan["summary"].startswith("Create sale order for ")
    console.engine.queue.approve([job["id"]])
    console.engine.runner.drain()
    assert console.job(gid)["state"] == "done"
    assert len(console.sale_orders()) == 1
    console.engine.close_flows()


def test_edit_before_confirmation_updates_the_quotation(console: Console, world: World) -> None:
    gid = console.new_order(quantity=2, status="PENDING")
    console.engine.sync_once()
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 5})
    console.engine.sync_once()
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert sorted(line["product_uom_qty"] for line in console.lines_of(sale)) == [1, 5]
    assert console.jobs(gid)[-1]["result"].endswith("lines updated")


def test_edit_after_confirmation_is_a_conflict_not_a_write(console: Console, world: World) -> None:
    gid = console.new_order(quantity=2)
    console.engine.sync_once()
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 1})
    console.engine.sync_once()
    job = console.jobs(gid)[-1]
    assert (job["state"], job["cause_code"]) == ("skipped", "conflict.order_locked")
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert sorted(line["product_uom_qty"] for line in console.lines_of(sale)) == [1, 2]


def test_a_person_s_edit_in_odoo_is_never_overwritten(console: Console, world: World) -> None:
    gid = console.new_order(quantity=2, status="PENDING")
    console.engine.sync_once()
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    line = max(console.lines_of(sale), key=lambda row: row["price_unit"])
    world.odoo.env["sale.order.line"].write([line["id"]], {"price_unit": 1.0})
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 4})
    console.engine.sync_once()
    job = console.jobs(gid)[-1]
    assert (job["state"], job["cause_code"]) == ("skipped", "conflict.edited_in_odoo")
    assert 1.0 in [row["price_unit"] for row in console.lines_of(sale)]


def test_cancelling_in_shopify_cancels_an_undelivered_order(console: Console, world: World) -> None:
    gid = console.new_order()
    console.engine.sync_once()
    world.shopify.control.cancel_order(gid)
    console.engine.sync_once()
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert sale["state"] == "cancel"
    assert console.jobs(gid)[-1]["result"].startswith("Cancelled ")


def test_our_own_write_back_makes_no_job_and_no_fetch(console: Console, world: World) -> None:
    """Issue 10 case 5: the write-back reads back the order's new updatedAt, the link keeps it
    as our own version, and the next poll's sighting of it costs no job, no fetch, no Odoo call.
    (Before: a job per order fetched it again to find it unchanged.)"""
    gid = console.new_order()
    console.engine.sync_once()
    own = console.shopify_order(gid)["updatedAt"]  # bumped by our metafield write
    link = links.find_link(console.store, console.shop_id, "order", gid)
    assert link is not None and (link.last_version or "").startswith(own + "|")
    calls, fetches = world.odoo.call_count(), world.shopify.counters.operations["OrdersForSync"]
    summary = console.engine.sync_once()  # the poll sees our write as a new updatedAt
    assert (summary.polls[0].new, summary.polls[0].seen) == (0, 0)
    assert [j["source_version"] for j in console.jobs(gid)] != [own]
    assert len(console.jobs(gid)) == 1
    assert world.odoo.call_count() == calls  # not a single Odoo call
    assert world.shopify.counters.operations["OrdersForSync"] == fetches  # and no fetch
    assert world.shopify.counters.operations.get("MetafieldsSet") == 1
    world.shopify.control.update_order(gid, note="a real change after ours")
    assert console.engine.sync_once().polls[0].new == 1  # a real change still makes its job


# ---------------------------------------------------------------- regressions from review


def test_editing_an_order_shipped_elsewhere_updates_its_lines(console: Console) -> None:
    gid = console.new_order(
        quantity=2,
        status="PENDING",
        shippingAddress={
            "firstName": "Chloé",
            "lastName": "Dubois",
            "address1": "1 Other Street",
            "city": "Ghent",
            "zip": "9000",
            "countryCodeV2": "BE",
        },
    )
    console.engine.sync_once()
    console.world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 5})
    console.engine.sync_once()
    assert console.jobs(gid)[-1]["result"] == "S00001: lines updated"


def test_two_shopify_customers_on_one_contact_do_not_break_the_batch(
    console: Console, world: World
) -> None:
    shop = world.shopify.control
    ann = shop.create_customer({"firstName": "Ann", "lastName": "A", "email": "x@example.com"})
    console.new_order(email=ann)
    console.engine.sync_once()
    shop.update_customer(ann, email="ann.new@example.com")  # the address moves on...
    bob = shop.create_customer({"firstName": "Bob", "lastName": "B", "email": "x@example.com"})
    second, other = console.new_order(email=bob), console.new_order(sku="CM-BLU-000")
    console.engine.sync_once()
    assert console.jobs(second)[0]["state"] == "done"  # ...and Bob is matched to Ann's contact
    assert console.jobs(other)[0]["state"] == "done"  # an unrelated order of the same batch
    customer_links = console.store.execute(
        "SELECT count(*) FROM link WHERE kind = 'customer'"
    ).fetchone()[0]
    assert customer_links == 2  # Ann's and Chloé's; Bob's would have collided


def test_review_mode_also_gates_updates_and_cancellations(world: World, tmp_path: Path) -> None:
    console = open_console(world, tmp_path / "home", mode="review")
    gid = console.new_order(quantity=2, status="PENDING")
    console.engine.sync_once()
    console.engine.queue.approve([console.job(gid)["id"]])
    console.engine.runner.drain()
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 7})
    console.engine.sync_once()
    job = console.jobs(gid)[-1]
    assert job["state"] == "awaiting_approval"
    (sale,) = console.sale_orders()
    assert sorted(line["product_uom_qty"] for line in console.lines_of(sale)) == [1, 2]
    console.engine.queue.approve([job["id"]])
    console.engine.runner.drain()
    assert sorted(line["product_uom_qty"] for line in console.lines_of(sale)) == [1, 7]
    world.shopify.control.cancel_order(gid)
    console.engine.sync_once()
    assert console.jobs(gid)[-1]["state"] == "awaiting_approval"
    assert console.sale_orders()[0]["state"] == "draft"
    console.engine.close_flows()


def test_a_person_s_note_line_survives_a_shopify_edit(console: Console, world: World) -> None:
    gid = console.new_order(quantity=2, status="PENDING")
    console.engine.sync_once()
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    world.odoo.env["sale.order.line"].create(
        [{"order_id": sale["id"], "display_type": "line_note", "name": "Deliver to neighbour"}]
    )
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 3})
    console.engine.sync_once()
    assert console.jobs(gid)[-1]["result"].endswith("lines updated")
    notes = world.odoo.env["sale.order.line"].search_read(
        [("order_id", "=", sale["id"]), ("display_type", "=", "line_note")], ["name"]
    )
    assert [n["name"] for n in notes] == ["Deliver to neighbour"]


def test_a_lost_answer_to_our_own_line_write_is_not_taken_for_a_person(
    console: Console, world: World
) -> None:
    gid = console.new_order(quantity=2, status="PENDING")
    console.engine.sync_once()
    world.odoo.faults.add(kind="drop", model="sale.order", method="write", times=1)
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 5})
    console.engine.sync_once()
    console.engine.runner.drain()
    assert console.jobs(gid)[-1]["cause_code"] is None  # no conflict.edited_in_odoo
    world.shopify.control.update_order(gid, currentQuantities={"CM-RED-000": 6})
    console.engine.sync_once()
    assert console.jobs(gid)[-1]["result"].endswith("lines updated")
    (sale,) = console.sale_orders()
    assert sorted(line["product_uom_qty"] for line in console.lines_of(sale)) == [1, 6]


def test_a_failed_confirmation_after_a_line_write_is_finished_by_the_retry(
    console: Console, world: World
) -> None:
    gid = console.new_order(quantity=2, status="PENDING")
    console.engine.sync_once()
    world.odoo.faults.add(
        kind="status", status=503, model="sale.order", method="action_confirm", times=1
    )
    world.shopify.control.update_order(
        gid, currentQuantities={"CM-RED-000": 5}, financialStatus="PAID"
    )
    console.engine.sync_once()
    console.engine.runner.drain()
    (sale,) = console.sale_orders()
    assert sale["state"] == "sale"
    assert sorted(line["product_uom_qty"] for line in console.lines_of(sale)) == [1, 5]


def test_a_confirmed_order_cancelled_in_shopify_is_really_cancelled(
    console: Console, world: World
) -> None:
    gid = console.new_order()  # paid: confirmed in Odoo
    console.engine.sync_once()
    assert console.sale_orders()[0]["state"] == "sale"
    world.shopify.control.cancel_order(gid)
    console.engine.sync_once()
    assert console.sale_orders()[0]["state"] == "cancel"  # not just a wizard opened


def test_a_locked_order_cancelled_in_shopify_is_a_conflict(console: Console, world: World) -> None:
    gid = console.new_order()
    console.engine.sync_once()
    sale = console.sale_orders()[0]
    if world.odoo_version < 17:
        pytest.skip("Odoo 16 has no locked flag (it uses the 'done' state)")
    world.odoo.env["sale.order"].action_lock([sale["id"]])
    world.shopify.control.cancel_order(gid)
    console.engine.sync_once()
    job = console.jobs(gid)[-1]
    assert (job["state"], job["cause_code"]) == ("skipped", "conflict.order_locked")
    assert "it is locked in Odoo" in json.loads(job["cause"])["missing"]
    assert console.sale_orders()[0]["state"] == "sale"


def test_one_order_shopify_refuses_does_not_fail_the_others_write_back(
    console: Console, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopodoo_console.workflows.orders import flow as flow_module

    gids = [console.new_order(sku=s) for s in ("CM-RED-000", "CM-BLU-000", "CM-RED-000")]
    victim = gids[1]
    real_fetch = flow_module.fetch_orders

    def fetch_then_the_merchant_deletes_one(shopify, jobs):
        real_fetch(shopify, jobs)
        store = world.shopify.control._store
        store.nodes.pop(victim, None)
        store.orders.remove(victim)

    monkeypatch.setattr(flow_module, "fetch_orders", fetch_then_the_merchant_deletes_one)
    console.engine.sync_once()
    states = {gid: console.jobs(gid)[0]["state"] for gid in gids}
    assert states == {gids[0]: "done", victim: "needs_attention", gids[2]: "done"}
    assert world.shopify.counters.operations.get("MetafieldsSet") == 2  # all, then the rest


def test_test_orders_stay_out_of_odoo(console: Console) -> None:
    gid = console.new_order(test=True)
    console.engine.sync_once()
    job = console.job(gid)
    assert job["state"] == "skipped" and job["result"].startswith("A test order")
    assert console.sale_orders() == []


# ---------------------------------------------------------------- payments (option)


def payments_of(world: World) -> list[dict]:
    return world.odoo.env["account.payment"].search_read(
        [], ["amount", "journal_id", "state", "partner_id", "payment_type"]
    )


def test_captured_payments_are_registered_once_in_the_mapped_journal(
    world: World, tmp_path: Path
) -> None:
    console = open_console(world, tmp_path / "home", options={"register_payments": True})
    gid = console.new_order(gateway="shopify_payments")
    world.odoo.faults.add(kind="drop", model="account.payment", method="load", times=1)
    console.engine.sync_once()
    console.engine.runner.drain()  # the retry after the lost answer
    console.engine.sync_once()  # and our own write-back coming back
    (payment,) = payments_of(world)
    order = console.shopify_order(gid)
    assert payment["amount"] == float(order["totalPriceSet"]["shopMoney"]["amount"])
    assert payment["journal_id"][1] == "Shopify Payments"
    assert payment["payment_type"] == "inbound"
    assert payment["state"] in ("posted", "in_process")  # 18+ calls a posted payment so
    (sale,) = console.sale_orders()
    assert payment["partner_id"][0] == sale["partner_id"][0]
    console.engine.close_flows()


def test_an_unmapped_gateway_waits_then_its_mapping_completes_the_order(
    world: World, tmp_path: Path
) -> None:
    console = open_console(world, tmp_path / "home", options={"register_payments": True})
    gid = console.new_order(gateway="paypal")
    console.engine.sync_once()
    job = console.job(gid)
    assert (job["state"], job["cause_code"]) == ("needs_attention", "mapping.gateway_missing")
    assert json.loads(job["cause"])["blocked_on"] == ["gateway:paypal"]
    assert console.sale_orders() == [] and payments_of(world) == []  # nothing half-written
    journal = console.facts["journals"]["PayPal"]
    _, requeued = mappings.save_mapping(
        console.engine.queue, console.shop_id, "gateway", "paypal", journal, label="PayPal"
    )
    assert requeued == [job["id"]]
    console.engine.runner.drain()
    assert console.job(gid)["state"] == "done"
    (payment,) = payments_of(world)
    assert payment["journal_id"][0] == journal
    console.engine.close_flows()


def test_an_order_paid_later_gets_its_payment_when_paid(world: World, tmp_path: Path) -> None:
    console = open_console(world, tmp_path / "home", options={"register_payments": True})
    gid = console.new_order(status="PENDING")
    console.engine.sync_once()
    assert payments_of(world) == [] and console.sale_orders()[0]["state"] == "draft"
    world.shopify.control.update_order(gid, financialStatus="PAID", gateway="manual")
    console.engine.sync_once()
    assert console.jobs(gid)[-1]["result"].endswith("confirmed, payments recorded")
    (payment,) = payments_of(world)
    assert payment["journal_id"][1] == "Bank"
    assert console.sale_orders()[0]["state"] == "sale"
    console.engine.sync_once()  # our write-back, and the same version again: nothing new
    assert len(payments_of(world)) == 1
    console.engine.close_flows()
