"""Job detail: what the job is about, its plan, both systems' timeline, every attempt, links."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Label, Static

from shopodoo_console.engine.states import OPERATOR_RETRYABLE, State, sources_of
from shopodoo_console.ui.format import STATE_STYLES, stamp, state_label
from shopodoo_console.ui.messages import OpenFix
from shopodoo_console.ui.reads import JobDetail, fix_for_job, read_job_detail
from shopodoo_console.ui.screens.base import LiveScreen
from shopodoo_console.ui.widgets.cause_view import cause_text
from shopodoo_console.ui.widgets.tables import Col, NavTable

ACTION_STATES: dict[str, tuple[str, ...]] = {
    "retry": tuple(OPERATOR_RETRYABLE),
    "resolve": sources_of(State.RESOLVED),
    "cancel_job": sources_of(State.CANCELLED),
    "approve": (State.AWAITING_APPROVAL,),
    "fix": (State.NEEDS_ATTENTION, State.FAILED),
}
SYSTEM_STYLES = {"shopify": "green", "odoo": "magenta", "operator": "yellow", "console": "cyan"}


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def plan_text(plan: dict[str, Any]) -> Text:
    """A review plan as the operator reads it: what, why, each action; other plans as JSON."""
    if not isinstance(plan.get("actions"), list) or "summary" not in plan:
        return Text(_pretty(plan))
    text = Text()
    if plan.get("record"):
        text.append(f"{plan['record']}\n", style="dim")
    text.append(f"{plan['summary']}\n", style="bold")
    for detail in plan.get("details") or []:
        text.append(f"  • {detail}\n")
    for action in plan["actions"]:
        text.append(f"  {action.get('kind')}: ", style="cyan")
        text.append(f"{action.get('summary')}")
        if action.get("guard"):
            text.append(f"  [{action['guard']}]", style="dim")
        text.append("\n")
    if plan.get("approval"):
        text.append(
            f"approval {plan['approval']} (the plan runs only while it is unchanged)", "dim"
        )
    return text


class JobScreen(LiveScreen[JobDetail | None]):
    PALETTE_GROUP = "Job"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="job.back"),
        Binding("r", "retry", "Retry", id="job.retry"),
        Binding("f", "fix", "Fix it", id="job.fix"),
        Binding("a", "approve", "Approve plan", id="job.approve"),
        Binding("x", "resolve", "Resolve…", id="job.resolve"),
        Binding("c", "cancel_job", "Cancel…", id="job.cancel"),
    ]

    def __init__(self, job_id: int) -> None:
        super().__init__()
        self.job_id = job_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="job"):
            yield Static(id="job-summary", classes="panel")
            yield Static(id="job-cause", classes="panel")
            yield Label("Plan — what will be / was created or changed", classes="section")
            yield Static(id="job-plan", classes="panel")
            yield Label("Timeline (Shopify, Odoo, console, operator)", classes="section")
            yield NavTable(
                [
                    Col("at", "At", 0),
                    Col("system", "System", 1),
                    Col("event", "Event", 2),
                    Col("message", "Message", 0, True),
                ],
                id="job-timeline",
            )
            yield Label("Attempts", classes="section")
            yield NavTable(
                [
                    Col("n", "#", 0),
                    Col("started", "Started", 1),
                    Col("outcome", "Outcome", 0),
                    Col("cause", "Cause", 1),
                    Col("message", "Message", 2, True),
                    Col("worker", "Worker", 3),
                ],
                id="job-attempts",
            )
            yield Label("Links", classes="section")
            yield NavTable(
                [
                    Col("kind", "Kind", 0),
                    Col("shopify", "Shopify", 1, True),
                    Col("odoo", "Odoo", 0),
                    Col("label", "Label", 2),
                ],
                id="job-links",
            )
        yield Footer()

    def load(self) -> JobDetail | None:
        return read_job_detail(self.console_app.store, self.job_id)

    def show(self, data: JobDetail | None) -> None:
        summary = self.query_one("#job-summary", Static)
        if data is None:
            summary.update(f"Job {self.job_id} no longer exists (pruned after retention).")
            return
        job = data.job
        self.sub_title = f"job {job.id}"
        text = Text()
        text.append(f"Job {job.id} · {job.label or job.source_id}\n", style="bold")
        text.append("State: ")
        text.append(state_label(job.state), style=STATE_STYLES.get(job.state, ""))
        text.append(
            f" · flow {job.flow} · shop {job.shop}\n"
            f"Record {job.source_id} at version {job.source_version}\n"
            f"Seen {job.seen_count} time(s) · {job.attempts} attempt(s) · "
            f"{job.retries} automatic retr{'y' if job.retries == 1 else 'ies'}\n"
            f"Created {stamp(job.created_at)} · updated {stamp(job.updated_at)}"
            + (f" · finished {stamp(job.finished_at)}" if job.finished_at else "")
            + f"\nKey {job.key}"
        )
        if job.superseded_by:
            text.append(f"\nSuperseded by job {job.superseded_by} (a newer version)")
        if job.result:
            text.append(f"\nResult: {job.result}")
        summary.update(text)
        self.query_one("#job-cause", Static).update(
            cause_text(job.cause, heading="Why it stopped")
            if job.cause
            else Text("No failure.", style="green")
        )
        plan = Text()
        if job.plan:
            plan.append(plan_text(job.plan))
        else:
            plan.append("No plan recorded (plans are stored in review mode).", style="dim")
        if job.intent:
            plan.append("\nIntent recorded before the remote write:\n", style="bold")
            plan.append(_pretty(job.intent))
        self.query_one("#job-plan", Static).update(plan)
        self.query_one("#job-timeline", NavTable).set_rows(
            [
                (
                    str(i),
                    [
                        stamp(e.at),
                        Text(e.system, style=SYSTEM_STYLES.get(e.system, "")),
                        e.event,
                        e.message,
                    ],
                )
                for i, e in enumerate(data.timeline)
            ]
        )
        self.query_one("#job-attempts", NavTable).set_rows(
            [
                (
                    str(i),
                    [
                        str(a.number),
                        stamp(a.started_at),
                        a.outcome,
                        a.cause_code or "",
                        a.message,
                        a.worker,
                    ],
                )
                for i, a in enumerate(data.attempts)
            ]
        )
        self.query_one("#job-links", NavTable).set_rows(
            [
                (
                    str(link.id),
                    [link.kind, link.shopify_id, f"{link.odoo_model} {link.odoo_id}", link.label],
                )
                for link in data.links
            ]
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only what the job's state allows (the queue refuses the rest anyway)."""
        allowed = ACTION_STATES.get(action)
        if allowed is None:
            return True
        job = self.data.job if self.data else None
        return job is not None and job.state in allowed

    def action_retry(self) -> None:
        self.console_app.retry_jobs([self.job_id])

    def action_approve(self) -> None:
        self.console_app.approve_jobs([self.job_id])

    def action_fix(self) -> None:
        if self.data is not None:
            fix = fix_for_job(self.data.job)
            if fix.where == "job":
                self.notify("No screen fixes this cause; the answers above say what to do.")
            else:
                self.post_message(OpenFix(fix))

    def action_resolve(self) -> None:
        self.console_app.close_jobs("resolve", lambda: [self.job_id], f"job {self.job_id}")

    def action_cancel_job(self) -> None:
        self.console_app.close_jobs("cancel", lambda: [self.job_id], f"job {self.job_id}")
