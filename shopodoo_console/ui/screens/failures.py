"""Failures: problem jobs grouped by cause, each group with its four answers and its fix.

The left table lists causes (biggest first); the right side explains the selected job of the
selected group and lists the group's jobs. ``f`` jumps to the fix (mapping editor pre-filled
with what the job waits for, or Settings), ``R`` retries the group, ``r`` one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Label, Static

from shopodoo_console.engine.queries import JobRow
from shopodoo_console.ui.fixes import fix_for
from shopodoo_console.ui.format import ERROR, STATE_STYLES, clock_time, count, state_label
from shopodoo_console.ui.messages import OpenFix, OpenJob
from shopodoo_console.ui.reads import (
    POLL_GROUP,
    FailureGroup,
    fix_for_job,
    group_job_ids,
    poll_cause,
    poll_group,
    read_failure_groups,
    read_group_jobs,
    read_poll_failures,
)
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.cause_view import cause_text
from shopodoo_console.ui.widgets.tables import Col, NavTable


@dataclass(frozen=True)
class FailuresData:
    groups: list[FailureGroup]
    code: str | None
    jobs: list[JobRow]


class FailuresScreen(LiveScreen[FailuresData]):
    PALETTE_GROUP = "Failures"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f",
            "fix",
            "Fix it",
            id="failures.fix",
            tooltip="Open the mapping editor or Settings where this cause is fixed",
        ),
        Binding("R", "retry_group", "Retry group", id="failures.retry_group"),
        Binding("r", "retry_one", "Retry job", id="failures.retry_one"),
        Binding("x", "resolve_one", "Resolve…", id="failures.resolve"),
        Binding("c", "cancel_one", "Cancel…", id="failures.cancel"),
        Binding("X", "resolve_group", "Resolve group…", show=False, id="failures.resolve_group"),
        Binding("C", "cancel_group", "Cancel group…", show=False, id="failures.cancel_group"),
        Binding("o", "open_job", "Job detail", show=False, id="failures.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.code: str | None = None
        self._asked: str | None = None  # a group asked for before its row was on screen

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="failures"):
            with Vertical(id="groups-box"):
                yield Label("Causes", classes="section")
                yield NavTable(
                    [Col("cause", "Cause", 0, True), Col("jobs", "Jobs", 0)], id="groups"
                )
            with Vertical(id="group-detail"):
                with VerticalScroll(id="answers-box", classes="panel"):
                    yield Static(id="answers")
                yield Label("Jobs in this group", classes="section")
                yield NavTable(
                    [
                        Col("id", "ID", 0),
                        Col("state", "State", 0),
                        Col("record", "Record", 0, True),
                        Col("shop", "Shop", 2),
                        Col("tries", "Tries", 1),
                        Col("updated", "Updated", 3),
                    ],
                    id="group-jobs",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#groups", NavTable).focus()

    # ------------------------------------------------------------ data

    def load(self) -> FailuresData:
        app = self.console_app
        store = app.store
        polls = poll_group(list(read_poll_failures(app.engine, store, app.live).values()))
        groups = ([polls] if polls else []) + read_failure_groups(store)
        code = self.code if any(g.code == self.code for g in groups) else None
        if code is None and groups:
            code = groups[0].code
        jobs = read_group_jobs(store, code) if code and code != POLL_GROUP else []
        return FailuresData(groups, code, jobs)

    def show(self, data: FailuresData) -> None:
        groups = self.query_one("#groups", NavTable)
        groups.set_rows(
            [(g.code, [g.title, Text(count(g.count), style=ERROR)]) for g in data.groups]
        )
        codes = {g.code for g in data.groups}
        current = groups.current_key
        if self._asked in codes:  # select_group() asked for this one: honour it once
            self.code, self._asked = self._asked, None
            groups.select_key(self.code)
        elif current in codes and current != data.code:
            # The cursor moved while this loaded (a key, or rows leaving after a group
            # retry): the group under the cursor wins; read its jobs.
            self.code = current
        else:
            self.code = data.code
            if data.code and current != data.code:
                groups.select_key(data.code)
        if self.code != data.code:
            self.request_reload()
            return
        self.query_one("#group-jobs", NavTable).set_rows(
            [
                (
                    str(j.id),
                    [
                        str(j.id),
                        Text(state_label(j.state), style=STATE_STYLES.get(j.state, "")),
                        j.label or j.source_id,
                        j.shop.removesuffix(".myshopify.com"),
                        str(j.attempts),
                        clock_time(j.updated_at),
                    ],
                )
                for j in data.jobs
            ]
        )
        self._explain()

    def _group(self) -> FailureGroup | None:
        if self.data is None:
            return None
        return next((g for g in self.data.groups if g.code == self.code), None)

    def _selected_job(self) -> JobRow | None:
        if self.data is None or self.data.code != self.code:
            return None
        key = self.query_one("#group-jobs", NavTable).current_key
        return next((j for j in self.data.jobs if str(j.id) == key), None)

    def _explain(self) -> None:
        answers = self.query_one("#answers", Static)
        group = self._group()
        if group is None:
            answers.update(
                Text(
                    "Nothing needs attention. Every job is done, running or retrying on its own.",
                    style="green",
                )
            )
            return
        if group.polls:
            text = Text()
            text.append(f"{group.title} — {count(group.count)} stream(s)\n", style="bold red")
            now = self.console_app.clock()
            for failure in group.polls:
                text.append(f"{failure.summary(now)}\n", style="red")
                text.append_text(cause_text(poll_cause(failure)))
                text.append("\n")
            answers.update(text)
            return
        job = self._selected_job()
        cause = job.cause if job and job.cause else group.sample
        text = Text()
        text.append(f"{group.title} — {count(group.count)} job(s)\n", style="bold red")
        text.append_text(cause_text(cause))
        if group.missing_keys:
            keys = ", ".join(
                f"{k} ({n} job{'s' if n > 1 else ''})" for k, n in group.missing_keys[:6]
            )
            text.append(f"\nWaiting on: {keys}", style="yellow")
        if job is not None:
            text.append(f"\nFix: {fix_for_job(job).describe} (f)", style="bold")
        answers.update(text)

    @on(DataTable.RowHighlighted, "#groups")
    def _group_highlighted(self) -> None:
        # The table's cursor now, not the event's row: a highlight posted by a rebuild can
        # arrive after select_group() moved the cursor on, and must not undo it.
        code = self.query_one("#groups", NavTable).current_key
        if code is not None and code != self.code:
            self.code = code
            self.request_reload()

    @on(DataTable.RowHighlighted, "#group-jobs")
    def _job_highlighted(self) -> None:
        self._explain()

    @on(DataTable.RowSelected, "#group-jobs")
    def _job_selected(self, event: DataTable.RowSelected) -> None:
        self.post_message(OpenJob(int(str(event.row_key.value))))

    @on(DataTable.RowSelected, "#groups")
    def _group_selected(self) -> None:
        self.query_one("#group-jobs", NavTable).focus()

    def select_group(self, code: str) -> None:
        self.code = code
        if not self.query_one("#groups", NavTable).select_key(code):
            self._asked = code
        self.request_reload()

    # ------------------------------------------------------------ actions

    def _need_job(self, *, first: bool = False) -> JobRow | None:
        """The job under the cursor. ``first``: the group's first job when the cursor is on
        none yet (its table is still being filled) — a fix is the group's, whichever job."""
        if self.code == POLL_GROUP:
            self.notify("A failing poll is not a job: R polls every stream again now.")
            return None
        job = self._selected_job()
        if job is None and first and self.data is not None and self.data.code == self.code:
            job = self.data.jobs[0] if self.data.jobs else None
        if job is None:
            self.notify("No failed job selected.", severity="warning")
        return job

    def action_fix(self) -> None:
        group = self._group()
        if group is not None and group.polls:
            failure = group.polls[0]
            fix = fix_for(poll_cause(failure), shop=failure.shop)
            if fix.where == "settings":
                self.post_message(OpenFix(fix))
            else:
                self.notify(poll_cause(failure).fix, title="Polling failing", timeout=10)
            return
        job = self._need_job(first=True)
        if job is not None:
            self.post_message(OpenFix(fix_for_job(job)))

    def action_retry_group(self) -> None:
        if self.code is None:
            self.notify("Nothing to retry.", severity="warning")
            return
        if self.code == POLL_GROUP:
            self.console_app.action_poll_now()
            return
        self.console_app.retry_cause(self.code)

    def action_retry_one(self) -> None:
        job = self._need_job()
        if job is not None:
            self.console_app.retry_jobs(
                [job.id], what=f"Job {job.id} ({job.label or job.source_id})"
            )

    def action_resolve_one(self) -> None:
        job = self._need_job()
        if job is not None:
            self.console_app.close_jobs("resolve", lambda: [job.id], f"job {job.id}")

    def action_cancel_one(self) -> None:
        job = self._need_job()
        if job is not None:
            self.console_app.close_jobs("cancel", lambda: [job.id], f"job {job.id}")

    def _group_action(self, verb: str) -> None:
        code = self.code
        if code is None or code == POLL_GROUP:
            return
        store = self.console_app.store
        group = self._group()
        n = group.count if group else 0
        self.console_app.close_jobs(
            verb, lambda: group_job_ids(store, code), f"all {n} job(s) with cause {code}"
        )

    def action_resolve_group(self) -> None:
        self._group_action("resolve")

    def action_cancel_group(self) -> None:
        self._group_action("cancel")

    def action_open_job(self) -> None:
        job = self._need_job()
        if job is not None:
            self.post_message(OpenJob(job.id))
