"""The plan stage of the orders flow: per order, what to do in Odoo and Shopify (pure).

A new order: create it (with its contacts), confirm it when the shop's rule says so, cancel it
when it was cancelled in Shopify before we saw it (only with ``create_cancelled_orders``),
register its payments, write the Odoo reference back. An existing one (linked, or found by its
stamp and adopted): update the lines we own if nobody else changed them, confirm, cancel,
register payments — each only if the Odoo state still allows it, else a skip that explains the
conflict. Everything that blocks an order is collected at once. No network, no clock: the same
inputs give the same plan, which is what review mode shows and an approval covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.engine.mappings import mapping_key
from shopodoo_console.workflows.orders.contacts import plan_contacts
from shopodoo_console.workflows.orders.lines import NOTHING_CREATED, lines_digest, plan_lines
from shopodoo_console.workflows.orders.match import Lookups, Match, order_stamp, payment_stamp
from shopodoo_console.workflows.orders.order import ShopifyOrder
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.pipeline import Action, Guard, Plan, Skip

METAFIELD_KEY = "odoo_id"


@dataclass(frozen=True)
class Rules:
    """The shop's side of planning: its settings and Odoo company, warehouse, pricelist."""

    shop: ShopRef
    settings: OrdersSettings
    company_id: int | None = None
    warehouse_id: int | None = None
    pricelist_id: int | None = None

    @property
    def include_taxes(self) -> bool:
        return self.settings.taxes == "mapped"

    def confirms(self, order: ShopifyOrder) -> bool:
        """The shop's rule: confirm once paid (default), always, or never."""
        if order.cancelled:
            return False
        rule = self.settings.confirm
        return rule == "always" or (rule == "paid" and order.paid)


def plan_order(order: ShopifyOrder, match: Match, lookups: Lookups, rules: Rules) -> Plan:
    if match.deleted:
        return Plan.stopped(order.label, [_deleted(order, match, rules.shop)])
    if match.unchanged:
        return _unchanged(order, match, rules)
    if match.existing:
        if order.cancelled:
            return _cancellation(order, match, rules)
        return _existing(order, match, lookups, rules)
    return _new(order, lookups, rules)


# ---------------------------------------------------------------- a new order


def _new(order: ShopifyOrder, lookups: Lookups, rules: Rules) -> Plan:
    settings = rules.settings
    if settings.skip_test_orders and order.test:
        return Plan.skipped(
            order.label,
            "A test order (Shopify's test gateway): not synced. Set "
            "options.skip_test_orders = false to sync test orders.",
        )
    if order.cancelled and not settings.create_cancelled_orders:
        return Plan.skipped(
            order.label,
            "Not created: cancelled in Shopify before it was synced. Set "
            "options.create_cancelled_orders = true to create such orders in Odoo, cancelled.",
        )
    lines = plan_lines(order, lookups, settings)
    payments, payment_causes = _payments(order, lookups, rules)
    contacts = plan_contacts(order, lookups, rules.shop, settings, rules.company_id)
    causes = lines.causes + payment_causes
    causes += [contacts.cause] if contacts.cause else []
    causes += list(lookups.denied.values())
    if causes:
        return Plan.stopped(order.label, causes)
    create = Action(
        "create",
        f"Create the sale order for {order.name}",
        Guard.STAMP,
        key=order_stamp(rules.shop, order),
        data={
            "contacts": [c.to_dict() for c in contacts.new],
            "customer": contacts.customer,
            "invoice": contacts.invoice,
            "delivery": contacts.delivery,
            "header": _header(order, rules),
            "lines": lines.lines,
        },
    )
    actions = [create]
    confirm = rules.confirms(order)
    if confirm:
        actions.append(_confirm(order))
    if order.cancelled:
        actions.append(_cancel(order, "the order"))
    actions += payments
    actions += _write_back(order, None, rules)
    return Plan.to_do(
        order.label,
        actions,
        _new_summary(order, contacts.customer, contacts.who, confirm, payments, rules),
        _details(lines.lines, [c.label or c.values.get("name") for c in contacts.new], payments),
        lines=lines.lines,
    )


def origin_of(domain: str, name: str) -> str:
    """The sale order's ``origin`` for a Shopify order (the audit finds orders by it too)."""
    return f"Shopify {domain} {name}"


def _header(order: ShopifyOrder, rules: Rules) -> dict[str, Any]:
    header: dict[str, Any] = {
        "client_order_ref": order.name,
        "origin": origin_of(rules.shop.domain, order.name),
        "date_order": _odoo_datetime(order.processed_at),
    }
    if order.note:
        header["note"] = order.note
    for key, value in (
        ("company_id", rules.company_id),
        ("warehouse_id", rules.warehouse_id),
        ("pricelist_id", rules.pricelist_id),
    ):
        if value:
            header[key] = value
    return header


def _new_summary(
    order: ShopifyOrder,
    customer: dict[str, Any],
    who: str,
    confirm: bool,
    payments: list[Action],
    rules: Rules,
) -> str:
    shipping = ", ".join(s.title for s in order.shipping) or "no shipping"
    name = order.customer.name if order.customer else "guest partner"
    new = " (new)" if "stamp" in customer else f" ({who})" if who else ""
    if order.cancelled:
        then = "; cancel it (cancelled in Shopify)"
    elif confirm:
        then = "; confirm it (paid)" if rules.settings.confirm == "paid" else "; confirm it"
    else:
        then = "; leave it as a quotation"
    summary = (
        f"Create sale order for {order.name}: {len(order.lines)} line(s), partner {name}{new}, "
        f"{shipping}{then}"
    )
    if payments:
        summary += f"; register {len(payments)} payment(s)"
    return summary


def _details(lines: list[dict[str, Any]], contacts: list[Any], payments: list[Action]) -> list[str]:
    details = [
        f"{line['product_uom_qty']:g} × {line['name']} at {line['price_unit']:.2f}"
        + (f" −{line['discount']:g}%" if line.get("discount") else "")
        for line in lines
    ]
    details += [f"new contact: {c}" for c in contacts]
    details += [p.summary for p in payments]
    return details


# ---------------------------------------------------------------- an existing order


def _existing(order: ShopifyOrder, match: Match, lookups: Lookups, rules: Rules) -> Plan:
    odoo = match.odoo
    assert odoo is not None
    lines = plan_lines(order, lookups, rules.settings)
    payments, payment_causes = (
        ([], []) if odoo.state == "cancel" else _payments(order, lookups, rules)
    )
    causes = lines.causes + payment_causes + list(lookups.denied.values())
    if causes:
        return Plan.stopped(order.label, causes)
    update = _line_update(order, match, lines.lines, rules)
    if isinstance(update, Skip):
        return Plan(order.label, summary=update.reason, skip=update)
    actions = [update] if update else []
    if rules.confirms(order) and odoo.open:
        actions.append(_confirm(order))
    actions += payments
    changes = list(actions)
    actions += _write_back(order, odoo.id, rules)
    what = ", ".join(_CHANGE_WORDS[a.kind] for a in changes if a.kind in _CHANGE_WORDS)
    adopted = match.how == "stamped"
    if not changes and not adopted and not actions:
        return Plan.skipped(
            order.label, f"Nothing the sync uses changed ({odoo.name})", lines=lines.lines
        )
    summary = f"{odoo.name} for {order.name}: {what or 'nothing to change'}"
    if adopted:
        summary = f"Adopt {odoo.name} (already in Odoo, stamped)" + (f"; {what}" if what else "")
    details = [a.summary for a in changes]
    return Plan.to_do(order.label, actions, summary, details, lines=lines.lines)


_CHANGE_WORDS = {
    "update_lines": "update the lines",
    "confirm": "confirm",
    "register_payment": "register payments",
}


def _line_update(
    order: ShopifyOrder, match: Match, lines: list[dict[str, Any]], rules: Rules
) -> Action | Skip | None:
    """The lines the console owns, changed in Shopify: rewritten if Odoo still has what we
    last wrote and the order is still a quotation; otherwise the conflict, explained."""
    odoo = match.odoo
    assert odoo is not None
    wanted = lines_digest(lines, rules.include_taxes)
    current = lines_digest(odoo.lines, rules.include_taxes)
    last = match.link.digest if match.link is not None and match.link.digest else current
    if wanted in (current, last):
        return None  # already there (our write landed), or Shopify's lines did not change
    if current != last:
        return _edited_in_odoo(order, odoo.name, lines)
    if odoo.state == "cancel" or not odoo.open:
        return _locked(order, odoo.name, odoo.state, lines)
    return Action(
        "update_lines",
        f"Update the lines of {odoo.name}: " + "; ".join(_details(lines, [], [])[:5]),
        Guard.READ_BACK,  # the retry re-reads Odoo's lines and plans again from them
        key=wanted,
        data={"lines": lines, "remove": [int(line["id"]) for line in odoo.lines]},
    )


def _cancellation(order: ShopifyOrder, match: Match, rules: Rules) -> Plan:
    odoo = match.odoo
    assert odoo is not None
    if odoo.state == "cancel":
        return Plan.skipped(order.label, f"{odoo.name} is already cancelled in Odoo")
    why = ""
    if odoo.delivered:
        why = "goods were already delivered"
    elif odoo.locked:
        why = "it is locked in Odoo"
    elif odoo.state not in ("draft", "sent", "sale"):
        why = f"it is {odoo.state}"
    if why:
        skip = not_cancelled(order, odoo.name, why)
        return Plan(order.label, summary=skip.reason, skip=skip)
    actions = [_cancel(order, odoo.name), *_write_back(order, odoo.id, rules)]
    return Plan.to_do(
        order.label, actions, f"Cancel {odoo.name} ({order.name} was cancelled in Shopify)"
    )


def _unchanged(order: ShopifyOrder, match: Match, rules: Rules) -> Plan:
    """Linked and in step, and nothing the flow reads changed: no Odoo call at all. Only a
    missing reference on the Shopify order is written again."""
    link = match.link
    assert link is not None
    name = link.label or f"sale order {link.odoo_id}"
    back = _write_back(order, link.odoo_id, rules)
    if back:
        return Plan.to_do(order.label, back, f"Wrote the Odoo reference {name} back to Shopify")
    return Plan.skipped(order.label, f"Unchanged since last sync ({name})")


# ---------------------------------------------------------------- actions


def _confirm(order: ShopifyOrder) -> Action:
    return Action("confirm", f"Confirm the sale order for {order.name}")


def _cancel(order: ShopifyOrder, name: str) -> Action:
    return Action("cancel", f"Cancel {name} ({order.name} was cancelled in Shopify)")


def _write_back(order: ShopifyOrder, odoo_id: int | None, rules: Rules) -> list[Action]:
    """The Odoo reference on the Shopify order, unless it is there already (re-seeing our own
    write must end in "unchanged", DESIGN §3.7)."""
    if not rules.settings.write_back:
        return []
    if odoo_id is not None and order.metafields.get(METAFIELD_KEY) == str(odoo_id):
        return []
    return [
        Action(
            "write_back",
            f"Write the Odoo reference on {order.name} (shopodoo.{METAFIELD_KEY})",
            key=METAFIELD_KEY,
            reviewed=False,
        )
    ]


def _payments(
    order: ShopifyOrder, lookups: Lookups, rules: Rules
) -> tuple[list[Action], list[Cause]]:
    """Each captured Shopify payment as a posted customer payment in the journal mapped to its
    gateway (option ``register_payments``); stamped per transaction, so money is recorded once.
    An unmapped gateway blocks the order like an unmapped SKU."""
    if not rules.settings.register_payments or order.cancelled:
        return [], []
    missing = sorted({p.gateway for p in order.payments if p.gateway not in lookups.journals})
    if missing:
        cause = Cause(
            code="mapping.gateway_missing",
            record=order.label,
            missing="no Odoo journal is mapped for the payment gateway(s) "
            + ", ".join(f"'{g}'" for g in missing),
            blocked_on=tuple(mapping_key("gateway", g) for g in missing),
            retry_note=NOTHING_CREATED,
        )
        return [], [cause]
    actions = []
    for p in order.payments:
        stamp = payment_stamp(rules.shop, p.legacy_id)
        known = lookups.payments.get(stamp)
        if known is not None and known[1] != "draft":
            continue  # registered and posted already
        actions.append(
            Action(
                "register_payment",
                f"payment {float(p.amount):.2f} via {p.gateway}",
                Guard.STAMP,
                key=stamp,
                data={
                    "journal_id": lookups.journals[p.gateway],
                    "amount": float(p.amount),
                    "memo": f"{order.name} · {p.gateway} · Shopify transaction {p.legacy_id}",
                    "date": order.processed_at[:10],
                },
            )
        )
    return actions, []


# ---------------------------------------------------------------- conflicts


def _edited_in_odoo(order: ShopifyOrder, name: str, lines: list[dict[str, Any]]) -> Skip:
    return Skip(
        f"Not applied: {name} was edited in Odoo",
        Cause(
            code="conflict.edited_in_odoo",
            record=f"{order.label} ↔ Odoo {name}",
            missing=f"the lines of {name} were changed in Odoo since the console last wrote "
            f"them, and {order.name} changed in Shopify too; the Shopify change was not "
            "written: " + "; ".join(_details(lines, [], [])[:5]),
            retry_note="nothing was overwritten",
        ),
    )


def _locked(order: ShopifyOrder, name: str, state: str, lines: list[dict[str, Any]]) -> Skip:
    word = "cancelled" if state == "cancel" else "already confirmed"
    return Skip(
        f"Not applied: {name} is {word}",
        Cause(
            code="conflict.order_locked",
            record=f"{order.label} ↔ Odoo {name}",
            missing=f"{order.name} changed in Shopify after {name} was {word} in Odoo (state "
            f"{state}); the change was not written. Shopify now has: "
            + "; ".join(_details(lines, [], [])[:5]),
            fix=f"Apply the change to {name} by hand in Odoo if it matters "
            "(e.g. cancel and re-create, or add the lines).",
            retry_note="nothing was written to Odoo",
        ),
    )


def not_cancelled(order: ShopifyOrder, name: str, why: str) -> Skip:
    return Skip(
        f"Not cancelled: {name} ({why})",
        Cause(
            code="conflict.order_locked",
            record=f"{order.label} ↔ Odoo {name}",
            missing=f"{order.name} was cancelled in Shopify but {name} cannot be cancelled "
            f"automatically: {why}",
            fix=f"Handle the return or cancellation of {name} in Odoo.",
            retry_note="nothing was written to Odoo",
        ),
    )


def _deleted(order: ShopifyOrder, match: Match, shop: ShopRef) -> Cause:
    where = "linked" if match.how == "linked" else "stamped"
    return Cause(
        code="odoo.record_deleted",
        record=f"{order.label} ↔ Odoo sale order {match.odoo_id}",
        missing=f"the Odoo sale order {match.odoo_id} that this Shopify order is {where} to "
        "no longer exists (deleted in Odoo)",
        fix=f"If it was deleted on purpose, resolve the job. To create it again, forget the "
        f"link (`shopodoo links forget {shop.domain} order {order.id}`) and retry.",
        retry_note="retrying as it is would fail again: the console never re-creates a "
        "record a person deleted without being told to",
    )


def _odoo_datetime(value: str) -> str:
    """``2026-11-27T10:00:00Z`` → ``2026-11-27 10:00:00`` (Odoo's UTC datetime strings)."""
    return value.replace("T", " ").replace("Z", "")[:19]


def wanted_digest(plan: Plan, include_taxes: bool) -> str | None:
    """The digest of the lines a plan writes (what the link keeps as "what we last wrote")."""
    lines = plan.extra.get("lines")
    return lines_digest(lines, include_taxes) if lines is not None else None
