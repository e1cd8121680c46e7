"""The first-month review's figures, read from the job, attempt, audit and mapping tables
(issue 14). Each function answers one question over ``[since, until)`` for one shop or all:

* failures per day by cause — failed attempts (``failed``, and ``lost``: a worker died) by the
  local day they ended on;
* how long jobs waited for a person — from the end of a job's last attempt to the operator's
  action on it (retry, resolve, cancel, approve, or a mapping saved that re-queued it); and the
  jobs still waiting;
* retries per job — for jobs created in the period, how many of their attempts failed and were
  tried again;
* fields a person changed in Odoo after the console wrote them — the flows' ``conflict`` and
  ``protected`` timeline events, by field;
* mappings added, and the operator's resolves and cancels with their reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peewee import JOIN, SQL, Case, Expression, Select, Value, ValueLiterals, fn

from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Attempt, Audit, Job, Mapping, in_states
from shopodoo_console.store.sqlite import IndexedBy, JSONItems, joined, json_value, local_day
from shopodoo_console.store.states import PROBLEM

FAILED_OUTCOMES = ("failed", "lost")
PERSON_EVENTS = ("retry", "resolve", "cancel", "approve", "requeue")
EDIT_EVENTS = ("conflict", "protected")
CLOSE_EVENTS = ("resolve", "cancel")


@dataclass(frozen=True)
class Window:
    since: float
    until: float
    shop_id: int | None = None

    def of_shop(self, where: Expression, shop: Any) -> Expression:
        """``where``, and ``shop`` is the window's shop when it names one."""
        return where if self.shop_id is None else where & (shop == self.shop_id)

    def during(self, at: Any, shop: Any) -> Expression:
        """``at`` falls in ``[since, until)`` (and ``shop`` is the window's shop)."""
        return self.of_shop((at >= self.since) & (at < self.until), shop)


@dataclass(frozen=True)
class Wait:
    job_id: int
    event: str  # the operator's action
    seconds: float


@dataclass(frozen=True)
class Waiting:
    job_id: int
    state: str
    label: str
    cause_code: str | None
    since: float  # when it started waiting (its last attempt's end)


@dataclass(frozen=True)
class FieldEdits:
    field: str
    model: str
    events: int
    jobs: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class MappingAdded:
    kind: str
    source_key: str
    odoo_model: str
    odoo_id: int
    label: str
    created_at: float
    requeued: int  # jobs its saving queued again


@dataclass(frozen=True)
class OperatorClose:
    event: str  # resolve | cancel
    reason: str
    count: int
    last_at: float
    job_ids: tuple[int, ...]


def _events() -> Any:
    """The timeline walked by event and time (``audit_event``): the review's events are a
    sliver of a large table."""
    ev = Audit.alias("ev")
    return ev, IndexedBy(ev, "audit_event")


def _count() -> Any:
    return fn.COUNT(SQL("*"))


def _literal(expr: Any) -> Any:
    """``expr`` with its constants written into the statement: grouped and sorted by, it is
    then the very expression selected (bound twice, SQLite would sort the groups again)."""
    return ValueLiterals(expr)


def failures_by_day(store: Store, window: Window) -> list[tuple[str, str, int]]:
    """``(day, cause code, failed attempts)`` in day order. Walks the period's attempts by
    when they ended (``attempt_ended``), for one shop too: its whole history is far larger."""
    a, j = Attempt.alias("a"), Job.alias("j")
    day = local_day(a.ended_at)
    code = _literal(fn.COALESCE(a.cause_code, "unknown"))
    query = (
        a.select(day, code, _count())
        .from_(IndexedBy(a, "attempt_ended"))
        .join(j, on=(j.id == a.job))
        .where(a.outcome.in_(FAILED_OUTCOMES) & window.during(a.ended_at, j.shop))
        .group_by(day, code)
        .order_by(day, code)
    )
    return [(str(d), str(c), int(n)) for d, c, n in query.tuples().execute(store.db)]


def waits_for_a_person(store: Store, window: Window) -> list[Wait]:
    """Each operator action on a job in the period, and how long the job had waited for it
    (since its last attempt before the action ended). Actions on a job never tried (a queued
    job cancelled) are no wait for a person and are left out."""
    ev, events = _events()
    a = Attempt.alias("a")
    last_end = a.select(fn.MAX(a.ended_at)).where((a.job == ev.job) & (a.ended_at < ev.at))
    query = (
        ev.select(ev.job, ev.event, ev.at - last_end)
        .from_(events)
        .where(
            ev.event.in_(PERSON_EVENTS)
            & (ev.system == "operator")
            & ev.job.is_null(False)
            & window.during(ev.at, ev.shop)
        )
        .order_by(ev.at, ev.id)
    )
    rows = query.tuples().execute(store.db)
    return [Wait(int(j), str(e), float(w)) for j, e, w in rows if w is not None]


def still_waiting(store: Store, window: Window, *, limit: int = 20) -> tuple[int, list[Waiting]]:
    """How many jobs wait for a person now, and the longest-waiting of them."""
    j, a = Job.alias("j"), Attempt.alias("a")
    where = window.of_shop(in_states(j.state, PROBLEM), j.shop)
    count = j.select(_count()).where(where).scalar(store.db)
    last_end = a.select(fn.MAX(a.ended_at)).where(a.job == j.id)
    since = fn.COALESCE(last_end, j.updated_at).alias("since")  # sorted by name: computed once
    query = (
        j.select(j.id, j.state, j.label, j.cause_code, since)
        .where(where)
        .order_by(since)
        .limit(limit)
    )
    rows = query.tuples().execute(store.db)
    return int(count), [Waiting(int(r[0]), r[1], r[2], r[3], float(r[4])) for r in rows]


def retries_per_job(store: Store, window: Window) -> dict[int, int]:
    """``{retries: jobs}`` for the jobs created in the period that ran at least once. A retry
    is a failed (or lost) attempt that was followed by another attempt."""
    j, a = Job.alias("j"), Attempt.alias("a")
    latest = Attempt.alias("l")
    last = latest.select(latest.job, fn.MAX(latest.id).alias("id")).group_by(latest.job)
    last = last.alias("last")
    retried = Case(None, [(a.outcome.in_(FAILED_OUTCOMES) & (a.id < last.c.id), 1)], 0)
    per_job = (
        j.select(a.job, fn.SUM(retried).alias("retries"))
        .join(last, on=(last.c.job_id == j.id))
        .join_from(j, a, on=(a.job == j.id))
        .where(window.during(j.created_at, j.shop))
        .group_by(a.job)
        .alias("per_job")
    )
    retries = per_job.c.retries
    query = Select((per_job,), (retries, _count())).group_by(retries).order_by(retries)
    return {int(r): int(n) for r, n in query.tuples().execute(store.db)}


def edits_by_people(store: Store, window: Window) -> list[FieldEdits]:
    """Fields a person changed in Odoo after the console wrote them, most often first (the
    ``fields`` of ``conflict`` / ``protected`` events; events naming none count as
    ``(not named)``)."""
    ev, events = _events()
    named = JSONItems(ev.data, "fields", "f")
    field = _literal(fn.COALESCE(named.value, "(not named)"))
    model = _literal(fn.COALESCE(json_value(ev.data, "model"), ""))
    n = _count()
    codes = joined(json_value(ev.data, "code"), distinct=True)
    query = (
        Select((events,), (field, model, n, fn.COUNT(ev.job.distinct()), codes))
        .join(named, JOIN.LEFT_OUTER)
        .where(ev.event.in_(EDIT_EVENTS) & window.during(ev.at, ev.shop))
        .group_by(field, model)
        .order_by(n.desc(), field)
    )
    return [
        FieldEdits(str(f), str(m), int(n), int(jobs), tuple(sorted((codes or "").split(","))))
        for f, m, n, jobs, codes in query.tuples().execute(store.db)
    ]


def mappings_added(store: Store, window: Window) -> list[MappingAdded]:
    """Mappings created in the period, and how many waiting jobs saving each re-queued."""
    ev, events = _events()
    m = Mapping.alias("m")
    saved = Value("Mapping ").concat(m.kind).concat(":").concat(m.source_key).concat(" saved%")
    requeued = (
        ev.select(_count())
        .from_(events)
        .where(
            (ev.event == "requeue")
            & (ev.shop == m.shop)
            & (ev.at >= window.since)
            & (ev.at < window.until)
            & (ev.message**saved)
        )
    )
    query = (
        m.select(m.kind, m.source_key, m.odoo_model, m.odoo_id, m.label, m.created_at, requeued)
        .where(window.during(m.created_at, m.shop))
        .order_by(m.created_at)
    )
    return [MappingAdded(*r) for r in query.tuples().execute(store.db)]


def operator_closes(store: Store, window: Window) -> list[OperatorClose]:
    """Resolves and cancels by the operator, grouped by reason, most frequent first."""
    ev, events = _events()
    reason = _literal(fn.COALESCE(json_value(ev.data, "reason"), ""))
    n, last = _count(), fn.MAX(ev.at)
    query = (
        ev.select(ev.event, reason, n, last, joined(ev.job))
        .from_(events)
        .where(
            ev.event.in_(CLOSE_EVENTS) & (ev.system == "operator") & window.during(ev.at, ev.shop)
        )
        .group_by(ev.event, reason)
        .order_by(n.desc(), last.desc())
    )
    return [
        OperatorClose(
            str(event),
            str(why),
            int(count),
            float(at),
            tuple(sorted(int(i) for i in (ids or "").split(",") if i)),
        )
        for event, why, count, at, ids in query.tuples().execute(store.db)
    ]


def jobs_in_period(store: Store, window: Window) -> dict[str, int]:
    """Jobs created in the period by state (the review's "out of how many")."""
    query = (
        Job.select(Job.state, _count())
        .where(window.during(Job.created_at, Job.shop))
        .group_by(Job.state)
    )
    return {str(s): int(n) for s, n in query.tuples().execute(store.db)}
