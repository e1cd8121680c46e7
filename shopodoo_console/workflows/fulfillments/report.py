"""What a finished delivery job says it did, from the effects that took place."""

from __future__ import annotations

from shopodoo_console.workflows.fulfillments.jobs import ShipmentJob
from shopodoo_console.workflows.fulfillments.match import HOW


def done_message(job: ShipmentJob) -> str:
    plan = job.plan
    if plan is None:
        return ""
    done = [e.action.kind for e in job.effects if e.ok]
    name = (job.fulfillment or {}).get("name", "the fulfillment")
    order = job.order.name if job.order else ""
    if "fulfill" in done:
        return plan.summary.replace(
            f"Fulfil Shopify order {order}", f"Fulfilled Shopify order {order} as {name}", 1
        )
    if "track" in done:
        return plan.summary
    how = HOW.get(job.found.how, job.found.how) if job.found else "already there"
    then = " and ".join(
        {"stamp": "stamped the picking", "mark": "recorded it on the order"}[k]
        for k in done
        if k in ("stamp", "mark")
    )
    return f"{job.picking_name} was already {name} ({how})" + (f"; {then}" if then else "")
