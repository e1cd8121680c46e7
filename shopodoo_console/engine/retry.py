"""Bounded, visible retries with one budget per kind of trouble (DESIGN §3.8).

Temporary causes retry with exponential backoff and full jitter, never sooner than the
server asked (``retry_after``). Each kind of trouble spends its own budget — throttling,
network, a lost lease, a handler crash — so seven throttled answers do not make one lost
lease fatal. When a budget is spent the job stops in ``failed`` with ``retry.exhausted``,
whose four answers say what was retried, how often, over how long, and the last underlying
cause. Every other kind of cause waits for the operator in ``needs_attention``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from shopodoo_console.causes import Cause, Kind
from shopodoo_console.engine.states import State

DEFAULT_TEMPORARY_LIMIT = 5


@dataclass(frozen=True)
class Budget:
    """How many automatic retries one kind of trouble may cost a job."""

    name: str
    what: str  # "what was retried", in the operator's words
    limit: int


THROTTLE = Budget("throttle", "rate-limited requests (throttling)", 10)
NETWORK = Budget("network", "requests that got no usable answer (network)", 8)
LEASE = Budget("lease", "runs whose worker stopped answering (lost lease)", 5)
CRASH = Budget("crash", "runs that hit an unexpected error in the console (crash)", 3)

BUDGET_OF: dict[str, Budget] = {
    "shopify.throttled": THROTTLE,
    "shopify.unavailable": NETWORK,
    "shopify.outcome_unknown": NETWORK,
    "odoo.unreachable": NETWORK,
    "odoo.outcome_unknown": NETWORK,
    "odoo.concurrency": NETWORK,
    "engine.lease_expired": LEASE,
    "engine.handler_crashed": CRASH,
}


def budget_for(cause: Cause) -> Budget:
    """The budget a temporary cause spends; a code not listed has a budget of its own."""
    known = BUDGET_OF.get(cause.code)
    if known is not None:
        return known
    return Budget(cause.code, f"{cause.title.lower()} ({cause.code})", _limit(cause))


def _limit(cause: Cause) -> int:
    return cause.spec.max_retries or DEFAULT_TEMPORARY_LIMIT


@dataclass(frozen=True)
class RetryState:
    """What a job has spent so far: retries per budget, and since when it has been failing."""

    counts: Mapping[str, int]
    since: float | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Decision:
    state: State
    delay: float
    cause: Cause
    retries: int
    counts: dict[str, int]
    since: float | None


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 2.0
    factor: float = 2.0
    cap: float = 900.0
    rng: random.Random | None = None

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds before retry ``retry_number`` (1-based): jittered, at least ``retry_after``."""
        ceiling = min(self.cap, self.base * self.factor ** max(0, retry_number - 1))
        rng = self.rng or random
        jittered = ceiling * (0.5 + 0.5 * rng.random())
        return max(jittered, retry_after or 0.0)

    def decide(self, cause: Cause, spent: RetryState, now: float) -> Decision:
        """Where a job goes after failing with ``cause``, having spent ``spent`` so far."""
        counts = dict(spent.counts)
        if cause.kind is not Kind.TEMPORARY:
            return Decision(State.NEEDS_ATTENTION, 0.0, cause, spent.total, counts, spent.since)
        budget = budget_for(cause)
        used = counts.get(budget.name, 0)
        since = spent.since if spent.since is not None else now
        if used < budget.limit:
            counts[budget.name] = used + 1
            delay = self.delay(used + 1, cause.retry_after)
            return Decision(State.RETRYING, delay, cause, spent.total + 1, counts, since)
        return Decision(
            State.FAILED,
            0.0,
            exhausted(cause, budget, counts, since, now),
            spent.total,
            counts,
            since,
        )


def exhausted(
    cause: Cause, budget: Budget, counts: Mapping[str, int], since: float, now: float
) -> Cause:
    """``retry.exhausted`` with its four answers: what was retried, how often, over how long,
    and the last underlying cause (its own retry safety and note carry over)."""
    others = ", ".join(
        f"{n} × {name}" for name, n in sorted(counts.items()) if name != budget.name and n
    )
    missing = (
        f"automatic retries are spent: {budget.what} retried {counts.get(budget.name, 0)} "
        f"time(s) over {duration(now - since)}"
        + (f" (other retries: {others})" if others else "")
        + f"; the last attempt failed with {cause.code}: {cause.missing}"
    )
    return Cause(
        code="retry.exhausted",
        missing=missing,
        record=cause.record,
        kind=Kind.EXHAUSTED,
        retry_safe=cause.retry_safe,
        retry_note=cause.retry_note,
        fix=f"Fix the last cause ({cause.title}: {cause.fix or 'see its message'}), then "
        "retry the job by hand; its retry budgets start afresh.",
        operation=cause.operation,
        detail=cause.detail,
    )


def duration(seconds: float) -> str:
    """A span in the operator's words: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
