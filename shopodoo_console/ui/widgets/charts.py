"""The Dashboard's charts and gauges: a plotext line chart of the last hour, Rich gauges of
Shopify's budget, and Textual sparklines of the budget's and Odoo's latency history."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual_plotext import PlotextPlot

MINUTE_TICKS = (-60, -45, -30, -15, 0)


class HourChart(PlotextPlot):
    """Jobs finished and attempts failed per minute over the last hour (a real chart:
    plotext draws axes, ticks and a legend; the widget follows the app's theme)."""

    DEFAULT_CSS = """
    HourChart {
        width: 1fr;
        height: 1fr;
        min-height: 6;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series: tuple[list[int], list[int]] = ([], [])

    def show_series(self, done: Sequence[int], failed: Sequence[int]) -> None:
        series = (list(done), list(failed))
        if series == self.series:
            return
        self.series = series
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        minutes = len(done)
        x = list(range(-minutes + 1, 1))
        if minutes:
            plt.plot(x, list(done), label="done/min", color="green", marker="braille")
            plt.plot(x, list(failed), label="failed/min", color="red", marker="braille")
            plt.xticks(list(MINUTE_TICKS), ["-60m", "-45m", "-30m", "-15m", "now"])
            top = max([*done, *failed, 1])
            plt.ylim(0, top)
            plt.yticks(sorted({0, top // 2, top}))
        plt.xlim(-minutes + 1 if minutes else -59, 0)
        self.refresh()


def gauge(label: str, fraction: float, detail: str, width: int = 18) -> RenderableType:
    """One labelled gauge line: ``acme  ███████░░░  912/1000 pts``."""
    fraction = min(1.0, max(0.0, fraction))
    style = "red" if fraction < 0.2 else ("yellow" if fraction < 0.5 else "green")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(width=width)
    grid.add_column(no_wrap=True)
    bar = ProgressBar(total=1.0, completed=fraction, width=width, complete_style=style)
    grid.add_row(Text(label, style="bold"), bar, Text(detail))
    return grid


def gauges(lines: Sequence[RenderableType]) -> RenderableType:
    return Group(*lines) if lines else Text("no Shopify call yet", style="dim")
