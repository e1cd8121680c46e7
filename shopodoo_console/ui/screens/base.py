"""LiveScreen: a screen that reads the store in a thread and redraws on the event loop.

Every refresh is coalesced: the app marks data dirty when engine events arrive and ticks at
most 4 times a second; a screen starts at most one load at a time, and waits at least twice
as long as its last load took before the next one (a million-row dashboard never hogs a
core). A failed load becomes a notification and a short back-off, never a crash.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from shopodoo_console.ui.app import ShopodooApp

log = logging.getLogger(__name__)
T = TypeVar("T")


class LiveScreen(Screen[None], Generic[T]):
    PALETTE_GROUP = ""
    AUTO_RELOAD_SECONDS: float | None = None  # reload even without events (times that age)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data: T | None = None
        self.loads = 0  # completed loads (tests wait on it)
        self._wanted = True
        self._loading = False
        self._not_before = 0.0
        self._last_loaded = 0.0
        self._console_app: ShopodooApp | None = None

    @property
    def console_app(self) -> ShopodooApp:
        """The app, also from worker threads (kept from the loop: a thread finishing after
        the app closed has no active-app context to look it up in)."""
        if self._console_app is None:
            self._console_app = cast("ShopodooApp", self.app)
        return self._console_app

    # ------------------------------------------------------------ for subclasses

    def load(self) -> T:
        """Read what the screen shows (runs in a worker thread; no widgets here)."""
        raise NotImplementedError

    def show(self, data: T) -> None:
        """Render ``data`` (runs on the event loop; no database here)."""
        raise NotImplementedError

    # ------------------------------------------------------------ machinery

    def request_reload(self) -> None:
        self._wanted = True
        self.pump()

    def pump(self) -> None:
        """Start a load if one is wanted, none is running and the back-off has passed."""
        now = time.monotonic()
        auto = self.AUTO_RELOAD_SECONDS
        if auto is not None and now - self._last_loaded >= auto:
            self._wanted = True
        if not self._wanted or self._loading or now < self._not_before or not self.is_attached:
            return
        self._wanted = False
        self._loading = True
        _ = self.console_app  # resolve on the loop, before the thread needs it
        self.run_worker(
            self._load_in_thread, thread=True, group="load", exit_on_error=False, name="load"
        )

    def _load_in_thread(self) -> None:
        started = time.monotonic()
        try:
            with self.console_app.store.thread_connection():
                data = self.load()
        except Exception as exc:
            log.exception("loading %s failed", type(self).__name__)
            self._call(self._load_failed, exc)
            return
        self._call(self._loaded, data, time.monotonic() - started)

    def _call(self, callback: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing; nothing to draw on
            self.console_app.call_from_thread(callback, *args)

    def _loaded(self, data: T, took: float) -> None:
        self._loading = False
        self._last_loaded = time.monotonic()
        self._not_before = self._last_loaded + 2 * took
        self.data = data
        try:
            self.show(data)
        finally:
            self.loads += 1

    def _load_failed(self, exc: Exception) -> None:
        self._loading = False
        self._last_loaded = time.monotonic()
        self._not_before = self._last_loaded + 2.0
        self.notify(f"Could not read the data for this screen: {exc}", severity="error", timeout=6)

    def on_screen_resume(self) -> None:
        self.request_reload()
