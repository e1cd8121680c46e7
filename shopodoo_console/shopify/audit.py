"""What the reconciliation audit and the backfill read from Shopify (issue 14).

Two ways to read the orders of a period:

* :func:`orders_for_audit` — pages of ``OrdersForAudit`` (ids, names, totals, states, our
  ``shopodoo.odoo_id`` metafield; no lines), each page's measured cost on it, paced by a
  :class:`~.pacing.BudgetShare` so the live sync keeps its part of the bucket. The first page
  is small so that the first findings come quickly;
* :func:`audit_query` / :func:`stamps_query` — the same fields (or ids and versions for a
  backfill) as a bulk query's text for :class:`~.bulk.BulkOperations`: a whole period for ~11
  points, at the price of waiting for Shopify to write the file.

Timestamps in searches are quoted (shopify.md §7.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from ..causes import Cause, Kind
from .bulk import inner_query
from .client import ShopifyClient, search_time
from .errors import CostTooHigh, Reply, invalid_payload
from .models import OrderStamp, nodes, parse_time
from .pacing import BudgetShare

PeriodField = Literal["created_at", "processed_at", "updated_at"]
DOCUMENT = "OrdersForAudit"
ORDER_WINDOW = timedelta(days=60)


def window_gap(
    scopes: Iterable[str], since: datetime, *, now: datetime | None = None
) -> Cause | None:
    """Why a period would come back short: without ``read_all_orders`` Shopify hides orders
    older than 60 days — fewer orders, no error (shopify.md §7.4). ``None`` when all show."""
    if "read_all_orders" in set(scopes):
        return None
    limit = (now or datetime.now(UTC)) - ORDER_WINDOW
    if since >= limit:
        return None
    return Cause(
        code="shopify.scope_missing",
        kind=Kind.PERMISSION,
        missing=f"Orders created before {limit:%Y-%m-%d} are hidden from this app: it lacks the "
        "read_all_orders access scope, so an audit or backfill from "
        f"{since:%Y-%m-%d} would see fewer orders than the shop has.",
        operation="Shopify orders",
        fix="Request read_all_orders for the app (Shopify grants it on request), reinstall it, "
        "or start the period within the last 60 days.",
    )


def period_query(
    since: datetime, until: datetime | None = None, *, field: PeriodField = "created_at"
) -> str:
    """``created_at:>='…' AND created_at:<'…'`` (``until`` excluded), UTC, quoted."""
    text = f"{field}:>={search_time(since)}"
    if until is not None:
        text += f" AND {field}:<{search_time(until)}"
    return text


def _amount(node: Mapping[str, Any], key: str) -> Decimal:
    bag = node.get(key)
    if not bag:
        return Decimal(0)
    return Decimal(str(bag["shopMoney"]["amount"]))


def _time(value: Any) -> datetime | None:
    return parse_time(value) if value else None


@dataclass(frozen=True)
class AuditOrder:
    """One Shopify order as the audit compares it (shop currency amounts)."""

    gid: str
    legacy_id: int
    name: str
    created_at: datetime
    processed_at: datetime | None
    updated_at: datetime
    cancelled_at: datetime | None
    closed_at: datetime | None
    test: bool
    financial_status: str | None  # None: no transaction yet (shopify.md §8.1)
    fulfillment_status: str | None
    currency: str
    taxes_included: bool
    total: Decimal
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal
    discounts: Decimal
    odoo_id: str | None  # our shopodoo.odoo_id metafield, if the console wrote it

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> AuditOrder:
        total = node["totalPriceSet"]["shopMoney"]
        metafield = node.get("metafield") or {}
        return cls(
            gid=str(node["id"]),
            legacy_id=int(node["legacyResourceId"]),
            name=str(node["name"]),
            created_at=parse_time(node["createdAt"]),
            processed_at=_time(node.get("processedAt")),
            updated_at=parse_time(node["updatedAt"]),
            cancelled_at=_time(node.get("cancelledAt")),
            closed_at=_time(node.get("closedAt")),
            test=bool(node.get("test")),
            financial_status=node.get("displayFinancialStatus"),
            fulfillment_status=node.get("displayFulfillmentStatus"),
            currency=str(total.get("currencyCode") or node.get("currencyCode") or ""),
            taxes_included=bool(node.get("taxesIncluded")),
            total=Decimal(str(total["amount"])),
            subtotal=_amount(node, "subtotalPriceSet"),
            tax=_amount(node, "totalTaxSet"),
            shipping=_amount(node, "totalShippingPriceSet"),
            discounts=_amount(node, "totalDiscountsSet"),
            odoo_id=metafield.get("value"),
        )

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def paid(self) -> bool:
        return self.financial_status in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED")

    @property
    def fulfilled(self) -> bool:
        return self.fulfillment_status == "FULFILLED"


@dataclass(frozen=True)
class AuditPage:
    """One page of orders and what it cost (``None`` if Shopify did not say)."""

    orders: tuple[AuditOrder, ...]
    requested_cost: int | None
    actual_cost: int | None
    waited: float  # seconds the budget share held this page back
    budget_after: float | None = None  # the bucket as Shopify reported it after this page

    @property
    def cost_per_order(self) -> float | None:
        if self.actual_cost is None or not self.orders:
            return None
        return self.actual_cost / len(self.orders)


def orders_for_audit(
    client: ShopifyClient,
    since: datetime,
    until: datetime | None = None,
    *,
    share: BudgetShare | None = None,
    page_size: int = 250,
    first_page: int = 25,
    field: PeriodField = "created_at",
    after: str | None = None,
) -> Iterator[AuditPage]:
    """Pages of the period's orders, oldest first (by ``field``).

    With ``share``, every request waits its turn under the budget share (see
    :mod:`.pacing`). ``after`` resumes after a page's end cursor (kept by the caller)."""
    query = period_query(since, until, field=field)
    first = max(1, min(first_page, page_size))
    while True:
        if share is not None:  # one request never costs more than the share holds
            room = int((share.capacity() - 2) / (client.cost_per_unit(DOCUMENT) or 1.0))
            first = max(1, min(first, room))
        try:
            reply, waited = _request(
                client, share, {"first": first, "after": after, "query": query}
            )
        except CostTooHigh:
            if first == 1:
                raise
            first = max(1, first // 2)
            continue
        page, info = _page(reply, waited)
        yield page
        if not info["hasNextPage"]:
            return
        after = info["endCursor"]
        first = page_size


def _request(
    client: ShopifyClient, share: BudgetShare | None, variables: dict[str, Any]
) -> tuple[Reply, float]:
    """One paced ``OrdersForAudit``: wait for the share, send, settle what it cost."""
    first = int(variables["first"])
    per_order = client.cost_per_unit(DOCUMENT)
    estimate = (per_order or 1.0) * first + (0 if per_order else 2)
    waited = share.before(estimate, lambda: client.budget) if share else 0.0
    try:
        reply = client.execute(DOCUMENT, variables, units=first, default_cost=first + 2)
    except BaseException:
        if share:
            share.after(estimate, None)
        raise
    if share:
        share.after(estimate, reply.cost.actual if reply.cost else None)
    return reply, waited


def _page(reply: Reply, waited: float) -> tuple[AuditPage, Mapping[str, Any]]:
    cost = reply.cost
    try:
        connection = reply.data["orders"]
        orders = tuple(AuditOrder.from_node(n) for n in nodes(connection))
        info = connection["pageInfo"]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise invalid_payload(DOCUMENT, f"{type(exc).__name__}: {exc}") from None
    page = AuditPage(
        orders=orders,
        requested_cost=cost.requested if cost else None,
        actual_cost=cost.actual if cost else None,
        waited=waited,
        budget_after=cost.throttle.available if cost and cost.throttle else None,
    )
    return page, info


def audit_query(
    since: datetime, until: datetime | None = None, *, field: PeriodField = "created_at"
) -> str:
    """The bulk query reading the audit's fields for a period (``AuditOrder.from_node`` reads
    each record)."""
    return inner_query("BulkOrdersForAudit", {"query": period_query(since, until, field=field)})


def stamps_query(
    since: datetime, until: datetime | None = None, *, field: PeriodField = "created_at"
) -> str:
    """The bulk query reading ids and versions for a backfill (``OrderStamp.from_node``)."""
    return inner_query("BulkOrderStamps", {"query": period_query(since, until, field=field)})


def stamp_of(data: Mapping[str, Any]) -> OrderStamp:
    """A backfill record as a job-key stamp; a malformed one is ``data.invalid_payload``."""
    try:
        return OrderStamp.from_node(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid_payload("bulk order stamps", f"{type(exc).__name__}: {exc}") from None


def audit_order_of(data: Mapping[str, Any]) -> AuditOrder:
    try:
        return AuditOrder.from_node(data)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise invalid_payload("bulk audit orders", f"{type(exc).__name__}: {exc}") from None


__all__ = [
    "ORDER_WINDOW",
    "AuditOrder",
    "AuditPage",
    "audit_order_of",
    "audit_query",
    "orders_for_audit",
    "period_query",
    "stamp_of",
    "stamps_query",
    "window_gap",
]
