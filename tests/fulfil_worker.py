"""A console in its own OS process that polls the fulfillments stream once and works the
queue, for the two-process test.

usage: fulfil_worker.py HOME FACTS_JSON RENDEZVOUS_DIR PEERS
  Polls, then waits until PEERS processes have polled (a file each in RENDEZVOUS_DIR), so
  every process has seen the same deliveries before any of them works the queue; then drains.
  Prints what its poll found as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from orders_support import fast_policy

from shopodoo_console import demo
from shopodoo_console.config import load_config
from shopodoo_console.engine.core import Engine
from shopodoo_console.store.db import Store
from shopodoo_console.workflows import build_flows


def main() -> int:
    home, facts_file, rendezvous, peers = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        Path(sys.argv[3]),
        int(sys.argv[4]),
    )
    facts = json.loads(facts_file.read_text())
    paths = demo.demo_home(home)
    config = load_config(paths.config_file)
    store = Store(paths.database_file)
    flows = build_flows(config, store, secret_source=demo.secret_source(facts))
    engine = Engine(store, config, flows, policy=fast_policy())
    shop = next(iter(engine.shops.values()))
    flow = flows.get("fulfillments")
    assert flow is not None
    polled = engine.poller.poll(shop, flow)
    (rendezvous / f"polled-{id(engine)}-{time.monotonic_ns()}").touch()
    deadline = time.monotonic() + 60
    while len(list(rendezvous.iterdir())) < peers and time.monotonic() < deadline:
        time.sleep(0.01)
    drained = engine.runner.drain()
    engine.close_flows()
    store.close()
    print(json.dumps({"new": polled.new, "seen": polled.seen, "claimed": drained.claimed}))
    return 0 if polled.ok else 1


if __name__ == "__main__":
    sys.exit(main())
