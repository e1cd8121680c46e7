"""The poll stage of the stock flow: which Odoo products' stock changed, at which version.

Odoo is where stock is true. A product's stock changes when one of its quants is written (a
count, a reservation) or a move of it is done (a delivery, a receipt); Odoo deletes quants
that fall to zero, so done moves are read too. Both are read by ``write_date`` since the
cursor minus the overlap, in keyset pages, restricted to the Odoo locations mapped to a
Shopify location (a change elsewhere cannot move a level Shopify shows).

One change per product: its version is the newest ``write_date`` of what was read for it
plus a digest of those records (ids and quantities). ``write_date`` has whole seconds, so two
changes within one second would share a timestamp — the digest tells them apart, and the job
is held back until that second is over (``Change.not_before``), so it reads both. The cursor
moves only after the last page, to the newest ``write_date`` read; rewinding it is safe: a
re-sighted version is counted, not re-done, and a version the stock link is already in step
at makes no job at all.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shopodoo_console.engine.flows import Change, Page, ShopRef
from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.stock import changed_since, parse_odoo_time
from shopodoo_console.store import stock as store_stock
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.pipeline import Synced
from shopodoo_console.workflows.stock.settings import StockSettings

SETTLE_MARGIN = 1.0  # seconds past the end of a write_date's second before its job reads
PAGE_SIZE = 1000


def source_id(product_id: int) -> str:
    return f"product/{product_id}"


def product_of(source: str) -> int:
    return int(source.rpartition("/")[2])


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class _Sighting:
    """What one poll read of one product: its newest write_date and the records at it."""

    label: str
    newest: str = ""
    records: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, write_date: str, record: tuple[Any, ...]) -> None:
        if write_date > self.newest:
            self.newest, self.records = write_date, [record]
        elif write_date == self.newest:
            self.records.append(record)

    def version(self) -> str:
        blob = repr(sorted(self.records)).encode()
        return f"{iso(parse_odoo_time(self.newest))}|{hashlib.sha256(blob).hexdigest()[:12]}"


class StockPoll:
    def __init__(
        self,
        store: Store,
        shop: ShopRef,
        odoo: OdooClient,
        settings: StockSettings,
        roots: Sequence[int],
        clock: Callable[[], float] = time.time,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.store = store
        self.shop = shop
        self.odoo = odoo
        self.settings = settings
        self.roots = sorted(set(roots))
        self.clock = clock
        self.page_size = page_size

    def pages(self, since: str | None) -> Iterator[Page]:
        if not self.roots:
            return  # no Shopify location is mapped yet: nothing Shopify shows can change
        start = (
            parse_iso(since)
            if since
            else datetime.now(UTC) - timedelta(days=self.settings.initial_days)
        )
        window = start - timedelta(minutes=self.settings.overlap_minutes)
        own = {
            product: synced.version
            for product, text in store_stock.synced_versions(
                self.store, self.shop.id, iso(window)
            ).items()
            if (synced := Synced.parse(text)) is not None
        }
        seen: dict[int, _Sighting] = {}
        for model, fields, domain, row_key in self._sources():
            for page in changed_since(
                self.odoo,
                model,
                window,
                fields=fields,
                domain=domain,
                overlap=timedelta(0),
                page_size=self.page_size,
            ):
                for row in page:
                    product = row.get("product_id")
                    if not isinstance(product, list | tuple) or not product:
                        continue
                    sighting = seen.setdefault(int(product[0]), _Sighting(_label(product)))
                    sighting.add(str(row["write_date"]), (model, *row_key(row)))
        if not seen:
            yield Page(changes=[], cursor=since)
            return
        changes = []
        for product_id, sighting in sorted(seen.items()):
            version = sighting.version()
            if own.get(product_id) == version:
                continue  # the link is in step at exactly this version
            changes.append(
                Change(
                    source_id=source_id(product_id),
                    version=version,
                    label=sighting.label,
                    payload={"product_id": product_id},
                    not_before=self.not_before(sighting.newest),
                )
            )
        newest = max(s.newest for s in seen.values())
        yield Page(changes=changes, cursor=iso(parse_odoo_time(newest)))

    def _sources(self) -> list[tuple[str, list[str], list[Any], Callable[[dict], tuple]]]:
        """Quants under the mapped locations, and done moves into or out of them."""
        under = ("location_id", "child_of", self.roots)
        quants = (
            "stock.quant",
            ["product_id", "location_id", "quantity", "reserved_quantity"],
            [under, ("location_id.usage", "=", "internal")],
            lambda r: (r["id"], r.get("quantity"), r.get("reserved_quantity")),
        )
        moves = (
            "stock.move",
            ["product_id", "location_id", "location_dest_id", "product_uom_qty"],
            [("state", "=", "done"), "|", under, ("location_dest_id", "child_of", self.roots)],
            lambda r: (r["id"], r.get("product_uom_qty")),
        )
        return [quants, moves]

    def not_before(self, write_date: str) -> float | None:
        """Hold a job until its write_date's second is over (plus a margin)."""
        due = parse_odoo_time(write_date).timestamp() + 1.0 + SETTLE_MARGIN
        return due if due > self.clock() else None


def _label(product: Sequence[Any]) -> str:
    name = str(product[1]) if len(product) > 1 else f"product {product[0]}"
    return f"Odoo product {name}"
