"""Review: the first month at a glance — what failed and why, who waited for whom, how often
jobs were retried, and what people still fix by hand (issue 14).

Two charts (textual-plotext, as on the dashboard): failed attempts per day stacked by cause,
and retries per job. Below them, how long jobs waited for a person and the jobs still waiting
(``enter`` opens one), the fields people change in Odoo after the console wrote them
(candidates for protection or a mapping), mappings added, and resolves and cancels with their
reasons. ``[`` and ``]`` shorten or lengthen the period.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Static
from textual_plotext import PlotextPlot

from shopodoo_console.causes import spec_for
from shopodoo_console.engine.review import Review, build_review, duration
from shopodoo_console.ui.messages import OpenJob
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.tables import NavTable

PERIODS = (7, 14, 30, 60, 90)  # days


class ReviewScreen(LiveScreen[Review]):
    PALETTE_GROUP = "Review"
    AUTO_RELOAD_SECONDS = 30.0
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("[", "period(-1)", "Shorter period", id="review.shorter"),
        Binding("]", "period(1)", "Longer period", id="review.longer"),
        Binding("o", "open_job", "Job detail", show=False, id="review.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.days = 30

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="review"):
            yield Static(id="review-title", classes="banner")
            with Horizontal(id="review-charts"):
                yield PlotextPlot(id="failures-chart")
                yield PlotextPlot(id="retries-chart")
            yield Static(id="review-causes", classes="status")
            with Horizontal(id="review-middle"):
                with Vertical(id="waits-box"):
                    yield Label("Waiting for a person", classes="section")
                    yield Static(id="waits")
                    yield NavTable(
                        [("id", "Job"), ("state", "State"), ("for", "Waiting"), ("what", "Record")],
                        id="waiting",
                    )
                with Vertical(id="edits-box"):
                    yield Label("Changed in Odoo by a person", classes="section")
                    yield Static(id="edits")
                    yield Label("Mappings added", classes="section")
                    yield Static(id="mappings-added")
                    yield Label("Resolved and cancelled by hand", classes="section")
                    yield Static(id="closes")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#waiting", NavTable).focus()

    # ------------------------------------------------------------ data

    def load(self) -> Review:
        now = self.console_app.clock()
        return build_review(self.console_app.store, since=now - self.days * 86400, until=now)

    def show(self, data: Review) -> None:
        now = self.console_app.clock()
        jobs = sum(data.jobs.values())
        failed = sum(n for _, _, n in data.failures)
        self.query_one("#review-title", Static).update(
            f"[b]Last {self.days} days[/b] · {jobs:,} jobs created · {failed:,} failed attempts "
            f"· {data.waiting_now:,} waiting for a person now  ([ shorter · ] longer)"
        )
        self._failures_chart(data)
        self._retries_chart(data)
        self.query_one("#review-causes", Static).update(
            "  ".join(
                f"{c} {sum(data.failures_of(c))} ({spec_for(c).title})" for c in data.causes[:6]
            )
            or "No failures in the period."
        )
        w = data.waits
        self.query_one("#waits", Static).update(
            f"{w.count} action(s) on waiting jobs · median {duration(w.median)} · "
            f"90% within {duration(w.p90)} · longest {duration(w.longest)}\n"
            + (", ".join(f"{k} {v}" for k, v in sorted(w.by_action.items())) or "no actions")
            + f"\n{data.waiting_now} job(s) wait now; the longest:"
        )
        self.query_one("#waiting", NavTable).set_rows(
            [
                (
                    str(j.job_id),
                    [
                        str(j.job_id),
                        j.state.replace("_", " "),
                        duration(max(0.0, now - j.since)),
                        f"{j.label} ({j.cause_code or '-'})",
                    ],
                )
                for j in data.longest_waiting
            ]
        )
        self.query_one("#edits", Static).update(
            "\n".join(
                f"{e.events}× {e.model + '.' if e.model else ''}{e.field} "
                f"({e.jobs} job(s); {', '.join(c for c in e.codes if c)})"
                for e in data.edits
            )
            or "Nothing: no conflict or protection reported."
        )
        self.query_one("#mappings-added", Static).update(
            "\n".join(
                f"{m.kind} {m.source_key} → {m.odoo_model} {m.odoo_id} {m.label} "
                f"({m.requeued} job(s) re-queued)"
                for m in data.mappings
            )
            or "None."
        )
        self.query_one("#closes", Static).update(
            "\n".join(f"{c.count}× {c.event}: {c.reason or '(no reason)'}" for c in data.closes)
            or "None."
        )

    def _failures_chart(self, data: Review) -> None:
        widget = self.query_one("#failures-chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Failed attempts per day, by cause")
        if data.failures:
            days = [d[5:] for d in data.days]
            causes = data.causes[:6]
            series = [data.failures_of(c) for c in causes]
            rest = [
                sum(n for d2, c, n in data.failures if d2 == d and c not in causes)
                for d in data.days
            ]
            if any(rest):
                series.append(rest)
                causes = [*causes, "other"]
            plt.stacked_bar(days, series, labels=causes)  # type: ignore[call-arg]
            top = max(sum(column) for column in zip(*series, strict=True))
            plt.yticks(_whole_ticks(top))
        widget.refresh()

    def _retries_chart(self, data: Review) -> None:
        widget = self.query_one("#retries-chart", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("Retries per job")
        buckets = data.retry_buckets()
        plt.bar(list(buckets), list(buckets.values()))
        plt.yticks(_whole_ticks(max(buckets.values())))
        widget.refresh()

    # ------------------------------------------------------------ actions

    def action_period(self, step: int) -> None:
        index = PERIODS.index(self.days) if self.days in PERIODS else 2
        self.days = PERIODS[max(0, min(len(PERIODS) - 1, index + step))]
        self.request_reload()

    @on(DataTable.RowSelected, "#waiting")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenJob(int(event.row_key.value)))

    def action_open_job(self) -> None:
        key = self.query_one("#waiting", NavTable).current_key
        if key:
            self.post_message(OpenJob(int(key)))


def _whole_ticks(top: int) -> list[float]:
    """Counts are whole: about five ticks from 0 to ``top``."""
    step = max(1, -(-top // 5))
    return [float(t) for t in range(0, top + step, step)]


__all__ = ["ReviewScreen"]
