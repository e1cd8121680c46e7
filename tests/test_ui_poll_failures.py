"""A failing poll is loud: its stream row turns red with the reason, the header and the
banner say polling fails, Failures shows it as a group with the four answers, and the log
gets a WARNING line. When the poll works again, all of it goes away."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from support import SHOP, make_config, open_store
from ui_harness import RecordingApp, loaded, make_app, press, screen_text, shows, wait_for

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.engine.core import Engine
from shopodoo_console.engine.flows import FlowRegistry, Page, ShopRef
from shopodoo_console.ui.reads import PollFailure
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.failures import FailuresScreen


class FlakyPoll:
    """A flow whose poll fails like an unreachable Shopify until told otherwise."""

    name = "test"
    stream = "test"
    batch_size = 1

    def __init__(self) -> None:
        self.down = True

    def poll(self, shop: ShopRef, since: str | None) -> list[Page]:
        if self.down:
            raise CauseError(
                Cause(
                    "shopify.unavailable",
                    missing="Shopify did not answer: connection refused",
                )
            )
        return []

    def handle_batch(self, contexts: list[Any]) -> list[Any]:
        raise AssertionError("no job is made")

    def close(self) -> None:
        pass


def test_summary_names_the_reason_the_tries_and_the_next_poll() -> None:
    failure = PollFailure(
        SHOP,
        "orders",
        "shopify.unavailable",
        "Shopify unreachable",
        "connection refused",
        4,
        1060.0,
        1000.0,
    )
    assert (
        failure.summary(1000.0)
        == "Shopify unreachable: connection refused · 4 tries · next in 60 s"
    )


def test_a_failing_poll_is_red_in_the_header_in_failures_and_in_the_log(
    tmp_path: Path, caplog
) -> None:
    store = open_store(tmp_path)
    flow = FlakyPoll()
    engine = Engine(store, make_config(tmp_path), FlowRegistry([flow]))
    app = make_app(engine, store, engine.config)  # listens before the engine starts
    caplog.set_level(logging.WARNING)

    async def scenario(app: RecordingApp, pilot: Any) -> None:
        engine.start()
        try:
            await loaded(app, DashboardScreen)
            text = await shows(
                app,
                "polling FAILING on 1 stream",
                "FAILED ×1",
                "Shopify is not answering: Shopify did not answer: connection refused",
                "1 try",
                "next in",
            )
            assert "POLLING FAILING: test-shop test" in text  # the header
            await press(pilot, "3")
            failures = await loaded(app, FailuresScreen)
            await wait_for(lambda: failures.data and failures.data.groups, what="groups")
            assert failures.data.groups[0].code == "poll.failed"
            await shows(
                app,
                "Polling failing — 1 stream(s)",
                f"Which record: the test stream of {SHOP} (a poll, not a job)",
                "Temporary or configuration: temporary",
                "Retry safe after the fix: yes — nothing was queued and the cursor did not",
                "R polls every",
            )
            flow.down = False
            await press(pilot, "R")  # on the poll group: poll now
            await wait_for(lambda: app.noted("Polling every stream now"), what="poll now")
            await wait_for(
                lambda: "Polling failing" not in screen_text(app), what="the group to go"
            )
            await press(pilot, "1")
            await loaded(app, DashboardScreen)
            await shows(app, "polling works again")
            assert "FAILING" not in screen_text(app)
        finally:
            engine.stop()

    async def go() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await scenario(app, pilot)

    asyncio.run(go())
    store.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        m.startswith(f"poll of {SHOP} test failed (1 in a row; next in") for m in warnings
    ), warnings
