"""The fetch stage of the orders flow: every job's order, fresh, in one ``nodes(ids:)`` call.

Jobs carry ids, not snapshots (DESIGN §3.3): what is planned is the order as it is now. An
order Shopify no longer returns, or returns malformed, ends its job with the cause.
"""

from __future__ import annotations

from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.workflows.orders.jobs import OrderJob
from shopodoo_console.workflows.orders.order import parse_order


def fetch_orders(shopify: ShopifyClient, jobs: list[OrderJob]) -> None:
    ids = [job.ctx.job.payload.get("order_id") or job.ctx.job.source_id for job in jobs]
    fetched = shopify.orders_by_ids(ids, document="OrdersForSync")
    for job, gid in zip(jobs, ids, strict=True):
        raw = fetched.get(gid)
        if raw is None:
            job.fail(
                Cause(
                    code="shopify.not_found",
                    record=job.label,
                    missing=f"Shopify no longer returns {gid}: it was deleted, or it is older "
                    "than 60 days and the app lacks the read_all_orders scope",
                    retry_note="nothing was written",
                    fix="Resolve the job if the order was deleted on purpose; otherwise grant "
                    "read_all_orders and retry.",
                )
            )
            continue
        try:
            order = parse_order(raw, job.label)
        except CauseError as exc:
            job.fail(exc.cause)
            continue
        job.order = order
        job.audit(
            "shopify",
            "fetched",
            f"Fetched {order.label}: {len(order.lines)} line(s), "
            f"{(order.financial_status or 'no payment').lower()}"
            + (", cancelled" if order.cancelled else "")
            + f", updated {order.updated_at}",
        )
