"""Fulfillments in Shopify: states read for many orders at once, fulfilments sent once.

``states`` reads the fulfillment state of many orders in one ``nodes(ids:)`` request with
small pages, sized to the bucket by the measured cost; an order cut short by those pages
(more fulfillments, fulfillment orders or lines than asked for) is read again alone with
larger ones. ``fulfill`` sends what is still open after that read — or after a read the
caller made for a whole batch — and applies each created fulfillment to the state it knows
instead of reading again, so a fulfillment costs one ``fulfillmentCreate`` plus its share of
a batched read. Only a lost answer (or a refusal that a stale read may explain) makes it read
the order again, never send blindly (shopify.md §8.5).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..causes import Cause, CauseError
from . import fulfillment as rules
from .errors import CostTooHigh
from .models import FulfillOutcome, Tracking, nodes

if TYPE_CHECKING:
    from .client import ShopifyClient

# (fulfillments, fulfillment orders, lines per connection) for a batch of orders, then the
# larger pages an order cut short is read with, in turn (each stays under 1000 points).
BATCH_PAGES = (4, 3, 10)
SINGLE_PAGES = ((10, 5, 50), (5, 3, 100), (30, 2, 20))
MAX_QUERY_COST = 1000


def _variables(pages: tuple[int, int, int]) -> dict[str, int]:
    fulfillments, orders, lines = pages
    return {"fulfillments": fulfillments, "fulfillmentOrders": orders, "lines": lines}


def cut_short(order: Mapping[str, Any], pages: tuple[int, int, int]) -> bool:
    """Whether the read may have missed fulfillments, fulfillment orders or lines."""
    fulfillments = order.get("fulfillments") or []
    if len(fulfillments) >= pages[0]:
        return True
    if any(
        (f.get("fulfillmentLineItems") or {}).get("pageInfo", {}).get("hasNextPage")
        for f in fulfillments
    ):
        return True
    connection = order.get("fulfillmentOrders") or {}
    if (connection.get("pageInfo") or {}).get("hasNextPage"):
        return True
    return any(
        (fo.get("lineItems") or {}).get("pageInfo", {}).get("hasNextPage")
        for fo in nodes(connection)
    )


def state(client: ShopifyClient, order_id: str) -> dict[str, Any] | None:
    """One order's fulfillment state, complete (larger pages until nothing is cut short)."""
    order: dict[str, Any] | None = None
    for pages in SINGLE_PAGES:
        reply = client.execute(
            "OrderFulfillmentState",
            {"id": order_id, **_variables(pages)},
            default_cost=850,
        )
        with client.shaped("OrderFulfillmentState"):
            order = reply.data.get("order")
            if order is None or not cut_short(order, pages):
                return order
    raise CauseError(
        Cause(
            code="data.invalid_payload",
            missing=f"Shopify order {order_id} has more fulfillments or lines than the console "
            "can read in one request.",
            operation="Shopify OrderFulfillmentState",
            retry_note="nothing was sent to Shopify",
        )
    )


def batch_size(client: ShopifyClient) -> int:
    per_order = client.cost_per_unit("FulfillmentStates")
    if per_order is None or per_order <= 0:
        return 5  # learn the real cost on a small first batch
    budget = client.budget
    ceiling = min(MAX_QUERY_COST, budget.maximum if budget else MAX_QUERY_COST)
    return max(1, min(250, int(ceiling // per_order)))


def states(client: ShopifyClient, order_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
    """Fulfillment states of many orders: few requests, each within the bucket."""
    pending = list(dict.fromkeys(order_ids))
    found: dict[str, dict[str, Any] | None] = {}
    short: list[str] = []
    batch = batch_size(client)
    while pending:
        chunk = pending[:batch]
        try:
            reply = client.execute(
                "FulfillmentStates",
                {"ids": chunk, **_variables(BATCH_PAGES)},
                units=len(chunk),
                default_cost=len(chunk) * 100,
            )
        except CostTooHigh:
            if len(chunk) == 1:
                raise
            batch = max(1, len(chunk) // 2)
            continue
        with client.shaped("FulfillmentStates"):
            for gid, node in zip(chunk, reply.data["nodes"], strict=True):
                is_order = isinstance(node, dict) and node.get("__typename") == "Order"
                found[gid] = node if is_order else None
                if is_order and cut_short(node, BATCH_PAGES):
                    short.append(gid)
        pending = pending[len(chunk) :]
        batch = batch_size(client)
    for gid in short:
        found[gid] = state(client, gid)
    return {gid: found.get(gid) for gid in order_ids}


def fulfill(
    client: ShopifyClient,
    order_id: str,
    *,
    lines: Mapping[str, int] | None,
    tracking: Tracking | None,
    notify_customer: bool,
    known: Mapping[str, Any] | None,
    locations: Collection[str] | None,
    max_unknown: int,
) -> FulfillOutcome:
    """Bring an order's fulfilled quantities up to ``lines`` without ever shipping twice."""
    created: list[dict[str, Any]] = []
    unknown = 0
    current: Mapping[str, Any] | None = known
    refused_once = False
    while True:
        fresh = current is None
        if current is None:
            current = state(client, order_id)
            if current is None:
                raise CauseError(
                    Cause(
                        code="shopify.not_found",
                        missing=f"Shopify order {order_id} does not exist (or is not visible).",
                        operation="Shopify OrderFulfillmentState",
                    )
                )
        with client.shaped("OrderFulfillmentState"):
            if tracking is not None and tracking.number and not created:
                existing = rules.with_tracking(current, tracking.number)
                if existing is not None:
                    return FulfillOutcome(existing=existing)
            planned = rules.plan_detailed(current, lines, locations)
        if not planned.calls:
            return FulfillOutcome(
                created=tuple(created), shortfall=planned.shortfall, blocked=planned.blocked
            )
        call = planned.calls[0]
        try:
            result = client.fulfillment_create(
                call, tracking=tracking, notify_customer=notify_customer
            )
        except CauseError as exc:
            if exc.cause.code != "shopify.outcome_unknown" or unknown >= max_unknown:
                raise
            unknown += 1
            client.emit(
                "retry",
                operation="FulfillmentCreate",
                attempt=unknown,
                reason="outcome unknown: re-reading",
                delay=0.0,
            )
            current = None
            continue
        if not result.ok:
            if not fresh and not refused_once:  # the batch read may be stale: read again
                refused_once = True
                current = None
                continue
            raise CauseError(
                Cause(
                    code="shopify.user_error",
                    missing=f"Shopify refused to fulfil order {current.get('name', order_id)}: "
                    f"{result.messages}",
                    operation="Shopify FulfillmentCreate",
                    detail=result.messages,
                    retry_note="nothing was fulfilled by this attempt",
                )
            )
        assert result.fulfillment is not None
        created.append(result.fulfillment)
        current = rules.apply_created(current, call, result.fulfillment)
