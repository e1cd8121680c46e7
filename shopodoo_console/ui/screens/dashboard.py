"""Dashboard: is the sync alive, how far behind is it, and what needs me?"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Label, Sparkline, Static

from shopodoo_console.ui.format import (
    ERROR,
    STATE_ORDER,
    STATE_STYLES,
    ago,
    count,
    shorten,
    state_label,
    when,
)
from shopodoo_console.ui.reads import (
    THROUGHPUT_BUCKET_SECONDS,
    DashboardData,
    read_dashboard,
)
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.tables import NavTable, Row

STREAM_STATES = ("queued", "running", "retrying", "needs_attention", "failed", "done", "skipped")
STATE_HEADERS = {"needs_attention": "Attention"}


def idle_reason(data: DashboardData) -> str:
    """Why the scheduler has nothing to poll, or "" when it polls something."""
    if data.polled:
        return ""
    if not data.shops:
        return "no shop is configured (5 Settings, A adds one)"
    return "every flow is off (5 Settings, m turns one on)"


def scheduler_banner(state: str, holder: str | None, idle: str = "") -> Text:
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
        return Text.from_markup(
            "[bold red]Read-only[/] — another console polls this database: "
            f"{holder or 'unknown process'}. This one shows and edits, but does not poll."
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


class DashboardScreen(LiveScreen[DashboardData]):
    PALETTE_GROUP = "Dashboard"
    AUTO_RELOAD_SECONDS = 2.0

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dashboard"):
            yield Static(id="scheduler", classes="banner")
            yield Static(id="totals")
            yield Label("Streams", classes="section")
            yield NavTable(
                [
                    ("shop", "Shop"),
                    ("flow", "Flow"),
                    ("mode", "Mode"),
                    ("poll", "Last poll"),
                    ("cursor", "Cursor"),
                    ("lag", "Lag"),
                    *(
                        (s, STATE_HEADERS.get(s, state_label(s).capitalize()))
                        for s in STREAM_STATES
                    ),
                ],
                id="streams",
            )
            with Horizontal(id="dashboard-bottom"):
                with Vertical(id="throughput-box", classes="panel"):
                    yield Label("Throughput · last 5 min", classes="section")
                    yield Sparkline([], id="throughput")
                    yield Static(id="rate")
                with Vertical(id="connections-box", classes="panel"):
                    yield Label("Shopify budget · Odoo latency", classes="section")
                    yield Static(id="budgets")
                with Vertical(id="causes-box", classes="panel"):
                    yield Label("Top failure causes", classes="section")
                    yield NavTable(
                        [("cause", "Cause"), ("kind", "Kind"), ("jobs", "Jobs")], id="causes"
                    )
        yield Footer()

    def load(self) -> DashboardData:
        app = self.console_app
        return read_dashboard(app.engine, app.store, app.clock())

    def show(self, data: DashboardData) -> None:
        self.query_one("#scheduler", Static).update(
            scheduler_banner(data.scheduler, data.holder, idle_reason(data))
        )
        self.query_one("#totals", Static).update(
            Text.assemble(("Jobs: ", "bold"), state_counts(data.totals))
        )
        rows: list[Row] = []
        for s in data.streams:
            if s.last_poll_ok is False:
                poll = Text(f"{when(s.last_poll_at, data.now)} failed", style=ERROR)
            else:
                poll = Text(when(s.last_poll_at, data.now))
            mode = Text(s.mode, style="dim" if s.mode == "off" else "")
            rows.append(
                (
                    f"{s.shop}|{s.flow}",
                    [
                        s.shop.removesuffix(".myshopify.com"),
                        s.flow,
                        mode,
                        poll,
                        shorten(s.position or "-", 24),
                        "-" if s.lag_seconds is None else ago(s.lag_seconds),
                        *(
                            Text(count(s.counts.get(st, 0)), style=STATE_STYLES[st])
                            if s.counts.get(st)
                            else Text("0", style="dim")
                            for st in STREAM_STATES
                        ),
                    ],
                )
            )
        self.query_one("#streams", NavTable).set_rows(rows)
        self.query_one("#throughput", Sparkline).data = data.throughput
        last_minute = sum(data.throughput[-60 // THROUGHPUT_BUCKET_SECONDS :])
        total = sum(data.throughput)
        self.query_one("#rate", Static).update(
            f"{count(last_minute)} in the last minute · {count(total)} in 5 min"
        )
        self.query_one("#budgets", Static).update(self._budgets(data))
        self.query_one("#causes", NavTable).set_rows(
            [
                (c.code, [c.title, c.kind.split(" —")[0], Text(count(c.count), style=ERROR)])
                for c in data.causes[:8]
            ]
        )

    @staticmethod
    def _budgets(data: DashboardData) -> Text:
        text = Text()
        for s in sorted({s.shop for s in data.streams}):
            budget = data.budgets.get(s)
            text.append(f"{s}: ", style="bold")
            if budget:
                text.append(
                    f"{budget.get('available', 0):.0f}/{budget.get('maximum', 0):.0f} points, "
                    f"+{budget.get('restore_rate', 0):.0f}/s\n"
                )
            else:
                text.append("no Shopify call yet\n", style="dim")
        text.append("Odoo: ", style="bold")
        latency = data.odoo_latency
        if latency:
            text.append(
                f"p50 {latency.get('p50_ms', 0):.0f} ms, p95 {latency.get('p95_ms', 0):.0f} ms "
                f"over {latency.get('calls', 0)} calls"
            )
        else:
            text.append("no Odoo call yet", style="dim")
        return text

    @on(DataTable.RowSelected, "#causes")
    async def _open_cause(self, event: DataTable.RowSelected) -> None:
        await self.console_app.show_failures(str(event.row_key.value))

    @on(DataTable.RowSelected, "#streams")
    async def _open_stream(self, event: DataTable.RowSelected) -> None:
        shop, _, flow = str(event.row_key.value).partition("|")
        await self.console_app.show_queue(shop=shop, flow=flow)
