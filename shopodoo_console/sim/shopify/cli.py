"""``python -m shopodoo_console.sim.shopify``: serve a simulated shop until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence

from .cost import PLANS
from .scenario import generate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shopodoo_console.sim.shopify",
        description="Run a simulated Shopify Admin GraphQL API on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--orders", type=int, default=200, help="orders in the generated shop")
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--products", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated shop")
    parser.add_argument("--plan", choices=sorted(PLANS), default="standard")
    parser.add_argument("--scenario", help="a scenario JSON file instead of a generated shop")
    parser.add_argument("--token-ttl", type=float, default=86399.0)
    parser.add_argument("--json", action="store_true", help="print connection details as JSON")
    args = parser.parse_args(argv)

    from .server import ShopifySimulator

    if args.scenario:
        with open(args.scenario, encoding="utf-8") as handle:
            scenario = json.load(handle)
    else:
        scenario = generate(
            seed=args.seed, orders=args.orders, customers=args.customers, products=args.products
        )
    sim = ShopifySimulator(scenario, plan=args.plan, port=args.port, token_ttl=args.token_ttl)
    sim.start()
    info = sim.info()
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"Shopify simulator for {info['domain']} ({args.plan} plan)", flush=True)
        print(f"base URL:      {info['base_url']}", flush=True)
        print(f"GraphQL:       {info['graphql_url']}", flush=True)
        print(f"static token:  {info['static_token']}", flush=True)
        print(f"client id:     {info['client_id']}", flush=True)
        print(f"client secret: {info['client_secret']}", flush=True)
        print("control:       POST /_sim/control/<method>, GET /_sim/counters", flush=True)
        print("Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
