"""``shopodoo stock resync|locations``: the stock flow from the command line.

``stock locations`` lists every Shopify location with its mapping, or the Odoo stock
locations suggested for it (by address first: names rarely agree), and the command to map it.

``stock resync [--shop S]`` brings every level in step, with a progress bar. It takes the
scheduler lease (like ``sync --once``), lists the shop's variants and lets the engine's
workers run the jobs, paced by the Shopify budget, printing a progress bar and an ETA.
Killed, it is simply run again: the resync resumes where it stopped and nothing is set
twice. ``--cancel`` stops a running resync (its queued jobs are cancelled).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from shopodoo_console.config import Config, Paths, load_config
from shopodoo_console.engine.core import LeaseHeld
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.engine.lease import LeaseKeeper
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.store.stock import ResyncProgress
from shopodoo_console.ui.stock import progress_line

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2


class _Printer:
    """One line redrawn in place on a terminal; a line every few seconds otherwise."""

    def __init__(self, out: TextIO, domain: str) -> None:
        self.out = out
        self.domain = domain
        self.tty = out.isatty()
        self.last = 0.0

    def __call__(self, progress: ResyncProgress) -> None:
        line = progress_line(self.domain, progress)
        if self.tty:
            self.out.write("\r\x1b[2K" + line)
            self.out.flush()
        elif time.monotonic() - self.last >= 5 or progress.done:
            self.last = time.monotonic()
            self.out.write(line + "\n")
            self.out.flush()

    def end(self) -> None:
        if self.tty:
            self.out.write("\n")


def cmd_stock_locations(args: argparse.Namespace, paths: Paths) -> int:
    import json

    from shopodoo_console.causes import CauseError
    from shopodoo_console.launch import build_engine
    from shopodoo_console.workflows.stock.locations import mapped_locations, read_location_rows

    config: Config = load_config(paths.config_file)
    shops = [s for s in config.shops if args.shop in (None, s.domain)]
    if not shops:
        print(f"shopodoo: no shop {args.shop!r} in {paths.config_file}", file=sys.stderr)
        return EXIT_USAGE
    _, store, connections = build_engine(paths, config)
    out: list[dict[str, object]] = []
    try:
        for shop in shops:
            shop_id = store.shop_id(shop.domain)
            assert shop_id is not None
            client, odoo = connections.shopify(shop), connections.odoo()

            def every(client: ShopifyClient = client) -> list[dict[str, Any]]:
                return client.locations(include_inactive=True, include_legacy=True)

            rows = read_location_rows(
                every,
                odoo.stock_layout,
                mapped_locations(store, shop_id),
                shop.odoo_company_id,
            )
            out += [_location_json(shop.domain, r) for r in rows]
    except CauseError as exc:
        print(f"shopodoo: {exc.cause.missing}. {exc.cause.fix}".strip(), file=sys.stderr)
        return EXIT_ATTENTION
    finally:
        connections.close()
        store.close()
    unmapped = any(r["mapped"] is None and r["active"] for r in out)
    if args.json:
        print(json.dumps({"version": 1, "locations": out}, indent=2, sort_keys=True))
    else:
        for row in out:
            _print_location(row)
    return EXIT_ATTENTION if unmapped else EXIT_OK


def _location_json(domain: str, row: object) -> dict[str, object]:
    from shopodoo_console.workflows.stock.locations import LocationRow

    assert isinstance(row, LocationRow)
    loc = row.location
    return {
        "shop": domain,
        "id": loc.id,
        "name": loc.name,
        "active": loc.active,
        "fulfillment_service": loc.fulfillment_service,
        "address": loc.place,
        "mapped": None
        if row.mapped is None
        else {"odoo_location_id": row.mapped.odoo_location_id, "label": row.mapped.label},
        "suggestions": [
            {"odoo_location_id": s.odoo_location_id, "label": s.label, "why": s.why}
            for s in row.suggestions
        ],
    }


def _print_location(row: dict[str, object]) -> None:
    flags = [] if row["active"] else ["inactive"]
    if row["fulfillment_service"]:
        flags.append("fulfillment service: its stock is the service's")
    extra = f" ({'; '.join(flags)})" if flags else ""
    print(f"{row['name']}{extra} — {row['address'] or 'no address'} — {row['id']}")
    mapped = row["mapped"]
    if isinstance(mapped, dict):
        print(f"    mapped → Odoo {mapped['label']} (stock.location {mapped['odoo_location_id']})")
        return
    print("    not mapped: its levels are left as they are")
    suggestions = row["suggestions"]
    assert isinstance(suggestions, list)
    for s in suggestions:
        print(f"    suggested: {s['odoo_location_id']}  {s['label']}  ({s['why']})")
    if suggestions:
        first = suggestions[0]["odoo_location_id"]
        print(f"    → shopodoo mappings set {row['shop']} location {row['id']} {first}")


def cmd_stock_resync(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.launch import build_engine
    from shopodoo_console.workflows.stock.resync import Resync

    config: Config = load_config(paths.config_file)
    shops = [s for s in config.shops if args.shop in (None, s.domain)]
    if not shops:
        print(f"shopodoo: no shop {args.shop!r} in {paths.config_file}", file=sys.stderr)
        return EXIT_USAGE
    off = [s.domain for s in shops if s.mode("stock") == "off"]
    if off and not args.cancel:
        print(
            f"shopodoo: the stock flow is off for {', '.join(off)}: set [shops.flows] "
            'stock = "on" (or "review") in the config first',
            file=sys.stderr,
        )
        return EXIT_USAGE
    engine, store, connections = build_engine(paths, config)
    holder = engine.lease.acquire()
    if holder is not None:
        print(
            f"shopodoo: {LeaseHeld(holder)} Start the resync from that console "
            "(Dashboard › Resync stock), or stop it first.",
            file=sys.stderr,
        )
        return EXIT_ATTENTION
    problems = 0
    try:
        with LeaseKeeper(engine.lease):
            engine.queue.expire_leases()
            engine.runner.start()
            try:
                for shop in shops:
                    ref = next(r for r in engine.shops.values() if r.domain == shop.domain)
                    resync = Resync(
                        store,
                        engine.queue,
                        ref,
                        connections.shopify(shop),
                        connections.odoo(),
                        company_id=shop.odoo_company_id,
                    )
                    problems += _one(resync, ref, args.cancel)
            finally:
                engine.runner.stop()
    finally:
        engine.lease.release()
        engine.close_flows()
        store.close()
    return EXIT_ATTENTION if problems else EXIT_OK


def _one(resync: object, shop: ShopRef, cancel: bool) -> int:
    from shopodoo_console.workflows.stock.resync import Resync

    assert isinstance(resync, Resync)
    if cancel:
        cancelled = resync.cancel()
        print(f"{shop.domain}: resync cancelled ({cancelled} queued job(s) cancelled).")
        return 0
    row, new = resync.start()
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(row.started_at))
    print(
        f"{shop.domain}: "
        + ("resync started" if new else f"resuming the resync started {started}")
        + " — levels already right are read, not written."
    )
    printer = _Printer(sys.stdout, shop.domain)
    resync.list_variants(on_page=printer)
    final = resync.follow(printer)
    printer.end()
    if final is None:
        return 0
    states = ", ".join(f"{n} {s}" for s, n in sorted(final.states.items()))
    print(
        f"{shop.domain}: {final.finished}/{final.total} variants in step; jobs: {states or 'none'}"
    )
    if final.problems:
        print(
            f"{final.problems} job(s) need attention: "
            "`shopodoo jobs ls --flow stock --state needs_attention --state failed`"
        )
    return final.problems
