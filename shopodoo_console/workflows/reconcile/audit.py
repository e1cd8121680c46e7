"""The reconciliation audit: Shopify orders of a period against Odoo's sale orders (issue 14).

It reads as two passes, and reports findings as it goes (the first arrive within seconds):

1. **Shopify's orders** of the period, paged cheaply (ids, totals, states; no lines) and paced
   by a :class:`~shopodoo_console.shopify.pacing.BudgetShare` so the live sync always keeps at
   least half of the shop's budget. For each page: the sale orders carrying those orders'
   references (our stamps, ``client_order_ref``, ``origin``; a constant handful of Odoo calls
   per page), the console's links and newest jobs, then :func:`.compare.judge` per order.
2. **Odoo's sale orders** of the period, to catch what a look-up by reference cannot: a second
   sale order stamped for the same Shopify order under another shop name, and sale orders
   carrying a Shopify reference that no order of the period has and no link explains.

A run is stored (``reconcile_run``) with its findings (``finding``), so the console can show
the last audit, open each finding's job or records, and export it for finance later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopodoo_console.causes import CauseError
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.engine.keys import key_after, record_prefix
from shopodoo_console.engine.owners import make_owner
from shopodoo_console.engine.progress import Pace, Progress, finished
from shopodoo_console.odoo.audit import (
    OrderRef,
    SaleOrderReader,
    SaleOrderSummary,
    parse_order_stamp,
)
from shopodoo_console.odoo.client import OdooClient
from shopodoo_console.periods import iso, parse_iso
from shopodoo_console.shopify.audit import (
    AuditOrder,
    orders_for_audit,
    period_query,
    window_gap,
)
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.pacing import BudgetShare
from shopodoo_console.store import links
from shopodoo_console.store import reconcile as runs
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.orders.match import order_stamp_name, shop_slug
from shopodoo_console.workflows.orders.plan import origin_of
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.reconcile.compare import (
    Expectations,
    Sighting,
    extra_duplicate,
    judge,
    stray_reference,
)

log = logging.getLogger(__name__)

KIND = "audit"
SHARE = 0.5  # of the shop's Shopify budget, at most (the live sync keeps the rest)

ProgressSink = Callable[[Progress], None]


@dataclass
class AuditResult:
    run_id: int
    state: str  # done | stopped | failed
    orders: int
    odoo_orders: int
    counts: dict[str, int]
    seconds: float
    budget: float  # share of the Shopify budget used over the run
    first_finding: float | None
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def findings(self) -> int:
        return sum(self.counts.values())

    @property
    def orders_per_minute(self) -> float:
        return self.orders / self.seconds * 60 if self.seconds > 0 else 0.0


@dataclass
class _Known:
    """What pass 1 saw, for pass 2: Shopify orders by legacy id and name, and the sale
    orders already accounted for."""

    by_legacy: dict[int, tuple[str, str]] = field(default_factory=dict)  # → (gid, name)
    by_name: dict[str, tuple[str, str]] = field(default_factory=dict)
    matched: dict[str, list[int]] = field(default_factory=dict)  # gid → sale order ids
    odoo_ids: set[int] = field(default_factory=set)

    def add(self, order: AuditOrder, sale_ids: list[int]) -> None:
        self.by_legacy[order.legacy_id] = (order.gid, order.name)
        self.by_name[order.name] = (order.gid, order.name)
        self.matched[order.gid] = sale_ids
        self.odoo_ids.update(sale_ids)


class Audit:
    """One audit of one shop over ``[since, until)`` (``until`` None: up to now)."""

    def __init__(
        self,
        store: Store,
        shop: ShopRef,
        shopify: ShopifyClient,
        odoo: OdooClient,
        *,
        since: datetime,
        until: datetime | None = None,
        share: float = SHARE,
        on_progress: ProgressSink | None = None,
        stop: threading.Event | None = None,
        page_size: int = 250,
    ) -> None:
        if shop.config is None:
            raise ValueError(f"the shop {shop.domain} is not in the config")
        self.store = store
        self.shop = shop
        self.shopify = shopify
        self.odoo = odoo
        self.since = since
        self.until = until
        self.share = BudgetShare(share)
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.page_size = page_size
        self.owner = make_owner("audit")
        self.pace = Pace(KIND)
        self.reader = SaleOrderReader(odoo, company_id=shop.config.odoo_company_id)
        settings = OrdersSettings.from_shop(shop.config)
        cursor = runs.cursor_position(store, shop.id, "orders")
        self.rules = Expectations(
            shop_domain=shop.domain,
            skip_test_orders=settings.skip_test_orders,
            create_cancelled_orders=settings.create_cancelled_orders,
            confirm=settings.confirm,
            cursor=parse_iso(cursor) if cursor else None,
        )
        self.known = _Known()
        self.counts: dict[str, int] = {}
        self.done = 0
        self.total: int | None = None
        self.odoo_seen = 0
        self.warnings: list[str] = []
        self.run_id = 0

    # ---------------------------------------------------------------- the run

    def run(self) -> AuditResult:
        self.run_id = runs.start_run(
            self.store,
            shop_id=self.shop.id,
            kind=KIND,
            since=iso(self.since),
            until=iso(self.until) if self.until else None,
            owner=self.owner,
            method="paged",
        )
        state, message = runs.DONE, ""
        try:
            self._prepare()
            if self._shopify_pass() and self._odoo_pass():
                message = f"{self.done} orders compared, {sum(self.counts.values())} findings"
            else:
                state, message = runs.STOPPED, f"stopped after {self.done} orders"
        except CauseError as exc:
            state, message = runs.FAILED, f"{exc.cause.code}: {exc.cause.missing}"
        except Exception as exc:  # a bug must end the run visibly, not leave it running
            log.exception("audit %s failed", self.run_id)
            state, message = runs.FAILED, f"{type(exc).__name__}: {exc}"
        runs.finish_run(self.store, self.run_id, self.owner, state, message)
        self._emit(finished(self._progress("finished"), message or state))
        return AuditResult(
            run_id=self.run_id,
            state=state,
            orders=self.done,
            odoo_orders=self.odoo_seen,
            counts=dict(self.counts),
            seconds=self.pace.clock() - self.pace.started,
            budget=self.share.report().fraction,
            first_finding=self.pace.first_finding,
            warnings=list(self.warnings),
            message=message,
        )

    def _prepare(self) -> None:
        """How many orders to expect (one point), and whether Shopify hides part of them."""
        self._emit(self._progress("counting Shopify orders"))
        try:
            scopes = self.shopify.access_scopes().scopes
        except CauseError as exc:
            self.warnings.append(f"could not read the app's access scopes: {exc.cause.missing}")
        else:
            gap = window_gap(scopes, self.since)
            if gap is not None:
                self.warnings.append(gap.missing + " " + gap.fix)
        (self.total,) = self.shopify.orders_counts([period_query(self.since, self.until)])
        runs.save_progress(self.store, self.run_id, self.owner, done=0, found=0, total=self.total)

    def _shopify_pass(self) -> bool:
        pages = orders_for_audit(
            self.shopify, self.since, self.until, share=self.share, page_size=self.page_size
        )
        for page in pages:
            self._judge_page(list(page.orders))
            self.done += len(page.orders)
            self._save()
            self._emit(self._progress("comparing Shopify orders with Odoo"))
            if self.stop.is_set():
                return False
        return True

    def _judge_page(self, orders: list[AuditOrder]) -> None:
        if not orders:
            return
        refs = [
            OrderRef(
                key=o.gid,
                stamps=(order_stamp_name(self.shop.domain, o.legacy_id),),
                names=(o.name,),
                origins=(origin_of(self.shop.domain, o.name),),
            )
            for o in orders
        ]
        matches = self.reader.by_refs(refs)
        gids = [o.gid for o in orders]
        linked = links.find_links(self.store, self.shop.id, "order", gids)
        prefix = record_prefix(self.shop.domain, "orders")
        jobs = runs.newest_jobs(self.store, {key_after(prefix, gid, ""): gid for gid in gids})
        found = []
        for order in orders:
            mine = tuple(matches.get(order.gid, ()))
            self.known.add(order, [m.order.id for m in mine])
            seen = Sighting(order, mine, linked.get(order.gid), jobs.get(order.gid))
            found += judge(seen, self.rules)
        self._record(found)

    def _odoo_pass(self) -> bool:
        slug = shop_slug(self.shop.domain)
        linked = runs.linked_odoo_ids(self.store, self.shop.id, "order", "sale.order")
        for page in self.reader.in_period(self.since, self.until):
            self.odoo_seen += len(page)
            found = []
            for sale in page:
                if sale.id in self.known.odoo_ids:
                    continue
                finding = self._unaccounted(sale, slug, sale.id in linked)
                if finding is not None:
                    found.append(finding)
            self._record(found)
            self._save()
            self._emit(self._progress(f"reading Odoo's sale orders ({self.odoo_seen:,})"))
            if self.stop.is_set():
                return False
        return True

    def _unaccounted(self, sale: SaleOrderSummary, slug: str, linked: bool) -> Any:
        """A sale order of the period that no Shopify order's look-up found."""
        for stamp in sale.stamps:
            parsed = parse_order_stamp(stamp)
            if parsed is None:
                continue
            other_slug, legacy = parsed
            hit = self.known.by_legacy.get(legacy)
            if hit is not None:
                gid, name = hit
                why = "stamped" if other_slug == slug else f"stamped for shop '{other_slug}'"
                return extra_duplicate(gid, name, self.known.matched.get(gid, []), sale, why)
            if other_slug == slug and not linked:
                return stray_reference(sale, f"stamp {stamp}")
        prefix = origin_of(self.shop.domain, "")
        if sale.origin and sale.origin.startswith(prefix):
            name = sale.origin[len(prefix) :]
            hit = self.known.by_name.get(name)
            if hit is not None:
                gid, name = hit
                return extra_duplicate(gid, name, self.known.matched.get(gid, []), sale, "origin")
            if not linked:
                return stray_reference(sale, f"origin '{sale.origin}'")
        if sale.client_order_ref and sale.client_order_ref in self.known.by_name:
            gid, name = self.known.by_name[sale.client_order_ref]
            return extra_duplicate(
                gid, name, self.known.matched.get(gid, []), sale, "client_order_ref"
            )
        return None

    # ---------------------------------------------------------------- bookkeeping

    def _record(self, found: Iterable[runs.NewFinding]) -> None:
        found = list(found)
        if not found:
            return
        runs.add_findings(self.store, self.run_id, found)
        for f in found:
            self.counts[f.kind] = self.counts.get(f.kind, 0) + 1
        self.pace.saw_finding()

    def _save(self) -> None:
        runs.save_progress(
            self.store,
            self.run_id,
            self.owner,
            done=self.done,
            found=sum(self.counts.values()),
            position={"odoo_orders": self.odoo_seen},
        )

    def _progress(self, phase: str) -> Progress:
        report = self.share.report()
        return self.pace.progress(
            phase,
            self.done,
            self.total,
            sum(self.counts.values()),
            budget=report.fraction if report.seconds > 0 else None,
            run_id=self.run_id or None,
        )

    def _emit(self, progress: Progress) -> None:
        if self.on_progress is None:
            return
        try:
            self.on_progress(progress)
        except Exception:  # a progress bar bug must not stop the audit
            log.exception("audit progress handler failed")


__all__ = ["KIND", "SHARE", "Audit", "AuditResult"]
