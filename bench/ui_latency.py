"""Console latency while the engine works, and opening the queue on a million jobs.

1. A headless console over the real engine working through 2,000 demo orders (``workload``:
   the orders flow against both simulators, Odoo answering 20 ms late). On the Queue screen,
   200 key presses (j/k: cursor down/up) are sent as the terminal driver sends them; each
   latency runs from the key event to the first frame the app hands to its driver that shows
   the moved cursor.
2. A database with 1,000,000 jobs (inserted with one SQL statement): from pressing ``2`` on
   the dashboard to the first frame showing the queue's first page; three fresh consoles.

Usage: python bench/ui_latency.py [--quick]   (--quick: 500 jobs, 50 presses, 100k rows)
Last line: ``ui latency: p50 A ms, p95 B ms, queue open at 1M jobs C ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import events

from shopodoo_console import demo
from shopodoo_console.config import Config, EngineConfig, Paths, ShopConfig
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import FlowRegistry
from shopodoo_console.launch import build_engine
from shopodoo_console.sim.world import World, build_scenarios
from shopodoo_console.store.db import Store
from shopodoo_console.ui.app import ShopodooApp
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.widgets.tables import NavTable

SHOP = "bench.myshopify.com"
SIZE = (140, 40)


# ---------------------------------------------------------------- the workload: the demo


@dataclass
class Workload:
    store: Store
    engine: Engine
    config: Config
    total: int
    world: World

    def finished(self) -> int:
        row = self.store.execute(
            "SELECT count(*) FROM job WHERE state IN ('done', 'skipped', 'needs_attention')"
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.engine.stop(timeout=5)
        self.store.close()
        self.world.stop()


def workload(folder: Path, jobs: int) -> Workload:
    """The demo's world with ``jobs`` orders: the real orders flow against both simulators
    (Shopify standard plan, Odoo answering 20 ms late), as `shopodoo demo` runs it."""
    shopify, odoo = build_scenarios(orders=jobs, unmapped_skus=demo.DEMO_UNMAPPED)
    world = World(shopify, odoo).start()
    world.odoo.faults.add(kind="latency", delay=0.02, times=None)
    facts = world.facts()
    paths = demo.demo_home(folder / "home")
    config = demo.write_config(paths, facts, options=demo.DEMO_OPTIONS, engine={"workers": 4})
    engine, store, _ = build_engine(paths, config, secret_source=demo.secret_source(facts))
    demo.seed_mappings(engine.queue, next(iter(engine.shops)), facts)
    return Workload(store, engine, config, jobs, world)


# ---------------------------------------------------------------- frame timing


class FrameClock:
    """Wraps ``App._display`` (called with every frame, headless or not) to time frames."""

    def __init__(self, app: ShopodooApp) -> None:
        self.waiting: tuple[Callable[[], bool], asyncio.Future[float]] | None = None
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and self.waiting is not None:
                condition, future = self.waiting
                if condition() and not future.done():
                    future.set_result(time.perf_counter())
                    self.waiting = None
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    async def next_frame(self, condition: Callable[[], bool], timeout: float = 10.0) -> float:
        """The time of the first frame drawn once ``condition`` holds."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting = (condition, future)
        return await asyncio.wait_for(future, timeout)


def send_key(app: ShopodooApp, key: str) -> None:
    """What the terminal driver does with a key press (post a Key event to the app)."""
    app.post_message(events.Key(key, key if len(key) == 1 else None))


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------- 1. key press latency


async def press_latencies(load: Workload, presses: int) -> tuple[list[float], int, int]:
    app = ShopodooApp(
        engine=load.engine, store=load.store, config=load.config, paths=Paths.discover()
    )
    frames = FrameClock(app)
    latencies: list[float] = []
    async with app.run_test(headless=True, size=SIZE):
        load.engine.start()
        await wait_until(lambda: isinstance(app.screen, DashboardScreen))
        send_key(app, "2")
        await wait_until(lambda: isinstance(app.screen, QueueScreen) and app.screen.loads > 0)
        table = app.screen.query_one("#jobs", NavTable)
        await wait_until(lambda: table.row_count > 20)
        # Measure while the engine is really working: once the first orders are through.
        deadline = time.monotonic() + 120
        while await asyncio.to_thread(_finished, load) < 25 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        finished_before = await asyncio.to_thread(_finished, load)
        for i in range(presses):
            key = "j" if (i // 10) % 2 == 0 else "k"  # ten down, ten up
            expected = table.cursor_row + (1 if key == "j" else -1)
            start = time.perf_counter()
            send_key(app, key)
            shown = await frames.next_frame(lambda e=expected: table.cursor_row == e)
            latencies.append((shown - start) * 1000)
            await asyncio.sleep(0.12)  # spread over ~30 s of the engine's work
        finished_after = await asyncio.to_thread(_finished, load)
        await asyncio.to_thread(load.engine.stop)
    return latencies, finished_before, finished_after


def _finished(load: Workload) -> int:
    with load.store.thread_connection():
        return load.finished()


# ---------------------------------------------------------------- 2. queue open at 1M


def fill_million(path: Path, rows: int) -> None:
    """``rows`` finished jobs (one in 500 needing attention), in one INSERT ... SELECT."""
    store = Store(path)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    store.close()
    now = time.time()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?) "
        "INSERT INTO job (key, shop_id, flow, source_id, source_version, label, payload, state, "
        "attempts, next_run_at, created_at, last_seen_at, updated_at, finished_at, cause_code) "
        "SELECT ? || ':orders:gid://shopify/Order/' || n || ':v1', ?, 'orders', "
        "'gid://shopify/Order/' || n, 'v1', 'Shopify order #' || n, '{}', "
        "CASE WHEN n % 500 = 0 THEN 'needs_attention' ELSE 'done' END, 1, "
        "?1 - (?2 - n), ?1 - (?2 - n), ?1 - (?2 - n), ?1 - (?2 - n), ?1 - (?2 - n), "
        "CASE WHEN n % 500 = 0 THEN 'mapping.product_missing' END FROM seq".replace(
            "?1", str(now)
        ).replace("?2", str(rows)),
        (rows, SHOP, shop_id),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def queue_open_ms(path: Path) -> float:
    store = Store(path)
    shop = ShopConfig(domain=SHOP, flows={"orders": "auto"})
    config = Config(path.parent / "config.toml", None, (shop,), EngineConfig())
    engine = Engine(store, config, FlowRegistry())  # nothing to poll: the queue is the point
    app = ShopodooApp(engine=engine, store=store, config=config, paths=Paths.discover())
    frames = FrameClock(app)
    async with app.run_test(headless=True, size=SIZE):
        await wait_until(
            lambda: isinstance(app.screen, DashboardScreen) and app.screen.loads > 0, timeout=60
        )
        start = time.perf_counter()
        send_key(app, "2")

        def queue_shown() -> bool:
            screen = app.screen
            return (
                isinstance(screen, QueueScreen)
                and screen.query_one("#jobs", NavTable).row_count > 0
            )

        shown = await frames.next_frame(queue_shown, timeout=30)
    store.close()
    return (shown - start) * 1000


# ---------------------------------------------------------------- main


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller smoke run")
    args = parser.parse_args()
    jobs, presses, rows = (500, 50, 100_000) if args.quick else (2_000, 200, 1_000_000)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="shopodoo-ui-bench-") as tmp:
        folder = Path(tmp)
        os.environ["SHOPODOO_HOME"] = str(folder / "home")
        load = workload(folder, jobs)
        latencies, before, after = asyncio.run(press_latencies(load, presses))
        load.close()
        p50, p95 = statistics.median(latencies), percentile(latencies, 95)
        print(
            f"{presses} presses while the engine finished jobs {before} → {after} of {jobs}; "
            f"max {max(latencies):.1f} ms"
        )
        started = time.perf_counter()
        big = folder / "million.db"
        fill_million(big, rows)
        print(f"{rows:,} jobs inserted in {time.perf_counter() - started:.1f} s")
        opens = [asyncio.run(queue_open_ms(big)) for _ in range(3)]
        print("queue open: " + ", ".join(f"{o:.0f} ms" for o in opens))
    label = "1M" if rows == 1_000_000 else f"{rows // 1000}k"
    print(
        f"ui latency: p50 {p50:.0f} ms, p95 {p95:.0f} ms, queue open at {label} jobs "
        f"{statistics.median(opens):.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
