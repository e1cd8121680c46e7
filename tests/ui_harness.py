"""Driving the console in tests without waiting for an idle that never comes (Dolphie).

``Pilot.press`` waits until the process looks idle; with the engine's threads working that
can take a second per key. Here keys are sent straight to the driver and we wait only until
the screen has processed its messages; everything else waits on a predicate with a timeout.
Notifications are recorded so tests can assert on what the operator was told.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot

from shopodoo_console.ui.app import ShopodooApp


class RecordingApp(ShopodooApp):
    """The real app, remembering every notification it showed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notes: list[tuple[str, str]] = []

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notes.append((str(kwargs.get("severity", "information")), str(message)))
        super().notify(message, *args, **kwargs)

    def noted(self, fragment: str) -> bool:
        return any(fragment in message for _, message in self.notes)


async def wait_for(
    predicate: Callable[[], Any], timeout: float = 15.0, what: str = "the condition"
) -> Any:
    """Poll ``predicate`` every 10 ms until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Send keys; after each, wait until the app, screen and widgets have handled it."""
    app = pilot.app
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:  # the same key → character mapping Pilot uses
            name = _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
            char: str | None = unicodedata.lookup(name)
        except KeyError:
            char = key if len(key) == 1 else None
        app.post_message(events.Key(key, char))
        # The app forwards a key to the screen, which forwards it to the focused widget:
        # one drain per hop, so the key has been handled when this returns.
        for _ in range(3):
            await pilot._wait_for_screen()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await press(pilot, *text)


def screen_text(app: ShopodooApp) -> str:
    """The current screen as plain text (what the operator reads)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        legacy_windows=False,
        color_system=None,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


async def loaded(
    app: ShopodooApp, screen_type: type, *, after: int = 0, timeout: float = 15.0
) -> Any:
    """Wait until ``screen_type`` is on top and has finished more than ``after`` loads."""
    return await wait_for(
        lambda: isinstance(app.screen, screen_type) and app.screen.loads > after and app.screen,
        timeout,
        f"{screen_type.__name__} to load",
    )


def make_app(engine: Any, store: Any, config: Any, **kwargs: Any) -> RecordingApp:
    from shopodoo_console.config import Paths

    return RecordingApp(engine=engine, store=store, config=config, paths=Paths.discover(), **kwargs)


async def shows(app: ShopodooApp, *fragments: str, timeout: float = 15.0) -> str:
    """Wait until every fragment is on screen (rendering trails the data by a frame)."""

    last = ""

    def check() -> str | None:
        nonlocal last
        last = screen_text(app)
        return last if all(f in last for f in fragments) else None

    try:
        return await wait_for(check, timeout, f"{fragments!r} on screen")
    except AssertionError:
        missing = [f for f in fragments if f not in last]
        raise AssertionError(f"not on screen: {missing!r}\n{last}") from None


@contextlib.contextmanager
def utc_timezone() -> Iterator[None]:
    """Show times in UTC (snapshots and texts must not depend on the machine's zone)."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()
