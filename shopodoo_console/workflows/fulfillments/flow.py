"""The fulfillments flow: a delivery done in Odoo becomes one Shopify fulfillment (DESIGN §7).

It reads as its stages: **poll** (Odoo deliveries that became done, by ``write_date``) → for a
batch of jobs: **fetch** the deliveries fresh, their Shopify orders' fulfillment state (read
before every try: ``fulfillmentCreate`` has no idempotency key) → **match** the delivery's
fulfillment if it exists (linked, stamped, recorded on the order, by tracking number, or by the
intent of an attempt whose answer was lost) and pair its moves with the order's line items →
**plan** per delivery (pure; review mode stops here for approval) → **apply** (create the
fulfillment, stamp the picking, record it on the order) → **link** in step. A job is done only
when every action of its plan took effect.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopodoo_console.causes import CauseError
from shopodoo_console.engine.flows import JobContext, Outcome, Page, ShopRef
from shopodoo_console.engine.keys import key_after, record_prefix
from shopodoo_console.engine.mappings import MappingRow, list_mappings
from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.stock import Picking, StockLayout
from shopodoo_console.store import fulfillments as reads
from shopodoo_console.store import links as store_links
from shopodoo_console.store.db import Store
from shopodoo_console.store.links import LinkRow
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.fulfillments.apply import Apply
from shopodoo_console.workflows.fulfillments.fetch import (
    fetch_pickings,
    link_orders,
    read_odoo_facts,
    read_states,
)
from shopodoo_console.workflows.fulfillments.jobs import ShipmentJob, source_id
from shopodoo_console.workflows.fulfillments.lines import Pairing, pair_moves
from shopodoo_console.workflows.fulfillments.link import KIND, MODEL, ShipmentLinks
from shopodoo_console.workflows.fulfillments.match import (
    HOW,
    Evidence,
    find_ours,
    marker_of,
)
from shopodoo_console.workflows.fulfillments.plan import Facts, Locations, Rules, plan_shipment
from shopodoo_console.workflows.fulfillments.poll import PickingsPoll
from shopodoo_console.workflows.fulfillments.report import done_message
from shopodoo_console.workflows.fulfillments.settings import FulfillmentsSettings
from shopodoo_console.workflows.orders.match import shop_slug
from shopodoo_console.workflows.pipeline import (
    LinkWriter,
    open_items,
    outcome,
    review,
    shop_config,
    synced_state,
)

log = logging.getLogger(__name__)

NAME = "fulfillments"
LAYOUT_SECONDS = 300.0  # warehouses and locations change rarely: read them every 5 minutes


class FulfillmentsFlow:
    name = NAME
    stream = NAME
    batch_size = 25  # one pickings read, one states read (~10 orders a request), one stamp call

    def __init__(self, store: Store, connections: Connections, clock: Any = time.monotonic) -> None:
        self.store = store
        self.connections = connections
        self.clock = clock
        self._layout: tuple[float, StockLayout] | None = None

    def close(self) -> None:
        self.connections.close()

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]:
        config = shop_config(shop)
        settings = FulfillmentsSettings.from_shop(config)
        return PickingsPoll(self.store, shop, self.connections.odoo(), settings).pages(since)

    def handle(self, ctx: JobContext) -> Outcome:
        return self.handle_batch([ctx])[0]

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]:
        jobs = [ShipmentJob(ctx) for ctx in contexts]
        try:
            batch = _Batch(self, contexts[0].shop)
            batch.fetch(jobs)
            batch.match(open_items(jobs))
            batch.plan(open_items(jobs))
            batch.apply.run(open_items(jobs))
            for job in open_items(jobs):
                batch.link(job)
        except CauseError as exc:  # Odoo or Shopify unavailable for the whole batch
            for job in jobs:
                job.fail(exc.cause)
        return [outcome(job, done_message(job), job.result()) for job in jobs]

    def layout(self, odoo: OdooClient) -> StockLayout:
        """Warehouses and locations (3 Odoo calls), kept a few minutes."""
        now = self.clock()
        if self._layout is None or now - self._layout[0] > LAYOUT_SECONDS:
            self._layout = (now, odoo.stock_layout())
        return self._layout[1]


class _Batch:
    """One batch of delivery jobs of one shop: its rules, clients and stages."""

    def __init__(self, flow: FulfillmentsFlow, shop: ShopRef) -> None:
        config = shop_config(shop)
        settings = FulfillmentsSettings.from_shop(config)
        self.flow = flow
        self.store = flow.store
        self.shop = shop
        self.mode = config.mode(NAME)
        self.slug = shop_slug(shop.domain)
        self.rules = Rules(self.slug, settings.notify_customer)
        self.odoo = flow.connections.odoo()
        self.shopify = flow.connections.shopify(config)
        self.links = ShipmentLinks(LinkWriter(flow.store), shop)
        self.apply = Apply(self.odoo, self.shopify, self.links, self.slug)
        self.elsewhere: dict[int, str] = {}
        self.returned: dict[int, str] = {}

    # ---------------------------------------------------------------- fetch

    def fetch(self, jobs: list[ShipmentJob]) -> None:
        fetch_pickings(self.odoo, jobs)
        self.elsewhere = link_orders(self.store, self.odoo, self.shop, jobs, self.slug)
        read_states(self.shopify, [j for j in jobs if _sends(j.picking) and j.order])
        returns = [j.picking.return_of for j in jobs if j.picking and j.picking.return_of]
        if returns:
            links = reads.shop_links_by_odoo(self.store, self.shop.id, KIND, MODEL, returns)
            self.returned = {pid: link.label for pid, link in links.items()}

    # ---------------------------------------------------------------- match

    def match(self, jobs: list[ShipmentJob]) -> None:
        wanted = [j for j in jobs if j.picking and j.state is not None and _sends(j.picking)]
        if not wanted:
            return
        lines, stamps = read_odoo_facts(self.odoo, wanted, self.slug)
        known = self._known(wanted, stamps)
        for job in wanted:
            picking, state = job.picking, job.state
            assert picking is not None and state is not None
            job.synced = synced_state(known.links.get(picking.id))
            job.found = find_ours(picking, state, known.evidence(picking, state), self.slug)
            if job.found is not None:
                self._adopt(job)
            else:
                job.pairing = _pair(picking, lines.get(picking.sale_order_id or 0, {}), state)

    def _known(self, wanted: list[ShipmentJob], stamps: Mapping[int, list[str]]) -> _Known:
        ids = [j.picking.id for j in wanted if j.picking]
        prefix = record_prefix(self.shop.domain, NAME)
        shown = [
            str(f.get("id")) for j in wanted for f in (j.state or {}).get("fulfillments") or []
        ]
        return _Known(
            reads.shop_links_by_odoo(self.store, self.shop.id, KIND, MODEL, ids),
            store_links.find_links(self.store, self.shop.id, KIND, shown),
            stamps,
            reads.intents(self.store, [key_after(prefix, source_id(i), "") for i in ids]),
        )

    def _adopt(self, job: ShipmentJob) -> None:
        found = job.found
        assert found is not None
        job.fulfillment = found.fulfillment
        if found.how != "linked":
            self.links.unsynced(job, found.fulfillment)
            job.audit(
                "shopify",
                "adopted",
                f"{job.picking_name} is already {found.name} in Shopify ({HOW[found.how]})",
            )

    # ---------------------------------------------------------------- plan

    def plan(self, jobs: list[ShipmentJob]) -> None:
        mappings = list_mappings(self.store, self.shop.id, "location")
        working: dict[str, Mapping[str, Any] | None] = {}
        for job in sorted(jobs, key=lambda j: (j.order.gid if j.order else "", j.picking_id or 0)):
            gid = job.order.gid if job.order else None
            state = working.get(gid, job.state) if gid else job.state
            facts = Facts(
                picking=job.picking,
                order=job.order,
                elsewhere=self.elsewhere.get(job.picking.sale_order_id or 0)
                if job.picking
                else None,
                state=state,
                found=job.found,
                pairing=job.pairing,
                locations=self._locations(job.picking, mappings),
                synced=job.synced,
                returned=self.returned.get(job.picking.return_of or 0, "") if job.picking else "",
            )
            job.plan, after = plan_shipment(facts, self.rules, job.label)
            if gid:
                working[gid] = after
            self._review(job)

    def _review(self, job: ShipmentJob) -> None:
        plan = job.plan
        assert plan is not None
        if plan.blocked is not None:
            job.audit("console", "blocked", plan.blocked.cause().missing)
            return
        if plan.skip is not None:
            job.audit("console", "skipped", plan.skip.reason)
            return
        waiting = review(job, self.mode)
        if waiting is not None:
            job.end(waiting)
            job.audit("console", "planned", f"Waiting for approval: {waiting.summary}")
        else:
            job.audit("console", "planned", plan.summary)

    def _locations(self, picking: Picking | None, mappings: list[MappingRow]) -> Locations:
        """The Shopify locations this delivery may fulfil from (through the location
        mappings; any location when the shop maps none) and the warehouse it left from."""
        if picking is None or not _sends(picking) or picking.location_id is None:
            return Locations()
        try:
            layout = self.flow.layout(self.odoo)
        except CauseError:
            layout = None  # the name is only for messages; without mappings nothing depends
            if mappings:
                raise
        warehouse = layout.warehouse_of(picking.location_id) if layout else None
        location = layout.locations.get(picking.location_id) if layout else None
        shipped_from = warehouse.name if warehouse else location.complete_name if location else ""
        if not mappings or layout is None:
            return Locations(None, shipped_from, False)
        allowed = {
            m.source_key
            for m in mappings
            if (m.odoo_model == "stock.warehouse" and warehouse and warehouse.id == m.odoo_id)
            or (m.odoo_model == "stock.location" and layout.under(picking.location_id, m.odoo_id))
        }
        return Locations(frozenset(allowed), shipped_from, True)

    # ---------------------------------------------------------------- link

    def link(self, job: ShipmentJob) -> None:
        """In step: every action took effect, or the delivery was found with nothing to do."""
        plan = job.plan
        if plan is None or plan.blocked is not None or job.fulfillment is None:
            return
        if plan.skip is not None:
            if job.found is not None and not job.found.cancelled and "id" in job.fulfillment:
                self.links.settle(job)
            return
        if job.all_done:
            self.links.settle(job)


@dataclass(frozen=True)
class _Known:
    """What this console and Odoo know of the batch's deliveries and their fulfillments."""

    links: Mapping[int, LinkRow]  # picking → its fulfillment link
    linked: Mapping[str, LinkRow]  # fulfillment (of the orders read) → its link
    stamps: Mapping[int, list[str]]  # picking → its console stamps in Odoo
    intents: Mapping[str, list[dict[str, Any]]]  # job source id → intents, newest first

    def evidence(self, picking: Picking, state: Mapping[str, Any]) -> Evidence:
        marker, _ = marker_of(state)
        taken = {gid for gid, row in self.linked.items() if row.odoo_id != picking.id}
        taken |= {
            str(entry.get("fulfillment"))
            for key, entry in marker.items()
            if key != str(picking.id) and isinstance(entry, dict)
        }
        return Evidence(
            link=self.links.get(picking.id),
            stamps=tuple(self.stamps.get(picking.id, [])),
            marker=marker.get(str(picking.id)),
            taken=frozenset(taken),
            intents=tuple(self.intents.get(source_id(picking.id), [])),
        )


def _pair(picking: Picking, order_lines: Mapping[int, str], state: Mapping[str, Any]) -> Pairing:
    moved = {m.sale_line_id for m in picking.moves if m.sale_line_id}
    shipped = {i: n for i, n in order_lines.items() if i in moved}
    return pair_moves(picking.moves, shipped, order_lines, state)


def _sends(picking: Picking | None) -> bool:
    """A done delivery to a customer: the kind of transfer that becomes a fulfillment."""
    return (
        picking is not None
        and not picking.is_return
        and picking.state == "done"
        and picking.code == "outgoing"
    )
