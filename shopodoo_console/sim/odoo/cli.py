"""``python -m shopodoo_console.sim.odoo``: serve a simulated Odoo until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from .faults import FaultRule
from .scenario import default_scenario
from .server import VERSIONS, OdooSimulator


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shopodoo sim odoo", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only)")
    p.add_argument("--port", type=int, default=8069, help="0 picks a free port")
    p.add_argument("--version", type=int, choices=VERSIONS, default=19, dest="odoo_version")
    p.add_argument("--scenario", type=Path, help="a scenario JSON file (default: built-in)")
    p.add_argument("--seed", type=int, default=7, help="seed of the built-in scenario")
    p.add_argument("--products", type=int, default=40)
    p.add_argument("--sku-format", default="SKU-{n:04d}")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every call")
    p.add_argument("--rpc-disabled", action="store_true", help="404 on /jsonrpc (19+)")
    p.add_argument("--json", action="store_true", help="print the connection details as JSON")
    return p


def main(argv: list[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Start the simulator, print how to connect, serve until Ctrl-C (or ``stop`` is set)."""
    args = build_parser().parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("refusing to bind a non-loopback address")
        return 2
    scenario = (
        json.loads(args.scenario.read_text())
        if args.scenario
        else default_scenario(seed=args.seed, products=args.products, sku_format=args.sku_format)
    )
    sim = OdooSimulator(
        args.odoo_version, scenario, host=args.host, port=args.port, rpc_disabled=args.rpc_disabled
    )
    if args.latency_ms:
        sim.faults.add(FaultRule(kind="latency", delay=args.latency_ms / 1000, times=None))
    sim.start()
    info = {
        "url": sim.url,
        "database": sim.database,
        "login": sim.login,
        "api_key": sim.api_key,
        "version": f"{sim.version}.0",
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        for key, value in info.items():
            print(f"{key:9} {value}", flush=True)
        print("serving; Ctrl-C to stop", flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
