"""Bounded, visible retries (DESIGN §3.8).

Temporary causes retry with exponential backoff and full jitter, never sooner than the
server asked (``retry_after``), up to the cause's limit; then the job stops in ``failed`` with
``retry.exhausted``. Every other kind waits for the operator in ``needs_attention``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from shopodoo_console.causes import Cause, Kind
from shopodoo_console.engine.states import State

DEFAULT_TEMPORARY_LIMIT = 5


@dataclass(frozen=True)
class Decision:
    state: State
    delay: float
    cause: Cause
    retries: int


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

    def limit(self, cause: Cause) -> int:
        return cause.spec.max_retries or DEFAULT_TEMPORARY_LIMIT

    def decide(self, cause: Cause, retries_so_far: int) -> Decision:
        """Where a job goes after failing with ``cause``, having retried ``retries_so_far``."""
        if cause.kind is not Kind.TEMPORARY:
            return Decision(State.NEEDS_ATTENTION, 0.0, cause, retries_so_far)
        limit = self.limit(cause)
        if retries_so_far < limit:
            number = retries_so_far + 1
            return Decision(State.RETRYING, self.delay(number, cause.retry_after), cause, number)
        exhausted = replace(
            cause,
            code="retry.exhausted",
            missing=f"gave up after {retries_so_far + 1} attempts; last cause "
            f"{cause.code}: {cause.missing}",
            retry_after=None,
        )
        return Decision(State.FAILED, 0.0, exhausted, retries_so_far)
