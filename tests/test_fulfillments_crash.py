"""The real CLI in its own process, killed right after Shopify made the fulfillment (before
anything was linked or stamped) or right after the stamp, then restarted: one fulfillment."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fulfil_support import FLOWS, SKUS, fulfillments, pickings, ship, stamps
from orders_support import make_world, open_console
from support import console_process_env

from shopodoo_console import demo
from shopodoo_console.sim.world import World
from shopodoo_console.store.db import Store


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param) as w:
        yield w


def cli_env(world: World, home: Path) -> dict[str, str]:
    """Config (orders and fulfillments on) and a file keyring for a console process."""
    facts = world.facts()
    protocol = "jsonrpc" if world.odoo_version < 19 else "json2"
    demo.write_config(
        demo.demo_home(home),
        facts,
        odoo_protocol=protocol,
        engine={"workers": 2, "lease_seconds": 30},
        flows=FLOWS,
    )
    return console_process_env(home, facts)


def sync_once(env: dict[str, str], crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(env)
    if crash_at:
        env["SHOPODOO_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "shopodoo_console", "sync", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("tracking", ["1ZCRASH", None], ids=["tracked", "untracked"])
@pytest.mark.parametrize("point", ["fulfillments.after_create", "fulfillments.after_stamp"])
def test_kill_9_after_the_fulfillment_was_made_then_restart_gives_exactly_one(
    world: World, tmp_path: Path, point: str, tracking: str | None
) -> None:
    home = tmp_path / "home"
    env = cli_env(world, home)
    console = open_console(world, home, write_config=False)  # carrier mappings, as saved
    gid = world.shopify.control.create_order(
        {
            "customer": "chloe.dubois.0@example.com",
            "financialStatus": "PAID",
            "lines": [{"sku": SKUS[0], "quantity": 3}],
            "shipping": [{"title": "Standard", "code": "STD", "price": "4.90"}],
        }
    )
    assert sync_once(env).returncode == 0  # the order reaches Odoo
    name = world.shopify.control.order(gid)["name"]
    (picking,) = pickings(console, name)
    ship(console, picking["id"], {SKUS[0]: 1}, tracking=tracking, carrier=None)
    crashed = sync_once(env, crash_at=point)
    assert crashed.returncode == -9, crashed.stderr  # SIGKILL, exactly there
    assert len(fulfillments(console, gid)) == 1  # Shopify made it before the crash
    restarted = sync_once(env)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    (fulfillment,) = fulfillments(console, gid)
    assert fulfillment["totalQuantity"] == 1
    assert world.shopify.counters.operations.get("FulfillmentCreate") == 1
    assert [s["res_id"] for s in stamps(console)] == [picking["id"]]
    store = Store(demo.demo_home(home).database_file)
    state, result = store.execute(
        "SELECT state, result FROM job WHERE flow = 'fulfillments'"
    ).fetchone()
    assert state == "done", result
    lost = store.execute("SELECT count(*) FROM attempt WHERE outcome = 'lost'").fetchone()[0]
    assert lost == 1  # the killed attempt is on record
    store.close()
    console.engine.close_flows()
    console.store.close()
