"""Benchmark the job engine against huey's SqliteHuey on the same machine, in one run.

1. enqueue 100,000 sightings with 50% duplicate keys in batches of 250 (a poll page);
2. claim + finish 20,000 jobs one at a time with a no-op handler, each step committed;
3. the same two workloads on huey's ``SqliteStorage`` (enqueue; dequeue) as the baseline;
4. claim latency with 10,000 vs 1,000,000 rows in the job table, and peak RSS at 1,000,000.

Both queues always run with the same durability settings (WAL, and the same
``synchronous``). Workloads 1-3 run twice: at ``synchronous=NORMAL`` (what the console uses)
and at ``FULL`` (SQLite's and huey's default: an fsync per commit). The last line reports the
NORMAL run, the console's own setting.

Usage: python bench/engine.py [--quick]   (--quick divides every size by 10 for a smoke run)
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from huey.storage import SqliteStorage

from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.queue import Queue
from shopodoo_console.store.db import Store

SHOP = "bench.myshopify.com"
SYNC_LEVEL = {"normal": 1, "full": 2}


def huey_storage(path: Path, synchronous: str) -> SqliteStorage:
    """huey's storage with the given durability, so both pay the same per commit."""

    class Storage(SqliteStorage):
        def _create_connection(self) -> sqlite3.Connection:
            conn = super()._create_connection()
            conn.execute(f"pragma synchronous={SYNC_LEVEL[synchronous]}")
            return conn

    return Storage(filename=str(path))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sightings(unique: int, seed: int = 7) -> list[Change]:
    """Every record seen twice, in a shuffled order (overlapping polls)."""
    rng = random.Random(seed)
    order = [i for i in range(unique) for _ in range(2)]
    rng.shuffle(order)
    return [
        Change(
            f"gid://shopify/Order/{i}", "2026-11-27T10:00:00Z", label=f"#{i}", payload={"order": i}
        )
        for i in order
    ]


def bench_enqueue(folder: Path, total: int, batch: int, sync: str) -> float:
    store = Store(folder / f"enqueue-{sync}.db", synchronous=sync)
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    changes = sightings(total // 2)
    new = seen = 0
    start = time.perf_counter()
    for i in range(0, len(changes), batch):
        result = queue.enqueue(shop_id, SHOP, "orders", changes[i : i + batch])
        new += result.new
        seen += result.seen
    elapsed = time.perf_counter() - start
    assert (new, seen) == (total // 2, total // 2)
    store.close()
    return elapsed


def bench_huey_enqueue(folder: Path, total: int, sync: str) -> float:
    storage = huey_storage(folder / f"huey-enqueue-{sync}.db", sync)
    payloads = [c.source_id.encode() for c in sightings(total // 2)]
    start = time.perf_counter()
    for data in payloads:
        storage.enqueue(data)
    return time.perf_counter() - start


def fill(store: Store, queue: Queue, shop_id: int, rows: int, runnable: int) -> None:
    """``rows`` jobs of which all but ``runnable`` are finished history."""
    batch = 5000
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        queue.enqueue(shop_id, SHOP, "orders", [Change(f"r{start + i}", "v1") for i in range(n)])
    with store.atomic():
        store.execute(
            "UPDATE job SET state = 'done', finished_at = created_at WHERE id <= ?",
            (rows - runnable,),
        )


def bench_claim_finish(folder: Path, jobs: int, sync: str) -> float:
    store = Store(folder / f"claim-{sync}.db", synchronous=sync)
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    fill(store, queue, shop_id, jobs, jobs)
    start = time.perf_counter()
    for _ in range(jobs):
        job = queue.claim("bench", 60)
        assert job is not None
        queue.finish_done(job.id, "bench")
    elapsed = time.perf_counter() - start
    assert queue.counts_by_state() == {"done": jobs}
    store.close()
    return elapsed


def bench_huey_dequeue(folder: Path, jobs: int, sync: str) -> float:
    storage = huey_storage(folder / f"huey-dequeue-{sync}.db", sync)
    for i in range(jobs):
        storage.enqueue(f"job {i}".encode())
    start = time.perf_counter()
    for _ in range(jobs):
        assert storage.dequeue() is not None
    return time.perf_counter() - start


def claim_latency(folder: Path, rows: int, samples: int) -> float:
    """Median seconds per claim with ``rows`` jobs in the table (``samples`` runnable)."""
    store = Store(folder / f"latency-{rows}.db")
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    fill(store, queue, shop_id, rows, samples)
    timings = []
    for _ in range(samples):
        start = time.perf_counter()
        job = queue.claim("bench", 60)
        timings.append(time.perf_counter() - start)
        assert job is not None
        queue.finish_done(job.id, "bench")
    store.close()
    return statistics.median(timings)


def latency_in_child(folder: Path, rows: int, samples: int) -> tuple[float, float]:
    """Run :func:`claim_latency` in a fresh process so its peak RSS is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--latency", str(rows), str(samples), str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, rss = out.stdout.split()
    return float(seconds), float(rss)


@dataclass
class Ratios:
    enqueue: float
    claim_finish: float


def compare(folder: Path, total: int, batch: int, jobs: int, sync: str) -> Ratios:
    print(f"-- synchronous={sync.upper()} (both queues)")
    enq = bench_enqueue(folder, total, batch, sync)
    huey_enq = bench_huey_enqueue(folder, total, sync)
    print(
        f"   engine enqueue: {total:,} sightings ({total // 2:,} repeats) in {enq:.2f} s "
        f"= {total / enq:,.0f}/s, {total // batch} commits"
    )
    print(
        f"   huey   enqueue: {total:,} messages in {huey_enq:.2f} s = "
        f"{total / huey_enq:,.0f}/s, {total:,} commits"
    )
    cf = bench_claim_finish(folder, jobs, sync)
    huey_deq = bench_huey_dequeue(folder, jobs, sync)
    print(
        f"   engine claim+finish: {jobs:,} jobs in {cf:.2f} s = {jobs / cf:,.0f}/s "
        f"({cf / jobs * 1e6:.0f} µs per job: 2 commits, attempt row, lease, audit-ready)"
    )
    print(
        f"   huey   dequeue:      {jobs:,} jobs in {huey_deq:.2f} s = "
        f"{jobs / huey_deq:,.0f}/s ({huey_deq / jobs * 1e6:.0f} µs per job: 1 commit)"
    )
    ratios = Ratios(huey_enq / enq, huey_deq / cf)
    print(f"   ratio: enqueue x{ratios.enqueue:.2f}, claim+finish x{ratios.claim_finish:.2f}")
    return ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes / 10, for a smoke run")
    parser.add_argument("--latency", nargs=3, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.latency:
        rows, samples, folder = args.latency
        seconds = claim_latency(Path(folder), int(rows), int(samples))
        print(seconds, rss_mb())
        return 0
    scale = 10 if args.quick else 1
    total, batch, jobs = 100_000 // scale, 250, 20_000 // scale
    small, big, samples = 10_000 // scale, 1_000_000 // scale, 2_000 // scale

    with tempfile.TemporaryDirectory(prefix="shopodoo-bench-") as tmp:
        folder = Path(tmp)
        full = compare(folder, total, batch, jobs, "full")
        normal = compare(folder, total, batch, jobs, "normal")
        lat_small = claim_latency(folder, small, samples)
        print(f"claim latency at {small:,} rows: {lat_small * 1e6:.0f} µs (median)")
        lat_big = claim_latency(folder, big, samples)
        rss = rss_mb()
        print(
            f"claim latency at {big:,} rows: {lat_big * 1e6:.0f} µs (median); peak RSS {rss:.0f} MB"
        )
    print(f"at FULL: enqueue x{full.enqueue:.2f}, claim+finish x{full.claim_finish:.2f}")
    c = lat_big / lat_small
    print(
        f"engine vs huey: enqueue x{normal.enqueue:.2f}, claim+finish "
        f"x{normal.claim_finish:.2f}; claim latency 1M/10k x{c:.2f}; peak RSS {rss:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
