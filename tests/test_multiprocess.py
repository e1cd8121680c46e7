"""Real OS processes sharing one database: exactly-once claiming, and kill -9 recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from support import SHOP, changes, open_store

from shopodoo_console.engine.queue import Queue

HERE = Path(__file__).parent


def spawn(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "proc_worker.py"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float = 30.0) -> bool:
    """Wait on a condition (never a fixed sleep): poll it until true or timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def lines(log: Path) -> list[tuple[str, int, int]]:
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        what, job_id, pid = line.split()
        out.append((what, int(job_id), int(pid)))
    return out


def test_two_processes_claim_each_job_exactly_once(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    for start in range(0, 600, 200):
        queue.enqueue(shop_id, SHOP, "test", changes(200, start=start))
    log, go = tmp_path / "work.log", tmp_path / "go"
    procs = [spawn(str(tmp_path / "shopodoo.db"), str(log), "drain", str(go)) for _ in range(2)]
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    done = [(job_id, pid) for what, job_id, pid in lines(log) if what == "done"]
    per_job = Counter(job_id for job_id, _ in done)
    assert len(per_job) == 600 and set(per_job.values()) == {1}
    assert len({pid for _, pid in done}) == 2  # both processes really took part
    assert queue.counts_by_state() == {"done": 600}
    assert store.execute("SELECT max(attempts) FROM job").fetchone()[0] == 1
    store.close()


def test_kill_9_mid_job_then_lease_expiry_runs_it_again_once(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    queue.enqueue(shop_id, SHOP, "test", changes(3))
    log = tmp_path / "work.log"
    holder = spawn(str(tmp_path / "shopodoo.db"), str(log), "hold")
    assert wait_for(lambda: any(w == "start" for w, _, _ in lines(log)))
    ((_, victim, pid),) = [entry for entry in lines(log) if entry[0] == "start"]
    assert pid == holder.pid
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    assert queue.counts_by_state() == {"running": 1, "queued": 2}
    # Housekeeping returns the job once the dead worker's 1 s lease has run out.
    assert wait_for(lambda: queue.expire_leases() == 1, timeout=10)
    assert queue.counts_by_state() == {"queued": 3}
    second = spawn(str(tmp_path / "shopodoo.db"), str(log), "drain", str(tmp_path))
    _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err.decode()
    entries = lines(log)
    assert [w for w, j, _ in entries if j == victim] == ["start", "start", "done"]
    assert Counter(j for w, j, _ in entries if w == "done") == Counter(
        {j: 1 for j in {j for _, j, _ in entries}}
    )
    assert queue.counts_by_state() == {"done": 3}
    outcomes = store.execute(
        "SELECT outcome FROM attempt WHERE job_id = ? ORDER BY id", (victim,)
    ).fetchall()
    assert [o[0] for o in outcomes] == ["lost", "done"]
    assert (
        store.execute("SELECT count(*) FROM audit WHERE event = 'lease_expired'").fetchone()[0] == 1
    )
    store.close()
