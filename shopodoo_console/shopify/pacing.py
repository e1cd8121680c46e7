"""A share of a shop's Shopify budget for background reads (the audit; issue 14).

Shopify's leaky bucket is per app and shop (shopify.md §3): whatever an audit spends, the live
sync cannot. :class:`BudgetShare` keeps a background reader to ``fraction`` of the budget by
two rules:

* **rate** — it spends from an allowance that fills at ``fraction × restoreRate`` (capped at
  ``fraction × maximumAvailable``), so over any run it uses at most that fraction of what the
  bucket refills. The window starts one second before the first request (one second's share
  is there at once, so the first page does not wait);
* **reserve** — it sends only while the shared bucket, as Shopify last reported it, keeps
  ``(1 - fraction) × maximumAvailable`` for others after this request. A busy sync therefore
  stops the reader instead of the reader slowing the sync.

Until Shopify has reported the bucket, the standard plan (2000 points, 100/s) is assumed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .budget import Budget

DEFAULT_MAXIMUM = 2000.0
DEFAULT_RESTORE = 100.0


@dataclass(frozen=True)
class ShareReport:
    """What a reader spent: points, over how long, and as a fraction of the refill."""

    spent: float
    seconds: float
    restore_rate: float
    waited: float

    @property
    def fraction(self) -> float:
        return self.spent / (self.restore_rate * self.seconds) if self.seconds > 0 else 0.0


class BudgetShare:
    """Pace one background reader to ``fraction`` of the shop's budget (thread-safe)."""

    def __init__(
        self,
        fraction: float = 0.5,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        self.fraction = fraction
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._allowance = 0.0
        self._at: float | None = None
        self._started: float | None = None
        self._spent = 0.0
        self._waited = 0.0
        self._maximum = DEFAULT_MAXIMUM
        self._rate = DEFAULT_RESTORE

    def _refill(self, now: float, budget: Budget | None) -> None:
        if budget is not None:
            self._maximum, self._rate = budget.maximum, budget.restore_rate
        if self._at is None:
            self._started = now - 1.0
            self._allowance = self.fraction * self._rate
        else:
            self._allowance += (now - self._at) * self.fraction * self._rate
        self._allowance = min(self._allowance, self.fraction * self._maximum)
        self._at = now

    def _wait_for(self, cost: float, budget: Budget | None) -> float:
        """Seconds until ``cost`` may be spent under both rules (0: now)."""
        rate = max(self._rate, 1e-9)
        short = cost - self._allowance
        wait = short / (self.fraction * rate) if short > 1e-9 else 0.0
        if budget is not None:
            reserve = (1 - self.fraction) * budget.maximum
            deficit = reserve + cost - budget.available
            if deficit > 1e-9:
                wait = max(wait, deficit / max(budget.restore_rate, 1e-9))
        return wait

    def before(self, estimate: float, budget: Callable[[], Budget | None]) -> float:
        """Wait until a request of ``estimate`` points may go; returns the seconds waited.

        ``budget`` is read again on every check (``lambda: client.budget``)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                current = budget()
                self._refill(now, current)
                if estimate > self.capacity_locked():
                    raise ValueError(
                        f"a request of {estimate:g} points is more than this share of the "
                        f"bucket ({self.capacity_locked():g}); ask for fewer records per request"
                    )
                wait = self._wait_for(estimate, current)
                if wait <= 0:
                    self._allowance -= estimate
                    self._waited += waited
                    return waited
            pause = min(wait, 1.0)  # re-read the shared bucket at least every second
            self._sleep(pause)
            waited += pause

    def after(self, reserved: float, actual: int | None) -> None:
        """Settle a request reserved with ``reserved`` points: count what it really cost
        (``None``: it was never executed) and give back or take the difference."""
        with self._lock:
            spent = float(actual) if actual is not None else 0.0
            self._allowance += reserved - spent  # below zero: the next request waits longer
            self._spent += spent

    def capacity(self) -> float:
        """The most one request may cost under this share (``fraction × maximumAvailable``)."""
        with self._lock:
            return self.capacity_locked()

    def capacity_locked(self) -> float:
        return self.fraction * self._maximum

    def report(self) -> ShareReport:
        with self._lock:
            now = self._clock()
            seconds = now - self._started if self._started is not None else 0.0
            return ShareReport(self._spent, seconds, self._rate, self._waited)
