"""Planning a ``fulfillmentCreate`` that is safe to retry (shopify.md §8.5, DESIGN §3.6).

``fulfillmentCreate`` has no idempotency key: a blind retry of a partial fulfilment ships the
same units twice. So every (re)try starts from a fresh read of the order's fulfillment state
and sends only the difference between what should be fulfilled and what already is. Targets
are *cumulative* quantities per line item ("3 of this line are shipped in total", what Odoo's
delivered quantity says), which makes the plan idempotent by construction; a tracking number
already present on a fulfillment marks the job as done.

Units that cannot be sent are reported per line with the reason a person can act on: the
fulfillment order is on hold, belongs to a fulfillment service, sits at another location,
was closed (order cancelled), is not ready yet, or nothing of the line is open any more.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .models import nodes

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")
COUNTED_FULFILLMENTS = ("SUCCESS", "OPEN", "PENDING")
ON_HOLD = "on_hold"
FULFILLMENT_SERVICE = "fulfillment_service"
OTHER_LOCATION = "other_location"
CLOSED = "closed"
NOT_READY = "not_ready"
NOTHING_OPEN = "nothing_open"


@dataclass(frozen=True)
class BlockedLine:
    """Units of a line that this plan cannot fulfil, and why."""

    line_id: str
    units: int
    reason: str
    fulfillment_order_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    """The calls still needed (one per location) and what cannot be sent."""

    calls: list[list[dict[str, Any]]]
    shortfall: dict[str, int] = field(default_factory=dict)
    blocked: tuple[BlockedLine, ...] = ()


def fulfilled_quantities(state: Mapping[str, Any]) -> dict[str, int]:
    """Units already fulfilled per line item id (by anyone: the console or a person)."""
    done: dict[str, int] = defaultdict(int)
    for fulfillment in state.get("fulfillments") or []:
        if fulfillment.get("status") not in COUNTED_FULFILLMENTS:
            continue
        for item in nodes(fulfillment.get("fulfillmentLineItems")):
            done[item["lineItem"]["id"]] += int(item["quantity"])
    return dict(done)


def with_tracking(state: Mapping[str, Any], number: str) -> dict[str, Any] | None:
    """The fulfillment that already carries this tracking number, if any."""
    for fulfillment in state.get("fulfillments") or []:
        if fulfillment.get("status") not in COUNTED_FULFILLMENTS:
            continue
        if any(info.get("number") == number for info in fulfillment.get("trackingInfo") or []):
            return dict(fulfillment)
    return None


def _location(fo: Mapping[str, Any]) -> str:
    assigned = fo.get("assignedLocation") or {}
    return str((assigned.get("location") or {}).get("id"))


def why_not(fo: Mapping[str, Any], locations: Collection[str] | None) -> tuple[str, str] | None:
    """Why this fulfillment order cannot be fulfilled by the console now (``None``: it can)."""
    status = fo.get("status")
    if status == "ON_HOLD":
        holds = [
            h.get("reason", "") + (f" ({h['reasonNotes']})" if h.get("reasonNotes") else "")
            for h in fo.get("fulfillmentHolds") or []
        ]
        return ON_HOLD, "on hold: " + (", ".join(holds) or "no reason given")
    if status in ("CLOSED", "CANCELLED"):
        return CLOSED, f"fulfillment order is {str(status).lower()}"
    if status not in OPEN_STATUSES:
        return NOT_READY, f"fulfillment order is {str(status).lower()}"
    actions = {a.get("action") for a in fo.get("supportedActions") or []}
    if fo.get("supportedActions") is not None and "CREATE_FULFILLMENT" not in actions:
        request = str(fo.get("requestStatus", "")).lower()
        return FULFILLMENT_SERVICE, f"assigned to a fulfillment service (request {request})"
    if locations is not None and _location(fo) not in locations:
        return OTHER_LOCATION, f"assigned to location {_location(fo)}"
    return None


def plan_detailed(
    state: Mapping[str, Any],
    targets: Mapping[str, int] | None,
    locations: Collection[str] | None = None,
) -> Plan:
    """The ``lineItemsByFulfillmentOrder`` of each call still needed, and what is blocked.

    ``targets`` maps LineItem GIDs to the units that should be fulfilled *in total*
    (``None``: everything still open); ``locations`` restricts the plan to fulfillment
    orders assigned to these location GIDs (the warehouse that shipped).
    """
    fos = nodes(state.get("fulfillmentOrders"))
    usable = [fo for fo in fos if why_not(fo, locations) is None]
    by_location: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if targets is None:
        for fo in usable:
            if any(int(li["remainingQuantity"]) > 0 for li in nodes(fo.get("lineItems"))):
                by_location[_location(fo)].append({"fulfillmentOrderId": fo["id"]})
        return Plan(list(by_location.values()), {}, _blocked_all(fos, locations))
    done = fulfilled_quantities(state)
    wanted_by_fo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shortfall: dict[str, int] = {}
    blocked: list[BlockedLine] = []
    for line_id, target in targets.items():
        want = int(target) - done.get(line_id, 0)
        for fo in usable:
            for item in nodes(fo.get("lineItems")):
                if want <= 0:
                    break
                if item["lineItem"]["id"] != line_id or int(item["remainingQuantity"]) <= 0:
                    continue
                take = min(want, int(item["remainingQuantity"]))
                wanted_by_fo[fo["id"]].append({"id": item["id"], "quantity": take})
                want -= take
        if want > 0:
            shortfall[line_id] = want
            blocked.append(_blocked(fos, locations, line_id, want))
    for fo in usable:
        if wanted_by_fo.get(fo["id"]):
            by_location[_location(fo)].append(
                {
                    "fulfillmentOrderId": fo["id"],
                    "fulfillmentOrderLineItems": wanted_by_fo[fo["id"]],
                }
            )
    return Plan(list(by_location.values()), shortfall, tuple(blocked))


def _blocked(
    fos: list[dict[str, Any]], locations: Collection[str] | None, line_id: str, units: int
) -> BlockedLine:
    """The reason for the units of a line left over: the first unusable fulfillment order
    that still holds some of them, else nothing of the line is open any more."""
    for fo in fos:
        reason = why_not(fo, locations)
        if reason is None:
            continue
        for item in nodes(fo.get("lineItems")):
            if item["lineItem"]["id"] == line_id and int(item["remainingQuantity"]) > 0:
                return BlockedLine(line_id, units, reason[0], fo["id"], reason[1])
    return BlockedLine(line_id, units, NOTHING_OPEN, None, "no unit of this line is open")


def _blocked_all(
    fos: list[dict[str, Any]], locations: Collection[str] | None
) -> tuple[BlockedLine, ...]:
    out = []
    for fo in fos:
        reason = why_not(fo, locations)
        if reason is None or reason[0] == CLOSED:
            continue
        for item in nodes(fo.get("lineItems")):
            units = int(item["remainingQuantity"])
            if units > 0:
                out.append(
                    BlockedLine(item["lineItem"]["id"], units, reason[0], fo["id"], reason[1])
                )
    return tuple(out)


def plan(
    state: Mapping[str, Any], targets: Mapping[str, int] | None
) -> tuple[list[list[dict[str, Any]]], dict[str, int]]:
    """:func:`plan_detailed` without the reasons (calls, shortfall)."""
    detailed = plan_detailed(state, targets)
    return detailed.calls, detailed.shortfall


def apply_created(
    state: Mapping[str, Any], call: list[dict[str, Any]], fulfillment: Mapping[str, Any]
) -> dict[str, Any]:
    """The state after ``call`` succeeded as ``fulfillment``, without reading it again."""
    after = copy.deepcopy(dict(state))
    sent: dict[str, int] = {}
    whole: set[str] = set()
    for group in call:
        items = group.get("fulfillmentOrderLineItems")
        if items is None:
            whole.add(group["fulfillmentOrderId"])
        for item in items or []:
            sent[item["id"]] = sent.get(item["id"], 0) + int(item["quantity"])
    for fo in nodes(after.get("fulfillmentOrders")):
        for item in nodes(fo.get("lineItems")):
            take = int(item["remainingQuantity"]) if fo["id"] in whole else sent.get(item["id"], 0)
            item["remainingQuantity"] = int(item["remainingQuantity"]) - take
        if fo["id"] in whole or any(item["id"] in sent for item in nodes(fo.get("lineItems"))):
            left = sum(int(i["remainingQuantity"]) for i in nodes(fo.get("lineItems")))
            fo["status"] = "CLOSED" if left == 0 else "IN_PROGRESS"
    after["fulfillments"] = [*(after.get("fulfillments") or []), dict(fulfillment)]
    return after
