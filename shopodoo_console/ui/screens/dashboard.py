"""Dashboard: is the sync alive, how far behind is it, what just happened, and what needs me?

What an ops lead leaves open all day: the streams (a failing poll turns its row red with the
reason), a live activity feed across shops (newest first, filterable, enter opens the job),
the last hour's throughput and failures as a chart, Shopify's budget and Odoo's latency as
gauges with their history, and the top failure causes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, Sparkline, Static

from shopodoo_console.ui.format import (
    ERROR,
    STATE_ORDER,
    STATE_STYLES,
    ago,
    clock_time,
    count,
    parse_position,
    state_label,
)
from shopodoo_console.ui.live import Activity
from shopodoo_console.ui.messages import OpenJob
from shopodoo_console.ui.reads import DashboardData, read_dashboard
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.stock import progress_line, read_resyncs
from shopodoo_console.ui.widgets.charts import HourChart, gauge, gauges
from shopodoo_console.ui.widgets.modals import ConfirmModal
from shopodoo_console.ui.widgets.tables import Col, NavTable, Row

STREAM_STATES = (
    "needs_attention",
    "failed",
    "awaiting_approval",  # review mode: the plans waiting for you
    "retrying",
    "queued",
    "running",
    "done",
    "skipped",
)
STATE_HEADERS = {"needs_attention": "Attention", "awaiting_approval": "Approval"}
STATE_PRIORITY = {
    "needs_attention": 0,
    "failed": 0,
    "awaiting_approval": 1,
    "retrying": 1,
    "done": 1,
}
FEED_STYLES = {"error": ERROR, "warning": "yellow", "good": "green", "": ""}


def idle_reason(data: DashboardData) -> str:
    """Why the scheduler has nothing to poll, or "" when it polls something."""
    if data.polled:
        return ""
    if not data.shops:
        return "no shop is configured (5 Settings, A adds one)"
    return "every flow is off (5 Settings, m turns one on)"


def scheduler_banner(state: str, holder: str | None, idle: str = "", failing: int = 0) -> Text:
    if state == "running" and failing:
        return Text.assemble(
            ("● Running", "bold green"),
            " — ",
            (f"polling FAILING on {failing} stream{'s' if failing > 1 else ''}", ERROR),
            " (see below; 3 Failures has the four answers)",
        )
    if state == "running" and idle:
        return Text.assemble(
            ("● Running", "bold green"), " — ", ("nothing to poll", "bold yellow"), f": {idle}"
        )
    if state == "running":
        return Text.from_markup("[bold green]● Running[/] — polling and working the queue")
    if state == "paused":
        return Text.from_markup(
            "[bold yellow]❚❚ Paused[/] — no polls, no new jobs start (p resumes)"
        )
    if state == "read_only":
        return Text.assemble(
            ("Read-only", "bold red"),
            " — another console polls this database: "
            f"{holder or 'unknown process'}. This one shows and edits, but does not poll.",
        )
    return Text.from_markup("[b]■ Stopped[/] — the scheduler is not running in this console")


def state_counts(counts: dict[str, int], *, zero: bool = False) -> Text:
    text = Text()
    for state in STATE_ORDER:
        n = counts.get(state, 0)
        if n or zero:
            if text:
                text.append(" · ")
            text.append(f"{count(n)} {state_label(state)}", style=STATE_STYLES.get(state, ""))
    return text or Text("no jobs yet", style="dim")


def cursor_text(position: str | None, now: float) -> str:
    """A cursor as local time: the time alone today, with the date otherwise."""
    moment = parse_position(position)
    if moment is None:
        return position or "-"
    from datetime import datetime

    shown = datetime.fromtimestamp(moment)
    today = datetime.fromtimestamp(now).date() == shown.date()
    return shown.strftime("%H:%M:%S" if today else "%Y-%m-%d %H:%M")


def history_points(points: list[float]) -> list[float]:
    """A sparkline only once there is a history to draw: with one value (or a flat line)
    every bar would be full height, which reads as "at the maximum"."""
    return points if len(set(points)) > 1 else []


def feed_matches(line: Activity, text: str) -> bool:
    needle = text.strip().lower()
    return not needle or needle in line.text.lower() or needle in line.shop.lower()


class DashboardScreen(LiveScreen[DashboardData]):
    PALETTE_GROUP = "Dashboard"
    AUTO_RELOAD_SECONDS = 2.0
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter_feed", "Filter activity", key_display="/", id="dashboard.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="dashboard.clear"),
        Binding("tab", "app.focus_next", "Next panel", show=False, id="dashboard.next"),
        Binding("R", "resync_stock", "Resync stock…", id="dashboard.resync"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dashboard"):
            yield Static(id="scheduler", classes="banner")
            yield Static(id="totals")
            yield NavTable(
                [
                    Col("shop", "Shop", 0),
                    Col("flow", "Flow", 0),
                    Col("mode", "Mode", 3),
                    Col("poll", "Last poll", 2),
                    Col("cursor", "Cursor", 4),
                    Col("lag", "Lag", 3),
                    *(
                        Col(
                            s,
                            STATE_HEADERS.get(s, state_label(s).capitalize()),
                            STATE_PRIORITY.get(s, 2),
                        )
                        for s in STREAM_STATES
                    ),
                ],
                id="streams",
            )
            yield Static(id="poll-problems")
            yield Static(id="resyncs")
            with Horizontal(id="dashboard-bottom"):
                with Vertical(id="feed-box", classes="panel"):
                    yield Label("Activity · newest first", classes="title")
                    yield Input(placeholder="filter: shop, order, SKU, event…", id="feed-filter")
                    yield NavTable(
                        [
                            Col("at", "Time", 0),
                            Col("shop", "Shop", 2),
                            Col("what", "What", 0, True),
                        ],
                        id="feed",
                    )
                with Vertical(id="side", classes="panel"):
                    with Vertical(id="chart-box"):
                        yield Label("Last hour · done and failed per minute", classes="title")
                        yield HourChart(id="hour-chart")
                    with Vertical(id="gauges-box"):
                        yield Label("Shopify budget · Odoo latency", classes="title")
                        yield Static(id="budgets")
                        with Horizontal(classes="spark-row"):
                            yield Label("budget", classes="spark-label")
                            yield Sparkline([], id="budget-spark")
                        with Horizontal(classes="spark-row"):
                            yield Label("p95 ms", classes="spark-label")
                            yield Sparkline([], id="latency-spark")
                    with Vertical(id="causes-box"):
                        yield Label("Top failure causes", classes="title")
                        yield NavTable(
                            [Col("cause", "Cause", 0, True), Col("jobs", "Jobs", 0)],
                            id="causes",
                        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#feed-filter", Input).display = False
        self.query_one("#feed", NavTable).focus()

    def load(self) -> DashboardData:
        app = self.console_app
        data = read_dashboard(app.engine, app.store, app.clock(), app.live)
        return replace(data, resyncs=read_resyncs(app.engine, app.store, app.clock()))

    def show(self, data: DashboardData) -> None:
        failing = data.failing
        self.query_one("#scheduler", Static).update(
            scheduler_banner(data.scheduler, data.holder, idle_reason(data), len(failing))
        )
        self.query_one("#totals", Static).update(
            Text.assemble(("Jobs: ", "bold"), state_counts(data.totals))
        )
        self.query_one("#streams", NavTable).set_rows(
            [self._stream_row(s, data) for s in data.streams]
        )
        problems = self.query_one("#poll-problems", Static)
        problems.display = bool(failing)
        problems.update(
            Text("\n").join(
                Text.assemble(
                    (f"✖ {f.shop.removesuffix('.myshopify.com')} {f.stream}: ", ERROR),
                    (f.summary(data.now), "red"),
                )
                for f in failing
            )
        )
        resyncs = self.query_one("#resyncs", Static)
        resyncs.display = bool(data.resyncs)
        resyncs.update(
            Text("\n").join(
                Text.assemble(("Stock resync · ", "bold"), progress_line(r.shop, r.progress))
                for r in data.resyncs
            )
        )
        self._show_feed(data)
        self.query_one("#hour-chart", HourChart).show_series(
            data.done_per_minute, data.failed_per_minute
        )
        self.query_one("#budgets", Static).update(self._gauges(data))
        history = data.budget_history
        worst = [min(points) for points in zip(*history.values(), strict=False)] if history else []
        self.query_one("#budget-spark", Sparkline).data = history_points(
            [p * 100 for p in worst[-60:]]
        )
        self.query_one("#latency-spark", Sparkline).data = history_points(
            data.latency_history[-60:]
        )
        self.query_one("#causes", NavTable).set_rows(
            [(c.code, [c.title, Text(count(c.count), style=ERROR)]) for c in data.causes[:8]]
        )

    @staticmethod
    def _stream_row(s: object, data: DashboardData) -> tuple[str, list[Text | str]]:
        from shopodoo_console.ui.reads import StreamStatus

        assert isinstance(s, StreamStatus)
        red = s.failing is not None
        if red:
            poll = Text(f"FAILED ×{s.failing.tries or 1}", style=ERROR)  # type: ignore[union-attr]
        elif s.last_poll_ok is False:
            poll = Text(f"{ago(data.now - (s.last_poll_at or data.now))} ago, failed", style=ERROR)
        else:
            poll = Text(
                "never" if s.last_poll_at is None else f"{ago(data.now - s.last_poll_at)} ago"
            )
        name_style = ERROR if red else ""
        return (
            f"{s.shop}|{s.flow}",
            [
                Text(s.shop.removesuffix(".myshopify.com"), style=name_style),
                Text(s.flow, style=name_style),
                Text(s.mode, style="dim" if s.mode == "off" else ""),
                poll,
                cursor_text(s.position, data.now),
                "-" if s.lag_seconds is None else ago(s.lag_seconds),
                *(
                    Text(count(s.counts.get(st, 0)), style=STATE_STYLES[st])
                    if s.counts.get(st)
                    else Text("0", style="dim")
                    for st in STREAM_STATES
                ),
            ],
        )

    def _show_feed(self, data: DashboardData) -> None:
        text = self.query_one("#feed-filter", Input).value
        rows: list[Row] = []
        seen: set[str] = set()
        for line in data.feed:
            if not feed_matches(line, text):
                continue
            key = f"{line.at:.6f}|{hash((line.shop, line.text))}|{line.job_id or ''}"
            if key in seen:
                continue
            seen.add(key)
            rows.append(
                (
                    key,
                    [
                        clock_time(line.at),
                        line.shop.removesuffix(".myshopify.com"),
                        Text(line.text, style=FEED_STYLES.get(line.style, "")),
                    ],
                )
            )
        self.query_one("#feed", NavTable).set_rows(rows)

    @staticmethod
    def _gauges(data: DashboardData) -> RenderableType:
        lines = []
        for shop in sorted({s.shop for s in data.streams}):
            budget = data.budgets.get(shop)
            name = shop.removesuffix(".myshopify.com")
            if budget and budget.get("maximum"):
                available, maximum = budget.get("available", 0), budget["maximum"]
                detail = (
                    f"{available:.0f}/{maximum:.0f} points +{budget.get('restore_rate', 0):.0f}/s"
                )
                lines.append(gauge(name, available / maximum, detail))
            else:
                lines.append(Text.assemble((name, "bold"), (" no Shopify call yet", "dim")))
        latency = data.odoo_latency
        if latency:
            p50, p95 = latency.get("p50_ms") or 0, latency.get("p95_ms") or 0
            calls = count(int(latency.get("calls") or 0))
            lines.append(
                Text.assemble(
                    ("Odoo ", "bold"), f"p50 {p50:.0f} ms, p95 {p95:.0f} ms · {calls} calls"
                )
            )
        else:
            lines.append(Text.assemble(("Odoo ", "bold"), ("no Odoo call yet", "dim")))
        return gauges(lines)

    # ------------------------------------------------------------ keys

    def action_resync_stock(self) -> None:
        """Bring every stock level in step: the selected stream's shop, else the only one."""
        app = self.console_app
        shops = [
            ref.domain
            for ref in app.engine.shops.values()
            if ref.config is not None and ref.config.mode("stock") != "off"
        ]
        key = self.query_one("#streams", NavTable).current_key or ""
        chosen = key.split("|")[0] if key.split("|")[0] in shops else ""
        shop = chosen or (shops[0] if len(shops) == 1 else "")
        if not shop:
            self.notify(
                "Select the stream of the shop to resync (the stock flow must be on)."
                if shops
                else "The stock flow is off for every shop: turn it on in Settings first.",
                severity="warning",
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                app.start_resync(shop)

        self.app.push_screen(
            ConfirmModal(
                f"Resync the stock of {shop}? Every Shopify variant is read and its levels "
                "compared with Odoo; only the levels that differ are written, once each. Paced "
                "by the Shopify budget; the bar below shows the progress and the ETA. If the "
                "console stops, resync again: it resumes where it was."
            ),
            answered,
        )

    def action_filter_feed(self) -> None:
        field = self.query_one("#feed-filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#feed-filter", Input)
        field.value = ""
        field.display = False
        self.query_one("#feed", NavTable).focus()
        if self.data is not None:
            self._show_feed(self.data)

    @on(Input.Changed, "#feed-filter")
    def _filter_changed(self) -> None:
        if self.data is not None:
            self._show_feed(self.data)

    @on(Input.Submitted, "#feed-filter")
    def _filter_done(self) -> None:
        self.query_one("#feed", NavTable).focus()

    @on(DataTable.RowSelected, "#feed")
    def _open_activity(self, event: DataTable.RowSelected) -> None:
        job = str(event.row_key.value).rsplit("|", 1)[-1]
        if job:
            self.post_message(OpenJob(int(job)))
        else:
            self.notify("This line is not about one job.", severity="warning")

    @on(DataTable.RowSelected, "#causes")
    async def _open_cause(self, event: DataTable.RowSelected) -> None:
        await self.console_app.show_failures(str(event.row_key.value))

    @on(DataTable.RowSelected, "#streams")
    async def _open_stream(self, event: DataTable.RowSelected) -> None:
        shop, _, flow = str(event.row_key.value).partition("|")
        await self.console_app.show_queue(shop=shop, flow=flow)
