"""A thousand variants: a full resync, then a rewind — every level right, nothing set twice.

Over real HTTP on Odoo 17 (JSON-RPC) and 19 (JSON-2), with the engine's workers running the
batches; the shop is on the Plus plan so the test does not wait on the bucket (pacing is the
benchmark's business, bench/stock_sync.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stock_support import MAIN, OUTLET, StockConsole, open_console

from shopodoo_console.engine.poller import Poller
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store import stock as store_stock
from shopodoo_console.ui.stock import duration, progress_line
from shopodoo_console.workflows.stock.resync import Resync

CODES = {MAIN: "BER", OUTLET: "LYO"}


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def big(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StockConsole]:
    shopify, odoo = build_scenarios(seed=11, orders=0, customers=3, products=500)
    with World(shopify, odoo, odoo_version=request.param, plan="plus") as world:
        c = open_console(world, tmp_path / "home", workers=4)
        yield c
        c.close()


def _resync(c: StockConsole) -> Resync:
    shop = next(iter(c.engine.shops.values()))
    flow = c.engine.flows.get("stock")
    connections = flow.connections  # type: ignore[union-attr]
    assert shop.config is not None
    return Resync(
        c.store,
        c.engine.queue,
        shop,
        connections.shopify(shop.config),
        connections.odoo(),
        company_id=shop.config.odoo_company_id,
    )


def _wrong(world: World) -> list[str]:
    """Levels at the mapped locations that differ from Odoo's free quantity."""
    store = world.shopify.store
    free: dict[tuple[int, str], float] = {}
    for quant in world.odoo.env["stock.quant"].search_read(
        [], ["product_id", "location_id", "quantity", "reserved_quantity"]
    ):
        code = quant["location_id"][1].split("/")[0]
        key = (quant["product_id"][0], code)
        free[key] = free.get(key, 0.0) + quant["quantity"] - quant["reserved_quantity"]
    products = {
        p["default_code"]: p["id"]
        for p in world.odoo.env["product.product"].search_read([], ["default_code"])
    }
    skus = Counter(store.nodes[v].get("sku") for v in store.variants)
    wrong = []
    for variant_id in store.variants:
        variant = store.nodes[variant_id]
        sku, item = variant.get("sku"), store.nodes[variant["_item"]]
        if not sku or skus[sku] > 1 or sku not in products or not item["tracked"]:
            continue
        if store.nodes[variant["_product"]].get("status") == "ARCHIVED":
            continue
        for name, code in CODES.items():
            level = store.levels.get((item["id"], store.location(name)["id"]))
            if level is None or not level["isActive"]:
                continue
            want = max(0, int(free.get((products[sku], code), 0.0)))
            if level["_q"]["available"] != want:
                wrong.append(f"{sku}@{name}: {level['_q']['available']} != {want}")
    return wrong


def _set_counts(world: World) -> Counter[tuple[str, str]]:
    return Counter((a["item"], a["location"]) for a in world.shopify.control.adjustments())


def test_a_thousand_variants_resynced_then_rewound_every_level_right_none_set_twice(
    big: StockConsole,
) -> None:
    c, world = big, big.world
    assert len(world.shopify.store.variants) >= 1000
    assert _wrong(world)  # the scenario drifted: there is work to do
    resync = _resync(c)
    seen: list[store_stock.ResyncProgress] = []
    row = resync.list_variants(on_page=seen.append)
    assert row.state == "working" and row.variants == len(world.shopify.store.variants)
    assert seen and seen[0].total == row.variants  # the bar knows its size from page one
    c.engine.runner.drain()
    final = resync.follow(seen.append)
    assert final is not None and final.done and final.fraction == 1.0
    assert _wrong(world) == []
    first = _set_counts(world)
    assert first and set(first.values()) == {1}

    # Ten products change in Odoo; then the cursor is rewound over everything.
    changed = [p["sku"] for p in world.odoo_scenario["products"][3:13]]
    for n, sku in enumerate(changed):
        world.odoo.control.set_stock(sku, "BER", n)
    when = datetime.now(UTC) - timedelta(hours=2)
    Poller(c.engine.queue).set_position(c.shop_id, "stock", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    summary = c.sync()
    assert summary.polls[0].new >= 990  # every product read again at its poll version
    assert _wrong(world) == []
    second = _set_counts(world)
    new_writes = second - first
    assert set(second.values()) == {1} or all(second[k] == first[k] + new_writes[k] for k in second)
    changed_items = {
        world.shopify.store.variants_by_sku(sku)[0]["_item"]
        for sku in changed
        if world.shopify.store.variants_by_sku(sku)
    }
    # Only the changed products' levels were written again, once each.
    assert {item for item, _ in new_writes} <= changed_items
    assert len(new_writes) >= 8 and set(new_writes.values()) == {1}
    outcomes = Counter(
        r[0]
        for r in c.store.execute(
            "SELECT result FROM job WHERE flow = 'stock' AND state = 'skipped' "
            "AND source_version NOT LIKE '%resync%'"
        )
    )
    in_step = sum(n for text, n in outcomes.items() if text.startswith("In step"))
    assert in_step >= 900  # read, found right, not written

    # A second rewind: the links are in step at these very versions — no job at all.
    jobs_before = c.store.execute("SELECT count(*) FROM job").fetchone()[0]
    Poller(c.engine.queue).set_position(c.shop_id, "stock", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    again = c.sync()
    linked = c.store.execute("SELECT count(*) FROM link WHERE kind = 'stock'").fetchone()[0]
    assert linked >= 990
    assert again.polls[0].new == 0
    assert c.store.execute("SELECT count(*) FROM job").fetchone()[0] == jobs_before
    assert _set_counts(world) == second


def test_progress_line_shows_bar_counts_pace_and_eta() -> None:
    row = store_stock.ResyncRow(1, 1, "working", "v", None, 1000, 1000, 600, 400, 0.0, 1.0, None)
    progress = store_stock.ResyncProgress(
        row, total=1000, finished=420, waiting=580, problems=2, states={}, rate=3.0, eta=192.0
    )
    line = progress_line("demo.myshopify.com", progress)
    assert "42%" in line and "420/1000 variants" in line
    assert "180/min" in line and "ETA 3m12s" in line and "2 need you" in line
    ended = store_stock.ResyncProgress(
        store_stock.ResyncRow(1, 1, "done", "v", None, 10, 10, 6, 4, 0.0, 1.0, 2.0),
        total=10,
        finished=8,
        waiting=0,
        problems=2,
        states={},
        rate=None,
        eta=None,
    )
    assert progress_line("s", ended).endswith(
        "2 need you (Queue: awaiting approval or failed) · the rest waits for you"
    )
    assert line.count("█") == round(0.42 * 28)
    assert duration(59) == "59s" and duration(3725) == "1h02m"
