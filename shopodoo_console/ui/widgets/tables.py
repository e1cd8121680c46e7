"""A DataTable that navigates like vim, updates in place, and fits its columns to the width.

Textual's DataTable keeps every row in memory, so screens give it one page from SQLite, and
refreshes apply deltas: when the same rows come back only changed cells are updated; the
table is rebuilt only when rows arrive or leave, or when the columns must be laid out anew,
and the cursor stays on the same record.

Columns are sized to their content on every refresh (a count of 14 is never shown as "1",
a state never as "revi"). When the table is narrower than its content, the least important
columns are left out first (a column's ``priority``: 0 is never dropped, higher numbers go
first), and a ``flex`` column (a record's name, a message) takes the width that is left,
shortened with an ellipsis rather than dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, Sequence[Cell]]
FLEX_MIN = 12  # a flex column narrower than this is dropped instead
SCROLLBAR = 2


@dataclass(frozen=True)
class Col:
    """A column: its key, header, how soon it drops (0 never) and whether it flexes."""

    key: str
    label: str
    priority: int = 1
    flex: bool = False


ColumnSpec = Col | tuple[str, str]


def _col(spec: ColumnSpec) -> Col:
    return spec if isinstance(spec, Col) else Col(spec[0], spec[1])


def _width(cell: Cell) -> int:
    return cell_len(cell.plain if isinstance(cell, Text) else cell)


def _fit(cell: Cell, width: int) -> Cell:
    """``cell`` shortened to ``width`` cells with an ellipsis (styles kept)."""
    if _width(cell) <= width:
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.truncate(max(1, width), overflow="ellipsis")
    return text


def plan_columns(
    columns: Sequence[Col], natural: Sequence[int], available: int, padding: int = 2
) -> dict[str, int]:
    """Which columns to show and how wide (content widths ``natural``), within ``available``
    cells. Pure, so the drop order is tested on its own."""
    shown = list(range(len(columns)))

    def need(indexes: list[int]) -> int:
        return sum((FLEX_MIN if columns[i].flex else natural[i]) + padding for i in indexes)

    droppable = sorted(
        (i for i in shown if columns[i].priority > 0),
        key=lambda i: (-columns[i].priority, -i),
    )
    while need(shown) > available and droppable:
        shown.remove(droppable.pop(0))
    widths = {columns[i].key: natural[i] for i in shown}
    flex = [i for i in shown if columns[i].flex]
    if flex:
        fixed = sum(natural[i] + padding for i in shown if not columns[i].flex)
        left = max(0, available - fixed - padding * len(flex))
        share = max(FLEX_MIN, left // len(flex))
        for i in flex:
            widths[columns[i].key] = min(natural[i], share) if natural[i] else share
    return widths


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

    def __init__(self, columns: Sequence[ColumnSpec], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._column_spec = [_col(c) for c in columns]
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._layout: dict[str, int] = {}  # shown column key → width

    def on_mount(self) -> None:
        self._apply_layout(self._plan())

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns on screen now (tests assert the key ones stay)."""
        return list(self._layout)

    @property
    def current_key(self) -> str | None:
        if not self._keys or self.cursor_row < 0 or self.cursor_row >= len(self._keys):
            return None
        return self._keys[self.cursor_row]

    # ------------------------------------------------------------ layout

    def _plan(self) -> dict[str, int]:
        natural = []
        for index, column in enumerate(self._column_spec):
            widest = _width(column.label)
            for cells in self._cells.values():
                if index < len(cells):
                    widest = max(widest, _width(cells[index]))
            natural.append(widest)
        available = (self.size.width or 200) - SCROLLBAR
        return plan_columns(self._column_spec, natural, available, 2 * self.cell_padding)

    def _apply_layout(self, layout: dict[str, int], current: str | None = None) -> None:
        """Rebuild columns and rows for ``layout`` (the cursor stays on its record:
        ``current``, when the rows just changed under it)."""
        current, index = current or self.current_key, self.cursor_row
        with self.app.batch_update():
            self.clear(columns=True)
            for column in self._column_spec:
                if column.key in layout:
                    self.add_column(column.label, key=column.key, width=layout[column.key])
            self._layout = layout
            for key in self._keys:
                self.add_row(*self._shown(self._cells[key]), key=key)
        self._restore_cursor(current, index)

    def _shown(self, cells: Sequence[Cell]) -> list[Cell]:
        out = []
        for column, cell in zip(self._column_spec, cells, strict=False):
            width = self._layout.get(column.key)
            if width is not None:
                out.append(_fit(cell, width) if column.flex else cell)
        return out

    def _restore_cursor(self, current: str | None, index: int) -> None:
        if current in self._cells:
            self.move_cursor(row=self._keys.index(current), animate=False, scroll=True)
        elif self._keys:
            self.move_cursor(row=min(max(index, 0), len(self._keys) - 1), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        layout = self._plan()
        if layout != self._layout:
            self._apply_layout(layout)

    # ------------------------------------------------------------ rows

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show exactly ``rows`` (keyed), touching as little as possible."""
        keys = [key for key, _ in rows]
        same_keys = keys == self._keys
        old = self._cells
        current = self.current_key  # read against the rows on screen, before they change
        self._keys = keys
        self._cells = {key: tuple(cells) for key, cells in rows}
        layout = self._plan()
        if layout != self._layout or not same_keys:
            self._apply_layout(layout, current)
            return
        shown = [c for c in self._column_spec if c.key in self._layout]
        for key, cells in rows:
            if old.get(key) == tuple(cells):
                continue
            for column, cell in zip(shown, self._shown(cells), strict=True):
                self.update_cell(key, column.key, cell)

    def append_rows(self, rows: Sequence[Row]) -> None:
        """Add rows at the bottom (the next page) without rebuilding when they fit."""
        fresh = [(key, cells) for key, cells in rows if key not in self._cells]
        for key, cells in fresh:
            self._keys.append(key)
            self._cells[key] = tuple(cells)
        layout = self._plan()
        if layout != self._layout:
            self._apply_layout(layout)
            return
        for key, cells in fresh:
            self.add_row(*self._shown(cells), key=key)

    def select_key(self, key: str) -> bool:
        if key in self._cells:
            self.move_cursor(row=self._keys.index(key), animate=False)
            return True
        return False
