"""Deterministic console data: one shop's morning, built with a fixed clock and fixed ids.

Used by the SVG snapshot tests and by ``scripts/screenshots.py`` until ``shopodoo demo``
provides the real scenario. Everything goes through the queue's own API with a fake clock,
so the rows are exactly what the engine would have written, minus the randomness.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.config import Config, EngineConfig, OdooConfig, ShopConfig
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import Change, FlowRegistry, Page, ShopRef
from shopodoo_console.engine.mappings import save_mapping
from shopodoo_console.engine.metrics import ODOO_LATENCY, SHOPIFY_BUDGET
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.retry import RetryPolicy
from shopodoo_console.store.db import Store
from shopodoo_console.store.links import save_link

NOW = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC
SHOP = "acme-outdoor.myshopify.com"
WORKER = "worker@ops-laptop:4242:a1b2c3"


class SampleFlow:
    """A flow that polls nothing: the sample's jobs are already in the store."""

    batch_size = 1

    def __init__(self, name: str) -> None:
        self.name = name
        self.stream = name

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]:
        return []

    def handle_batch(self, contexts: list[Any]) -> list[Any]:
        raise AssertionError("sample flows do not run")  # the sample engine is not started

    def close(self) -> None:
        pass


def sample_config(folder: Path) -> Config:
    shop = ShopConfig(
        domain=SHOP,
        flows={"orders": "auto", "stock": "review"},
        poll_seconds={"orders": 30, "stock": 300},
    )
    # A fixed (never written) path: screens show it, snapshots must not depend on tmp dirs.
    path = Path("/home/ops/.config/shopodoo/config.toml")
    odoo = OdooConfig(url="https://acme.odoo.com", database="acme", login="sync@acme.example")
    return Config(path=path, odoo=odoo, shops=(shop,), engine=EngineConfig())


class _Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def _order(n: int, minute: int) -> Change:
    return Change(
        source_id=f"gid://shopify/Order/{5_000_000 + n}",
        version=f"2026-05-28T19:{minute:02d}:00Z",
        label=f"Shopify order #{n}",
        payload={"order": n},
    )


def build_sample(store: Store) -> Engine:
    """Fill ``store`` and return a (not started) engine showing it as running."""
    config = sample_config(store.path.parent)
    engine = Engine(
        store, config, FlowRegistry([SampleFlow("orders"), SampleFlow("stock")]), owner="sample"
    )
    shop_id = next(iter(engine.shops))
    clock = _Clock(NOW - 300)
    queue = Queue(store, clock=clock, policy=RetryPolicy(rng=random.Random(7)))

    orders = [_order(1001 + i, 30 + i) for i in range(20)]
    queue.enqueue(shop_id, SHOP, "orders", orders)
    stock = Change("gid://shopify/InventoryItem/880", "odoo-2026-05-28T20:10:00", "Stock MUG-RED")
    queue.enqueue(shop_id, SHOP, "stock", [stock])
    queue.enqueue(shop_id, SHOP, "orders", orders[:3])  # a duplicate sighting, absorbed

    def run(outcome: str, cause: Cause | None = None, **kw: object) -> int:
        clock.tick(13)
        job = queue.claim(WORKER, 60)
        assert job is not None
        clock.tick(2)
        store.audit(
            system="shopify",
            event="fetched",
            message=f"{job.label} fetched",
            job_id=job.id,
            shop_id=shop_id,
            at=clock(),
        )
        if outcome == "done":
            number = 42 + job.id
            store.audit(
                system="odoo",
                event="created",
                message=f"Odoo sale.order S{number:05d} created",
                job_id=job.id,
                shop_id=shop_id,
                at=clock(),
            )
            save_link(
                store,
                shop_id,
                "order",
                job.source_id,
                "sale.order",
                number,
                label=f"S{number:05d}",
                version=job.source_version,
            )
            queue.finish_done(job.claim, f"created S{number:05d}")
        elif outcome == "skip":
            queue.finish_skipped(job.claim, "unchanged since last sync")
        elif outcome == "fail":
            assert cause is not None
            if kw.get("exhausted"):
                store.execute(
                    "UPDATE job SET retries = 8, retry_counts = '{\"network\": 8}', "
                    "retrying_since = ? WHERE id = ?",
                    (clock() - 3 * 3600, job.id),
                )
            queue.finish_failed(job.claim, cause.with_record(job.label))
        return job.id

    for _ in range(11):
        run("done")
    run("skip")
    product = "mapping.product_missing"
    run(
        "fail",
        Cause(
            product,
            missing="no Odoo product is mapped to SKU MUG-RED",
            blocked_on=("product:MUG-RED",),
            retry_note="nothing was created in Odoo yet",
        ),
    )
    run(
        "fail",
        Cause(
            product,
            missing="no Odoo product is mapped to SKU MUG-RED",
            blocked_on=("product:MUG-RED",),
            retry_note="nothing was created in Odoo yet",
        ),
    )
    run(
        "fail",
        Cause(
            product,
            missing="no Odoo product is mapped to SKU CAP-BLK",
            blocked_on=("product:CAP-BLK",),
            retry_note="nothing was created in Odoo yet",
        ),
    )
    run(
        "fail",
        Cause(
            "mapping.gateway_missing",
            missing="payment gateway 'klarna' has no Odoo journal",
            blocked_on=("gateway:klarna",),
            retry_note="the order exists in Odoo as a quotation; the payment is added",
        ),
    )
    run(
        "fail",
        Cause(
            "odoo.unreachable",
            missing="Odoo did not answer within 30 s",
            operation="Odoo sale.order create",
        ),
        exhausted=True,
    )
    run(
        "fail",
        Cause(
            "odoo.unreachable",
            missing="Odoo did not answer within 30 s",
            operation="Odoo sale.order create",
        ),
    )
    clock.tick(5)
    job = queue.claim(WORKER, 60)  # one running
    assert job is not None
    # the stock job waits for approval (review mode)
    while True:
        clock.tick(1)
        job = queue.claim(WORKER, 60, flows=["stock"])
        if job is None:
            break
        queue.finish_awaiting_approval(
            job.claim,
            {"set": {"MUG-RED": {"at": "Main warehouse", "from": 12, "to": 9}}},
            "set Shopify stock of MUG-RED at Main warehouse from 12 to 9",
        )
    save_mapping(queue, shop_id, "product", "TENT-2P", 17, label="[TENT-2P] Tent 2 persons")
    save_mapping(queue, shop_id, "gateway", "shopify_payments", 7, label="Shopify Payments")
    for stream, position, ago in (
        ("orders", "2026-05-28T20:25:10Z", 40),
        ("stock", "2026-05-28T20:21:00Z", 200),
    ):
        store.execute(
            "INSERT INTO cursor (shop_id, stream, position, last_poll_at, last_poll_ok, "
            "last_poll_message, updated_at) VALUES (?, ?, ?, ?, 1, '0 new, 0 seen again', ?)",
            (shop_id, stream, position, NOW - ago, NOW - ago),
        )
    # fixed timestamps everywhere the engine used the wall clock
    store.execute("UPDATE audit SET at = ? WHERE event LIKE 'mapping%'", (NOW - 60,))
    store.execute("UPDATE link SET created_at = ?, updated_at = ?", (NOW - 300, NOW - 300))
    store.execute("UPDATE mapping SET created_at = ?, updated_at = ?", (NOW - 60, NOW - 60))
    engine.metrics.set(
        SHOPIFY_BUDGET, SHOP, {"available": 912, "maximum": 1000, "restore_rate": 50}
    )
    engine.metrics.set(ODOO_LATENCY, "odoo", {"p50_ms": 84, "p95_ms": 210, "calls": 57})
    engine.state = "running"  # a still picture of a running console (nothing is started)
    return engine
