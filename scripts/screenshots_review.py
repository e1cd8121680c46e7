"""Render the Review and Audit screens into ``screenshots/`` (issue 14).

A simulated shop with 400 synced orders gets one mismatch of every kind; a week of job history
is recorded through the real queue (failures, retries, waits, resolves, a mapping, edits in
Odoo); then the audit runs from the Audit screen and both screens are drawn.

Usage: python scripts/screenshots_review.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the world and history helpers live with the tests

from reconcile_support import SINCE, UNTIL, link_seeded, reconcile_world  # noqa: E402
from test_review import DAY, record  # noqa: E402
from ui_harness import loaded, make_app, press, screen_text, wait_for  # noqa: E402

from shopodoo_console.sim.mismatches import Mismatches  # noqa: E402
from shopodoo_console.sim.seed_orders import synced_orders  # noqa: E402
from shopodoo_console.store import links  # noqa: E402
from shopodoo_console.ui.screens.audit import AuditScreen  # noqa: E402
from shopodoo_console.ui.screens.review import ReviewScreen  # noqa: E402

SIZE = (150, 44)


async def shoot(out: Path, folder: Path) -> list[Path]:
    written: list[Path] = []
    with reconcile_world(folder, 19) as s:
        seeded = synced_orders(s.world.shopify, s.world.odoo, 400, since=SINCE, until=UNTIL)
        link_seeded(s.console, seeded)
        for planted in Mismatches(s.world.shopify, s.world.odoo).every_kind(seeded):
            if planted.unlink:
                links.delete_link(s.console.store, s.console.shop_id, "order", planted.unlink)
        record(s.console.store, time.time() - 6 * DAY)
        app = make_app(s.console.engine, s.console.store, s.console.config, reconcile=s.reconcile)

        def save(name: str) -> None:
            if os.environ.get("SHOTS_TEXT"):
                print(screen_text(app))
            path = out / f"{name}.svg"
            path.write_text(app.export_screenshot(title=f"shopodoo — {name}"), encoding="utf-8")
            written.append(path)

        async with app.run_test(size=SIZE) as pilot:
            await press(pilot, "6")
            screen = await loaded(app, ReviewScreen)
            await wait_for(lambda: "palette" in screen_text(app).splitlines()[-1])
            await pilot.pause(0.3)
            save("8-review")
            await press(pilot, "7")
            audit = await loaded(app, AuditScreen)
            audit.query_one("#audit-since").value = SINCE.strftime("%Y-%m-%d")
            audit.query_one("#audit-until").value = UNTIL.strftime("%Y-%m-%dT%H:%M:%SZ")
            for field in ("#audit-since", "#audit-until"):
                audit.query_one(field).cursor_blink = False
            await press(pilot, "a")
            await wait_for(lambda: audit.running is None, 120, "the audit")
            await wait_for(lambda: "13 finding(s)" in screen_text(app), 30, "the findings")
            await pilot.pause(0.3)
            save("9-audit")
            del screen
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shopodoo-shots-") as tmp:
        for path in asyncio.run(shoot(args.out, Path(tmp))):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
