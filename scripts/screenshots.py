"""Render one SVG per console screen into ``screenshots/`` from the demo.

The demo's simulated shop and Odoo (same seed as `shopodoo demo`) are synced twice by the
real engine — orders created, duplicates absorbed, a lost Odoo answer recovered, an unmapped
SKU and guest orders waiting — then each screen is drawn. (The snapshot tests use the
fixed-clock sample in tests/ui_sample.py instead, so their SVGs never change by themselves.)

Usage: python scripts/screenshots.py [--out screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the sample lives with the tests for now

from ui_harness import loaded, make_app, press, screen_text, wait_for  # noqa: E402

from shopodoo_console.ui.messages import OpenJob  # noqa: E402
from shopodoo_console.ui.screens.dashboard import DashboardScreen  # noqa: E402
from shopodoo_console.ui.screens.failures import FailuresScreen  # noqa: E402
from shopodoo_console.ui.screens.help import HelpScreen  # noqa: E402
from shopodoo_console.ui.screens.job import JobScreen  # noqa: E402
from shopodoo_console.ui.screens.mappings import MappingsScreen  # noqa: E402
from shopodoo_console.ui.screens.queue import QueueScreen  # noqa: E402
from shopodoo_console.ui.screens.settings import SettingsScreen  # noqa: E402
from shopodoo_console.ui.widgets.mapping_editor import MappingEditor  # noqa: E402

SIZE = (130, 36)


def build_demo(folder: Path) -> tuple[Any, Any, Any]:
    """The demo's world, synced: (world, engine, store)."""
    from shopodoo_console import demo
    from shopodoo_console.launch import build_engine

    world = demo.start_world(seed=7, orders=60, odoo_version=19)
    facts = world.facts()
    paths = demo.demo_home(folder)
    config = demo.write_config(paths, facts, options=demo.DEMO_OPTIONS)
    engine, store, _ = build_engine(paths, config, secret_source=demo.secret_source(facts))
    demo.seed_mappings(engine.queue, next(iter(engine.shops)), facts)
    for _ in range(3):
        engine.sync_once()
        time.sleep(2.5)  # the lost answer's retry becomes due (a demo, not a test)
    engine.sync_once()
    return world, engine, store


def first_job(store: Any, state: str) -> int:
    row = store.execute("SELECT min(id) FROM job WHERE state = ?", (state,)).fetchone()
    return int(row[0] or 1)


async def shoot(out: Path, folder: Path) -> list[Path]:
    world, engine, store = build_demo(folder)
    app = make_app(engine, store, engine.config, clock=time.time)
    written: list[Path] = []

    async def settle(screen_type: type) -> None:
        screen = await loaded(app, screen_type)
        if hasattr(screen, "_loading"):
            await wait_for(lambda: not screen._loading)
        # The footer is drawn a moment after the screen: wait, or it comes out blank.
        await wait_for(lambda: "palette" in screen_text(app).splitlines()[-1], what="the footer")
        await pilot.pause(0.1)

    def save(name: str) -> None:
        path = out / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"shopodoo — {name}"), encoding="utf-8")
        written.append(path)

    async with app.run_test(size=SIZE) as pilot:
        await settle(DashboardScreen)
        save("1-dashboard")
        for key, name, screen_type in (
            ("2", "2-queue", QueueScreen),
            ("3", "3-failures", FailuresScreen),
            ("4", "5-mappings", MappingsScreen),
            ("5", "6-settings", SettingsScreen),
        ):
            await press(pilot, key)
            await settle(screen_type)
            save(name)
        await press(pilot, "3")
        await settle(FailuresScreen)
        await press(pilot, "f")
        await wait_for(lambda: isinstance(app.screen, MappingEditor))
        app.screen.query_one("#map-odoo").cursor_blink = False
        await pilot.pause(0.1)
        save("3b-fix-unmapped-sku")
        await press(pilot, "escape")
        app.post_message(OpenJob(first_job(store, "done")))
        await settle(JobScreen)
        save("4-job-detail")
        await press(pilot, "escape", "question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause(0.1)
        save("7-help")
    store.close()
    world.stop()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    time.tzset()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shopodoo-shots-") as tmp:
        os.environ["SHOPODOO_HOME"] = tmp
        import keyring
        from conftest import MemoryKeyring

        keyring.set_keyring(MemoryKeyring())  # never touch the real keyring
        for path in asyncio.run(shoot(args.out, Path(tmp))):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
