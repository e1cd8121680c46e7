"""A DataTable that navigates like vim and updates in place.

Textual's DataTable keeps every row in memory, so screens give it one page from SQLite, and
refreshes apply deltas: when the same rows come back only changed cells are updated; the
table is rebuilt only when rows arrive or leave, and the cursor stays on the same record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, Sequence[Cell]]


class NavTable(DataTable[Cell]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="table.open"),
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "First row", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Last row", show=False, id="table.bottom"),
        Binding("ctrl+d", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("ctrl+u", "page_up", "Page up", show=False, id="table.page_up"),
    ]

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._column_spec = list(columns)
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for key, label in self._column_spec:
            self.add_column(label, key=key)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def current_key(self) -> str | None:
        if not self._keys or self.cursor_row < 0 or self.cursor_row >= len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show exactly ``rows`` (keyed), touching as little as possible."""
        keys = [key for key, _ in rows]
        if keys == self._keys:
            columns = [key for key, _ in self._column_spec]
            for key, cells in rows:
                old = self._cells.get(key, ())
                for index, cell in enumerate(cells):
                    if index >= len(old) or old[index] != cell:
                        self.update_cell(key, columns[index], cell)
                self._cells[key] = tuple(cells)
            return
        current, index = self.current_key, self.cursor_row
        with self.app.batch_update():
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
        self._keys = keys
        self._cells = {key: tuple(cells) for key, cells in rows}
        if current in self._cells:
            self.move_cursor(row=keys.index(current), animate=False, scroll=True)
        elif keys:
            self.move_cursor(row=min(max(index, 0), len(keys) - 1), animate=False)

    def append_rows(self, rows: Sequence[Row]) -> None:
        """Add rows at the bottom (the next page) without rebuilding."""
        for key, cells in rows:
            if key in self._cells:
                continue
            self.add_row(*cells, key=key)
            self._keys.append(key)
            self._cells[key] = tuple(cells)

    def select_key(self, key: str) -> bool:
        if key in self._cells:
            self.move_cursor(row=self._keys.index(key), animate=False)
            return True
        return False
