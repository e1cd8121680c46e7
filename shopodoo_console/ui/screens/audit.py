"""Audit: compare Shopify orders with Odoo's sale orders over a period, and backfill orders
older than the poll cursor (issue 14).

The audit and the backfill run in a worker thread (never on the event loop) and report
progress as they go: a bar with the ETA and the share of the Shopify budget used, redrawn at
most four times a second. Findings appear while the audit runs; ``enter`` on one opens its job,
or, when no job explains it, the records in both systems. ``e`` writes the findings as CSV for
finance. Earlier runs stay listed on the left.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Select, Static

from shopodoo_console.engine.progress import Progress, bar_line
from shopodoo_console.periods import parse_when
from shopodoo_console.store import reconcile as runs
from shopodoo_console.store.reconcile import FindingRow, RunRow
from shopodoo_console.ui.format import ERROR, shorten
from shopodoo_console.ui.messages import OpenJob
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.modals import ConfirmModal
from shopodoo_console.ui.widgets.tables import NavTable

FINDINGS_PAGE = 500
KIND_STYLES = {"missing": ERROR, "duplicate": ERROR, "amount": "yellow", "state": "yellow"}


@dataclass(frozen=True)
class AuditData:
    runs: list[RunRow]
    run_id: int | None
    findings: list[FindingRow]
    counts: dict[str, int]


class RecordsModal(ModalScreen[None]):
    """Where a finding's records are: Shopify admin, Odoo's web client, and what was found."""

    PALETTE_GROUP = "Dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Close", id="dialog.close")
    ]

    def __init__(self, finding: FindingRow, records: list[tuple[str, str]]) -> None:
        super().__init__()
        self.finding = finding
        self.records = records

    def compose(self) -> ComposeResult:
        f = self.finding
        lines = [f"{what}: {where}" for what, where in self.records]
        with Vertical(classes="dialog"):
            yield Label(f"{f.kind}: {f.shopify_name}", classes="dialog-title")
            yield Static(f.summary, classes="dialog-detail", markup=False)
            yield Static("\n".join(lines), classes="dialog-detail", markup=False)
            yield Static(
                json.dumps(f.detail, indent=1, sort_keys=True)[:1500],
                classes="dialog-help",
                markup=False,
            )
            yield Static("enter or escape to close", classes="dialog-help")


class AuditScreen(LiveScreen[AuditData]):
    PALETTE_GROUP = "Audit"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "audit", "Run audit", id="audit.run"),
        Binding("b", "backfill", "Backfill…", id="audit.backfill"),
        Binding("s", "stop", "Stop", id="audit.stop"),
        Binding("e", "export", "Export CSV", id="audit.export"),
        Binding("o", "open_finding", "Open", show=False, id="audit.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_id: int | None = None
        self.running: str | None = None  # "audit" / "backfill" while one runs
        self._stop = threading.Event()
        self._last_progress = 0.0

    def compose(self) -> ComposeResult:
        app = self.console_app
        shops = [(s.domain, s.domain) for s in app.config.shops]
        yield Header()
        with Vertical(id="audit"):
            with Horizontal(id="audit-form"):
                yield Select(shops, value=shops[0][1] if shops else Select.BLANK, id="audit-shop")
                yield Input(value="30d", placeholder="since: 2026-11-01 or 30d", id="audit-since")
                yield Input(
                    placeholder="until: now (audit) / the cursor (backfill)", id="audit-until"
                )
            yield ProgressBar(id="audit-bar", show_eta=False)
            yield Static("Press a to audit, b to backfill.", id="audit-progress", classes="status")
            with Horizontal(id="audit-main"):
                with Vertical(id="audit-runs-box"):
                    yield Label("Runs", classes="section")
                    yield NavTable(
                        [("id", "Run"), ("kind", "Kind"), ("state", "State"), ("found", "Found")],
                        id="audit-runs",
                    )
                with Vertical(id="audit-findings-box"):
                    yield Static(id="audit-counts", classes="section")
                    yield NavTable(
                        [
                            ("kind", "Kind"),
                            ("order", "Shopify"),
                            ("odoo", "Odoo"),
                            ("job", "Job"),
                            ("summary", "What was found"),
                        ],
                        id="audit-findings",
                    )
                    with VerticalScroll(id="audit-detail-box", classes="panel"):
                        yield Static(id="audit-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit-findings", NavTable).focus()

    # ------------------------------------------------------------ data

    def load(self) -> AuditData:
        store = self.console_app.store
        listed = runs.runs(store, limit=30)
        run_id = self.run_id
        if run_id is None or not any(r.id == run_id for r in listed):
            run_id = next((r.id for r in listed if r.kind == "audit"), None)
        if run_id is None:
            return AuditData(listed, None, [], {})
        found = runs.findings(store, run_id, limit=FINDINGS_PAGE)
        return AuditData(listed, run_id, found, runs.finding_counts(store, run_id))

    def show(self, data: AuditData) -> None:
        self.run_id = data.run_id
        table = self.query_one("#audit-runs", NavTable)
        table.set_rows(
            [
                (
                    str(r.id),
                    [
                        str(r.id),
                        f"{r.kind} {r.since[5:10]}",
                        r.state,
                        f"{r.found:,}" + ("" if r.kind == "audit" else " new"),
                    ],
                )
                for r in data.runs
            ]
        )
        if data.run_id is not None:
            table.select_key(str(data.run_id))
        total = sum(data.counts.values())
        shown = f" (first {FINDINGS_PAGE} shown)" if total > len(data.findings) else ""
        self.query_one("#audit-counts", Static).update(
            (
                f"Audit {data.run_id}: {total:,} finding(s){shown} — "
                + ", ".join(f"{n} {k}" for k, n in sorted(data.counts.items()))
            )
            if data.run_id is not None
            else "No audit yet: press a."
        )
        self.query_one("#audit-findings", NavTable).set_rows(
            [
                (
                    str(f.id),
                    [
                        Text(f.kind, style=KIND_STYLES.get(f.kind, "")),
                        f.shopify_name or "-",
                        " ".join(str(i) for i in f.odoo_ids) or "-",
                        str(f.job_id or "-"),
                        shorten(f.summary, 90),
                    ],
                )
                for f in data.findings
            ]
        )
        self._describe()

    def _selected(self) -> FindingRow | None:
        if self.data is None:
            return None
        key = self.query_one("#audit-findings", NavTable).current_key
        return next((f for f in self.data.findings if str(f.id) == key), None)

    def _describe(self) -> None:
        finding = self._selected()
        text = ""
        if finding is not None:
            opens = "enter opens its job" if finding.job_id else "enter shows the records"
            text = f"{finding.summary}\n({opens})"
        self.query_one("#audit-detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#audit-findings")
    def _highlighted(self) -> None:
        self._describe()

    @on(DataTable.RowSelected, "#audit-runs")
    def _run_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.run_id = int(event.row_key.value)
            self.query_one("#audit-findings", NavTable).focus()
            self.request_reload()

    @on(DataTable.RowSelected, "#audit-findings")
    def _finding_selected(self) -> None:
        self.action_open_finding()

    def action_open_finding(self) -> None:
        finding = self._selected()
        if finding is None:
            return
        if finding.job_id:
            self.post_message(OpenJob(finding.job_id))
            return
        run = (
            next((r for r in self.data.runs if r.id == finding.run_id), None) if self.data else None
        )
        tools = self.console_app.reconcile
        shop = run.shop if run else ""
        records = tools.record_urls(shop, finding) if tools else []
        self.app.push_screen(RecordsModal(finding, records))

    # ------------------------------------------------------------ running

    def _request(self) -> tuple[str, Any, Any] | None:
        shop = self.query_one("#audit-shop", Select).value
        if not isinstance(shop, str):
            self.notify("Choose a shop first.", severity="warning")
            return None
        try:
            since = parse_when(self.query_one("#audit-since", Input).value or "30d")
            until_text = self.query_one("#audit-until", Input).value.strip()
            until = parse_when(until_text) if until_text else None
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return None
        return shop, since, until

    def action_audit(self) -> None:
        request = self._request()
        if request is None or not self._can_start():
            return
        shop, since, until = request
        tools = self.console_app.reconcile
        assert tools is not None
        self._start("audit")
        self.console_app.perform(
            "Audit",
            lambda: tools.audit(shop, since, until, on_progress=self._progress, stop=self._stop),
            self._audit_done,
            lambda _: self._ended(),
        )

    def action_backfill(self) -> None:
        request = self._request()
        if request is None or not self._can_start():
            return
        shop, since, until = request
        tools = self.console_app.reconcile
        assert tools is not None

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            self._start("backfill")
            self.console_app.perform(
                "Backfill",
                lambda: tools.backfill(
                    shop, since, until, on_progress=self._progress, stop=self._stop
                ),
                self._backfill_done,
                lambda _: self._ended(),
            )

        self.app.push_screen(
            ConfirmModal(
                f"Queue the orders of {shop} created since {since:%Y-%m-%d %H:%M} UTC?",
                "Orders the console already has are counted, not done again; the jobs run "
                "with the live sync, below live work. Stopped or killed, it resumes when "
                "started again with the same dates.",
            ),
            confirmed,
        )

    def _can_start(self) -> bool:
        if self.console_app.reconcile is None:
            self.notify("Audits and backfills are not available here.", severity="warning")
            return False
        if self.running:
            self.notify(f"A {self.running} is running; press s to stop it.", severity="warning")
            return False
        return True

    def _start(self, kind: str) -> None:
        self.running = kind
        self._stop = threading.Event()
        self.query_one("#audit-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#audit-progress", Static).update(f"{kind}: starting…")

    def _progress(self, progress: Progress) -> None:
        """Worker thread: hand the progress to the event loop, at most 4 times a second."""
        now = time.monotonic()
        if now - self._last_progress < 0.25 and not progress.final:
            return
        self._last_progress = now
        self._call(self._show_progress, progress)

    def _show_progress(self, progress: Progress) -> None:
        bar = self.query_one("#audit-bar", ProgressBar)
        bar.update(total=progress.total, progress=progress.done)
        self.query_one("#audit-progress", Static).update(bar_line(progress))
        if progress.run_id is not None and progress.kind == "audit":
            if self.run_id != progress.run_id:
                self.run_id = progress.run_id
            self.request_reload()

    def _audit_done(self, result: Any) -> None:
        self._ended()
        self.run_id = result.run_id
        self.notify(
            f"Audit {result.run_id} {result.state}: {result.findings} finding(s) in "
            f"{result.orders:,} orders, {result.budget:.0%} of the Shopify budget."
            + (" " + " ".join(result.warnings) if result.warnings else "")
        )
        self.request_reload()

    def _backfill_done(self, result: Any) -> None:
        self._ended()
        self.notify(
            f"Backfill {result.run_id} {result.state}: {result.message}."
            + (" " + " ".join(result.warnings) if result.warnings else "")
        )
        self.request_reload()

    def _ended(self) -> None:
        self.running = None

    def action_stop(self) -> None:
        if not self.running:
            self.notify("Nothing is running.")
            return
        self._stop.set()
        self.notify(f"Stopping the {self.running} after the current page…")

    def action_export(self) -> None:
        data, tools = self.data, self.console_app.reconcile
        if data is None or data.run_id is None:
            self.notify("No audit to export yet.", severity="warning")
            return
        run = next((r for r in data.runs if r.id == data.run_id), None)
        shop = run.shop if run else ""
        target = Path(self.console_app.paths.data_dir) / f"audit-{data.run_id}.csv"
        run_id = data.run_id

        def work() -> int:
            if tools is None:
                return 0
            return tools.export_csv(target, run_id, shop)

        self.console_app.perform(
            "Exporting the findings",
            work,
            lambda n: self.notify(f"{n} finding(s) written to {target}"),
        )


__all__ = ["AuditScreen", "RecordsModal"]
