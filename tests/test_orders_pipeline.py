"""Issue 10's seven cases and issue 9's lost race, each a regression test over real HTTP.

Every test runs against the simulators on Odoo 17 (JSON-RPC) and Odoo 19 (JSON-2). Each case
was a way for a job to end ``done`` (or crash) while Odoo was wrong; each is now closed by the
shape of the flow — links written "not synced" until every action of the plan took effect,
versions held back until they settle, every blocker collected by the plan.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from orders_support import UNMAPPED, Console, make_world, open_console

from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.engine import mappings
from shopodoo_console.sim.world import World
from shopodoo_console.store import links
from shopodoo_console.workflows.orders.poll import SETTLE_MARGIN
from shopodoo_console.workflows.pipeline import Synced


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param) as w:
        yield w


def console_for(world: World, home: Path, **options: object) -> Console:
    return open_console(world, home, options=dict(options))


@pytest.fixture
def console(world: World, tmp_path: Path) -> Iterator[Console]:
    c = console_for(world, tmp_path / "home")
    yield c
    c.engine.close_flows()
    c.store.close()


def attempts_of(console: Console, job_id: int) -> list[tuple[str, str | None]]:
    return console.store.execute(
        "SELECT outcome, cause_code FROM attempt WHERE job_id = ? ORDER BY id", (job_id,)
    ).fetchall()


def retry_until_settled(console: Console, gid: str) -> None:
    """Run the (test-short) automatic retries until the job stops retrying: each once due."""
    for _ in range(10):
        job = console.job(gid)
        if job["state"] != "retrying":
            return
        (due,) = console.store.execute(
            "SELECT next_run_at FROM job WHERE id = ?", (job["id"],)
        ).fetchone()
        deadline = time.monotonic() + 5
        while time.time() < due and time.monotonic() < deadline:
            time.sleep(0.001)  # until the retry is due (milliseconds with the test policy)
        console.engine.runner.drain()


def payments(world: World) -> list[dict]:
    return world.odoo.env["account.payment"].search_read([], ["amount", "state", "journal_id"])


def epoch(version: str) -> float:
    return datetime.fromisoformat(version.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------- 1. adopt, then confirm fails


def test_1_retry_after_adopt_and_a_failed_confirmation_confirms_and_pays_once(
    world: World, tmp_path: Path
) -> None:
    """Before: the adoption saved the link as synced before confirming, so the retry found
    "unchanged since last sync" and the job ended done on a draft quotation, unpaid."""
    console = console_for(world, tmp_path / "home", register_payments=True)
    gid = console.new_order(gateway="shopify_payments")
    world.odoo.faults.add(kind="drop", model="sale.order", method="load", times=1)
    world.odoo.faults.add(
        kind="status", status=503, model="sale.order", method="action_confirm", times=1
    )
    console.engine.sync_once()  # lost answer; the retry adopts, then the confirmation fails
    retry_until_settled(console, gid)
    job = console.job(gid)
    assert attempts_of(console, job["id"]) == [
        ("failed", "odoo.outcome_unknown"),
        ("failed", "odoo.unreachable"),
        ("done", None),
    ]
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert job["state"] == "done"
    assert job["result"] == f"{sale['name']}: confirmed, payments recorded"
    assert sale["state"] == "sale"  # confirmed
    (payment,) = payments(world)  # paid, once
    assert payment["state"] in ("posted", "in_process")
    assert world.odoo.call_count("sale.order", "load") == 1
    link = links.find_link(console.store, console.shop_id, "order", gid)
    assert link is not None and Synced.parse(link.last_version) is not None
    console.engine.close_flows()


def test_1_the_link_stays_unsynced_while_an_action_is_missing(
    console: Console, world: World
) -> None:
    gid = console.new_order()
    world.odoo.faults.add(
        kind="status", status=503, model="sale.order", method="action_confirm", times=50
    )
    console.engine.sync_once()
    link = links.find_link(console.store, console.shop_id, "order", gid)
    assert link is not None and link.last_version is None  # created, linked, not in step
    assert console.job(gid)["state"] in ("retrying", "failed")
    world.odoo.faults.clear()
    console.engine.queue.retry([console.job(gid)["id"]])
    console.engine.runner.drain()
    assert console.job(gid)["state"] == "done"
    assert console.sale_orders()[0]["state"] == "sale"


# ---------------------------------------------------------------- 2. two changes in one second


def test_2_a_version_is_fetched_only_once_its_second_is_over(
    console: Console, world: World
) -> None:
    """Created unpaid and marked paid within the same second: both changes share one
    ``updatedAt``. The job for that version waits until the second is over, so it fetches the
    paid order and Odoo ends confirmed."""
    gid = console.new_order(status="PENDING", createdAt=None)  # placed this very second
    version = console.shopify_order(gid)["updatedAt"]
    console.engine.poll_all()
    job = console.job(gid)
    (next_run,) = console.store.execute(
        "SELECT next_run_at FROM job WHERE id = ?", (job["id"],)
    ).fetchone()
    assert next_run >= epoch(version) + 1 + SETTLE_MARGIN
    world.shopify.control.update_order(gid, same_second=True, financialStatus="PAID")
    assert console.shopify_order(gid)["updatedAt"] == version  # the same version
    console.engine.runner.drain()
    (started,) = console.store.execute(
        "SELECT min(started_at) FROM attempt WHERE job_id = ?", (job["id"],)
    ).fetchone()
    assert started >= epoch(version) + 1 + SETTLE_MARGIN
    assert console.job(gid)["state"] == "done"
    assert console.sale_orders()[0]["state"] == "sale"  # the final state, not the first


# ---------------------------------------------------------------- 3. cancelled when first seen


def test_3_an_order_cancelled_before_it_was_seen_is_skipped_and_stays_out(
    console: Console, world: World
) -> None:
    gid = console.new_order(cancelled=True)
    console.engine.sync_once()
    job = console.job(gid)
    assert job["state"] == "skipped"
    assert "cancelled in Shopify before it was synced" in job["result"]
    world.shopify.control.update_order(gid, note="refund sent")  # it changes again later
    console.engine.sync_once()
    assert [j["state"] for j in console.jobs(gid)] == ["skipped", "skipped"]
    assert console.sale_orders() == []  # never comes to life
    assert world.odoo.call_count("sale.order", "load") == 0


def test_3_with_the_option_it_is_created_and_cancelled_in_the_same_job(
    world: World, tmp_path: Path
) -> None:
    console = console_for(world, tmp_path / "home", create_cancelled_orders=True)
    gid = console.new_order(cancelled=True)
    console.engine.sync_once()
    job = console.job(gid)
    (sale,) = console.sale_orders(console.shopify_order(gid)["name"])
    assert sale["state"] == "cancel"
    assert job["state"] == "done" and job["result"].startswith(f"Created {sale['name']} and cancel")
    assert world.odoo.call_count("sale.order", "action_confirm") == 0
    world.shopify.control.update_order(gid, note="refund sent")
    console.engine.sync_once()
    assert console.jobs(gid)[-1]["result"] == f"{sale['name']} is already cancelled in Odoo"
    assert console.sale_orders()[0]["state"] == "cancel"  # never comes back to life
    assert world.odoo.call_count("sale.order", "action_confirm") == 0
    console.engine.close_flows()


# ---------------------------------------------------------------- 4. concurrent link writes


def test_4_a_link_written_meanwhile_by_another_worker_is_adopted_not_a_crash(
    console: Console, world: World
) -> None:
    """While this batch creates its sale orders, another worker links the contact the batch
    matched to a different Shopify customer. Before: check-then-insert, the unique constraint,
    and the whole batch recorded as a crash. Now: one statement, the first link wins, the batch
    carries on."""
    shop = world.shopify.control
    bob = shop.create_customer({"firstName": "Bob", "lastName": "B", "email": "x@example.com"})
    contact = world.odoo.env["res.partner"].create([{"name": "X", "email": "x@example.com"}])[0]
    gids = [console.new_order(email=bob), console.new_order(sku="CM-BLU-000")]
    world.odoo.faults.add(kind="latency", delay=1.5, model="sale.order", method="load", times=1)
    sync = threading.Thread(target=console.engine.sync_once)
    sync.start()
    deadline = time.monotonic() + 30
    while world.odoo.call_count("sale.order", "load") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # wait for the batch to be inside its create call
    assert world.odoo.call_count("sale.order", "load") == 1
    links.write_link(  # the other worker, first
        console.store,
        console.shop_id,
        "customer",
        "gid://shopify/Customer/ann",
        "res.partner",
        contact,
        label="Ann",
    )
    sync.join(60)
    assert [console.jobs(g)[0]["state"] for g in gids] == ["done", "done"]
    (row,) = console.store.execute(
        "SELECT shopify_id FROM link WHERE kind = 'customer' AND odoo_id = ?", (contact,)
    ).fetchall()
    assert row[0] == "gid://shopify/Customer/ann"  # the first link stays
    events = [
        r[0]
        for r in console.store.execute(
            "SELECT event FROM audit WHERE job_id = ?", (console.jobs(gids[0])[0]["id"],)
        ).fetchall()
    ]
    assert "customer_shared" in events
    (sale,) = console.sale_orders(console.shopify_order(gids[0])["name"])
    assert sale["partner_id"][0] == contact  # the order still uses the contact


def test_4_an_order_linked_first_by_another_worker_is_carried_on_with_theirs(
    console: Console, world: World
) -> None:
    gid = console.new_order(status="PENDING")
    console.engine.sync_once()
    (ours,) = console.sale_orders()
    target = links.write_link(
        console.store, console.shop_id, "order", gid, "sale.order", 999, label="other"
    )
    assert target is not None and target.odoo_id == ours["id"]  # the existing link won


# ---------------------------------------------------------------- 5. our own write-back
# (also tests/test_orders_flow.py::test_our_own_write_back_makes_no_job_and_no_fetch)


def test_5_a_change_made_between_our_fetch_and_our_write_back_is_not_taken_for_ours(
    console: Console, world: World
) -> None:
    gid = console.new_order(status="PENDING")
    world.odoo.faults.add(kind="latency", delay=1.5, model="sale.order", method="load", times=1)
    sync = threading.Thread(target=console.engine.sync_once)
    sync.start()
    deadline = time.monotonic() + 30
    while world.odoo.call_count("sale.order", "load") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    world.shopify.control.update_order(gid, financialStatus="PAID")  # the merchant, meanwhile
    sync.join(60)
    after_write = console.shopify_order(gid)["updatedAt"]
    link = links.find_link(console.store, console.shop_id, "order", gid)
    state = Synced.parse(link.last_version if link else None)
    assert state is not None and state.version != after_write  # not recorded as our own
    assert console.sale_orders()[0]["state"] == "draft"
    console.engine.sync_once()  # so the sighting makes a job, which sees the payment
    assert console.sale_orders()[0]["state"] == "sale"


def test_5_after_a_bulk_sync_the_next_poll_counts_our_writes_instead_of_listing_them(
    console: Console, world: World
) -> None:
    """Thirty orders written back: the next poll proves with a few exact counts that the span
    of our writes holds nothing else, and lists none of them (a point each, otherwise)."""
    gids = [console.new_order(quantity=1 + n % 3) for n in range(30)]
    console.engine.sync_once()
    assert {console.job(g)["state"] for g in gids} == {"done"}
    before = world.shopify.counters["points_spent"]
    listed = world.shopify.counters.operations.get("OrdersUpdatedSince", 0)
    summary = console.engine.sync_once()
    assert (summary.polls[0].new, summary.polls[0].seen) == (0, 0)
    assert world.shopify.counters.operations.get("OrdersCount", 0) >= 1
    spent = world.shopify.counters["points_spent"] - before
    assert spent < 30, spent  # listing them again would cost 2 + 30
    assert world.shopify.counters.operations["OrdersUpdatedSince"] - listed <= 2  # empty pages


def test_5_a_change_inside_the_span_of_our_writes_is_not_counted_away(
    console: Console, world: World
) -> None:
    gids = [console.new_order() for _ in range(30)]
    console.engine.sync_once()
    counted = world.shopify.counters.operations.get("OrdersCount", 0)
    own = console.shopify_order(gids[3])["updatedAt"]
    # Another order whose change Shopify dates within our writes (indexed late, say) ...
    stranger = console.new_order(sku="CM-BLU-000", updatedAt=own)
    # ... and one of ours, changed again since.
    world.shopify.control.update_order(gids[5], note="ring twice")
    summary = console.engine.sync_once()
    assert summary.polls[0].new == 2
    assert console.job(stranger)["state"] == "done"
    assert console.jobs(gids[5])[-1]["state"] in ("done", "skipped")
    assert len(console.jobs(gids[0])) == 1  # ours: still no job
    assert world.shopify.counters.operations["OrdersCount"] > counted  # counted, then listed


# ---------------------------------------------------------------- 6. custom line items


def test_6_a_custom_line_without_the_option_names_the_option(console: Console) -> None:
    gid = console.new_order(
        lines=[{"sku": "CM-RED-000", "quantity": 1}, {"title": "Gift wrap", "price": "3.00"}]
    )
    console.engine.sync_once()
    job = console.job(gid)
    assert (job["state"], job["cause_code"]) == ("needs_attention", "mapping.custom_line_missing")
    cause = Cause.from_json(job["cause"])
    assert "'Gift wrap'" in cause.missing and "options.custom_line_product_id" in cause.missing
    assert "custom_line_product_id" in cause.fix
    assert cause.blocked_on == ("product:title:Gift wrap",)
    assert console.sale_orders() == []


def test_6_custom_lines_use_the_fallback_product_with_their_title_price_and_quantity(
    world: World, tmp_path: Path
) -> None:
    service = world.odoo.env["product.product"].create([{"name": "Services (Shopify)"}])[0]
    console = console_for(world, tmp_path / "home", custom_line_product_id=service)
    gid = console.new_order(
        lines=[
            {"sku": "CM-RED-000", "quantity": 1},
            {"title": "Gift wrap", "price": "3.00", "quantity": 2},
            {"title": "Engraving", "price": "12.50"},
        ]
    )
    console.engine.sync_once()
    assert console.job(gid)["state"] == "done"
    (sale,) = console.sale_orders()
    custom = world.odoo.env["sale.order.line"].search_read(
        [("order_id", "=", sale["id"]), ("product_id", "=", service)],
        ["name", "product_uom_qty", "price_unit"],
    )
    assert sorted((c["name"], c["product_uom_qty"], c["price_unit"]) for c in custom) == [
        ("Engraving", 1, 12.5),
        ("Gift wrap", 2, 3.0),
    ]
    console.engine.close_flows()


# ---------------------------------------------------------------- 7. every blocker at once


def test_7_every_blocker_is_listed_and_fixing_one_leaves_only_the_rest(
    world: World, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    console = console_for(world, isolated_home, register_payments=True)
    gid = console.new_order(sku=UNMAPPED, gateway="paypal")
    console.engine.sync_once()
    job = console.job(gid)
    assert (job["state"], job["cause_code"]) == ("needs_attention", "mapping.product_missing")
    cause = Cause.from_json(job["cause"])
    assert [c.code for c in cause.also] == ["mapping.gateway_missing"]
    assert set(cause.blocked_on) == {f"product:{UNMAPPED}", "gateway:paypal"}
    assert main(["jobs", "show", str(job["id"])]) == 0
    shown = capsys.readouterr().out
    assert f"SKU '{UNMAPPED}'" in shown
    assert "Also missing (mapping.gateway_missing): no Odoo journal is mapped for the " in shown
    product = world.odoo.env["product.product"].create([{"name": "T-shirt XL"}])[0]
    _, requeued = mappings.save_mapping(
        console.engine.queue, console.shop_id, "product", UNMAPPED, product
    )
    assert requeued == [job["id"]]  # fixing one re-queues
    console.engine.runner.drain()
    job = console.job(gid)
    assert (job["state"], job["cause_code"]) == ("needs_attention", "mapping.gateway_missing")
    assert Cause.from_json(job["cause"]).also == ()  # only what remains
    assert console.sale_orders() == []
    journal = console.facts["journals"]["PayPal"]
    _, requeued = mappings.save_mapping(
        console.engine.queue, console.shop_id, "gateway", "paypal", journal
    )
    assert requeued == [job["id"]]
    console.engine.runner.drain()
    assert console.job(gid)["state"] == "done"
    assert len(console.sale_orders()) == 1 and len(payments(world)) == 1
    console.engine.close_flows()


def test_7_a_guest_order_with_an_unmapped_sku_names_both(console: Console) -> None:
    gid = console.new_order(email=None, sku=UNMAPPED)  # type: ignore[arg-type]
    console.engine.sync_once()
    cause = Cause.from_json(console.job(gid)["cause"])
    assert [cause.code, *(c.code for c in cause.also)] == [
        "mapping.product_missing",
        "mapping.customer_missing",
    ]


# ---------------------------------------------------------------- issue 9, item 4: a lost race


@pytest.mark.parametrize("orders", [1, 3], ids=["batch-of-one", "batch-of-three"])
def test_a_lost_race_on_a_stamp_adopts_the_winner_in_the_same_attempt(
    console: Console, world: World, orders: int
) -> None:
    """Another worker created the same stamped sale orders a moment before ours and Odoo's
    unique index refused ours: the stamps are looked up again and adopted. Never a data error,
    for a batch of one as for a batch of many."""
    gids = [console.new_order(quantity=n + 1) for n in range(orders)]
    world.odoo.faults.add(kind="race", model="sale.order", method="load", times=1)
    console.engine.sync_once()
    for gid in gids:
        job = console.job(gid)
        assert attempts_of(console, job["id"]) == [("done", None)], job
        assert len(console.sale_orders(console.shopify_order(gid)["name"])) == 1
    assert all(o["state"] == "sale" for o in console.sale_orders())
    timeline = console.store.execute("SELECT message FROM audit WHERE event = 'created'").fetchall()
    assert all("created by another worker" in m[0] for m in timeline)


def test_a_lost_race_on_a_new_customer_adopts_the_contact(console: Console, world: World) -> None:
    shop = world.shopify.control
    new = shop.create_customer({"firstName": "Nora", "lastName": "N", "email": "nora@example.com"})
    gid = console.new_order(email=new)
    world.odoo.faults.add(kind="race", model="res.partner", method="load", times=1)
    console.engine.sync_once()
    assert attempts_of(console, console.job(gid)["id"]) == [("done", None)]
    assert world.odoo.env["res.partner"].search_count([("email", "=", "nora@example.com")]) == 1


def test_a_lost_race_is_a_temporary_cause_with_the_four_answers() -> None:
    from shopodoo_console.odoo.errors import Operation, classify

    cause = classify(
        "odoo.exceptions.ValidationError",
        "The operation cannot be completed: duplicate key value violates unique constraint "
        '"ir_model_data_module_name_uniq_index"',
        Operation("sale.order", "load", write=True, stamps=("shopodoo.x_order_1",)),
    )
    assert cause.code == "odoo.stamp_taken" and cause.kind.retries_automatically  # type: ignore[union-attr]
    assert "looked up again" in cause.retry_note


def test_blocked_plans_list_every_cause_in_json() -> None:
    first = Cause(code="mapping.product_missing", missing="a", blocked_on=("product:A",))
    second = Cause(code="mapping.gateway_missing", missing="b", blocked_on=("gateway:p",))
    every = Cause.every([first, second])
    again = Cause.from_json(json.dumps(every.to_dict()))
    assert again == every and again.blocked_on == ("product:A", "gateway:p")
    assert "Also missing (mapping.gateway_missing): b" in again.explain()
