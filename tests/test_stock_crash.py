"""The real CLI in its own process, killed (SIGKILL) around Shopify's inventory write.

The simulators run in this test process; ``shopodoo sync --once`` and ``shopodoo stock
resync`` run as separate OS processes, killed at a crash point, then run again. Whatever the
moment, every level ends right and is set once: the retry resends the interrupted call with
its key and Shopify replays the first result.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from stock_support import MAIN, make_world, open_console
from support import console_process_env

from shopodoo_console.sim.world import World
from shopodoo_console.store.db import Store

SKU = "CM-RED-000"


@pytest.fixture(params=[17, 19], ids=["odoo17-jsonrpc", "odoo19-json2"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with make_world(request.param, products=12) as w:
        yield w


def prepare_home(world: World, home: Path) -> dict[str, str]:
    """Config (stock flow on, both locations mapped) and a file keyring for a console
    process; returns its environment."""
    console = open_console(world, home)
    console.close()
    facts = console.facts
    return console_process_env(home, facts)


def shopodoo(
    env: dict[str, str], *args: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(env)
    if crash_at:
        env["SHOPODOO_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "shopodoo_console", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _levels_set(world: World) -> Counter[tuple[str, str]]:
    """How many times each (item, location) was changed by inventorySetQuantities."""
    return Counter((a["item"], a["location"]) for a in world.shopify.control.adjustments())


def _right(world: World) -> list[str]:
    """Levels at mapped locations that differ from Odoo's free quantity (should be none)."""
    wrong = []
    store = world.shopify.store
    for gid, code in ((store.location(MAIN)["id"], "BER"),):
        for variant_id in store.variants:
            variant = store.nodes[variant_id]
            sku = variant.get("sku")
            level = store.levels.get((variant["_item"], gid))
            if not sku or level is None or not store.nodes[variant["_item"]]["tracked"]:
                continue
            if store.nodes[variant["_product"]].get("status") == "ARCHIVED" or sku == "DUP-SKU-1":
                continue
            quants = [q for q in world.odoo.control.quants(sku) if q["location"].startswith(code)]
            free = int(sum(q["quantity"] - q["reserved_quantity"] for q in quants))
            if level["_q"]["available"] != free:
                wrong.append(f"{sku}: {level['_q']['available']} != {free}")
    return wrong


@pytest.mark.parametrize("point", ["stock.after_set", "stock.before_set"])
def test_kill_9_around_the_inventory_write_then_restart_sets_each_level_once(
    world: World, tmp_path: Path, point: str
) -> None:
    env = prepare_home(world, tmp_path / "home")
    world.odoo.control.set_stock(SKU, "BER", 17)
    crashed = shopodoo(env, "sync", "--once", crash_at=point)
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr  # SIGKILL, right there
    sent = world.shopify.counters.operations.get("InventorySetQuantities", 0)
    applied = _levels_set(world)
    if point == "stock.after_set":
        assert sent == 1 and applied  # Shopify applied the call before the kill
    else:
        assert sent == 0 and not applied
    restarted = shopodoo(env, "sync", "--once")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = _levels_set(world)
    assert after and set(after.values()) == {1}  # every level changed exactly once
    # A change written in the very second the first run polled is held to the end of that
    # second (never read half-written), so it may first run after the restart: in a call of
    # its own, each of its levels set once too.
    held = set(after) - set(applied)
    if point == "stock.after_set":
        # the levels the killed run applied changed no more: the key was replayed
        assert {k: after[k] for k in applied} == applied
    calls = world.shopify.counters.operations["InventorySetQuantities"]
    if point == "stock.after_set":
        assert calls == sent + 1 + (1 if held else 0)  # the replay, then what was held
    else:  # the kept call sent for the first time, and possibly one for what was held
        assert sent + 1 <= calls <= sent + 2
    assert world.shopify.control.level(SKU, MAIN)["available"] == 17
    assert _right(world) == []
    store = Store(tmp_path / "home" / "data" / "shopodoo.db")
    states = dict(store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall())
    assert "running" not in states and "failed" not in states
    replayed = store.execute("SELECT count(*) FROM audit WHERE event = 'replayed'").fetchone()[0]
    assert replayed == len({j for j, in store.execute(
        "SELECT DISTINCT job_id FROM audit WHERE event = 'replayed'")})  # fmt: skip
    assert replayed >= 1
    lost = store.execute("SELECT count(*) FROM attempt WHERE outcome = 'lost'").fetchone()[0]
    assert lost >= 1  # the killed attempts are on record
    store.close()


def test_a_resync_killed_mid_way_resumes_and_sets_nothing_twice(
    world: World, tmp_path: Path
) -> None:
    env = prepare_home(world, tmp_path / "home")
    for sku, units in ((SKU, 3), ("OT-S-001", 4), ("TP-A3-002", 5)):
        world.odoo.control.set_stock(sku, "BER", units)
    crashed = shopodoo(env, "stock", "resync", crash_at="stock.after_set")
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr
    assert "resync started" in crashed.stdout
    applied = _levels_set(world)
    assert applied
    again = shopodoo(env, "stock", "resync")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming the resync" in again.stdout
    assert "100%" in again.stdout
    after = _levels_set(world)
    assert set(after.values()) == {1}
    assert {k: v for k, v in after.items() if k in applied} == applied
    assert _right(world) == []
    store = Store(tmp_path / "home" / "data" / "shopodoo.db")
    (state,) = store.execute("SELECT state FROM stock_resync").fetchone()
    assert state == "done"
    assert store.execute("SELECT count(*) FROM stock_resync").fetchone()[0] == 1
    states = dict(store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall())
    assert "running" not in states and "queued" not in states
    store.close()
    third = shopodoo(env, "stock", "resync")  # a new resync: every level is right already
    assert third.returncode == 0, third.stdout + third.stderr
    assert _levels_set(world) == after
