"""Help: what each screen is for and every key, listed from the bindings themselves."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from shopodoo_console.ui.widgets.tables import NavTable

INTRO = """\
shopodoo keeps Shopify and Odoo in step without duplicates. Jobs flow from polls to the queue; \
a job that cannot finish stops with a cause that says which record, what is missing, whether \
it is temporary or configuration, and whether retrying is safe after the fix.

Morning routine, four keys per cause: 3 (Failures) → f (fix it: the mapping editor opens with \
the missing SKU or gateway filled in and Odoo's suggestions) → enter (take the suggestion) → \
enter (save). Saving re-queues every job that waited for it; a cause a shop option answers \
(no guest contact) opens that option in Settings instead. ctrl+p opens the command palette \
with every action of the current screen."""


def _binding_rows(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            key = b.key_display or b.key
            rows.append((key, b.description + (f" — {b.tooltip}" if b.tooltip else "")))
    return rows


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every screen's keys, in the order an operator meets them (the palette uses the same)."""
    from shopodoo_console.ui.app import ShopodooApp
    from shopodoo_console.ui.screens.dashboard import DashboardScreen
    from shopodoo_console.ui.screens.failures import FailuresScreen
    from shopodoo_console.ui.screens.job import JobScreen
    from shopodoo_console.ui.screens.mappings import MappingsScreen
    from shopodoo_console.ui.screens.queue import QueueScreen
    from shopodoo_console.ui.screens.settings import SettingsScreen
    from shopodoo_console.ui.screens.setup import SetupScreen

    return [
        ("Everywhere", [*_binding_rows(ShopodooApp.BINDINGS), ("ctrl+p", "Command palette")]),
        ("Tables", _binding_rows(NavTable.BINDINGS)),
        ("Queue (2)", _binding_rows(QueueScreen.BINDINGS)),
        ("Failures (3)", _binding_rows(FailuresScreen.BINDINGS)),
        ("Job detail (enter on a job)", _binding_rows(JobScreen.BINDINGS)),
        ("Mappings (4)", _binding_rows(MappingsScreen.BINDINGS)),
        ("Settings (5)", _binding_rows(SettingsScreen.BINDINGS)),
        ("Dashboard (1)", _binding_rows(DashboardScreen.BINDINGS)),
        ("First run (shopodoo with no config)", _binding_rows(SetupScreen.BINDINGS)),
    ]


class HelpScreen(ModalScreen[None]):
    PALETTE_GROUP = "Help"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close")
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(Text("shopodoo console — help", style="bold"), classes="dialog-title")
            yield Static(INTRO, classes="dialog-help", markup=False)
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold cyan", no_wrap=True)
            grid.add_column()
            for title, rows in help_sections():
                grid.add_row(Text(title, style="bold underline"), "")
                for key, description in rows:
                    grid.add_row(Text(key), Text(description))  # "[odoo]" stays literal
                grid.add_row("", "")
            yield Static(grid, id="help-keys")
