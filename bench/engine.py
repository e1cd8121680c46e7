"""Benchmark the job engine against huey's SqliteHuey on the same machine, in one run.

Like with like, at the console's own durability and with the batch sizes it really uses
(issue 9's decision):

1. enqueue 100,000 sightings with 50% duplicate keys, a poll page (250, Shopify's page size)
   per transaction, as the poller does;
2. claim + finish 20,000 jobs with a no-op handler the way the runner does: the most urgent
   job and the rest of its flow's batch (25, the orders flow's batch) claimed in one
   transaction, the batch's outcomes recorded in one transaction (attempt rows, fenced);
3. the same two workloads on huey's ``SqliteStorage`` as the baseline (it commits one
   message at a time: that is its design, as claiming a batch at once is ours);
4. claim latency (one claim) with 10,000 vs 1,000,000 rows in the job table, and peak RSS.

Both queues run in WAL mode with the same ``synchronous``. The comparison that counts is at
``NORMAL`` — the console's setting: a power loss may drop the last commits but never
corrupts, and jobs are re-derived from the source systems. The ``FULL`` table (an fsync per
commit) is printed for information. The last line reports the NORMAL run.

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
from typing import Any

from huey.storage import SqliteStorage

from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.queue import Finish, Queue
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


class EngineEnqueue:
    """The poller's path: one poll page (``batch`` sightings) per transaction."""

    def __init__(self, folder: Path, total: int, batch: int, sync: str) -> None:
        self.store = Store(folder / f"enqueue-{sync}.db", synchronous=sync)
        self.queue = Queue(self.store)
        self.shop_id = self.store.sync_shop(SHOP, api_version="2026-07")
        self.changes = sightings(total // 2)
        self.batch = batch
        self.done = 0
        self.new = self.seen = 0

    def run(self, count: int) -> float:
        part = self.changes[self.done : self.done + count]
        self.done += count
        start = time.perf_counter()
        for i in range(0, len(part), self.batch):
            result = self.queue.enqueue(self.shop_id, SHOP, "orders", part[i : i + self.batch])
            self.new += result.new
            self.seen += result.seen
        return time.perf_counter() - start

    def close(self) -> None:
        total = len(self.changes)
        assert (self.new, self.seen) == (total // 2, total // 2), (self.new, self.seen)
        self.store.close()


class HueyEnqueue:
    def __init__(self, folder: Path, total: int, sync: str) -> None:
        self.storage = huey_storage(folder / f"huey-enqueue-{sync}.db", sync)
        self.payloads = [c.source_id.encode() for c in sightings(total // 2)]
        self.done = 0

    def run(self, count: int) -> float:
        part = self.payloads[self.done : self.done + count]
        self.done += count
        start = time.perf_counter()
        for data in part:
            self.storage.enqueue(data)
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


class EngineClaimFinish:
    """The runner's path: claim a flow's batch in one transaction (the most urgent job and
    the rest of its flow's batch), record the batch's outcomes in one transaction."""

    def __init__(self, folder: Path, jobs: int, batch: int, sync: str) -> None:
        self.store = Store(folder / f"claim-{sync}.db", synchronous=sync)
        self.queue = Queue(self.store)
        self.shop_id = self.store.sync_shop(SHOP, api_version="2026-07")
        fill(self.store, self.queue, self.shop_id, jobs, jobs)
        self.jobs = jobs
        self.batch = batch

    def run(self, count: int) -> float:
        done = Finish.done()
        start = time.perf_counter()
        for _ in range(0, count, self.batch):
            claimed = self.queue.claim_next(
                "bench",
                60,
                flows=["orders"],
                shop_ids=[self.shop_id],
                batch_size=lambda _: self.batch,
            )
            assert claimed
            self.queue.finish_many([(job.claim, done) for job in claimed])
        return time.perf_counter() - start

    def close(self) -> None:
        assert self.queue.counts_by_state() == {"done": self.jobs}
        self.store.close()


class HueyDequeue:
    def __init__(self, folder: Path, jobs: int, sync: str) -> None:
        self.storage = huey_storage(folder / f"huey-dequeue-{sync}.db", sync)
        for i in range(jobs):
            self.storage.enqueue(f"job {i}".encode())

    def run(self, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            assert self.storage.dequeue() is not None
        return time.perf_counter() - start


def interleaved(engine: Any, huey: Any, total: int, rounds: int) -> tuple[float, float, float]:
    """Run both workloads in alternating slices; return (engine s, huey s, median of the
    per-slice ratios). On a machine others share, load that comes and goes then hits both
    queues alike, and one unlucky slice cannot decide the ratio."""
    engine_s = huey_s = 0.0
    ratios = []
    for r in range(rounds):
        count = total // rounds if r < rounds - 1 else total - (rounds - 1) * (total // rounds)
        e = engine.run(count)
        h = huey.run(count)
        engine_s += e
        huey_s += h
        ratios.append(h / e)
    return engine_s, huey_s, statistics.median(ratios)


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
        queue.finish_done(job.claim)
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


ROUNDS = 10


def compare(folder: Path, total: int, batch: int, jobs: int, flow_batch: int, sync: str) -> Ratios:
    print(f"-- synchronous={sync.upper()} (both queues, WAL; {ROUNDS} alternating slices each)")
    engine_enqueue = EngineEnqueue(folder, total, batch, sync)
    enq, huey_enq, enqueue_ratio = interleaved(
        engine_enqueue, HueyEnqueue(folder, total, sync), total, ROUNDS
    )
    engine_enqueue.close()
    print(
        f"   engine enqueue: {total:,} sightings ({total // 2:,} repeats) in {enq:.2f} s "
        f"= {total / enq:,.0f}/s, {total // batch} commits (a poll page of {batch} each)"
    )
    print(
        f"   huey   enqueue: {total:,} messages in {huey_enq:.2f} s = "
        f"{total / huey_enq:,.0f}/s, {total:,} commits"
    )
    engine_claims = EngineClaimFinish(folder, jobs, flow_batch, sync)
    cf, huey_deq, claim_ratio = interleaved(
        engine_claims, HueyDequeue(folder, jobs, sync), jobs, ROUNDS
    )
    engine_claims.close()
    print(
        f"   engine claim+finish: {jobs:,} jobs in {cf:.2f} s = {jobs / cf:,.0f}/s "
        f"({cf / jobs * 1e6:.0f} µs per job: batches of {flow_batch}, 2 commits per batch, "
        "fenced lease, attempt row)"
    )
    print(
        f"   huey   dequeue:      {jobs:,} jobs in {huey_deq:.2f} s = "
        f"{jobs / huey_deq:,.0f}/s ({huey_deq / jobs * 1e6:.0f} µs per job: 1 commit)"
    )
    ratios = Ratios(enqueue_ratio, claim_ratio)
    print(
        f"   ratio (median of the slices): enqueue x{ratios.enqueue:.2f}, "
        f"claim+finish x{ratios.claim_finish:.2f}"
    )
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
    total, batch, jobs, flow_batch = 100_000 // scale, 250, 20_000 // scale, 25
    small, big, samples = 10_000 // scale, 1_000_000 // scale, 2_000 // scale

    with tempfile.TemporaryDirectory(prefix="shopodoo-bench-") as tmp:
        folder = Path(tmp)
        full = compare(folder, total, batch, jobs, flow_batch, "full")
        normal = compare(folder, total, batch, jobs, flow_batch, "normal")
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
