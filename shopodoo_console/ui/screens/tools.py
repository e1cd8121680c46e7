"""The first-month tools in the console: the Review and Audit screens, their keys, and what
the app needs to run audits and backfills (injected, like the mapping validator: the UI never
builds clients itself)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from textual.screen import Screen

from shopodoo_console.engine.progress import Progress
from shopodoo_console.ui.screens.audit import AuditScreen
from shopodoo_console.ui.screens.review import ReviewScreen


class Reconciler(Protocol):
    """What the Audit screen calls, in a worker thread (``workflows.reconcile.Reconcile``)."""

    def audit(
        self,
        domain: str,
        since: datetime,
        until: datetime | None = None,
        *,
        on_progress: Any = None,
        stop: threading.Event | None = None,
    ) -> Any: ...

    def backfill(
        self,
        domain: str,
        since: datetime,
        until: datetime | None = None,
        *,
        on_progress: Any = None,
        stop: threading.Event | None = None,
    ) -> Any: ...

    def odoo_url(self) -> str | None: ...

    def record_urls(self, shop: str, finding: Any) -> list[tuple[str, str]]: ...

    def export_csv(self, path: Any, run_id: int, shop: str) -> int: ...


TOOL_MODES: dict[str, Callable[[], Screen[Any]]] = {"review": ReviewScreen, "audit": AuditScreen}

__all__ = ["TOOL_MODES", "Progress", "Reconciler"]
