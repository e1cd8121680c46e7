"""The plan stage of the fulfillments flow: per delivery, what to do (pure).

A delivery done in Odoo for a Shopify order becomes **one** fulfillment on the fulfillment
orders of the location it left from, with the units it shipped — each fulfillment-order line
taking ``min(what this delivery shipped, what is still open)`` — its tracking numbers, carrier
and URL, and the customer notified or not (shop option ``notify_customer``). Then the picking
is stamped in Odoo with the fulfillment's id and the order records the picking reference with
it (the marker). A delivery already found as a fulfillment needs only what is missing of that.

Everything else is a skip with its reason, or every blocker at once: returns (reported, not
synced yet), cancelled deliveries, orders the console did not create, units already fulfilled
in Shopify by hand, fulfillment orders on hold, at a 3PL, closed, or at another location.
A delivery is sent whole or not at all: a part sent now would look "done" to the next try.

No network, no clock: the same inputs give the same plan, which review mode shows and an
approval covers.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.odoo.stock import Picking
from shopodoo_console.shopify import fulfillment as rules
from shopodoo_console.shopify.models import Tracking, nodes
from shopodoo_console.workflows.fulfillments.explain import (
    blocked_causes,
    location_names,
    split_cause,
    unmapped_cause,
)
from shopodoo_console.workflows.fulfillments.lines import Pairing
from shopodoo_console.workflows.fulfillments.match import HOW, Found, OrderLink, stamp_name
from shopodoo_console.workflows.pipeline import Action, Guard, Plan, Synced


@dataclass(frozen=True)
class Rules:
    slug: str  # the shop in stamp names ("acme" for acme.myshopify.com)
    notify_customer: bool = True


@dataclass(frozen=True)
class Locations:
    """Where the delivery left from, as Shopify knows it (through the location mappings)."""

    allowed: frozenset[str] | None = None  # Shopify locations it may fulfil; None: any
    shipped_from: str = ""  # "Berlin DC" (the Odoo warehouse)
    mapped: bool = False  # the shop maps its locations

    @property
    def unmapped(self) -> bool:
        return self.mapped and not self.allowed


@dataclass(frozen=True)
class Facts:
    """Everything the earlier stages learnt about one delivery."""

    picking: Picking | None
    order: OrderLink | None = None
    elsewhere: str | None = None  # the other shop its sale order belongs to
    state: Mapping[str, Any] | None = None
    found: Found | None = None
    pairing: Pairing | None = None
    locations: Locations = Locations()
    synced: Synced | None = None  # the link's sync state
    returned: str = ""  # a return: the delivery it returns, and its fulfillment


def picking_digest(picking: Picking) -> str:
    """What the flow reads of a delivery: state, tracking, carrier and what shipped."""
    facts = [
        picking.state,
        sorted(picking.tracking_numbers),
        picking.carrier or "",
        picking.tracking_url or "",
        sorted((m.sale_line_id or 0, m.product_id, m.done) for m in picking.moves if m.done),
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:32]


def version_of(picking: Picking) -> str:
    """The delivery's ``write_date`` as the ISO time the poll keys its jobs with."""
    return picking.write_date.replace(" ", "T") + ("" if picking.write_date.endswith("Z") else "Z")


def tracking_of(picking: Picking) -> Tracking | None:
    numbers = tuple(picking.tracking_numbers)
    if not numbers and not picking.carrier:
        return None
    url = picking.tracking_url if len(numbers) <= 1 else None
    return Tracking(
        number=numbers[0] if numbers else None,
        company=picking.carrier,
        url=url,
        numbers=numbers if len(numbers) > 1 else (),
    )


def record_of(picking: Picking | None, order: OrderLink | None, fallback: str) -> str:
    name = f"Odoo {picking.name}" if picking is not None else fallback
    return f"{name} → Shopify order {order.name}" if order is not None else name


# ---------------------------------------------------------------- the plan


def plan_shipment(
    facts: Facts, rules_: Rules, label: str = ""
) -> tuple[Plan, Mapping[str, Any] | None]:
    """The delivery's plan, and the order's state once this plan is applied (so the next
    delivery of the same order in the batch plans from what will remain open)."""
    picking, order = facts.picking, facts.order
    record = record_of(picking, order, label)
    early = _early(facts, record)
    if early is not None:
        return early, facts.state
    assert picking is not None and order is not None and facts.state is not None
    if facts.found is not None:
        return _existing(facts, record, rules_), facts.state
    return _new(facts, record, rules_)


def _early(facts: Facts, record: str) -> Plan | None:
    """Everything that ends the job before Shopify is asked to do anything."""
    picking = facts.picking
    if picking is None:
        return Plan.skipped(record, "The delivery is no longer in Odoo: nothing to send")
    if picking.is_return:
        return _return(picking, record, facts.returned)
    if picking.state == "cancel":
        return Plan.skipped(
            record, f"{picking.name} was cancelled in Odoo: nothing shipped, no fulfillment"
        )
    if picking.state != "done":
        return Plan.skipped(record, f"{picking.name} is {picking.state}, not done: nothing to send")
    if picking.code != "outgoing":
        return Plan.skipped(record, f"{picking.name} is not a delivery to a customer")
    if picking.sale_order_id is None:
        return Plan.skipped(record, f"{picking.name} ships no sale order: nothing to send")
    if facts.order is None:
        return _not_ours(picking, record, facts.elsewhere)
    if facts.state is None:
        return Plan.stopped(record, [_order_gone(facts.order, record)])
    return None


def _return(picking: Picking, record: str, returned: str) -> Plan:
    units = sum(m.done for m in picking.moves if m.state == "done")
    what = ", ".join(f"{m.done:g} × {m.product}" for m in picking.moves if m.done)
    reason = (
        f"Return {picking.name} ({units:g} unit(s): {what or 'nothing done'})"
        + (f" of {returned}" if returned else "")
        + ": returns are reported here, not synced to Shopify yet — record the return in "
        "Shopify by hand if the customer should see it"
    )
    return Plan.skipped(record, reason)


def _not_ours(picking: Picking, record: str, elsewhere: str | None) -> Plan:
    order = picking.sale_order_name or "its sale order"
    if elsewhere:
        return Plan.skipped(record, f"{order} belongs to the shop {elsewhere}, not this one")
    return Plan.skipped(
        record,
        f"{order} was not created by the console (no link to a Shopify order): its "
        "deliveries are not sent to Shopify",
    )


def _order_gone(order: OrderLink, record: str) -> Cause:
    return Cause(
        code="shopify.not_found",
        record=record,
        missing=f"Shopify no longer returns the order {order.name} ({order.gid}) that "
        f"{order.sale_order} is linked to",
        retry_note="nothing was sent to Shopify",
        fix="If the order was deleted in Shopify, resolve the job; otherwise check the app's "
        "read_orders / read_all_orders scopes and retry.",
    )


# ---------------------------------------------------------------- found already


def _existing(facts: Facts, record: str, rules_: Rules) -> Plan:
    found, picking, order = facts.found, facts.picking, facts.order
    assert found is not None and picking is not None and order is not None
    if found.cancelled:
        cause = Cause(
            code="fulfillment.cancelled_in_shopify",
            record=record,
            missing=f"the fulfillment {found.name} of {picking.name} was cancelled in Shopify",
            retry_note="the console never sends a cancelled delivery again",
        )
        return Plan.skipped(record, f"{found.name} was cancelled in Shopify: not sent again", cause)
    actions = [
        *_track(picking, found, rules_),
        *_bookkeeping(picking, order, found.id, rules_, found),
    ]
    notes = [f"{found.name} {HOW.get(found.how, found.how)}"]
    in_step = facts.synced is not None and facts.synced.digest == picking_digest(picking)
    if not actions:
        if in_step:
            reason = f"{picking.name}: unchanged since it was sent as {found.name}"
        else:
            reason = (
                f"{picking.name}: already in Shopify as {found.name} "
                f"({HOW.get(found.how, found.how)})"
            )
        return Plan.skipped(record, "; ".join([reason, *notes[1:]]), found=found.id)
    track = next((a for a in actions if a.kind == "track"), None)
    summary = (
        track.summary
        if track is not None
        else f"{picking.name} is already {found.name} in Shopify "
        f"({HOW.get(found.how, found.how)}): record it"
    )
    return Plan.to_do(record, actions, summary, notes, found=found.id)


def _track(picking: Picking, found: Found, rules_: Rules) -> list[Action]:
    """Tracking added or changed in Odoo after the fulfillment was made (a label printed
    later, a number corrected): set on the fulfillment. Tracking removed in Odoo is left as
    Shopify has it (the customer may have it already)."""
    ours = picking.tracking_numbers
    if "trackingInfo" not in found.fulfillment or not ours:
        return []
    theirs = [
        str(t.get("number")) for t in found.fulfillment.get("trackingInfo") or [] if t.get("number")
    ]
    if sorted(ours) == sorted(theirs):
        return []
    tracking = tracking_of(picking)
    assert tracking is not None
    summary = (
        f"Set the tracking of {found.name} to {', '.join(ours)}"
        + (f" ({tracking.company})" if tracking.company else "")
        + (f", was {', '.join(theirs)}" if theirs else "")
        + ("; customer notified" if rules_.notify_customer else "")
    )
    return [
        Action(
            "track",
            summary,
            Guard.NATURAL,
            key=found.id,
            data={
                "fulfillment": found.id,
                "tracking": tracking.as_input(),
                "notify": rules_.notify_customer,
            },
        )
    ]


def _bookkeeping(
    picking: Picking, order: OrderLink, fulfillment: str | None, rules_: Rules, found: Found | None
) -> list[Action]:
    """Stamp the picking with its fulfillment; record the picking on the order (marker)."""
    actions = []
    if found is None or not found.stamped:
        actions.append(
            Action(
                "stamp",
                f"Stamp {picking.name} in Odoo with its Shopify fulfillment",
                Guard.STAMP,
                key=stamp_name(rules_.slug, fulfillment) if fulfillment else picking.name,
                data={"picking": picking.id},
                reviewed=False,
            )
        )
    if found is None or not found.marked:
        actions.append(
            Action(
                "mark",
                f"Record {picking.name} with its fulfillment on Shopify order {order.name}",
                Guard.NATURAL,
                key=picking.name,
                data={"order": order.gid, "picking": picking.id},
                reviewed=False,
            )
        )
    return actions


# ---------------------------------------------------------------- a new fulfillment


def _new(facts: Facts, record: str, rules_: Rules) -> tuple[Plan, Mapping[str, Any] | None]:
    picking, order, state, pairing = facts.picking, facts.order, facts.state, facts.pairing
    assert picking is not None and order is not None and state is not None and pairing is not None
    gaps = _unmatched(pairing, picking, record)
    if not pairing.targets:
        if gaps is not None:
            return Plan.skipped(record, gaps.missing, gaps), state
        return Plan.skipped(record, f"{picking.name} shipped nothing (no done quantity)"), state
    if facts.locations.unmapped:
        return Plan.stopped(
            record, [unmapped_cause(record, facts.locations.shipped_from, state)]
        ), state
    done = rules.fulfilled_quantities(state)
    targets = {line: units + done.get(line, 0) for line, units in pairing.targets.items()}
    planned = rules.plan_detailed(state, targets, facts.locations.allowed)
    causes = blocked_causes(
        planned.blocked,
        state,
        pairing,
        record,
        facts.locations.shipped_from,
        facts.locations.mapped,
    )
    if causes:
        return Plan.stopped(record, causes), state
    if len(planned.calls) > 1:
        return (
            Plan.stopped(
                record,
                [split_cause(planned.calls, state, pairing, record, facts.locations.shipped_from)],
            ),
            state,
        )
    by_hand = {b.line_id: b.units for b in planned.blocked if b.reason == rules.NOTHING_OPEN}
    if not planned.calls:
        return (
            Plan.skipped(
                record,
                f"Everything {picking.name} shipped ({pairing.describe()}) is already "
                "fulfilled in Shopify (by hand, or by another delivery): nothing sent again",
            ),
            state,
        )
    call = planned.calls[0]
    action = _fulfill_action(picking, order, call, state, pairing, rules_)
    details = _details(action, pairing, by_hand, gaps)
    summary = action.summary
    if by_hand:
        summary += "; already fulfilled in Shopify (by hand?), not sent again: "
        summary += pairing.describe(by_hand)
    plan = Plan.to_do(
        record,
        [action, *_bookkeeping(picking, order, None, rules_, None)],
        summary,
        details,
        by_hand=by_hand,
    )
    return plan, _after(state, call, picking)


def _unmatched(pairing: Pairing, picking: Picking, record: str) -> Cause | None:
    gaps = [*pairing.unmatched, *pairing.fractional]
    if not gaps:
        return None
    return Cause(
        code="fulfillment.lines_unmatched",
        record=record,
        missing=f"{picking.name} shipped what the Shopify order does not list: " + "; ".join(gaps),
        retry_note="these units are not sent to Shopify",
    )


def _fulfill_action(
    picking: Picking,
    order: OrderLink,
    call: list[dict[str, Any]],
    state: Mapping[str, Any],
    pairing: Pairing,
    rules_: Rules,
) -> Action:
    sent = _sent_lines(call, state)
    tracking = tracking_of(picking)
    location = _location_of(call, state)
    where = location_names(state).get(location, location)
    units = sum(sent.values())
    summary = (
        f"Fulfil Shopify order {order.name} from {where} ({picking.name}): {units} unit(s), "
        f"{pairing.describe(sent)}"
    )
    if tracking is not None and tracking.all_numbers:
        summary += f"; tracking {', '.join(tracking.all_numbers)}"
        summary += f" ({tracking.company})" if tracking.company else ""
    summary += "; customer notified" if rules_.notify_customer else "; customer not notified"
    return Action(
        "fulfill",
        summary,
        Guard.READ_BACK,
        key=picking.name,
        data={
            "order": order.gid,
            "groups": call,
            "lines": sent,
            "location": location,
            "tracking": tracking.as_input() if tracking is not None else None,
            "notify": rules_.notify_customer,
        },
    )


def _details(
    action: Action, pairing: Pairing, by_hand: dict[str, int], gaps: Cause | None
) -> list[str]:
    out = [f"{n} × {pairing.labels.get(li, li)}" for li, n in action.data["lines"].items()]
    tracking = action.data.get("tracking") or {}
    numbers = tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    out.append(
        "tracking: "
        + (", ".join(numbers) or "none")
        + (f" — {tracking['company']}" if tracking.get("company") else "")
        + (f" — {tracking['url']}" if tracking.get("url") else "")
    )
    if by_hand:
        out.append(
            f"already fulfilled in Shopify (by hand?), not sent again: {pairing.describe(by_hand)}"
        )
    if gaps is not None:
        out.append(f"not sent: {gaps.missing}")
    return out


def _sent_lines(call: list[dict[str, Any]], state: Mapping[str, Any]) -> dict[str, int]:
    fo_lines = {
        str(item["id"]): str((item.get("lineItem") or {}).get("id"))
        for fo in nodes(state.get("fulfillmentOrders"))
        for item in nodes(fo.get("lineItems"))
    }
    sent: dict[str, int] = {}
    for group in call:
        for item in group.get("fulfillmentOrderLineItems") or []:
            line = fo_lines.get(str(item["id"]), str(item["id"]))
            sent[line] = sent.get(line, 0) + int(item["quantity"])
    return sent


def _location_of(call: list[dict[str, Any]], state: Mapping[str, Any]) -> str:
    wanted = {g["fulfillmentOrderId"] for g in call}
    for fo in nodes(state.get("fulfillmentOrders")):
        if fo.get("id") in wanted:
            return str(((fo.get("assignedLocation") or {}).get("location") or {}).get("id"))
    return ""


def _after(
    state: Mapping[str, Any], call: list[dict[str, Any]], picking: Picking
) -> Mapping[str, Any]:
    """The order as it will be once this fulfillment is made (its units no longer open)."""
    fo_lines = {
        str(item["id"]): str((item.get("lineItem") or {}).get("id"))
        for fo in nodes(state.get("fulfillmentOrders"))
        for item in nodes(fo.get("lineItems"))
    }
    planned = {
        "id": f"planned:{picking.id}",
        "status": "PENDING",
        "fulfillmentLineItems": {
            "nodes": [
                {"quantity": int(i["quantity"]), "lineItem": {"id": fo_lines.get(str(i["id"]))}}
                for g in call
                for i in g.get("fulfillmentOrderLineItems") or []
            ]
        },
    }
    return rules.apply_created(copy.deepcopy(dict(state)), call, planned)
