"""The footer shows the screen's own keys first; the command palette lists the console's
actions, not Textual's internals ("Cursor left", "Focus Next", "Keys", "Screenshot")."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support import open_store
from ui_harness import loaded, make_app, press, screen_text, utc_timezone, wait_for
from ui_sample import NOW, build_sample

from shopodoo_console.ui.commands import ScreenActions
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.queue import QueueScreen

INTERNALS = ("Cursor", "Focus", "Scroll", "Keys", "Screenshot", "Maximize", "Minimize")


def test_palette_and_footer(tmp_path: Path) -> None:
    with utc_timezone():
        store = open_store(tmp_path)
        engine = build_sample(store)
        app = make_app(engine, store, engine.config, clock=lambda: NOW)
        found: dict[str, Any] = {}

        async def go() -> None:
            async with app.run_test(size=(100, 30)) as pilot:
                await loaded(app, DashboardScreen)
                await press(pilot, "2")
                queue = await loaded(app, QueueScreen)
                await wait_for(
                    lambda: "palette" in (screen_text(app).splitlines() or [""])[-1],
                    what="the footer",
                )
                found["footer"] = screen_text(app).splitlines()[-1]
                found["titles"] = [t for t, *_ in ScreenActions(queue)._commands()]
                found["system"] = [c.title for c in app.get_system_commands(queue)]

        asyncio.run(go())
        store.close()
    footer = found["footer"]
    assert "/ Filter" in footer[:30]  # the screen's keys come first...
    assert "screens" not in footer or footer.index("Filter") < footer.index("screens")
    titles = found["titles"]
    assert "Queue: Filter" in titles and "Queue: Retry" in titles and "Console: Help" in titles
    assert not [t for t in titles if any(word in t for word in INTERNALS)], titles
    assert found["system"] == ["Theme", "Quit"]
