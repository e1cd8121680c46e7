"""Starting the console and the demo: wiring config, credentials, flows, engine and UI.

The CLI's default command and ``shopodoo demo`` share this: the only difference is where the
config and credentials come from (your files and keyring, or a simulated world in memory).
"""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from shopodoo_console import demo
from shopodoo_console.config import Config, Paths, load_config
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.engine.queries import cause_groups
from shopodoo_console.logs import setup_logging
from shopodoo_console.store import views
from shopodoo_console.store.db import Store
from shopodoo_console.store.fulfillments import states_of_flow
from shopodoo_console.workflows import build_flows
from shopodoo_console.workflows.checks import (
    search_records,
    suggest,
    test_connection,
    validate_mapping,
)
from shopodoo_console.workflows.connections import Connections, SecretSource
from shopodoo_console.workflows.stock.console import stock_hooks

log = logging.getLogger(__name__)


def build_engine(
    paths: Paths, config: Config, *, secret_source: SecretSource | None = None
) -> tuple[Engine, Store, Connections]:
    paths.ensure()
    store = Store(paths.database_file)
    metrics = Metrics()
    connections = Connections(config, metrics=metrics, secret_source=secret_source)
    flows = build_flows(config, store, connections=connections)
    return Engine(store, config, flows, metrics=metrics), store, connections


class UiHooks(TypedDict):
    """What the console needs from the connectors, as keyword arguments of the app."""

    validator: Callable[..., Any]
    tester: Callable[..., Any]
    suggester: Callable[..., Any]
    record_search: Callable[..., Any]
    stock_locations: Callable[..., Any]
    resync: Callable[..., Any]
    on_config_saved: Callable[..., Any]
    reconcile: Any  # workflows.reconcile.service.Reconcile: audit and backfill runs


def ui_hooks(engine: Engine, connections: Connections) -> UiHooks:
    """The console's mapping validator, suggester and connection tester, backed by the real
    clients, and what applies a config saved from Settings to the running engine."""
    from shopodoo_console.ui.checks import MappingProposal, Suggestion, Verdict
    from shopodoo_console.ui.stock import ShopifyLocationView

    def validator(proposal: MappingProposal) -> Verdict:
        ok, message, label = validate_mapping(
            connections, proposal.shop, proposal.kind, proposal.odoo_model, proposal.odoo_id
        )
        return Verdict(ok, message, label)

    def tester(target: str) -> Verdict:
        ok, message = test_connection(connections, target)
        return Verdict(ok, message)

    def suggester(shop: str, kind: str, source_key: str) -> list[Suggestion]:
        return [
            Suggestion(i, label, why)
            for i, label, why in suggest(connections, shop, kind, source_key)
        ]

    def record_search(shop: str, model: str, text: str) -> list[Suggestion]:
        return [Suggestion(i, label) for i, label in search_records(connections, model, text)]

    def on_config_saved(config: Config) -> None:
        connections.reconfigure(config)  # first: polls rescheduled next use the new clients
        engine.apply_config(config)

    stock = stock_hooks(engine, connections)

    def stock_locations(shop: str) -> list[ShopifyLocationView]:
        return [
            ShopifyLocationView(
                loc.id,
                loc.name,
                loc.place,
                loc.active,
                loc.fulfillment_service,
                tuple(Suggestion(s.odoo_location_id, s.label, s.why) for s in ranked),
            )
            for loc, ranked in stock["stock_locations"](shop)
        ]

    from shopodoo_console.workflows.reconcile.service import Reconcile

    return UiHooks(
        validator=validator,
        tester=tester,
        suggester=suggester,
        record_search=record_search,
        stock_locations=stock_locations,
        resync=stock["resync"],
        on_config_saved=on_config_saved,
        reconcile=Reconcile(engine.store, engine.config, connections, engine.queue),
    )


def open_console(paths: Paths) -> int:
    """`shopodoo`: the console on the configured shops, or on the first-run screen when
    there is no config yet (logs go to the file: the TUI owns the terminal)."""
    from shopodoo_console.ui.app import run_console

    config = load_config(paths.config_file, required=False)
    setup_logging(paths)
    engine, store, connections = build_engine(paths, config)
    try:
        return run_console(engine, store, config, paths, **ui_hooks(engine, connections))
    finally:
        store.close()


def run_demo(
    *, headless: bool, orders: int, seed: int, odoo_version: int, home: Path | None
) -> int:
    """`shopodoo demo`: simulators on loopback, the real engine, credentials in memory. Its
    files live in a temporary folder removed on exit, unless ``--home`` keeps them."""
    root = home.expanduser().resolve() if home else Path(tempfile.mkdtemp(prefix="shopodoo-demo-"))
    paths = demo.demo_home(root)
    world = demo.start_world(seed=seed, orders=orders, odoo_version=odoo_version)
    store: Store | None = None
    try:
        facts = world.facts()
        config = demo.write_config(paths, facts, options=demo.DEMO_OPTIONS, flows=demo.DEMO_FLOWS)
        setup_logging(paths)
        engine, store, connections = build_engine(
            paths, config, secret_source=demo.secret_source(facts)
        )
        demo.seed_mappings(engine.queue, next(iter(engine.shops)), facts)
        demo.seed_location_mappings(
            engine.queue, next(iter(engine.shops)), facts, list(demo.DEMO_MAPPED_LOCATIONS)
        )
        warehouse = demo.warehouse(world, seed=seed)
        if headless:
            return _headless(engine, store, world, root, warehouse, kept=home is not None)
        from shopodoo_console.ui.app import run_console

        activity = demo.ShopActivity(world, seed=seed).start()
        warehouse.start()
        try:
            return run_console(
                engine, store, config, paths, demo=True, **ui_hooks(engine, connections)
            )
        finally:
            activity.stop()
            warehouse.stop()
    finally:
        world.stop()
        if store is not None:
            store.close()
        _leave(root, kept=home is not None)


def _leave(root: Path, *, kept: bool) -> None:
    """Remove the demo's temporary folder, or say how to look at the one kept."""
    if kept:
        print(
            f"Demo files kept in {root}. Look around with the CLI: "
            f"SHOPODOO_HOME={shlex.quote(str(root))} shopodoo jobs ls --state needs_attention"
        )
        return
    logging.shutdown()  # the log file is in the folder
    shutil.rmtree(root, ignore_errors=True)


def _headless(
    engine: Engine, store: Store, world: Any, root: Path, warehouse: Any, *, kept: bool
) -> int:
    """Sync until the queue settles, ship what is ready in the simulated warehouse, sync
    again until it settles, then print what happened."""
    where = f"demo files in {root}" if kept else "demo files in a temporary folder"
    print(
        f"Simulated Shopify at {world.shopify.base_url}, Odoo {world.odoo_version} at "
        f"{world.odoo.url}; {where}"
    )
    started = time.monotonic()
    _settle(engine, store)
    shipped = sum(1 for _ in range(HEADLESS_SHIPMENTS) if warehouse.tick() is not None)
    _settle(engine, store)
    engine.close_flows()
    _print_summary(store, world, time.monotonic() - started)
    _print_shipments(store, world, shipped)
    _temporary_note(kept)
    return 0


HEADLESS_SHIPMENTS = 8  # deliveries the headless demo's warehouse ships between two syncs


def _settle(engine: Engine, store: Store) -> None:
    passes = 0
    while passes < 12:
        passes += 1
        summary = engine.sync_once()
        new = sum(p.new for p in summary.polls)
        due = views.next_due(store)
        if summary.drain.claimed == 0 and new == 0 and due is None:
            break
        if due is not None and due > time.time():
            time.sleep(min(10.0, due - time.time() + 0.05))


def _print_shipments(store: Store, world: Any, shipped: int) -> None:
    made = sum(
        len(world.shopify.control.fulfillments(gid)) for gid in list(world.shopify.store.orders)
    )
    rows = states_of_flow(store, "fulfillments")
    sys.stdout.write(
        f"\nThe warehouse shipped {shipped} deliveries in Odoo: fulfillments jobs "
        + ", ".join(f"{n} {s}" for s, n in sorted(rows.items()))
        + f"; {made} fulfillments in Shopify (with those made before the demo).\n"
    )


def _temporary_note(kept: bool) -> None:
    if not kept:
        home = Path(tempfile.gettempdir()) / "shopodoo-demo"
        print(
            "\nThe temporary folder is removed now. To keep the demo's data and look at it "
            f"with the CLI: shopodoo demo --headless --home {home} && "
            f"SHOPODOO_HOME={home} shopodoo jobs ls --state needs_attention"
        )


def _print_summary(store: Store, world: Any, seconds: float) -> None:
    counted = views.totals(store)
    rows, sightings, jobs = counted.by_state, counted.sightings, counted.jobs
    orders = world.odoo.env["sale.order"].search_read([], ["client_order_ref", "state"])
    refs: dict[str, int] = {}
    for order in orders:
        refs[order["client_order_ref"]] = refs.get(order["client_order_ref"], 0) + 1
    duplicates = sum(n - 1 for n in refs.values() if n > 1)
    shop_orders = len(world.shopify.store.orders)
    adopted = counted.adopted
    throttled = world.shopify.counters["throttled"]
    out = sys.stdout
    out.write(
        f"\nIn {seconds:.1f} s: {shop_orders} Shopify orders → {len(orders)} Odoo sale "
        f"orders, {duplicates} duplicates.\n"
    )
    out.write(
        f"Jobs: {jobs} for {sightings} sightings ({sightings - jobs} repeats absorbed by "
        f"the job keys); " + ", ".join(f"{n} {s}" for s, n in sorted(rows.items())) + "\n"
    )
    out.write(
        f"Shopify answered THROTTLED {throttled} time(s): waited and resent. Orders "
        f"recovered after a lost Odoo answer (found by their stamps, not re-created): "
        f"{adopted}.\n"
    )
    groups = cause_groups(store)
    if groups:
        out.write("\nWaiting for you (fix, then retry — `shopodoo jobs show ID`):\n")
        from shopodoo_console.engine.queries import JobFilter, list_jobs

        for code, count in groups:
            (example,) = list_jobs(store, JobFilter(cause=code), limit=1)
            cause = example.cause
            assert cause is not None
            out.write(f"  {count} × {code} — {cause.title}: e.g. {cause.record}: {cause.missing}\n")
