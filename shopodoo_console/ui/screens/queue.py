"""Queue: every job, newest first, filtered, one page at a time from the database.

The table holds a page (100 rows) and grows by a page when the cursor reaches the bottom
(keyset paging on the job id), so a million-job database opens as fast as an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from shopodoo_console.engine.queries import JobFilter, JobRow, get_job, list_jobs
from shopodoo_console.store.db import Store
from shopodoo_console.store.job_search import search_job_ids
from shopodoo_console.ui.format import (
    STATE_ORDER,
    STATE_STYLES,
    clock_time,
    count,
    state_label,
)
from shopodoo_console.ui.messages import OpenJob
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.modals import ConfirmModal
from shopodoo_console.ui.widgets.tables import Col, NavTable, Row

PAGE = 100
APPROVE_AT_ONCE = 10_000
MAX_ROWS = 2000
PROBLEMS = ("needs_attention", "failed", "awaiting_approval")
STATE_CHOICES = ("", "problems", *STATE_ORDER)  # `s` cycles through every one


def states_for(choice: str) -> tuple[str, ...]:
    if not choice:
        return ()
    if choice == "problems":
        return PROBLEMS
    return (choice,)


def why(job: JobRow) -> str:
    """A few words on why a job is where it is: its cause, or what a skip said."""
    if job.cause is not None:
        return job.cause.title
    if job.state in ("skipped", "cancelled", "resolved", "superseded") and job.result:
        return job.result.split(";")[0].removeprefix("skipped: ")
    if job.state == "superseded" and job.superseded_by:
        return f"newer version: job {job.superseded_by}"
    return ""


def job_row(job: JobRow) -> Row:
    return (
        str(job.id),
        [
            str(job.id),
            Text(state_label(job.state), style=STATE_STYLES.get(job.state, "")),
            job.flow,
            job.shop.removesuffix(".myshopify.com"),
            job.label or job.source_id,
            str(job.seen_count),
            str(job.attempts),
            why(job),
            clock_time(job.updated_at),
        ],
    )


def read_page(
    store: Store, filters: JobFilter, limit: int, before_id: int | None = None
) -> list[JobRow]:
    """A page of the queue; a text filter also finds SKUs, reasons and causes."""
    if not filters.text:
        return list_jobs(store, filters, limit=limit, before_id=before_id)
    ids = search_job_ids(
        store,
        filters.text,
        states=filters.states,
        shop=filters.shop,
        flow=filters.flow,
        limit=limit,
        before_id=before_id,
    )
    return [job for job in (get_job(store, job_id) for job_id in ids) if job is not None]


@dataclass(frozen=True)
class QueuePage:
    filters: JobFilter
    jobs: list[JobRow]
    limit: int


class QueueScreen(LiveScreen[QueuePage]):
    PALETTE_GROUP = "Queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", key_display="/", id="queue.filter"),
        Binding("s", "cycle_state", "State filter", id="queue.state"),
        Binding("r", "retry", "Retry", id="queue.retry"),
        Binding("a", "approve", "Approve plan", id="queue.approve"),
        Binding(
            "A",
            "approve_shown",
            "Approve all shown",
            id="queue.approve_all",
            tooltip="review mode in bulk: every plan waiting for approval that the filters show",
        ),
        Binding("x", "resolve", "Resolve…", id="queue.resolve"),
        Binding("c", "cancel_job", "Cancel…", id="queue.cancel"),
        Binding("escape", "clear_filters", "Clear filters", show=False, id="queue.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filters = JobFilter()
        self.limit = PAGE
        self._more_loading = False
        self._exhausted = False
        self._shops: list[str] = []  # the shops the shop filter offers

    def compose(self) -> ComposeResult:
        app = self.console_app
        yield Header()
        with Vertical(id="queue"):
            with Horizontal(id="queue-filters"):
                yield Select(
                    [
                        (
                            "All states"
                            if not c
                            else ("Problems" if c == "problems" else state_label(c).capitalize()),
                            c,
                        )
                        for c in (
                            *STATE_CHOICES,
                            *(s for s in STATE_ORDER if s not in STATE_CHOICES),
                        )
                    ],
                    value="",
                    allow_blank=False,
                    id="filter-state",
                )
                yield Select(
                    [("All flows", ""), *((f, f) for f in app.engine.flows.names())],
                    value="",
                    allow_blank=False,
                    id="filter-flow",
                )
                yield Select(
                    self._shop_options(),
                    value="",
                    allow_blank=False,
                    id="filter-shop",
                )
                yield Input(placeholder="/ order name, SKU, id…", id="filter-text")
            yield NavTable(
                [
                    Col("id", "ID", 0),
                    Col("state", "State", 0),
                    Col("flow", "Flow", 3),
                    Col("shop", "Shop", 2),
                    Col("record", "Record", 0, True),
                    Col("seen", "Seen", 2),
                    Col("tries", "Tries", 1),
                    Col("why", "Why", 1, True),
                    Col("updated", "Updated", 2),
                ],
                id="jobs",
            )
            yield Static(id="queue-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#jobs", NavTable).focus()

    # ------------------------------------------------------------ data

    def load(self) -> QueuePage:
        filters, limit = self.filters, self.limit
        return QueuePage(filters, read_page(self.console_app.store, filters, limit), limit)

    def _shop_options(self) -> list[tuple[str, str]]:
        self._shops = sorted(self.console_app.shop_ids)
        return [("All shops", ""), *((d, d) for d in self._shops)]

    def _update_shop_options(self) -> None:
        """Shops added or removed in Settings appear in (or leave) the shop filter."""
        if self._shops == sorted(self.console_app.shop_ids):
            return
        select = self.query_one("#filter-shop", Select)
        current = select.value
        select.set_options(self._shop_options())
        if current in self._shops:
            select.value = current

    def show(self, data: QueuePage) -> None:
        self._update_shop_options()
        if data.filters != self.filters:  # the filter changed while loading: reload comes
            return
        self._exhausted = len(data.jobs) < data.limit
        self.query_one("#jobs", NavTable).set_rows([job_row(j) for j in data.jobs])
        self._status(len(data.jobs))

    def _status(self, shown: int) -> None:
        more = "" if self._exhausted else " · more load when the cursor reaches the bottom"
        self.query_one("#queue-status", Static).update(
            f"{count(shown)} newest jobs shown{more}" if shown else "No jobs match."
        )

    def set_filter(
        self, *, shop: str = "", flow: str = "", states: tuple[str, ...] = (), text: str = ""
    ) -> None:
        choice = "problems" if states == PROBLEMS else (states[0] if states else "")
        self.query_one("#filter-state", Select).value = choice
        self.query_one("#filter-flow", Select).value = flow
        self.query_one("#filter-shop", Select).value = shop
        self.query_one("#filter-text", Input).value = text
        self._apply_filters()

    def _apply_filters(self) -> None:
        state = self.query_one("#filter-state", Select).value
        flow = self.query_one("#filter-flow", Select).value
        shop = self.query_one("#filter-shop", Select).value
        text = self.query_one("#filter-text", Input).value.strip()
        filters = JobFilter(
            states=states_for(str(state) if isinstance(state, str) else ""),
            flow=str(flow) if flow else None,
            shop=str(shop) if shop else None,
            text=text or None,
        )
        if filters != self.filters:
            self.filters = filters
            self.limit = PAGE
            self.request_reload()

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self._apply_filters()

    @on(Input.Changed, "#filter-text")
    def _text_changed(self) -> None:
        self._apply_filters()

    @on(Input.Submitted, "#filter-text")
    def _text_submitted(self) -> None:
        self.action_focus_table()

    @on(DataTable.RowHighlighted, "#jobs")
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one("#jobs", NavTable)
        if (
            event.cursor_row == table.row_count - 1
            and not self._exhausted
            and not self._more_loading
            and table.row_count < MAX_ROWS
        ):
            self._load_more(table.row_keys[-1])

    def _load_more(self, last_key: str) -> None:
        self._more_loading = True
        filters = self.filters

        def fetch() -> list[JobRow]:
            return read_page(self.console_app.store, filters, PAGE, before_id=int(last_key))

        def done(jobs: list[JobRow]) -> None:
            self._more_loading = False
            if filters != self.filters:
                return
            table = self.query_one("#jobs", NavTable)
            table.append_rows([job_row(j) for j in jobs])
            self.limit = max(self.limit, table.row_count)
            self._exhausted = len(jobs) < PAGE
            self._status(table.row_count)

        self.console_app.perform("Loading more jobs", fetch, done)

    # ------------------------------------------------------------ actions

    def _selected(self) -> list[int]:
        key = self.query_one("#jobs", NavTable).current_key
        return [int(key)] if key else []

    def action_focus_filter(self) -> None:
        self.query_one("#filter-text", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one("#jobs", NavTable).focus()

    def action_clear_filters(self) -> None:
        """Escape: out of the text field, and every filter back to "all"."""
        self.set_filter()
        self.action_focus_table()

    def action_cycle_state(self) -> None:
        select = self.query_one("#filter-state", Select)
        current = str(select.value) if select.value in STATE_CHOICES else ""
        select.value = STATE_CHOICES[(STATE_CHOICES.index(current) + 1) % len(STATE_CHOICES)]

    def action_retry(self) -> None:
        self.console_app.retry_jobs(self._selected())

    def action_approve(self) -> None:
        self.console_app.approve_jobs(self._selected())

    def action_approve_shown(self) -> None:
        """Review mode in bulk: every plan waiting for approval that the filters show (all
        pages, not only the rows loaded), read off the event loop, approved once confirmed."""
        shown = self.filters
        filters = JobFilter(
            states=("awaiting_approval",), shop=shown.shop, flow=shown.flow, text=shown.text
        )
        app = self.console_app
        store = app.store

        def ids() -> list[int]:
            out: list[int] = []
            page = read_page(store, filters, 500)
            while page:
                out += [job.id for job in page]
                page = read_page(store, filters, 500, page[-1].id)
            return out

        parts = (shown.flow or "", shown.shop or "", f"'{shown.text}'" if shown.text else "")
        what = " ".join(p for p in parts if p) or "every flow"

        def ask(found: list[int]) -> None:
            if not found:
                self.notify(f"Nothing waits for approval ({what}).")
                return

            def answered(yes: bool | None) -> None:
                if yes:
                    app.approve_all(lambda: found, what)

            self.app.push_screen(
                ConfirmModal(
                    f"Approve {len(found)} plan(s) awaiting approval ({what})? Each runs only "
                    "if the data still matches the plan you saw."
                ),
                answered,
            )

        app.perform("Finding the plans to approve", ids, ask)

    def action_resolve(self) -> None:
        ids = self._selected()
        if ids:
            self.console_app.close_jobs("resolve", lambda: ids, f"job {ids[0]}")

    def action_cancel_job(self) -> None:
        ids = self._selected()
        if ids:
            self.console_app.close_jobs("cancel", lambda: ids, f"job {ids[0]}")

    @on(DataTable.RowSelected, "#jobs")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.post_message(OpenJob(int(str(event.row_key.value))))
