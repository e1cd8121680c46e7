"""What a finished order job says it did, from the effects that took place."""

from __future__ import annotations

from shopodoo_console.workflows.orders.jobs import OrderJob

_NOTES = {
    "update_lines": "lines updated",
    "confirm": "confirmed",
    "cancel": "cancelled",
    "register_payment": "payments recorded",
}


def done_message(job: OrderJob) -> str:
    plan = job.plan
    if plan is None:
        return ""
    done = [e.action.kind for e in job.effects if e.ok]
    notes = list(dict.fromkeys(_NOTES[k] for k in done if k in _NOTES))
    if "create" in done:
        then = " and cancelled it" if "cancel" in done else ""
        then = then or (" and confirmed it" if "confirm" in done else "")
        return f"Created {job.name}{then}: {plan.summary}"
    if job.match is not None and job.match.how == "stamped":
        return f"Adopted {job.name} (already in Odoo)" + (f"; {', '.join(notes)}" if notes else "")
    if done == ["cancel"] or (done and done[0] == "cancel"):
        return f"Cancelled {job.name}"
    if done == ["write_back"]:
        return f"Wrote the Odoo reference {job.name} back to Shopify"
    return f"{job.name}: " + ", ".join(notes) if notes else plan.summary
