"""The fetch stage: each job's delivery fresh from Odoo, its Shopify order, and what both
systems hold now — in a constant number of calls per batch.

* Odoo: the pickings with their moves, sale orders, carrier and tracking (3 calls); then, for
  the deliveries to send, every line of their sale orders and the console stamps on the
  pickings (1 call each).
* This console: the order links (who is which Shopify order), in one query.
* Shopify: the fulfillment state of every order of the batch, read together (``nodes(ids:)``,
  about ten orders a request) — read before every try, because ``fulfillmentCreate`` has no
  idempotency key (shopify.md §8.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.stock import Picking
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import nodes
from shopodoo_console.store import fulfillments as reads
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.fulfillments.jobs import ShipmentJob
from shopodoo_console.workflows.fulfillments.match import OrderLink, stamp_prefix

ORDER_GID = "gid://shopify/Order/"


def fetch_pickings(odoo: OdooClient, jobs: Sequence[ShipmentJob]) -> None:
    ids = [job.picking_id for job in jobs if job.picking_id is not None]
    found = {p.id: p for p in odoo.pickings(ids)} if ids else {}
    for job in jobs:
        picking = found.get(job.picking_id or 0)
        job.picking = picking
        if picking is not None:
            job.audit("odoo", "fetched", describe_picking(picking))


def describe_picking(picking: Picking) -> str:
    """The delivery in the timeline: what shipped, for which order, how it is tracked."""
    kind = "return" if picking.is_return else "delivery"
    units = sum(m.done for m in picking.moves if m.state == "done")
    order = picking.sale_order_name or "no sale order"
    if picking.client_order_ref:
        order += f", Shopify {picking.client_order_ref}"
    tracking = ", ".join(picking.tracking_numbers) or "no tracking number"
    carrier = f" ({picking.carrier})" if picking.carrier else ""
    return (
        f"Fetched Odoo {kind} {picking.name}: {picking.state}"
        + (f" {picking.date_done}" if picking.date_done else "")
        + f", {units:g} unit(s) of {order}; tracking {tracking}{carrier}"
        + (f" {picking.tracking_url}" if picking.tracking_url else "")
    )


def link_orders(
    store: Store, odoo: OdooClient, shop: ShopRef, jobs: Sequence[ShipmentJob], slug: str
) -> dict[int, str]:
    """Each delivery's Shopify order: from the order links, else from the sale order's stamp
    in Odoo (a console made it: this database may be new, or the orders job that links it is
    running right now). Returns ``{sale order id: other shop's domain}`` for sale orders
    linked to another shop only."""
    sale_ids = {j.picking.sale_order_id for j in jobs if j.picking and j.picking.sale_order_id}
    links = reads.links_by_odoo(store, "order", "sale.order", sale_ids)
    unknown = sorted(i for i in sale_ids if not links.get(i))
    prefix = f"{slug}_order_"
    stamped = odoo.stamps_on("sale.order", unknown, prefix) if unknown else {}
    domains: dict[int, str] | None = None
    elsewhere: dict[int, str] = {}
    for job in jobs:
        picking = job.picking
        if picking is None or picking.sale_order_id is None:
            continue
        rows = links.get(picking.sale_order_id, [])
        mine = next((r for r in rows if r.shop_id == shop.id), None)
        if mine is not None:
            gid = mine.shopify_id
        elif stamped.get(picking.sale_order_id):
            gid = ORDER_GID + stamped[picking.sale_order_id][0][len(prefix) :]
        else:
            if rows:
                domains = domains if domains is not None else reads.shop_domains(store)
                elsewhere[picking.sale_order_id] = domains.get(rows[0].shop_id, "another shop")
            continue
        job.order = OrderLink(
            gid, picking.client_order_ref or gid, picking.sale_order_name or str(gid)
        )
    return elsewhere


def read_states(shopify: ShopifyClient, jobs: Sequence[ShipmentJob]) -> None:
    """Every order's fulfillment state in few requests (``None``: Shopify has no such order)."""
    gids = list(dict.fromkeys(j.order.gid for j in jobs if j.order is not None))
    if not gids:
        return
    states = shopify.fulfillment_states(gids)
    for job in jobs:
        if job.order is None:
            continue
        job.state = states.get(job.order.gid)
        if job.state is not None:
            job.audit("shopify", "read", describe_state(job.order, job.state))


def describe_state(order: OrderLink, state: dict[str, Any]) -> str:
    orders = nodes(state.get("fulfillmentOrders"))
    parts = []
    for fo in orders:
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("name")
        left = sum(int(i.get("remainingQuantity") or 0) for i in nodes(fo.get("lineItems")))
        parts.append(f"{location or 'a location'} {str(fo.get('status')).lower()} ({left} open)")
    done = [f.get("name") for f in state.get("fulfillments") or []]
    return (
        f"Read Shopify order {order.name}: {state.get('displayFulfillmentStatus', '?')}; "
        f"fulfillment orders: {'; '.join(parts) or 'none'}; "
        f"fulfillments: {', '.join(str(d) for d in done) or 'none'}"
    )


def read_odoo_facts(
    odoo: OdooClient, jobs: Sequence[ShipmentJob], slug: str
) -> tuple[dict[int, dict[int, str]], dict[int, list[str]]]:
    """``({sale order id: {sale line id: name}}, {picking id: [stamp names]})`` for the
    deliveries whose fulfillment is looked for (2 calls)."""
    wanted = [j.picking for j in jobs if j.open and j.picking is not None and j.state is not None]
    if not wanted:
        return {}, {}
    sale_ids = sorted({p.sale_order_id for p in wanted if p.sale_order_id})
    rows = odoo.search_read(
        "sale.order.line", [("order_id", "in", sale_ids)], ["name", "order_id"], order="id"
    )
    lines: dict[int, dict[int, str]] = {}
    for row in rows:
        order = row.get("order_id")
        order_id = order[0] if isinstance(order, list | tuple) else order
        if order_id:
            lines.setdefault(int(order_id), {})[int(row["id"])] = str(row.get("name") or "")
    stamps = odoo.stamps_on("stock.picking", [p.id for p in wanted], stamp_prefix(slug))
    return lines, stamps
