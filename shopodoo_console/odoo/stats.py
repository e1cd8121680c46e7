"""Rolling latency of Odoo calls, for the dashboard's "Odoo latency" figure."""

from __future__ import annotations

import threading
from collections import deque


class LatencyStats:
    """The last ``window`` call durations; thread-safe; p50/p95 in milliseconds."""

    def __init__(self, window: int = 500) -> None:
        self._lock = threading.Lock()
        self._samples: deque[float] = deque(maxlen=window)
        self.count = 0
        self.errors = 0

    def record(self, seconds: float, *, ok: bool = True) -> None:
        with self._lock:
            self._samples.append(seconds)
            self.count += 1
            self.errors += 0 if ok else 1

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0-1) of recent calls in milliseconds; ``None`` before any call."""
        with self._lock:
            data = sorted(self._samples)
        if not data:
            return None
        index = min(len(data) - 1, max(0, round(q * (len(data) - 1))))
        return data[index] * 1000

    @property
    def p50(self) -> float | None:
        return self.percentile(0.5)

    @property
    def p95(self) -> float | None:
        return self.percentile(0.95)

    def snapshot(self) -> dict[str, float | int | None]:
        return {"count": self.count, "errors": self.errors, "p50_ms": self.p50, "p95_ms": self.p95}
