"""The first-month review: what failed, who waited, what people still fix by hand (issue 14).

:func:`build_review` gathers the figures (:mod:`shopodoo_console.store.review` holds the SQL);
:func:`review_json` is the stable ``--json`` shape; :func:`render_text` and
:func:`failures_chart` are the CLI's report, the chart drawn with plotext (the same library the
console's charts use, through textual-plotext).
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.causes import spec_for
from shopodoo_console.store import review as figures
from shopodoo_console.store.db import Store

JSON_VERSION = 1
RETRY_BUCKETS = ("0", "1", "2", "3", "4", "5+")


@dataclass(frozen=True)
class WaitStats:
    count: int
    median: float | None
    p90: float | None
    longest: float | None
    by_action: dict[str, int]

    @classmethod
    def of(cls, waits: list[figures.Wait]) -> WaitStats:
        seconds = sorted(w.seconds for w in waits)
        by_action: dict[str, int] = {}
        for w in waits:
            by_action[w.event] = by_action.get(w.event, 0) + 1
        if not seconds:
            return cls(0, None, None, None, by_action)
        p90 = seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))]
        return cls(len(seconds), statistics.median(seconds), p90, seconds[-1], by_action)


@dataclass
class Review:
    since: float
    until: float
    shop: str | None
    failures: list[tuple[str, str, int]]  # (day, cause, failed attempts)
    waits: WaitStats
    waiting_now: int
    longest_waiting: list[figures.Waiting]
    retries: dict[int, int]
    edits: list[figures.FieldEdits]
    mappings: list[figures.MappingAdded]
    closes: list[figures.OperatorClose]
    jobs: dict[str, int] = field(default_factory=dict)

    @property
    def days(self) -> list[str]:
        return sorted({day for day, _, _ in self.failures})

    @property
    def causes(self) -> list[str]:
        """Causes by total failures, most first."""
        totals: dict[str, int] = {}
        for _, cause, n in self.failures:
            totals[cause] = totals.get(cause, 0) + n
        return sorted(totals, key=lambda c: (-totals[c], c))

    def failures_of(self, cause: str) -> list[int]:
        """Failed attempts of ``cause`` for each day of :attr:`days`."""
        counts = {day: n for day, c, n in self.failures if c == cause}
        return [counts.get(day, 0) for day in self.days]

    def retry_buckets(self) -> dict[str, int]:
        buckets = dict.fromkeys(RETRY_BUCKETS, 0)
        for retries, jobs in self.retries.items():
            buckets[str(retries) if retries < 5 else "5+"] += jobs
        return buckets


def build_review(
    store: Store,
    *,
    since: float,
    until: float | None = None,
    shop: str | None = None,
) -> Review:
    """Every figure of the review over ``[since, until)`` (epoch seconds)."""
    shop_id = store.shop_id(shop) if shop else None
    if shop and shop_id is None:
        raise ValueError(f"no shop {shop!r} in the database")
    window = figures.Window(since, until if until is not None else time.time(), shop_id)
    waiting_now, longest = figures.still_waiting(store, window)
    return Review(
        since=window.since,
        until=window.until,
        shop=shop,
        failures=figures.failures_by_day(store, window),
        waits=WaitStats.of(figures.waits_for_a_person(store, window)),
        waiting_now=waiting_now,
        longest_waiting=longest,
        retries=figures.retries_per_job(store, window),
        edits=figures.edits_by_people(store, window),
        mappings=figures.mappings_added(store, window),
        closes=figures.operator_closes(store, window),
        jobs=figures.jobs_in_period(store, window),
    )


# ---------------------------------------------------------------- --json


def review_json(review: Review, *, now: float | None = None) -> dict[str, Any]:
    now = now if now is not None else time.time()
    return {
        "version": JSON_VERSION,
        "since": review.since,
        "until": review.until,
        "shop": review.shop,
        "jobs": review.jobs,
        "failures_by_day": [
            {"day": day, "cause": cause, "failed_attempts": n} for day, cause, n in review.failures
        ],
        "waits_for_a_person": {
            "count": review.waits.count,
            "median_seconds": review.waits.median,
            "p90_seconds": review.waits.p90,
            "longest_seconds": review.waits.longest,
            "by_action": review.waits.by_action,
            "waiting_now": review.waiting_now,
            "longest_waiting": [
                {
                    "job_id": w.job_id,
                    "state": w.state,
                    "label": w.label,
                    "cause": w.cause_code,
                    "waiting_seconds": max(0.0, now - w.since),
                }
                for w in review.longest_waiting
            ],
        },
        "retries_per_job": review.retry_buckets(),
        "edited_in_odoo": [
            {
                "field": e.field,
                "model": e.model,
                "times": e.events,
                "jobs": e.jobs,
                "causes": list(e.codes),
            }
            for e in review.edits
        ],
        "mappings_added": [
            {
                "kind": m.kind,
                "source_key": m.source_key,
                "odoo_model": m.odoo_model,
                "odoo_id": m.odoo_id,
                "label": m.label,
                "created_at": m.created_at,
                "jobs_requeued": m.requeued,
            }
            for m in review.mappings
        ],
        "operator_closes": [
            {
                "action": c.event,
                "reason": c.reason,
                "count": c.count,
                "last_at": c.last_at,
                "job_ids": list(c.job_ids),
            }
            for c in review.closes
        ],
    }


# ---------------------------------------------------------------- text


def failures_chart(
    review: Review, *, width: int = 100, height: int = 16, color: bool = False
) -> str:
    """Failed attempts per day (plotext). In colour, stacked by cause with a legend; without
    colour (a pipe, a file) one bar per day, the causes listed under the chart."""
    import plotext as plt

    if not review.failures:
        return "  (no failures in the period)"
    days = [d[5:] for d in review.days]  # MM-DD
    totals = [sum(n for d, _, n in review.failures if d == day) for day in review.days]
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("pro" if color else "clear")
    if color:
        causes = review.causes
        plt.stacked_bar(days, [review.failures_of(c) for c in causes], labels=causes)
    else:
        plt.bar(days, totals, marker="hd")
    top = max(totals)
    step = max(1, -(-top // 5))
    plt.yticks(list(range(0, top + step, step)))
    plt.title("Failed attempts per day" + (", by cause" if color else ""))
    text: str = plt.build()
    plt.clear_figure()
    return text if color else _ANSI.sub("", text)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def render_text(
    review: Review, *, now: float | None = None, width: int = 100, color: bool = False
) -> str:
    now = now if now is not None else time.time()
    total_jobs = sum(review.jobs.values())
    out = [f"Review of {review.shop or 'every shop'}: {total_jobs} job(s) created in the period"]
    out += ["", *_failures_text(review, width, color)]
    out += ["", *_waits_text(review, now)]
    out += ["", *_retries_text(review)]
    out += ["", *_edits_text(review)]
    out += ["", *_mappings_text(review)]
    out += ["", *_closes_text(review)]
    return "\n".join(out)


def _failures_text(review: Review, width: int, color: bool) -> list[str]:
    out = ["Failures per day by cause", failures_chart(review, width=width, color=color)]
    for day in review.days:
        causes = sorted(
            ((c, n) for d, c, n in review.failures if d == day), key=lambda x: (-x[1], x[0])
        )
        listed = ", ".join(f"{c} {n}" for c, n in causes)
        out.append(f"  {day}  {sum(n for _, n in causes):>5}  {listed}")
    if review.causes:
        out.append("  In all:")
    for cause in review.causes:
        out.append(f"  {sum(review.failures_of(cause)):>6}  {cause} — {spec_for(cause).title}")
    return out


def _waits_text(review: Review, now: float) -> list[str]:
    w = review.waits
    out = [
        "Waiting for a person",
        f"  {w.count} action(s) on waiting jobs; waited median {duration(w.median)}, "
        f"90% within {duration(w.p90)}, longest {duration(w.longest)}",
    ]
    if w.by_action:
        out.append("  by action: " + ", ".join(f"{k} {v}" for k, v in sorted(w.by_action.items())))
    out.append(f"  {review.waiting_now} job(s) wait now")
    out += [
        f"    job {job.job_id} {job.state} for {duration(now - job.since)}: "
        f"{job.label} ({job.cause_code or '-'})"
        for job in review.longest_waiting[:5]
    ]
    return out


def _retries_text(review: Review) -> list[str]:
    out = ["Retries per job (jobs created in the period)"]
    buckets = review.retry_buckets()
    top = max(buckets.values()) or 1
    for name, jobs in buckets.items():
        bar = "█" * max(1 if jobs else 0, round(40 * jobs / top))
        out.append(f"  {name:>3} retries  {jobs:>6}  {bar}")
    return out


def _edits_text(review: Review) -> list[str]:
    out = ["Changed in Odoo by a person after the console wrote it"]
    out += [
        f"  {e.events:>6}× {e.model + '.' if e.model else ''}{e.field} "
        f"({e.jobs} job(s); {', '.join(c for c in e.codes if c)})"
        for e in review.edits
    ] or ["  nothing"]
    return out


def _mappings_text(review: Review) -> list[str]:
    return ["Mappings added"] + (
        [
            f"  {m.kind} {m.source_key!r} → {m.odoo_model} {m.odoo_id} {m.label} "
            f"({m.requeued} waiting job(s) re-queued)"
            for m in review.mappings
        ]
        or ["  none"]
    )


def _closes_text(review: Review) -> list[str]:
    return ["Resolved and cancelled by hand"] + (
        [f"  {c.count:>6}× {c.event}: {c.reason or '(no reason)'}" for c in review.closes]
        or ["  none"]
    )
