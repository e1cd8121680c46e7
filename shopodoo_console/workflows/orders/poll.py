"""The poll stage of the orders flow: which orders changed, at which version (ids only).

Two rules keep a job from being made for nothing, or too early:

* a sighting of our own version — the ``updatedAt`` our write-back read back, which the link
  keeps — is our own write coming back: no job, no fetch (DESIGN §3.7);
* Shopify's ``updatedAt`` has whole seconds, so a second change within the second of the one
  we see would share its version and never be fetched: a job for version V is held back until
  V + 1 s plus a margin, on Shopify's clock (this machine's clock may be off; the offset is
  learnt from the ``Date`` of Shopify's answers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from shopodoo_console.engine.flows import Change, Page, ShopRef
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import OrderStamp
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.pipeline import synced_state

SETTLE_MARGIN = 0.5  # seconds past the end of a version's second before its job may fetch


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

    def pages(self, since: str | None) -> Iterator[Page]:
        start = (
            datetime.fromisoformat(since.replace("Z", "+00:00"))
            if since
            else datetime.now(UTC) - timedelta(days=self.settings.initial_days)
        )
        overlap = timedelta(minutes=self.settings.overlap_minutes)
        for stamps in self.client.orders_updated_since(start, overlap):
            if stamps:
                yield self._page(stamps)

    def _page(self, stamps: list[OrderStamp]) -> Page:
        own = self._own_versions([s.gid for s in stamps])
        changes = [
            Change(
                source_id=s.gid,
                version=iso(s.updated_at),
                label=f"Shopify order {s.name}",
                payload={"order_id": s.gid, "name": s.name},
                not_before=self.not_before(s.updated_at),
            )
            for s in stamps
            if own.get(s.gid) != iso(s.updated_at)
        ]
        return Page(changes=changes, cursor=iso(max(s.updated_at for s in stamps)))

    def _own_versions(self, gids: list[str]) -> dict[str, str]:
        """The version each order's link is in step at (our own, after a write-back)."""
        found = links.find_links(self.store, self.shop.id, "order", gids)
        out = {}
        for gid, link in found.items():
            state = synced_state(link)
            if state is not None:
                out[gid] = state.version
        return out

    def not_before(self, version: datetime) -> float | None:
        """When a job for ``version`` may fetch: once Shopify's clock is past its second."""
        offset = self.client.server_clock.offset() or 0.0
        due = version.timestamp() + 1.0 + SETTLE_MARGIN + offset
        return due if due > self.clock() else None


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
