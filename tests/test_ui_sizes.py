"""Every screen at 80x24 and 100x30: the key columns stay, no number or state is clipped
("revi", "faile", 14 shown as "1"), less important columns go first; and at 140x40 they all
come back. Widths are checked on the tables themselves and on the text a person reads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.text import Text
from support import open_store
from ui_harness import loaded, make_app, press, screen_text, shows, utc_timezone, wait_for
from ui_sample import NOW, build_sample

from shopodoo_console.ui.messages import OpenJob
from shopodoo_console.ui.screens.audit import AuditScreen
from shopodoo_console.ui.screens.dashboard import DashboardScreen
from shopodoo_console.ui.screens.failures import FailuresScreen
from shopodoo_console.ui.screens.help import HelpScreen
from shopodoo_console.ui.screens.job import JobScreen
from shopodoo_console.ui.screens.mappings import MappingsScreen
from shopodoo_console.ui.screens.queue import QueueScreen
from shopodoo_console.ui.screens.review import ReviewScreen
from shopodoo_console.ui.screens.settings import SettingsScreen
from shopodoo_console.ui.widgets.tables import NavTable, plan_columns

SCREENS = [
    ("1", DashboardScreen),
    ("2", QueueScreen),
    ("3", FailuresScreen),
    ("4", MappingsScreen),
    ("5", SettingsScreen),
    ("6", ReviewScreen),
    ("7", AuditScreen),
]


def plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def check_table(table: NavTable, text: str) -> None:
    """Key columns shown; every shown column except the flexible ones as wide as its widest
    cell; every number of a shown row on screen whole."""
    spec = {c.key: c for c in table._column_spec}
    shown = table.shown_columns
    missing = [c.key for c in spec.values() if c.priority == 0 and c.key not in shown]
    assert not missing, f"{table.id}: key columns dropped: {missing}"
    index = {c.key: i for i, c in enumerate(table._column_spec)}
    for key in shown:
        if spec[key].flex:
            continue
        width = table.columns[key].width  # type: ignore[index]
        widest = max([cell_len(plain(c[index[key]])) for c in table._cells.values()] + [0])
        assert width >= widest, f"{table.id}.{key}: {width} < {widest}"
    # the rows on screen: a table lower on a scrolling page (Review) shows its first rows only
    # once scrolled to; what is off screen is not clipped, it is further down
    bottom = min(table.region.bottom, table.app.size.height - 1)  # the footer's line
    on_screen = max(0, bottom - table.region.y - 1) if table.region.y >= 0 else 0
    for cells in list(table._cells.values())[: min(on_screen, max(1, table.size.height - 1))]:
        for key in shown:
            value = plain(cells[index[key]])
            if value.replace(",", "").isdigit():
                assert value in text, f"{table.id}.{key}: {value} not whole on screen"


async def settle(app: Any, screen_type: type) -> Any:
    screen = await loaded(app, screen_type)
    await wait_for(lambda: not screen._loading, what="the load")
    tables = list(screen.query(NavTable))

    def laid_out() -> bool:  # after a resize each table has planned its columns anew
        for table in tables:
            if table.size.width and table.shown_columns != list(table._layout):
                return False
        return all(t.row_count == len(t.row_keys) for t in tables)

    await wait_for(laid_out, what="tables laid out")
    await wait_for(lambda: "palette" in (screen_text(app).splitlines() or [""])[-1], what="footer")
    return screen


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_every_screen_keeps_key_columns_and_whole_numbers(tmp_path: Path, size) -> None:
    with utc_timezone():
        store = open_store(tmp_path)
        engine = build_sample(store)
        app = make_app(engine, store, engine.config, clock=lambda: NOW)
        checked: list[str] = []

        async def go() -> None:
            async with app.run_test(size=size) as pilot:
                for key, screen_type in SCREENS:
                    await press(pilot, key)
                    screen = await settle(app, screen_type)
                    text = screen_text(app)
                    for table in screen.query(NavTable):
                        if table.display and table.size.height:
                            check_table(table, text)
                            checked.append(f"{screen_type.__name__}#{table.id}")
                app.post_message(OpenJob(13))
                screen = await settle(app, JobScreen)
                for table in screen.query(NavTable):
                    check_table(table, screen_text(app))
                    checked.append(f"JobScreen#{table.id}")
                await press(pilot, "escape", "question_mark")
                await wait_for(lambda: isinstance(app.screen, HelpScreen), what="help")
                await shows(app, "Morning routine")

        asyncio.run(go())
        store.close()
    for table in (
        *("streams", "jobs", "groups", "group-jobs", "mapping-table", "connections"),
        *("waiting", "audit-runs"),
    ):
        assert any(c.endswith(f"#{table}") for c in checked), (table, checked)


def test_streams_lose_the_least_important_columns_first() -> None:
    from shopodoo_console.ui.widgets.tables import Col

    columns = [
        Col("shop", "Shop", 0),
        Col("cursor", "Cursor", 4),
        Col("mode", "Mode", 3),
        Col("attention", "Attention", 0),
        Col("what", "What", 0, True),
    ]
    natural = [12, 19, 6, 9, 40]
    assert list(plan_columns(columns, natural, 200)) == [
        "shop",
        "cursor",
        "mode",
        "attention",
        "what",
    ]
    assert list(plan_columns(columns, natural, 60)) == ["shop", "mode", "attention", "what"]
    narrow = plan_columns(columns, natural, 45)
    assert list(narrow) == ["shop", "attention", "what"]
    assert narrow["what"] == 45 - (12 + 2) - (9 + 2) - 2  # the flexible one takes the rest
