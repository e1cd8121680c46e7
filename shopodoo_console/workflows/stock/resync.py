"""A full stock resync: every Shopify variant brought in step with Odoo, paced, resumable.

The resync lists the shop's variants page by page (about 3 points each), matches each to its
Odoo product (stock link, product mapping, then one Odoo search per page by SKU and barcode),
notes what it leaves alone (no Odoo product, several, an untracked item, an archived product)
and queues one stock job per product. The jobs are ordinary stock jobs — batched, paced by
the Shopify budget, shown in the Queue, retried, approved in review mode — carrying the
resync's version, so a level already right is read and not written, and a job already queued
for the product is the same job, not a second one.

Each page's jobs and the listing's position are stored in one transaction: killed anywhere,
the resync is taken up again where it stopped (starting one adopts the one running), and the
jobs it had queued keep their keys — nothing is set twice. It is done when its listing is and
none of its jobs waits any more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopodoo_console.engine import mappings
from shopodoo_console.engine.flows import Change, ShopRef
from shopodoo_console.engine.queue import Queue
from shopodoo_console.odoo import OdooClient
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.store import stock as store_stock
from shopodoo_console.store.db import Store
from shopodoo_console.store.stock import ResyncProgress, ResyncRow, SkipNote
from shopodoo_console.workflows.stock.plan import ARCHIVED, UNTRACKED
from shopodoo_console.workflows.stock.poll import source_id

NO_PRODUCT = "no Odoo product has this SKU or barcode (and no mapping names one)"
NO_CODE = "no SKU and no barcode, and no mapping names an Odoo product"
RESYNC_PRIORITY = -1  # live changes from the poll go first
VARIANT = "gid://shopify/ProductVariant/"

Progress = Callable[[ResyncProgress], None]


def resync_version(started: float) -> str:
    """The version a resync's jobs carry: when it began (sorts among poll versions)."""
    when = datetime.fromtimestamp(started, UTC)
    return f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')}|resync-{int(started * 1000) % 100000:05d}"


@dataclass(frozen=True)
class _Variant:
    id: str
    sku: str | None
    barcode: str | None
    title: str
    tracked: bool
    status: str | None

    @classmethod
    def parse(cls, node: dict[str, Any]) -> _Variant:
        item = node.get("inventoryItem") or {}
        product = node.get("product") or {}
        return cls(
            id=str(node["id"]),
            sku=node.get("sku") or None,
            barcode=node.get("barcode") or None,
            title=str(node.get("displayName") or node["id"]),
            tracked=bool(item.get("tracked")),
            status=product.get("status"),
        )

    @property
    def label(self) -> str:
        return f"{self.title} ({self.sku})" if self.sku else self.title


class Resync:
    def __init__(
        self,
        store: Store,
        queue: Queue,
        shop: ShopRef,
        shopify: ShopifyClient,
        odoo: OdooClient,
        *,
        company_id: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.queue = queue
        self.shop = shop
        self.shopify = shopify
        self.odoo = odoo
        self.company_id = company_id
        self.clock = clock

    def start(self) -> tuple[ResyncRow, bool]:
        """Begin a resync, or take up the one running (its listing resumes where it was)."""
        return store_stock.start_resync(self.store, self.shop.id, resync_version(self.clock()))

    def list_variants(self, on_page: Progress | None = None) -> ResyncRow:
        """List every variant from where the listing stopped, queueing the jobs."""
        row, _ = self.start()
        if row.state != "listing":
            return row
        pages = self.shopify.variant_catalog_pages(after=row.after)
        for nodes, after, more, count in pages:
            variants = [_Variant.parse(n) for n in nodes]
            changes, notes = self._page(variants, row)
            with self.store.atomic():
                queued = self.queue.enqueue(self.shop.id, self.shop.domain, "stock", changes)
                store_stock.listed_page(
                    self.store,
                    row.id,
                    after=after,
                    total=count,
                    variants=len(variants),
                    jobs=queued.new,
                    skipped=len(variants) - queued.new,
                )
                if not more:
                    store_stock.listing_done(self.store, row.id)
            store_stock.note_skips(self.store, self.shop.id, notes)
            if on_page is not None:
                progress = store_stock.resync_progress(self.store, self.shop.id, self.clock())
                if progress is not None:
                    on_page(progress)
        store_stock.finish_resyncs(self.store, self.shop.id)
        latest = store_stock.last_resync(self.store, self.shop.id)
        assert latest is not None
        return latest

    def progress(self) -> ResyncProgress | None:
        return store_stock.resync_progress(self.store, self.shop.id, self.clock())

    def follow(
        self, on_progress: Progress, *, every: float = 0.5, stop: Callable[[], bool] = bool
    ) -> ResyncProgress | None:
        """Report progress until the resync is done (the engine's runner works its jobs)."""
        while True:
            store_stock.finish_resyncs(self.store, self.shop.id)
            progress = self.progress()
            if progress is not None:
                on_progress(progress)
            if progress is None or progress.done or stop():
                return progress
            time.sleep(every)  # a display refresh, not a synchronisation: the state is read

    def cancel(self) -> int:
        """Stop the running resync: its waiting jobs are cancelled (levels already set stay
        set). Returns how many jobs were cancelled."""
        row = store_stock.active_resync(self.store, self.shop.id)
        if row is None:
            return 0
        ids = store_stock.queued_job_ids(self.store, self.shop.id, row.version)
        moved = self.queue.cancel(ids, reason="stock resync cancelled") if ids else []
        store_stock.end_resync(self.store, row.id, "cancelled")
        return len(moved)

    # ------------------------------------------------------------ one page

    def _page(
        self, variants: list[_Variant], row: ResyncRow
    ) -> tuple[list[Change], list[SkipNote]]:
        notes: list[SkipNote] = []
        wanted: list[_Variant] = []
        for v in variants:
            if not v.tracked:
                notes.append(SkipNote("variant", v.id, v.label, UNTRACKED))
            elif v.status == "ARCHIVED":
                notes.append(SkipNote("variant", v.id, v.label, ARCHIVED))
            else:
                wanted.append(v)
        products = self._products(wanted, notes)
        changes: dict[int, Change] = {}
        for v in wanted:
            found = products.get(v.id)
            if found is None or found[0] in changes:
                continue
            product_id, name = found
            changes[product_id] = Change(
                source_id=source_id(product_id),
                version=row.version,
                label=f"Odoo product {name}",
                # No variant hint: the job matches the product itself, so two variants with
                # one SKU are never guessed between, whichever way the job came.
                payload={"product_id": product_id, "resync": row.id},
                priority=RESYNC_PRIORITY,
            )
        return list(changes.values()), notes

    def _products(
        self, variants: Sequence[_Variant], notes: list[SkipNote]
    ) -> dict[str, tuple[int, str]]:
        """Each variant's Odoo product ``(id, name)``: stock link, mapping, SKU, barcode."""
        out, rest = self._known(variants, notes)
        by_code, by_barcode = self._odoo_codes(rest)
        for v in rest:
            sku_hits = by_code.get(v.sku or "", [])
            found = sku_hits or by_barcode.get(v.barcode or "", [])
            if len(found) == 1:
                out[v.id] = found[0]
                continue
            reason = NO_PRODUCT
            if found:
                how = "SKU" if sku_hits else "barcode"
                reason = f"{len(found)} Odoo products share this {how}: map the right one"
            notes.append(SkipNote("variant", v.id, v.label, reason, v.sku or v.id))
        return out

    def _known(
        self, variants: Sequence[_Variant], notes: list[SkipNote]
    ) -> tuple[dict[str, tuple[int, str]], list[_Variant]]:
        """Variants whose product a stock link or a mapping names; the rest, to search."""
        out: dict[str, tuple[int, str]] = {}
        links = store_stock.stock_links_by_variant(
            self.store, self.shop.id, [v.id for v in variants]
        )
        keys = sorted({k for v in variants for k in (v.sku, v.id) if k})
        mapped = mappings.get_mappings(self.store, self.shop.id, "product", keys)
        rest: list[_Variant] = []
        for v in variants:
            link = links.get(v.id)
            rule = mapped.get(v.sku or "") or mapped.get(v.id)
            if link is not None:
                out[v.id] = (link.odoo_id, link.label or v.label)
            elif rule is not None:
                out[v.id] = (rule.odoo_id, rule.label or f"product {rule.odoo_id}")
            elif v.sku or v.barcode:
                rest.append(v)
            else:
                notes.append(SkipNote("variant", v.id, v.label, NO_CODE, v.id))
        return out, rest

    def _odoo_codes(
        self, variants: Sequence[_Variant]
    ) -> tuple[dict[str, list[tuple[int, str]]], dict[str, list[tuple[int, str]]]]:
        """Odoo products by internal reference and by barcode, in one search."""
        skus = sorted({v.sku for v in variants if v.sku})
        barcodes = sorted({v.barcode for v in variants if v.barcode})
        by_code: dict[str, list[tuple[int, str]]] = {}
        by_barcode: dict[str, list[tuple[int, str]]] = {}
        if not skus and not barcodes:
            return by_code, by_barcode
        terms: list[Any] = []
        if skus and barcodes:
            terms = ["|", ("default_code", "in", skus), ("barcode", "in", barcodes)]
        elif skus:
            terms = [("default_code", "in", skus)]
        else:
            terms = [("barcode", "in", barcodes)]
        if self.company_id:
            terms.append(("company_id", "in", [self.company_id, False]))
        rows = self.odoo.search_read(
            "product.product", terms, ["default_code", "barcode", "display_name"]
        )
        for r in rows:
            entry = (int(r["id"]), str(r.get("display_name") or r["id"]))
            if r.get("default_code"):
                by_code.setdefault(str(r["default_code"]), []).append(entry)
            if r.get("barcode"):
                by_barcode.setdefault(str(r["barcode"]), []).append(entry)
        return by_code, by_barcode
