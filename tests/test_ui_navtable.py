"""NavTable keeps the cursor on its record when live data reorders or changes the rows.

The Failures screen re-sorts its causes as counts change (a group that empties for a moment
while its jobs re-run comes back in another place). The operator's cursor must stay on the
group they chose, not on the row number it had.
"""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from shopodoo_console.ui.widgets.tables import Col, NavTable


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield NavTable([Col("cause", "Cause", 0, True), Col("jobs", "Jobs", 0)], id="t")


def _rows(*keys: str) -> list[tuple[str, list[str]]]:
    return [(k, [k, "1"]) for k in keys]


def test_the_cursor_stays_on_its_record_when_rows_are_inserted_above_or_reordered() -> None:
    async def scenario() -> None:
        app = _TableApp()
        async with app.run_test(size=(60, 12)) as pilot:
            table = app.query_one("#t", NavTable)
            table.set_rows(_rows("customer", "product"))
            assert table.select_key("product")
            await pilot.pause()
            # a group comes back above the chosen one
            table.set_rows(_rows("customer", "custom_line", "product"))
            await pilot.pause()
            assert table.current_key == "product" and table.cursor_row == 2
            # the counts change and the order flips
            table.set_rows(_rows("product", "custom_line", "customer"))
            await pilot.pause()
            assert table.current_key == "product" and table.cursor_row == 0
            # the chosen row leaves: the cursor keeps its place, on a row that exists
            table.set_rows(_rows("custom_line", "customer"))
            await pilot.pause()
            assert table.current_key == "custom_line" and table.cursor_row == 0

    asyncio.run(scenario())
