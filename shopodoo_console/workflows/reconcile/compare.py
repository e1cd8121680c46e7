"""The reconciliation audit's judgement: one Shopify order against what Odoo and the console
hold for it (pure: no network, no database, no clock).

For each Shopify order of the period the audit knows the sale orders that carry its reference
(our stamp, ``client_order_ref`` or ``origin``: :class:`~shopodoo_console.odoo.audit.RefMatch`),
the console's link and its newest job. From those it reports, in the operator's words:

* **missing** — no sale order carries the order's reference, with the job's state and cause,
  or "never seen" (and whether the order lies outside the poll cursor: a backfill's work);
* **duplicate** — two or more sale orders for one Shopify order, and how each was found;
* **amount** — total, tax, shipping or discounts differ, with Odoo minus Shopify;
* **state** — cancelled, paid or fulfilled in Shopify but not so in Odoo (or cancelled in
  Odoo only);
* **unlinked** — a sale order carrying the Shopify reference that the console has no link for.

What the orders flow deliberately leaves out of Odoo (test orders, orders cancelled before they
were synced, by the shop's options) is not reported missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopodoo_console.odoo.audit import RefMatch, SaleOrderSummary
from shopodoo_console.shopify.audit import AuditOrder
from shopodoo_console.store.links import LinkRow
from shopodoo_console.store.reconcile import JobGlance, NewFinding

KINDS = ("missing", "duplicate", "amount", "state", "unlinked")
AMOUNTS = ("total", "tax", "shipping", "discount")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Expectations:
    """What the shop's orders flow promises to bring to Odoo (its options) and how far its
    poll has got."""

    shop_domain: str
    skip_test_orders: bool = True
    create_cancelled_orders: bool = False
    confirm: str = "paid"
    cursor: datetime | None = None  # the orders poll's position; None: never polled


@dataclass(frozen=True)
class Sighting:
    """Everything the audit knows about one Shopify order."""

    order: AuditOrder
    matches: tuple[RefMatch, ...]
    link: LinkRow | None
    job: JobGlance | None


def judge(seen: Sighting, rules: Expectations) -> list[NewFinding]:
    """Every finding for one Shopify order (none when Shopify and Odoo agree)."""
    if not seen.matches:
        missing = _missing(seen, rules)
        return [missing] if missing is not None else []
    if len(seen.matches) > 1:
        return [_duplicate(seen)]
    found: list[NewFinding] = []
    match = seen.matches[0]
    if seen.link is None or seen.link.odoo_id != match.order.id:
        found.append(_unlinked(seen, match))
    amounts = _amounts(seen.order, match.order)
    if amounts is not None:
        found.append(amounts)
    state = _state(seen.order, match.order, rules)
    if state is not None:
        found.append(state)
    return found


# ---------------------------------------------------------------- missing


def _missing(seen: Sighting, rules: Expectations) -> NewFinding | None:
    order, job = seen.order, seen.job
    if order.test and rules.skip_test_orders:
        return None  # the flow keeps test orders out of Odoo
    left_out = order.cancelled and not rules.create_cancelled_orders
    if left_out and (job is None or job.state == "skipped"):
        return None  # cancelled before it was synced: not created, by the shop's options
    detail: dict[str, Any] = {"created_at": _iso(order.created_at)}
    if job is not None:
        detail.update(job_state=job.state, cause=job.cause_code, job_message=job.missing)
        why = _job_words(job)
    else:
        detail["job_state"] = "never seen"
        why = "never seen by the console" + _outside(order, rules)
    if seen.link is not None:
        detail["linked_odoo_id"] = seen.link.odoo_id
        why += (
            f"; the console's link points at sale order {seen.link.odoo_id}, which no longer "
            "carries the order (deleted in Odoo?)"
        )
    return NewFinding(
        kind="missing",
        summary=f"{order.name} is not in Odoo: {why}",
        shopify_id=order.gid,
        shopify_name=order.name,
        job_id=job.id if job is not None else None,
        detail=detail,
    )


def _job_words(job: JobGlance) -> str:
    words = f"job {job.id} is {job.state.replace('_', ' ')}"
    if job.cause_code:
        words += f" ({job.cause_code}"
        words += f": {job.missing})" if job.missing else ")"
    elif job.result and job.state in ("done", "skipped"):
        words += f" ({job.result})"
    if job.state == "done":
        words += "; its sale order is gone from Odoo (deleted?)"
    return words


def _outside(order: AuditOrder, rules: Expectations) -> str:
    if rules.cursor is None:
        return " (no poll of this shop's orders has run yet)"
    if order.updated_at < rules.cursor:
        return (
            f" (last changed {_iso(order.updated_at)}, before the orders cursor "
            f"{_iso(rules.cursor)}: outside what the poll looked at; a backfill brings it in)"
        )
    return " (changed after the orders cursor: the next poll should see it)"


# ---------------------------------------------------------------- duplicates and links


def _duplicate(seen: Sighting) -> NewFinding:
    order = seen.order
    linked = seen.link.odoo_id if seen.link is not None else None
    parts: list[str] = []
    counterparts: list[dict[str, Any]] = []
    for match in sorted(seen.matches, key=lambda m: m.order.id):
        sale = match.order
        ours = sale.id == linked
        stamped = any(s.endswith(f"_order_{order.legacy_id}") for s in sale.stamps)
        made_by = (
            "linked by the console"
            if ours
            else ("stamped" if stamped else "not created by the console")
        )
        parts.append(f"{sale.name} (by {', '.join(sorted(match.by))}; {made_by})")
        counterparts.append(
            {
                "odoo_id": sale.id,
                "name": sale.name,
                "by": sorted(match.by),
                "linked": ours,
                "stamps": list(sale.stamps),
                "state": sale.state,
            }
        )
    return NewFinding(
        kind="duplicate",
        summary=f"{order.name} has {len(seen.matches)} sale orders in Odoo: " + "; ".join(parts),
        shopify_id=order.gid,
        shopify_name=order.name,
        odoo_ids=tuple(int(c["odoo_id"]) for c in counterparts),
        job_id=seen.job.id if seen.job is not None else None,
        detail={"counterparts": counterparts},
    )


def extra_duplicate(
    order_gid: str, order_name: str, known: Sequence[int], extra: SaleOrderSummary, why: str
) -> NewFinding:
    """A sale order found only by reading Odoo's side (stamped under another shop name)."""
    return NewFinding(
        kind="duplicate",
        summary=f"{order_name} has another sale order in Odoo: {extra.name} ({why}), besides "
        + (", ".join(f"sale order {i}" for i in known) or "none found by reference"),
        shopify_id=order_gid,
        shopify_name=order_name,
        odoo_ids=(*known, extra.id),
        detail={
            "counterparts": [
                {"odoo_id": extra.id, "name": extra.name, "by": [why], "stamps": list(extra.stamps)}
            ]
        },
    )


def _unlinked(seen: Sighting, match: RefMatch) -> NewFinding:
    order, sale = seen.order, match.order
    detail: dict[str, Any] = {"by": sorted(match.by), "stamps": list(sale.stamps)}
    text = f"{sale.name} carries {order.name}'s reference ({', '.join(sorted(match.by))}) but "
    if seen.link is None:
        text += "the console has no link for it"
    else:
        detail["linked_odoo_id"] = seen.link.odoo_id
        text += f"the console is linked to sale order {seen.link.odoo_id} instead"
    return NewFinding(
        kind="unlinked",
        summary=text,
        shopify_id=order.gid,
        shopify_name=order.name,
        odoo_ids=(sale.id,),
        job_id=seen.job.id if seen.job is not None else None,
        detail=detail,
    )


def stray_reference(sale: SaleOrderSummary, reference: str) -> NewFinding:
    """An Odoo order naming a Shopify order the audit did not see, with no console link."""
    return NewFinding(
        kind="unlinked",
        summary=f"{sale.name} carries the Shopify reference {reference} but the console has no "
        "link for it, and no Shopify order of the period has that reference",
        odoo_ids=(sale.id,),
        detail={"reference": reference, "stamps": list(sale.stamps), "origin": sale.origin},
    )


# ---------------------------------------------------------------- amounts and states


def differences(order: AuditOrder, sale: SaleOrderSummary) -> dict[str, Decimal]:
    """Odoo minus Shopify for each amount both sides know (shop currency)."""
    pairs: dict[str, tuple[Decimal | None, Decimal]] = {
        "total": (sale.amount_total, order.total),
        "tax": (sale.amount_tax, order.tax),
        "shipping": (sale.shipping, order.shipping),
        "discount": (sale.discount, order.discounts),
    }
    out = {}
    for name, (odoo, shopify) in pairs.items():
        if odoo is None:
            continue
        delta = (odoo - shopify).quantize(CENT)
        if delta:
            out[name] = delta
    return out


def _amounts(order: AuditOrder, sale: SaleOrderSummary) -> NewFinding | None:
    if order.cancelled:
        return None  # a cancelled order's amounts are not what finance books
    if sale.currency and order.currency and sale.currency != order.currency:
        return NewFinding(
            kind="amount",
            summary=f"{order.name} is in {order.currency}, {sale.name} in {sale.currency}: "
            "amounts cannot be compared",
            shopify_id=order.gid,
            shopify_name=order.name,
            odoo_ids=(sale.id,),
            detail={"currency": {"shopify": order.currency, "odoo": sale.currency}},
        )
    found = differences(order, sale)
    if not found:
        return None
    words = ", ".join(f"{k} {_signed(v)}" for k, v in found.items())
    return NewFinding(
        kind="amount",
        summary=f"{sale.name} differs from {order.name} (Odoo minus Shopify, {order.currency}): "
        + words,
        shopify_id=order.gid,
        shopify_name=order.name,
        odoo_ids=(sale.id,),
        detail={
            "differences": {k: str(v) for k, v in found.items()},
            "shopify": {
                "total": str(order.total),
                "tax": str(order.tax),
                "shipping": str(order.shipping),
                "discount": str(order.discounts),
            },
            "odoo": {
                "total": str(sale.amount_total),
                "tax": str(sale.amount_tax),
                "shipping": str(sale.shipping) if sale.shipping is not None else None,
                "discount": str(sale.discount) if sale.discount is not None else None,
            },
        },
    )


def state_gaps(order: AuditOrder, sale: SaleOrderSummary, rules: Expectations) -> list[str]:
    """What Shopify says that Odoo does not (``cancelled``, ``paid``, ``fulfilled``), and
    ``cancelled_in_odoo`` for the reverse."""
    gaps = []
    if order.cancelled and not sale.cancelled:
        gaps.append("cancelled")
    if sale.cancelled and not order.cancelled:
        gaps.append("cancelled_in_odoo")
    if (
        order.paid
        and not order.cancelled
        and not sale.cancelled
        and not sale.confirmed
        and rules.confirm != "never"
    ):
        gaps.append("paid")
    if order.fulfilled and not sale.cancelled and not sale.delivered:
        gaps.append("fulfilled")
    return gaps


_GAP_WORDS = {
    "cancelled": "cancelled in Shopify, {odoo} in Odoo",
    "cancelled_in_odoo": "cancelled in Odoo, open in Shopify",
    "paid": "paid in Shopify, still a quotation in Odoo ({odoo})",
    "fulfilled": "fulfilled in Shopify, delivery {delivery} in Odoo",
}


def _state(order: AuditOrder, sale: SaleOrderSummary, rules: Expectations) -> NewFinding | None:
    gaps = state_gaps(order, sale, rules)
    if not gaps:
        return None
    delivery = sale.delivery_status or "not started"
    words = [_GAP_WORDS[g].format(odoo=sale.state, delivery=delivery) for g in gaps]
    return NewFinding(
        kind="state",
        summary=f"{order.name} / {sale.name}: " + "; ".join(words),
        shopify_id=order.gid,
        shopify_name=order.name,
        odoo_ids=(sale.id,),
        detail={
            "gaps": gaps,
            "shopify": {
                "cancelled": order.cancelled,
                "financial_status": order.financial_status,
                "fulfillment_status": order.fulfillment_status,
            },
            "odoo": {"state": sale.state, "delivery_status": sale.delivery_status},
        },
    )


def _signed(value: Decimal) -> str:
    return f"{value:+.2f}"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
