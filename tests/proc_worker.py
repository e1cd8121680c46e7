"""A worker in its own OS process, for the multi-process and crash tests.

usage: proc_worker.py DB LOG MODE [GO_FILE]
  MODE drain: wait for GO_FILE to exist (so both processes start together), then work the
              queue until nothing is runnable.
  MODE hold:  claim and start jobs whose handler never returns (the test kills us).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from support import ScriptedFlow

from shopodoo_console.engine.flows import FlowRegistry
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.runner import Runner
from shopodoo_console.store.db import Store


def main() -> int:
    db, log, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    store = Store(db)
    flow = ScriptedFlow(log_file=log, work_seconds=0.002 if mode == "drain" else 0.0)
    if mode == "hold":
        flow.on_handle = lambda ctx: time.sleep(3600)
    runner = Runner(
        Queue(store),
        FlowRegistry([flow]),
        {},
        workers=2 if mode == "drain" else 1,
        lease_seconds=5 if mode == "drain" else 1,
    )
    if mode == "drain":
        go = Path(sys.argv[4])
        deadline = time.monotonic() + 30
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        runner.drain()
    else:
        runner.drain()
    return 0


if __name__ == "__main__":
    sys.exit(main())
