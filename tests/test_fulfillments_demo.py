"""The demo ships orders for real: its warehouse validates deliveries in Odoo, and the seeded
held, split (Outlet Store) and 3PL orders meet the fulfillments flow as explained causes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_headless_demo_ships_and_explains_the_awkward_orders(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopodoo_console",
            "demo",
            "--headless",
            "--orders",
            "60",
            "--home",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "0 duplicates." in out
    assert "The warehouse shipped 8 deliveries in Odoo: fulfillments jobs" in out
    for code, words in (
        ("fulfillment.on_hold", "is on hold: incorrect address (No house number) in Shopify"),
        # the demo maps Main Warehouse → Berlin DC (the stock flow's locations), so the units
        # Shopify put at the Outlet Store were shipped from the wrong place, not split
        (
            "fulfillment.other_location",
            "Shopify assigned these units to Outlet Store, but Odoo shipped them from Berlin DC",
        ),
        ("fulfillment.service", "assigned to a fulfillment service (request accepted)"),
    ):
        (line,) = [x for x in out.splitlines() if f"× {code} —" in x]
        assert words in line, line
