"""A console running the orders and fulfillments flows against both simulators (real HTTP):
orders placed in Shopify become sale orders, their deliveries are shipped in Odoo, and the
fulfillments flow brings the shipments back to Shopify."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orders_support import Console, open_console

from shopodoo_console.sim.world import World

FLOWS = ("orders", "fulfillments")
SKUS = ("CM-BLU-000", "CM-RED-000", "CM-WHI-000")


def shipping_console(world: World, home: Path, **kw: Any) -> Console:
    return open_console(world, home, flows=FLOWS, **kw)


def place(console: Console, lines: Sequence[tuple[Any, ...]], **extra: Any) -> tuple[str, str]:
    """A paid order placed a moment ago, synced into Odoo (confirmed: its delivery is ready).
    ``lines``: ``(sku, units)`` or ``(sku, units, Shopify location)``. Returns the order's
    GID and name."""
    gid = console.world.shopify.control.create_order(
        {
            "customer": "chloe.dubois.0@example.com",
            "lines": [
                {"sku": line[0], "quantity": line[1], **({"location": line[2]} if line[2:] else {})}
                for line in lines
            ],
            "shipping": [{"title": "Standard", "code": "STD", "price": "4.90"}],
            "financialStatus": "PAID",
            "createdAt": (datetime.now(UTC) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **extra,
        }
    )
    console.engine.sync_once()
    name = console.shopify_order(gid)["name"]
    assert console.sale_orders(name), f"{name} did not reach Odoo"
    return gid, name


def pickings(console: Console, name: str) -> list[dict[str, Any]]:
    return console.world.odoo.control.pickings(name)


def ship(
    console: Console,
    picking: int | str,
    quantities: dict[str, float] | None = None,
    *,
    tracking: str | None = "1Z999AA10123456784",
    carrier: str | None = "DHL Express",
    backorder: bool = True,
) -> dict[str, Any]:
    """The warehouse validates the delivery (all of it, or ``{sku: units}``)."""
    return console.world.odoo.control.validate_picking(
        picking, quantities, tracking_ref=tracking, carrier=carrier, backorder=backorder
    )


def fulfillments(console: Console, gid: str) -> list[dict[str, Any]]:
    return console.world.shopify.control.fulfillments(gid)


def shipped(console: Console, gid: str) -> dict[str, int]:
    """Units fulfilled per SKU on the Shopify order, from the simulator's own records."""
    order = console.shopify_order(gid)
    return {
        line["sku"]: line["quantity"] - line["unfulfilledQuantity"]
        for line in order["lineItems"]
        if line["quantity"] - line["unfulfilledQuantity"]
    }


def fulfilment_jobs(console: Console) -> list[dict[str, Any]]:
    cursor = console.store.execute(
        "SELECT id, state, seen_count, attempts, cause_code, cause, result, source_id, "
        "source_version, label FROM job WHERE flow = 'fulfillments' ORDER BY id"
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def job_of(console: Console, picking_id: int) -> dict[str, Any]:
    rows = [j for j in fulfilment_jobs(console) if j["source_id"] == f"stock.picking/{picking_id}"]
    assert len(rows) == 1, rows
    return rows[0]


def attempts_of(console: Console, job_id: int) -> list[tuple[str, str | None]]:
    return console.store.execute(
        "SELECT outcome, cause_code FROM attempt WHERE job_id = ? ORDER BY id", (job_id,)
    ).fetchall()


def timeline(console: Console, job_id: int) -> list[tuple[str, str, str]]:
    return console.store.execute(
        "SELECT system, event, message FROM audit WHERE job_id = ? ORDER BY id", (job_id,)
    ).fetchall()


def retry_until_settled(console: Console) -> None:
    """Run the (test-short) automatic retries until no fulfillment job is retrying."""
    for _ in range(10):
        (due,) = console.store.execute(
            "SELECT min(next_run_at) FROM job WHERE flow = 'fulfillments' AND state = 'retrying'"
        ).fetchone()
        if due is None:
            return
        deadline = time.monotonic() + 5
        while time.time() < due and time.monotonic() < deadline:
            time.sleep(0.001)  # until the retry is due (milliseconds with the test policy)
        console.engine.runner.drain()


def stamps(console: Console) -> list[dict[str, Any]]:
    return console.world.odoo.env["ir.model.data"].search_read(
        [("module", "=", "shopodoo"), ("model", "=", "stock.picking")], ["name", "res_id"]
    )
