"""What the engine says between two database reads: recent events, failing polls, and the
history of the live figures (pure: no Textual, testable alone).

The engine calls :meth:`LiveState.on_event` on its own threads; it only appends to bounded
deques under a lock, so the engine never waits for the console. The Dashboard samples the
metrics (Shopify budget, Odoo latency) into a short history each time it loads, and turns
a throttle counter that moved into a line of the activity feed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shopodoo_console.engine import events as ev
from shopodoo_console.engine.metrics import ODOO_LATENCY, SHOPIFY_BUDGET

HISTORY = 120  # samples kept per figure (one per Dashboard load: a few minutes)
PROBLEM_STATES = ("needs_attention", "failed", "retrying")


@dataclass(frozen=True)
class Activity:
    """One line of the feed. ``style`` is ``error``, ``warning``, ``good`` or ""."""

    at: float
    shop: str
    text: str
    style: str = ""
    job_id: int | None = None


@dataclass(frozen=True)
class PollProblem:
    """A stream whose last poll failed, as the engine reported it."""

    shop: str
    stream: str
    cause_code: str
    message: str
    since: float  # first failure of this run of failures
    at: float  # last failure


class LiveState:
    def __init__(self, *, clock: Callable[[], float] = time.time, keep: int = 300) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._events: deque[Activity] = deque(maxlen=keep)
        self._job_events: deque[tuple[float, int, str, str]] = deque(maxlen=keep)
        self._polls: dict[tuple[str, str], PollProblem] = {}
        self._budget: dict[str, deque[float]] = {}
        self._latency: deque[float] = deque(maxlen=HISTORY)
        self._seen_at: dict[str, float] = {}
        self._throttles: dict[str, int] = {}
        self.version = 0  # bumped on every change the header shows (failing polls)

    # ------------------------------------------------------------ engine threads

    def on_event(self, event: ev.Event) -> None:
        data = event.data
        with self._lock:
            if event.kind == ev.POLL_FAILED:
                self._poll_failed(event)
            elif event.kind == ev.POLL_FINISHED:
                key = (str(data.get("shop", "")), str(data.get("stream", "")))
                if self._polls.pop(key, None) is not None:
                    self.version += 1
                    self._add(event.at, key[0], f"{key[1]} polling works again", "good")
                if data.get("new"):
                    text = f"polled {key[1]}: {data['new']} new, {data.get('seen', 0)} seen again"
                    self._add(event.at, key[0], text)
            elif event.kind == ev.JOB_STATE and data.get("state") in PROBLEM_STATES:
                code = str(data.get("cause_code") or "")
                self._job_events.append((event.at, int(data["job_id"]), str(data["state"]), code))
            elif event.kind == ev.LEASE_EXPIRED:
                job = data.get("job_id")
                self._job_events.append((event.at, int(job or 0), "lease_expired", ""))

    def _poll_failed(self, event: ev.Event) -> None:
        data = event.data
        key = (str(data.get("shop", "")), str(data.get("stream", "")))
        before = self._polls.get(key)
        self._polls[key] = PollProblem(
            key[0],
            key[1],
            str(data.get("cause_code") or "unknown"),
            str(data.get("message") or ""),
            before.since if before else event.at,
            event.at,
        )
        self.version += 1
        self._add(event.at, key[0], f"poll of {key[1]} failed: {data.get('message', '')}", "error")

    def _add(
        self, at: float, shop: str, text: str, style: str = "", job: int | None = None
    ) -> None:
        self._events.append(Activity(at, shop, text, style, job))

    # ------------------------------------------------------------ the console's side

    def note(self, shop: str, text: str, style: str = "", job_id: int | None = None) -> None:
        """An operator action worth a line (a mapping saved, N jobs re-queued)."""
        with self._lock:
            self._add(self.clock(), shop, text, style, job_id)

    def sample(self, metrics: dict[str, dict[str, Any]]) -> None:
        """Keep a point of each live figure that changed since the last sample."""
        with self._lock:
            for shop, value in metrics.get(SHOPIFY_BUDGET, {}).items():
                if value.get("at") == self._seen_at.get(shop):
                    continue
                self._seen_at[shop] = value.get("at", 0.0)
                maximum = float(value.get("maximum") or 0.0)
                fraction = float(value.get("available") or 0.0) / maximum if maximum else 0.0
                self._budget.setdefault(shop, deque(maxlen=HISTORY)).append(fraction)
                throttles = int(value.get("throttles") or 0)
                if throttles > self._throttles.get(shop, 0):
                    wait = float(value.get("wait") or 0.0)
                    waiting = f" and waiting {wait:.0f} s" if wait >= 0.5 else " and waiting"
                    self._add(value.get("at", self.clock()), shop, f"throttled{waiting}", "warning")
                self._throttles[shop] = throttles
            latency = metrics.get(ODOO_LATENCY, {}).get("odoo")
            if latency and latency.get("at") != self._seen_at.get("odoo"):
                self._seen_at["odoo"] = latency.get("at", 0.0)
                p95 = latency.get("p95_ms")
                if p95 is not None:
                    self._latency.append(float(p95))

    def activities(self) -> list[Activity]:
        with self._lock:
            return list(self._events)

    def job_events(self) -> list[tuple[float, int, str, str]]:
        """``(at, job id, state, cause code)`` of jobs that stopped or expired lately."""
        with self._lock:
            return list(self._job_events)

    def poll_problems(self) -> dict[tuple[str, str], PollProblem]:
        with self._lock:
            return dict(self._polls)

    def budget_history(self) -> dict[str, list[float]]:
        with self._lock:
            return {shop: list(points) for shop, points in self._budget.items()}

    def latency_history(self) -> list[float]:
        with self._lock:
            return list(self._latency)
