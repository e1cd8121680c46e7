"""The audit and the backfill as the CLI and the console start them: by shop domain and
period, on the same clients as the live sync (so the Shopify budget they share is one bucket,
and the audit's share of it is measured against what the sync spends too)."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.config import Config
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.engine.queue import Queue
from shopodoo_console.store.db import Store
from shopodoo_console.store.reconcile import FindingRow, findings
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.reconcile.audit import Audit, AuditResult, ProgressSink
from shopodoo_console.workflows.reconcile.backfill import Backfill, BackfillResult
from shopodoo_console.workflows.reconcile.report import odoo_url, shopify_url, write_csv


class Reconcile:
    """Start audits and backfills for configured shops (thread-safe: each run has its own
    objects; the clients are shared and thread-safe)."""

    def __init__(
        self,
        store: Store,
        config: Config,
        connections: Connections,
        queue: Queue | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.connections = connections
        self.queue = queue or Queue(store)

    def shops(self) -> list[str]:
        return [shop.domain for shop in self.config.shops]

    def shop(self, domain: str) -> ShopRef:
        for shop in self.config.shops:
            if shop.domain == domain:
                shop_id = self.store.shop_id(domain)
                if shop_id is None:
                    shop_id = self.store.sync_shop(
                        domain,
                        api_version=shop.api_version,
                        odoo_company_id=shop.odoo_company_id,
                        odoo_warehouse_id=shop.odoo_warehouse_id,
                        odoo_pricelist_id=shop.odoo_pricelist_id,
                    )
                return ShopRef(shop_id, domain, shop)
        known = ", ".join(self.shops()) or "none"
        raise CauseError(
            Cause(
                code="engine.flow_unknown",
                record=domain,
                missing=f"the shop {domain} is not in the config (configured: {known})",
                fix="Give a configured shop's domain, or add the shop in Settings.",
            )
        )

    def audit(
        self,
        domain: str,
        since: datetime,
        until: datetime | None = None,
        *,
        on_progress: ProgressSink | None = None,
        stop: threading.Event | None = None,
        **options: Any,
    ) -> AuditResult:
        shop = self.shop(domain)
        assert shop.config is not None
        return Audit(
            self.store,
            shop,
            self.connections.shopify(shop.config),
            self.connections.odoo(),
            since=since,
            until=until,
            on_progress=on_progress,
            stop=stop,
            **options,
        ).run()

    def backfill(
        self,
        domain: str,
        since: datetime,
        until: datetime | None = None,
        *,
        on_progress: ProgressSink | None = None,
        stop: threading.Event | None = None,
        **options: Any,
    ) -> BackfillResult:
        shop = self.shop(domain)
        assert shop.config is not None
        return Backfill(
            self.queue,
            shop,
            self.connections.shopify(shop.config),
            since=since,
            until=until,
            on_progress=on_progress,
            stop=stop,
            **options,
        ).run()

    def odoo_url(self) -> str | None:
        return self.config.odoo.url if self.config.odoo is not None else None

    def record_urls(self, shop: str, finding: FindingRow) -> list[tuple[str, str]]:
        """Where a finding's records open: ``(what, url or id)`` for Shopify, then Odoo."""
        base = self.odoo_url()
        lines = [
            (f"Shopify {finding.shopify_name or '-'}", shopify_url(shop, finding.shopify_id) or "-")
        ]
        lines += [(f"Odoo sale order {i}", odoo_url(base, i) or str(i)) for i in finding.odoo_ids]
        return lines

    def export_csv(self, path: Path, run_id: int, shop: str) -> int:
        """Write a run's findings for finance; returns how many were written."""
        return write_csv(path, findings(self.store, run_id), shop, self.odoo_url())
