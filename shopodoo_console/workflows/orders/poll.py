"""The poll stage of the orders flow: which orders changed, at which version (ids only).

Three rules keep a job from being made for nothing, or too early, and the poll cheap:

* a sighting of our own version — the ``updatedAt`` our write-back read back, which the link
  keeps — is our own write coming back: no job, no fetch (DESIGN §3.7);
* after a bulk sync most orders in the poll's window are our own writes, and listing them
  again costs a point each, poll after poll while they stay in the overlap. When a span of
  time holds many of them, the poll counts instead of listing: one exact count per second of
  our writes and one for the span. If Shopify holds in that span exactly the orders we wrote
  and nothing else (an order changed again after our write leaves its second; any other change
  adds to a count), the span is skipped; any mismatch and it is listed as usual;
* Shopify's ``updatedAt`` has whole seconds, so a second change within the second of the one
  we see would share its version and never be fetched: a job for version V is held back until
  V + 1 s plus a margin, on Shopify's clock (this machine's clock may be off; the offset is
  learnt from the ``Date`` of Shopify's answers).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from shopodoo_console.engine.flows import Change, Page, ShopRef
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import OrderStamp
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.pipeline import Synced

SETTLE_MARGIN = 0.5  # seconds past the end of a version's second before its job may fetch
SECOND = timedelta(seconds=1)


class OrdersPoll:
    def __init__(
        self,
        store: Store,
        shop: ShopRef,
        client: ShopifyClient,
        settings: OrdersSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.shop = shop
        self.client = client
        self.settings = settings
        self.clock = clock
        self.own: dict[str, str] = {}  # order → the version its link is in step at

    def pages(self, since: str | None) -> Iterator[Page]:
        start = (
            datetime.fromisoformat(since.replace("Z", "+00:00"))
            if since
            else datetime.now(UTC) - timedelta(days=self.settings.initial_days)
        )
        window = start - timedelta(minutes=self.settings.overlap_minutes)
        self.own = dict(links.synced_since(self.store, self.shop.id, "order", iso(window)))
        self.own = {g: s.version for g, v in self.own.items() if (s := Synced.parse(v))}
        span = self._span(window)
        if span is None:
            yield from self._listed(window)
            return
        first, last = span
        later = list(self._listed(last + SECOND))  # read now, handed over in time order
        skip = self._only_ours(first, last, later)
        yield from self._listed(window, until=(first - SECOND) if skip else last)
        yield from later or [Page(changes=[], cursor=iso(last))]

    # ---------------------------------------------------------------- listing

    def _listed(self, since: datetime, until: datetime | None = None) -> Iterator[Page]:
        if until is not None and until < since:
            return
        for stamps in self.client.orders_updated_since(since, timedelta(0), until=until):
            if stamps:
                yield self._page(stamps)

    def _page(self, stamps: list[OrderStamp]) -> Page:
        return Page(changes=self.changes(stamps), cursor=iso(max(s.updated_at for s in stamps)))

    def changes(self, stamps: list[OrderStamp]) -> list[Change]:
        """The jobs these sightings make: one per order at its version, none for a sighting of
        our own version. The backfill enqueues through this too, so its job keys are the
        ones the poll makes (call :meth:`remember_own` first for orders outside the window)."""
        return [self.change(s) for s in stamps if self.own.get(s.gid) != iso(s.updated_at)]

    def change(self, stamp: OrderStamp) -> Change:
        return Change(
            source_id=stamp.gid,
            version=iso(stamp.updated_at),
            label=f"Shopify order {stamp.name}",
            payload={"order_id": stamp.gid, "name": stamp.name},
            not_before=self.not_before(stamp.updated_at),
        )

    def remember_own(self, gids: list[str]) -> None:
        """Learn our own versions of these orders from their links (whatever their age)."""
        for gid, link in links.find_links(self.store, self.shop.id, "order", gids).items():
            synced = Synced.parse(link.last_version)
            if synced is not None:
                self.own[gid] = synced.version

    def not_before(self, version: datetime) -> float | None:
        """When a job for ``version`` may fetch: once Shopify's clock is past its second."""
        offset = self.client.server_clock.offset() or 0.0
        due = version.timestamp() + 1.0 + SETTLE_MARGIN + offset
        return due if due > self.clock() else None

    # ---------------------------------------------------------------- our own writes

    def _span(self, window: datetime) -> tuple[datetime, datetime] | None:
        """The span of our own writes in the window, if counting it beats listing it."""
        seconds = Counter(self.own.values())
        size = self.client.COUNTS_PER_REQUEST
        counting = size * -(-(len(seconds) + 1) // size)  # points: whole requests of counts
        if not seconds or counting * 2 > sum(seconds.values()):
            return None  # a few of our writes: listing them is cheaper
        return parse(min(seconds)), parse(max(seconds))

    def _only_ours(self, first: datetime, last: datetime, later: list[Page]) -> bool:
        """Whether Shopify holds in [first, last] exactly our own writes and nothing else."""
        moved = {c.source_id for page in later for c in page.changes}  # changed since
        expected = Counter(v for gid, v in self.own.items() if gid not in moved)
        queries = [f"updated_at:>={quote(first)} AND updated_at:<={quote(last)}"]
        queries += [f"updated_at:{quote(parse(second))}" for second in expected]
        counts = self.client.orders_counts(queries)
        if any(c is None for c in counts):
            return False
        return counts[0] == sum(expected.values()) and all(
            count == expected[second] for count, second in zip(counts[1:], expected, strict=True)
        )


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def quote(when: datetime) -> str:
    return f"'{iso(when)}'"
