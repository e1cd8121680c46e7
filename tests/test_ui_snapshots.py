"""SVG snapshots of every screen at a fixed size, from the deterministic sample (fixed clock,
fixed ids, UTC). Regenerate with ``pytest tests/test_ui_snapshots.py --snapshot-update`` and
review the SVGs like code; Python 3.11 is the reference version."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import open_store
from ui_harness import loaded, make_app, press, utc_timezone, wait_for
from ui_sample import NOW, build_sample

from shopodoo_console.ui.messages import OpenJob
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.screens.help import HelpScreen
from shopodoo_console.ui.screens.job import JobScreen
from shopodoo_console.ui.screens.mappings import MappingsScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.screens.settings import SettingsScreen

SIZE = (130, 36)


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    with utc_timezone():
        yield


async def open_screen(pilot: Any, keys: tuple[str, ...], screen_type: type) -> None:
    app = pilot.app
    if keys:
        await press(pilot, *keys)
    screen = await loaded(app, screen_type)
    await wait_for(lambda: not screen._loading, what="no load in flight")


def _before(keys: tuple[str, ...], screen_type: type) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        await open_screen(pilot, keys, screen_type)

    return run_before


SCREENS = {
    "dashboard": ((), DashboardScreen),
    "queue": (("2",), QueueScreen),
    "failures": (("3",), FailuresScreen),
    "mappings": (("4",), MappingsScreen),
    "settings": (("5",), SettingsScreen),
}


@pytest.fixture
def sample_app(tmp_path: Path) -> Any:
    store = open_store(tmp_path)
    engine = build_sample(store)
    yield make_app(engine, store, engine.config, clock=lambda: NOW)
    store.close()


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_snapshot(name: str, sample_app: Any, snap_compare: Any) -> None:
    keys, screen_type = SCREENS[name]
    assert snap_compare(sample_app, terminal_size=SIZE, run_before=_before(keys, screen_type))


def test_job_detail_snapshot(sample_app: Any, snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await loaded(pilot.app, DashboardScreen)
        pilot.app.post_message(OpenJob(13))
        await open_screen(pilot, (), JobScreen)

    assert snap_compare(sample_app, terminal_size=SIZE, run_before=run_before)


def test_help_snapshot(sample_app: Any, snap_compare: Any) -> None:
    async def run_before(pilot: Any) -> None:
        await loaded(pilot.app, DashboardScreen)
        await press(pilot, "question_mark")
        await wait_for(lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(sample_app, terminal_size=SIZE, run_before=run_before)
