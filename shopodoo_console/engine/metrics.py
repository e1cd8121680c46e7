"""Live figures the dashboard shows that are not in the database.

Flows publish what their clients know — Shopify's cost budget per shop, Odoo's latency — under
stable names; the console reads a snapshot from any thread. Values are small and replaced
whole, so a lock around a dict is all it takes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

SHOPIFY_BUDGET = "shopify.budget"  # per shop: {"available", "maximum", "restore_rate", "at"}
ODOO_LATENCY = "odoo.latency"  # {"p50_ms", "p95_ms", "calls", "errors", "at"}


class Metrics:
    def __init__(self) -> None:
        self._values: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def set(self, name: str, key: str, value: dict[str, Any]) -> None:
        """Publish ``value`` for ``name`` (e.g. ``shopify.budget``) and ``key`` (a shop)."""
        with self._lock:
            self._values.setdefault(name, {})[key] = {**value, "at": time.time()}

    def get(self, name: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._values.get(name, {}))

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: dict(values) for name, values in self._values.items()}
