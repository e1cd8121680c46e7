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

from shopodoo_console.store.db import Store

FAILED_OUTCOMES = ("failed", "lost")
PERSON_EVENTS = ("retry", "resolve", "cancel", "approve", "requeue")
WAITING_STATES = ("needs_attention", "failed", "awaiting_approval")
EDIT_EVENTS = ("conflict", "protected")


@dataclass(frozen=True)
class Window:
    since: float
    until: float
    shop_id: int | None = None

    def shop(self, column: str) -> tuple[str, list[Any]]:
        if self.shop_id is None:
            return "", []
        return f" AND {column} = ?", [self.shop_id]


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


def failures_by_day(store: Store, window: Window) -> list[tuple[str, str, int]]:
    """``(day, cause code, failed attempts)`` in day order."""
    shop, params = window.shop("j.shop_id")
    rows = store.execute(
        "SELECT date(a.ended_at, 'unixepoch', 'localtime') AS day, "
        "coalesce(a.cause_code, 'unknown'), count(*) FROM attempt AS a "
        "JOIN job AS j ON j.id = a.job_id "
        f"WHERE a.outcome IN {_in(FAILED_OUTCOMES)} AND a.ended_at >= ? AND a.ended_at < ?{shop} "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        [window.since, window.until, *params],
    ).fetchall()
    return [(str(day), str(code), int(n)) for day, code, n in rows]


def waits_for_a_person(store: Store, window: Window) -> list[Wait]:
    """Each operator action on a job in the period, and how long the job had waited for it
    (since its last attempt before the action ended). Actions on a job never tried (a queued
    job cancelled) are no wait for a person and are left out."""
    shop, params = window.shop("ev.shop_id")
    rows = store.execute(
        "SELECT ev.job_id, ev.event, ev.at - ("
        "SELECT max(a.ended_at) FROM attempt AS a WHERE a.job_id = ev.job_id "
        "AND a.ended_at < ev.at) AS waited "
        "FROM audit AS ev INDEXED BY audit_event "
        f"WHERE ev.event IN {_in(PERSON_EVENTS)} AND ev.system = 'operator' "
        f"AND ev.job_id IS NOT NULL AND ev.at >= ? AND ev.at < ?{shop} "
        "ORDER BY ev.at, ev.id",
        [window.since, window.until, *params],
    ).fetchall()
    return [Wait(int(j), str(e), float(w)) for j, e, w in rows if w is not None]


def still_waiting(store: Store, window: Window, *, limit: int = 20) -> tuple[int, list[Waiting]]:
    """How many jobs wait for a person now, and the longest-waiting of them."""
    shop, params = window.shop("j.shop_id")
    count = store.execute(
        f"SELECT count(*) FROM job AS j WHERE j.state IN {_in(WAITING_STATES)}{shop}", params
    ).fetchone()[0]
    rows = store.execute(
        "SELECT j.id, j.state, j.label, j.cause_code, coalesce((SELECT max(a.ended_at) "
        "FROM attempt AS a WHERE a.job_id = j.id), j.updated_at) AS since FROM job AS j "
        f"WHERE j.state IN {_in(WAITING_STATES)}{shop} ORDER BY since LIMIT ?",
        [*params, limit],
    ).fetchall()
    return int(count), [Waiting(int(r[0]), r[1], r[2], r[3], float(r[4])) for r in rows]


def retries_per_job(store: Store, window: Window) -> dict[int, int]:
    """``{retries: jobs}`` for the jobs created in the period that ran at least once. A retry
    is a failed (or lost) attempt that was followed by another attempt."""
    shop, params = window.shop("j.shop_id")
    rows = store.execute(
        "SELECT retries, count(*) FROM ("
        "SELECT a.job_id, sum(CASE WHEN a.outcome IN "
        f"{_in(FAILED_OUTCOMES)} AND a.id < last.id THEN 1 ELSE 0 END) AS retries "
        "FROM job AS j "
        "JOIN (SELECT job_id, max(id) AS id FROM attempt GROUP BY job_id) AS last "
        "ON last.job_id = j.id "
        "JOIN attempt AS a ON a.job_id = j.id "
        f"WHERE j.created_at >= ? AND j.created_at < ?{shop} GROUP BY a.job_id"
        ") GROUP BY retries ORDER BY retries",
        [window.since, window.until, *params],
    ).fetchall()
    return {int(r): int(n) for r, n in rows}


def edits_by_people(store: Store, window: Window) -> list[FieldEdits]:
    """Fields a person changed in Odoo after the console wrote them, most often first (the
    ``fields`` of ``conflict`` / ``protected`` events; events naming none count as
    ``(not named)``)."""
    shop, params = window.shop("ev.shop_id")
    rows = store.execute(
        "SELECT coalesce(f.value, '(not named)') AS field, "
        "coalesce(json_extract(ev.data, '$.model'), '') AS model, count(*), "
        "count(DISTINCT ev.job_id), group_concat(DISTINCT json_extract(ev.data, '$.code')) "
        "FROM audit AS ev INDEXED BY audit_event "
        "LEFT JOIN json_each(ev.data, '$.fields') AS f "
        f"WHERE ev.event IN {_in(EDIT_EVENTS)} AND ev.at >= ? AND ev.at < ?{shop} "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1",
        [window.since, window.until, *params],
    ).fetchall()
    return [
        FieldEdits(
            str(field), str(model), int(n), int(jobs), tuple(sorted((codes or "").split(",")))
        )
        for field, model, n, jobs, codes in rows
    ]


def mappings_added(store: Store, window: Window) -> list[MappingAdded]:
    """Mappings created in the period, and how many waiting jobs saving each re-queued."""
    shop, params = window.shop("m.shop_id")
    rows = store.execute(
        "SELECT m.kind, m.source_key, m.odoo_model, m.odoo_id, m.label, m.created_at, "
        "(SELECT count(*) FROM audit AS ev INDEXED BY audit_event WHERE ev.event = 'requeue' "
        "AND ev.shop_id = m.shop_id AND ev.at >= ? AND ev.at < ? AND ev.message LIKE "
        "'Mapping ' || m.kind || ':' || m.source_key || ' saved%') "
        f"FROM mapping AS m WHERE m.created_at >= ? AND m.created_at < ?{shop} "
        "ORDER BY m.created_at",
        [window.since, window.until, window.since, window.until, *params],
    ).fetchall()
    return [MappingAdded(*r) for r in rows]


def operator_closes(store: Store, window: Window) -> list[OperatorClose]:
    """Resolves and cancels by the operator, grouped by reason, most frequent first."""
    shop, params = window.shop("ev.shop_id")
    rows = store.execute(
        "SELECT ev.event, coalesce(json_extract(ev.data, '$.reason'), ''), count(*), "
        "max(ev.at), group_concat(ev.job_id) FROM audit AS ev INDEXED BY audit_event "
        "WHERE ev.event IN ('resolve', 'cancel') AND ev.system = 'operator' "
        f"AND ev.at >= ? AND ev.at < ?{shop} GROUP BY 1, 2 ORDER BY 3 DESC, 4 DESC",
        [window.since, window.until, *params],
    ).fetchall()
    return [
        OperatorClose(
            str(event),
            str(reason),
            int(n),
            float(last),
            tuple(sorted(int(i) for i in (ids or "").split(",") if i)),
        )
        for event, reason, n, last, ids in rows
    ]


def jobs_in_period(store: Store, window: Window) -> dict[str, int]:
    """Jobs created in the period by state (the review's "out of how many")."""
    shop, params = window.shop("shop_id")
    rows = store.execute(
        f"SELECT state, count(*) FROM job WHERE created_at >= ? AND created_at < ?{shop} "
        "GROUP BY state",
        [window.since, window.until, *params],
    ).fetchall()
    return {str(s): int(n) for s, n in rows}


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
