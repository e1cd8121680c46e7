"""The client's copy of Shopify's leaky bucket (shopify.md §3), shared by all threads.

Shopify reports ``currentlyAvailable`` after every executed request; between reports the
bucket refills at ``restoreRate`` points per second. Before sending, a caller reserves the
requested cost it expects; if the projection says the bucket is short, it waits exactly long
enough. Reservations of requests in flight are subtracted from the projection, so concurrent
workers never overspend together. The projection starts from the moment the *answer* was
received, which is later than Shopify measured it: the error is on the safe side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import ThrottleStatus


@dataclass(frozen=True)
class Budget:
    """What the dashboard shows: the bucket now, as far as the client can tell."""

    maximum: float
    available: float
    restore_rate: float
    measured_at: datetime  # when Shopify last reported it (UTC)

    @property
    def fraction(self) -> float:
        return self.available / self.maximum if self.maximum else 0.0


class BudgetExceeded(Exception):
    """Waiting for the bucket would take longer than the caller allows."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the bucket needs {wait:.1f}s to refill")
        self.wait = wait


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._status: ThrottleStatus | None = None
        self._at = 0.0
        self._wall = datetime.now(UTC)
        self._reserved = 0.0
        self._hold_until = 0.0

    def _projected(self, now: float) -> float:
        assert self._status is not None
        refill = (now - self._at) * self._status.restore_rate
        return min(self._status.maximum, self._status.available + refill)

    def budget(self) -> Budget | None:
        with self._cond:
            if self._status is None:
                return None
            now = self._clock()
            return Budget(
                maximum=self._status.maximum,
                available=max(0.0, self._projected(now) - self._reserved),
                restore_rate=self._status.restore_rate,
                measured_at=self._wall,
            )

    def wait_needed(self, cost: float) -> float:
        """Seconds until ``cost`` points are available (0 if now or unknown)."""
        with self._cond:
            return self._wait_locked(cost, self._clock())

    def _wait_locked(self, cost: float, now: float) -> float:
        hold = max(0.0, self._hold_until - now)
        if self._status is None:
            # Bucket unknown: one request at a time until Shopify has told us its size.
            return hold if self._reserved == 0 else max(hold, 0.5)
        need = min(cost, self._status.maximum)
        short = need - (self._projected(now) - self._reserved)
        rate = self._status.restore_rate or 1.0
        return max(hold, short / rate if short > 1e-6 else 0.0)

    def acquire(self, cost: float, max_wait: float, on_wait: Callable[[float], None]) -> float:
        """Reserve ``cost`` points, waiting for the refill; returns the seconds waited."""
        waited = 0.0
        with self._cond:
            while True:
                now = self._clock()
                wait = self._wait_locked(cost, now)
                if wait <= 0:
                    if self._status is not None:
                        self._reserved += min(cost, self._status.maximum)
                    else:
                        self._reserved += cost
                    return waited
                if waited + wait > max_wait:
                    raise BudgetExceeded(wait)
                on_wait(wait)
                self._cond.wait(timeout=wait)
                waited += self._clock() - now

    def release(self, cost: float) -> None:
        with self._cond:
            if self._status is not None:
                cost = min(cost, self._status.maximum)
            self._reserved = max(0.0, self._reserved - cost)
            self._cond.notify_all()

    def update(self, status: ThrottleStatus) -> None:
        """Take Shopify's report; answers of concurrent requests may arrive out of order, so
        an older, higher report never raises the estimate above the current projection."""
        with self._cond:
            now = self._clock()
            old = self._status
            if (
                old is not None
                and (old.maximum, old.restore_rate) == (status.maximum, status.restore_rate)
                and status.available > self._projected(now)
            ):
                status = ThrottleStatus(status.maximum, self._projected(now), status.restore_rate)
            self._status = status
            self._at = now
            self._wall = datetime.now(UTC)
            self._cond.notify_all()

    def hold(self, seconds: float) -> None:
        """Nobody sends for ``seconds`` (HTTP 429 with Retry-After)."""
        with self._cond:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    @staticmethod
    def age(budget: Budget) -> timedelta:
        return datetime.now(UTC) - budget.measured_at
