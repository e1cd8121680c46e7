"""The real CLI in its own process, killed at the worst moments, then restarted.

The simulators run in this test process; `shopodoo sync --once` runs as a separate OS
process with its credentials in a file-backed keyring chosen explicitly (as a user could).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from orders_support import make_world, open_console
from support import console_process_env

from shopodoo_console import demo
from shopodoo_console.engine.core import Engine
from shopodoo_console.sim.world import World
from shopodoo_console.store import links
from shopodoo_console.store.db import Store


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param) as w:
        yield w


def prepare_home(world: World, home: Path) -> dict[str, str]:
    """Config and keyring for a console process; returns its environment."""
    paths = demo.demo_home(home)
    facts = world.facts()
    protocol = "jsonrpc" if world.odoo_version < 19 else "json2"
    demo.write_config(
        paths, facts, odoo_protocol=protocol, engine={"workers": 2, "lease_seconds": 30}
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


@pytest.mark.parametrize("point", ["orders.after_odoo_create", "orders.after_link"])
def test_kill_9_mid_order_then_restart_gives_exactly_one_order(
    world: World, tmp_path: Path, point: str
) -> None:
    gid = world.shopify.control.create_order(
        {
            "customer": "chloe.dubois.0@example.com",
            "financialStatus": "PAID",
            "lines": [{"sku": "CM-RED-000", "quantity": 1}],
            "shipping": [{"title": "Standard", "code": "STD", "price": "4.90"}],
        }
    )
    env = prepare_home(world, tmp_path / "home")
    # Carrier mappings, as an operator would have saved them.
    seeded = open_console(world, tmp_path / "home", write_config=False)
    seeded.engine.close_flows()
    seeded.store.close()
    crashed = sync_once(env, crash_at=point)
    assert crashed.returncode == -9, crashed.stderr  # SIGKILL, exactly there
    name = world.shopify.control.order(gid)["name"]
    sale_orders = world.odoo.env["sale.order"].search_read(
        [("client_order_ref", "=", name)], ["name", "state"]
    )
    assert len(sale_orders) == 1  # Odoo committed before the crash
    assert world.shopify.counters.operations.get("MetafieldsSet", 0) == 0
    restarted = sync_once(env)
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = world.odoo.env["sale.order"].search_read(
        [("client_order_ref", "=", name)], ["name", "state"]
    )
    assert [o["id"] for o in after] == [sale_orders[0]["id"]]
    assert after[0]["state"] == "sale"
    store = Store(demo.demo_home(tmp_path / "home").database_file)
    shop_id = store.shop_id(world.shopify.domain)
    assert shop_id is not None
    link = links.find_link(store, shop_id, "order", gid)
    assert link is not None and link.odoo_id == sale_orders[0]["id"]
    assert world.shopify.counters.operations.get("MetafieldsSet") == 1
    states = dict(store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall())
    assert "running" not in states
    lost = store.execute("SELECT count(*) FROM attempt WHERE outcome = 'lost'").fetchone()[0]
    assert lost == 1  # the killed attempt is on record
    store.close()


def test_two_consoles_on_one_database_only_one_polls(world: World, tmp_path: Path) -> None:
    for n in range(4):
        world.shopify.control.create_order(
            {
                "customer": "lea.costa@example.com",
                "financialStatus": "PAID",
                "lines": [{"sku": "CM-BLU-000", "quantity": n + 1}],
            }
        )
    env = prepare_home(world, tmp_path / "home")
    first = open_console(world, tmp_path / "home", write_config=False)
    engine: Engine = first.engine
    assert engine.start() is None
    try:
        second = sync_once(env)
        assert second.returncode == 1
        assert "Another shopodoo process is polling this database" in second.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait on the condition, not a fixed time
            states = dict(
                first.store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall()
            )
            if states.get("done") == 4:
                break
            time.sleep(0.05)
        assert states.get("done") == 4
    finally:
        engine.stop()
    assert world.odoo.env["sale.order"].search_count([]) == 4
    attempts = first.store.execute("SELECT max(attempts) FROM job").fetchone()[0]
    assert attempts == 1  # nothing was processed twice
    first.store.close()
