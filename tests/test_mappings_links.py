"""Mappings re-queue what waited on them; links are unique per record."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SHOP, changes, open_store

from shopodoo_console.causes import Cause
from shopodoo_console.engine import mappings
from shopodoo_console.engine.queue import Queue
from shopodoo_console.store import links


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    store = open_store(tmp_path)
    yield Queue(store)
    store.close()


def block(queue: Queue, shop_id: int, n: int, skus: tuple[str, ...]) -> list[int]:
    queue.enqueue(shop_id, SHOP, "orders", changes(n, prefix="".join(skus)))
    ids = []
    for _ in range(n):
        job = queue.claim("w", 30)
        queue.finish_failed(
            job.claim,
            Cause(
                code="mapping.product_missing",
                missing=f"SKUs {', '.join(skus)} have no product",
                blocked_on=tuple(f"product:{s}" for s in skus),
            ),
        )
        ids.append(job.id)
    return ids


def test_saving_a_mapping_requeues_the_jobs_waiting_on_it(queue: Queue) -> None:
    shop_id = queue.store.sync_shop(SHOP, api_version="2026-07")
    waiting = block(queue, shop_id, 2, ("MUG-RED",))
    other = block(queue, shop_id, 1, ("CAP-BLUE",))
    assert mappings.missing_mappings(queue.store, shop_id) == [
        ("product", "MUG-RED", 2),
        ("product", "CAP-BLUE", 1),
    ]
    row, requeued = mappings.save_mapping(
        queue, shop_id, "product", "MUG-RED", 42, label="[MUG-RED] Red mug"
    )
    assert sorted(requeued) == sorted(waiting)
    assert row.odoo_model == "product.product" and row.odoo_id == 42
    states = dict(queue.store.execute("SELECT id, state FROM job").fetchall())
    assert states[other[0]] == "needs_attention"
    assert mappings.get_mappings(queue.store, shop_id, "product", ["MUG-RED", "X"]).keys() == {
        "MUG-RED"
    }
    # Changing the mapping updates the same row.
    mappings.save_mapping(queue, shop_id, "product", "MUG-RED", 43)
    assert [m.odoo_id for m in mappings.list_mappings(queue.store, shop_id)] == [43]
    assert mappings.delete_mapping(queue, shop_id, "product", "MUG-RED")


def test_mapping_input_is_validated(queue: Queue) -> None:
    shop_id = queue.store.sync_shop(SHOP, api_version="2026-07")
    with pytest.raises(ValueError, match="unknown mapping kind"):
        mappings.save_mapping(queue, shop_id, "colour", "x", 1)
    with pytest.raises(ValueError, match="needs a source key"):
        mappings.save_mapping(queue, shop_id, "product", "  ", 1)
    with pytest.raises(ValueError, match="not an Odoo record id"):
        mappings.save_mapping(queue, shop_id, "product", "A", 0)


def test_links_upsert_and_lookup(queue: Queue) -> None:
    store = queue.store
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    links.save_link(
        store,
        shop_id,
        "order",
        "gid://shopify/Order/1",
        "sale.order",
        7,
        label="S00007",
        version="v1",
        digest="d1",
    )
    links.save_link(store, shop_id, "order", "gid://shopify/Order/1", "sale.order", 7, version="v2")
    link = links.find_link(store, shop_id, "order", "gid://shopify/Order/1")
    assert link is not None and (link.odoo_id, link.last_version, link.digest) == (7, "v2", "d1")
    assert links.find_link_by_odoo(store, shop_id, "order", "sale.order", 7) == link
    assert set(links.find_links(store, shop_id, "order", ["gid://shopify/Order/1", "x"])) == {
        "gid://shopify/Order/1"
    }
    assert links.delete_link(store, shop_id, "order", "gid://shopify/Order/1")
    assert links.find_link(store, shop_id, "order", "gid://shopify/Order/1") is None
