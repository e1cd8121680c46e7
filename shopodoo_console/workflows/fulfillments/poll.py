"""The poll stage of the fulfillments flow: which deliveries became done (ids only).

Odoo is polled for transfers written since the cursor minus the overlap (``overlap_minutes``,
``initial_days`` for the first poll: the orders flow's cursor rules), done or cancelled,
deliveries and their returns, page by page on ``(write_date, id)``. A job is made for:

* a delivery (done or cancelled) or a return whose sale order is linked to an order of this
  shop — the rest of the flow works on those;
* a done delivery whose sale order no console link knows — so the operator sees that it was
  skipped, and why ("not created by the console"); deliveries of another shop's orders and
  transfers without a sale order make none.

Versions are the ``write_date``, which has whole seconds: a job for version V is held back
until V's second is over on Odoo's clock (``Change.not_before``), or a second write within it
would share the version and never be read. A sighting at the version the link is in step at
is the delivery we already sent: no job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from shopodoo_console.engine.flows import Change, Page, ShopRef
from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.stock import Picking
from shopodoo_console.store import fulfillments as reads
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.fulfillments.jobs import source_id
from shopodoo_console.workflows.fulfillments.link import KIND, MODEL
from shopodoo_console.workflows.fulfillments.plan import version_of
from shopodoo_console.workflows.fulfillments.settings import FulfillmentsSettings
from shopodoo_console.workflows.pipeline import Synced

SETTLE_MARGIN = 0.5  # seconds past the end of a version's second before its job may read
STATES = ("done", "cancel")


class PickingsPoll:
    def __init__(
        self,
        store: Store,
        shop: ShopRef,
        odoo: OdooClient,
        settings: FulfillmentsSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.shop = shop
        self.odoo = odoo
        self.settings = settings
        self.clock = clock

    def pages(self, since: str | None) -> Iterator[Page]:
        start = (
            parse(since)
            if since
            else datetime.now(UTC) - timedelta(days=self.settings.initial_days)
        )
        overlap = timedelta(minutes=self.settings.overlap_minutes)
        for pickings in self.odoo.done_pickings(start, overlap=overlap, states=STATES):
            if pickings:
                yield self._page(pickings)

    def _page(self, pickings: list[Picking]) -> Page:
        sale_ids = {p.sale_order_id for p in pickings if p.sale_order_id}
        orders = reads.links_by_odoo(self.store, "order", "sale.order", sale_ids)
        ours = reads.shop_links_by_odoo(
            self.store, self.shop.id, KIND, MODEL, [p.id for p in pickings]
        )
        changes = []
        for picking in pickings:
            if not self._wanted(picking, orders.get(picking.sale_order_id or 0, [])):
                continue
            version = version_of(picking)
            synced = Synced.parse(ours[picking.id].last_version) if picking.id in ours else None
            if synced is not None and synced.version == version:
                continue  # the delivery as we sent it
            changes.append(
                Change(
                    source_id=source_id(picking.id),
                    version=version,
                    label=label(picking),
                    payload={"picking_id": picking.id, "name": picking.name},
                    not_before=self.not_before(version),
                )
            )
        return Page(changes=changes, cursor=max(version_of(p) for p in pickings))

    def _wanted(self, picking: Picking, links: list) -> bool:
        if picking.sale_order_id is None:
            return False
        if any(link.shop_id == self.shop.id for link in links):
            return True
        return not links and not picking.is_return and picking.state == "done"

    def not_before(self, version: str) -> float | None:
        """When a job for ``version`` may read: once Odoo's clock is past its second."""
        offset = self.odoo.server_clock.offset() or 0.0
        due = parse(version).timestamp() + 1.0 + SETTLE_MARGIN + offset
        return due if due > self.clock() else None


def label(picking: Picking) -> str:
    what = f"Odoo return {picking.name}" if picking.is_return else f"Odoo {picking.name}"
    if picking.client_order_ref:
        return f"{what} (Shopify {picking.client_order_ref})"
    return f"{what} ({picking.sale_order_name})" if picking.sale_order_name else what


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
