"""Render one SVG per console screen into ``screenshots/`` from deterministic data.

The data is the test suite's sample (fixed clock, fixed ids, UTC) until ``shopodoo demo``
provides the real scenario; swap ``build`` for the demo's builder then.

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the sample lives with the tests for now

from ui_harness import loaded, make_app, press, wait_for  # noqa: E402
from ui_sample import NOW, build_sample  # noqa: E402

from shopodoo_console.store.db import Store  # noqa: E402
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


async def shoot(out: Path, folder: Path) -> list[Path]:
    store = Store(folder / "sample.db")
    engine = build_sample(store)
    app = make_app(engine, store, engine.config, clock=lambda: NOW)
    written: list[Path] = []

    async def settle(screen_type: type) -> None:
        screen = await loaded(app, screen_type)
        if hasattr(screen, "_loading"):
            await wait_for(lambda: not screen._loading)
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
        app.post_message(OpenJob(13))
        await settle(JobScreen)
        save("4-job-detail")
        await press(pilot, "escape", "question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause(0.1)
        save("7-help")
    store.close()
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
