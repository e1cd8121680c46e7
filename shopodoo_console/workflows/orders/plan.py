"""Planning a sale order from a Shopify order: pure, no network (DESIGN §7).

A plan says exactly what will be created in Odoo and why — the contacts, the lines with their
products, the shipping, the taxes, whether the order is confirmed — and reads as one sentence
for the review mode. Anything that cannot be resolved safely becomes a cause naming every
missing piece at once, and then nothing is created at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.engine.mappings import mapping_key
from shopodoo_console.workflows.orders.matching import (
    Lookups,
    Partner,
    address_stamp,
    address_tuple,
    customer_stamp,
    order_stamp,
    payment_stamp,
    tax_key,
)
from shopodoo_console.workflows.orders.order import Address, ShopifyOrder
from shopodoo_console.workflows.orders.settings import OrdersSettings

NOTHING_CREATED = "nothing was created in Odoo for this order yet"


@dataclass
class NewContact:
    """A contact to create (stamped): the customer, or one of its addresses."""

    stamp: str
    values: dict[str, Any]
    parent: str | None = None  # the stamp of a parent created in the same batch
    parent_id: int | None = None
    label: str = ""


@dataclass
class OrderPlan:
    order_id: str
    order_name: str
    stamp: str
    customer: dict[str, Any]  # {"id": 12} or {"stamp": "acme_customer_7"}
    invoice: dict[str, Any]
    delivery: dict[str, Any]
    contacts: list[NewContact]
    header: dict[str, Any]
    lines: list[dict[str, Any]]
    confirm: bool
    summary: str
    details: list[str] = field(default_factory=list)
    # Customer payments to register: {"stamp", "journal_id", "amount", "gateway", "memo"}.
    payments: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))

    def comparable(self) -> dict[str, Any]:
        """What an approval covers: everything but the wording."""
        data = self.to_dict()
        data.pop("summary")
        data.pop("details")
        return data

    def lines_digest(self, include_taxes: bool) -> str:
        return lines_digest(self.lines, include_taxes)


def _round(value: Decimal | float, places: str) -> float:
    return float(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def normal_line(
    product_id: Any,
    qty: Any,
    price: Any,
    discount: Any,
    taxes: Any,
    include_taxes: bool,
    name: Any = "",
) -> tuple[Any, ...]:
    row: tuple[Any, ...] = (
        int(product_id),
        str(name or "").strip(),
        _round(qty, "0.001"),
        _round(price, "0.01"),
        _round(discount or 0, "0.01"),
    )
    if include_taxes:
        row += (tuple(sorted(int(t) for t in taxes or ())),)
    return row


def lines_digest(lines: list[dict[str, Any]], include_taxes: bool) -> str:
    """A digest of the lines we own (product, description, quantity, price, discount[,
    taxes]), order-free, computable both from a plan and from what Odoo holds now: that is how
    a person's edit in Odoo is told from ours (DESIGN §7)."""
    rows = sorted(
        normal_line(
            line["product_id"],
            line["product_uom_qty"],
            line["price_unit"],
            line.get("discount"),
            line.get("tax_ids"),
            include_taxes,
            line.get("name", ""),
        )
        for line in lines
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:32]


def _discount_percent(price: Decimal, quantity: int, allocated: Decimal) -> float:
    gross = price * quantity
    if gross <= 0 or allocated <= 0:
        return 0.0
    return _round(allocated / gross * 100, "0.01")


def _contact_values(
    address: Address | None,
    lookups: Lookups,
    *,
    name: str,
    email: str = "",
    phone: str = "",
    kind: str | None = None,
    company_id: int | None = None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name or (address.name if address else "") or email or "Shopify customer"
    }
    if email:
        values["email"] = email
    if phone or (address and address.phone):
        values["phone"] = phone or (address.phone if address else "")
    if address is not None:
        values.update(
            street=address.street, street2=address.street2, city=address.city, zip=address.zip
        )
        country = lookups.countries.get(address.country_code.upper())
        if country:
            values["country_id"] = country
            state = lookups.states.get(
                (address.country_code.upper(), address.province_code.upper())
            )
            if state:
                values["state_id"] = state
    if kind:
        values["type"] = kind
    if company_id:
        values["company_id"] = company_id
    return {k: v for k, v in values.items() if v not in ("", None)}


class Planner:
    def __init__(
        self,
        shop: ShopRef,
        settings: OrdersSettings,
        company_id: int | None,
        warehouse_id: int | None,
        pricelist_id: int | None,
    ) -> None:
        self.shop = shop
        self.settings = settings
        self.company_id = company_id
        self.warehouse_id = warehouse_id
        self.pricelist_id = pricelist_id

    # ---------------------------------------------------------------- the whole order

    def plan(self, order: ShopifyOrder, lookups: Lookups) -> OrderPlan | Cause:
        if not order.lines:
            return Cause(
                code="data.invalid_payload",
                record=order.label,
                missing="the order has no line items",
                retry_note=NOTHING_CREATED,
            )
        lines, problems = self._lines(order, lookups)
        if isinstance(problems, Cause):
            return problems
        payments = self.payments(order, lookups)
        if isinstance(payments, Cause):
            return payments
        customer = self._customer(order, lookups)
        if isinstance(customer, Cause):
            return customer
        ref, contacts, who = customer
        invoice, delivery = ref, ref
        main = address_tuple(order.billing or order.shipping_address)
        if isinstance(ref.get("partner"), Partner):
            main = ref["partner"].address
        ref = {k: v for k, v in ref.items() if k != "partner"}
        invoice, delivery = dict(ref), dict(ref)
        owner = self._owner(order)
        for role, address in (("invoice", order.billing), ("delivery", order.shipping_address)):
            if address is None or address_tuple(address) == main or owner is None:
                continue
            stamp = address_stamp(self.shop, owner, role, address)
            target: dict[str, Any] = {"stamp": stamp}
            if stamp in lookups.stamps:
                target = {"id": lookups.stamps[stamp][1]}
            else:
                contacts.append(
                    NewContact(
                        stamp=stamp,
                        values=_contact_values(
                            address,
                            lookups,
                            name=address.name or who,
                            kind=role,
                            company_id=self.company_id,
                        ),
                        parent=ref.get("stamp"),
                        parent_id=ref.get("id"),
                        label=f"{role} address {address.one_line()}",
                    )
                )
            if role == "invoice":
                invoice = target
            else:
                delivery = target
        header: dict[str, Any] = {
            "client_order_ref": order.name,
            "origin": f"Shopify {self.shop.domain} {order.name}",
            "date_order": _odoo_datetime(order.processed_at),
        }
        if order.note:
            header["note"] = order.note
        for key, value in (
            ("company_id", self.company_id),
            ("warehouse_id", self.warehouse_id),
            ("pricelist_id", self.pricelist_id),
        ):
            if value:
                header[key] = value
        confirm = self._confirm(order)
        shipping = ", ".join(s.title for s in order.shipping) or "no shipping"
        new = " (new)" if "stamp" in ref else f" ({who})" if who else ""
        summary = (
            f"Create sale order for {order.name}: {len(order.lines)} line(s), partner "
            f"{self._customer_name(order)}{new}, {shipping}"
            + (
                "; confirm it (paid)"
                if confirm and self.settings.confirm == "paid"
                else "; confirm it"
                if confirm
                else "; leave it as a quotation"
            )
        )
        details = [
            f"{line['product_uom_qty']:g} × {line['name']} at {line['price_unit']:.2f}"
            + (f" −{line['discount']:g}%" if line.get("discount") else "")
            for line in lines
        ]
        details += [f"new contact: {c.label or c.values.get('name')}" for c in contacts]
        details += [f"payment {p['amount']:.2f} via {p['gateway']}" for p in payments]
        if payments:
            summary += f"; register {len(payments)} payment(s)"
        return OrderPlan(
            order_id=order.id,
            order_name=order.name,
            stamp=order_stamp(self.shop, order),
            customer=ref,
            invoice=invoice,
            delivery=delivery,
            contacts=contacts,
            header=header,
            lines=lines,
            confirm=confirm,
            summary=summary,
            details=details,
            payments=payments,
        )

    def payments(self, order: ShopifyOrder, lookups: Lookups) -> list[dict[str, Any]] | Cause:
        """The customer payments to register (option ``register_payments``): each captured
        Shopify transaction into the journal mapped to its gateway. An unmapped gateway stops
        the order before anything is created, like an unmapped SKU."""
        if not self.settings.register_payments or order.cancelled:
            return []
        missing = sorted({p.gateway for p in order.payments if p.gateway not in lookups.journals})
        if missing:
            return Cause(
                code="mapping.gateway_missing",
                record=order.label,
                missing="no Odoo journal is mapped for the payment gateway(s) "
                + ", ".join(f"'{g}'" for g in missing),
                blocked_on=tuple(mapping_key("gateway", g) for g in missing),
                retry_note=NOTHING_CREATED,
            )
        return [
            {
                "stamp": payment_stamp(self.shop, p.legacy_id),
                "journal_id": lookups.journals[p.gateway],
                "amount": float(p.amount),
                "gateway": p.gateway,
                "memo": f"{order.name} · {p.gateway} · Shopify transaction {p.legacy_id}",
                "date": order.processed_at[:10],
            }
            for p in order.payments
        ]

    def should_confirm(self, order: ShopifyOrder) -> bool:
        """The shop's rule: confirm once paid (default), always, or never."""
        return self._confirm(order)

    def _confirm(self, order: ShopifyOrder) -> bool:
        if order.cancelled:
            return False
        return self.settings.confirm == "always" or (self.settings.confirm == "paid" and order.paid)

    @staticmethod
    def _owner(order: ShopifyOrder) -> str | None:
        return order.customer.legacy_id if order.customer else "guest"

    @staticmethod
    def _customer_name(order: ShopifyOrder) -> str:
        if order.customer:
            return order.customer.name
        return "guest partner"

    # ---------------------------------------------------------------- customer

    def _customer(
        self, order: ShopifyOrder, lookups: Lookups
    ) -> tuple[dict[str, Any], list[NewContact], str] | Cause:
        customer = order.customer
        if customer is None:
            if self.settings.guest_partner_id:
                return {"id": self.settings.guest_partner_id}, [], "guest partner"
            return Cause(
                code="mapping.customer_missing",
                record=order.label,
                missing="the order has no customer (a guest checkout) and the shop has no "
                "guest partner set",
                fix="Set options.guest_partner_id for the shop in the config (an Odoo contact "
                "used for guest orders), then retry.",
                retry_note=NOTHING_CREATED,
            )
        link = lookups.customer_links.get(customer.id)
        if link is not None:
            return {"id": link.odoo_id}, [], "linked"
        stamp = customer_stamp(self.shop, customer.legacy_id)
        if stamp in lookups.stamps:
            return {"id": lookups.stamps[stamp][1]}, [], "created earlier by the console"
        match = (lookups.partners_by_email.get(customer.email) if customer.email else None) or (
            lookups.partners_by_phone.get(customer.phone) if customer.phone else None
        )
        if match is not None:
            return {"id": match.id, "partner": match}, [], match.how
        address = order.billing or order.shipping_address
        values = _contact_values(
            address,
            lookups,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            company_id=self.company_id,
        )
        return (
            {"stamp": stamp},
            [NewContact(stamp=stamp, values=values, label=f"customer {customer.name}")],
            "new",
        )

    # ---------------------------------------------------------------- lines

    def _lines(
        self, order: ShopifyOrder, lookups: Lookups
    ) -> tuple[list[dict[str, Any]], Cause | None]:
        lines: list[dict[str, Any]] = []
        missing_products: list[str] = []
        blocked: list[str] = []
        missing_taxes: list[str] = []
        mapped_taxes = self.settings.taxes == "mapped"
        for line in order.lines:
            if line.quantity == 0:
                continue  # removed by an order edit
            match = lookups.products.get(line.product_key)
            if match is None:
                note = ""
                if line.product_key in lookups.ambiguous:
                    note = f" — {lookups.ambiguous[line.product_key]} Odoo products match it"
                missing_products.append(line.describe() + note)
                blocked.append(mapping_key("product", line.product_key))
                continue
            values: dict[str, Any] = {
                "product_id": match.id,
                "name": line.title + (f" — {line.variant_title}" if line.variant_title else ""),
                "product_uom_qty": line.quantity,
                "price_unit": float(line.unit_price),
                "discount": _discount_percent(line.unit_price, line.quantity, line.discount),
            }
            if mapped_taxes:
                values["tax_ids"] = self._taxes(line.tax_lines, lookups, missing_taxes, blocked)
            lines.append(values)
        for shipping in order.shipping:
            carrier = lookups.carriers.get(shipping.carrier_key)
            product = carrier[1] if carrier else self.settings.shipping_product_id
            if product is None:
                blocked.append(mapping_key("carrier", shipping.carrier_key))
                missing_products.append(
                    f"shipping method {shipping.carrier_key!r} (no carrier "
                    "mapping and no shipping_product_id)"
                )
                continue
            values = {
                "product_id": product,
                "name": f"Shipping: {shipping.title}",
                "product_uom_qty": 1,
                "price_unit": float(shipping.price),
                "discount": 0.0,
            }
            if mapped_taxes:
                values["tax_ids"] = self._taxes(shipping.tax_lines, lookups, missing_taxes, blocked)
            lines.append(values)
        if missing_products:
            product_keys = [b for b in blocked if b.startswith("product:")]
            code = "mapping.product_missing" if product_keys else "mapping.carrier_missing"
            return lines, Cause(
                code=code,
                record=order.label,
                missing=f"{len(missing_products)} line(s) have no Odoo product: "
                + "; ".join(missing_products),
                blocked_on=tuple(dict.fromkeys(blocked)),
                retry_note=NOTHING_CREATED,
            )
        if missing_taxes:
            return lines, Cause(
                code="mapping.tax_missing",
                record=order.label,
                missing="no Odoo tax is mapped for: " + ", ".join(dict.fromkeys(missing_taxes)),
                blocked_on=tuple(dict.fromkeys(blocked)),
                retry_note=NOTHING_CREATED,
            )
        return lines, None

    @staticmethod
    def _taxes(
        tax_lines: tuple[tuple[str, Decimal], ...],
        lookups: Lookups,
        missing: list[str],
        blocked: list[str],
    ) -> list[int]:
        ids = []
        for title, rate in tax_lines:
            key = tax_key(title, rate)
            if key in lookups.taxes:
                ids.append(lookups.taxes[key])
            else:
                missing.append(key)
                blocked.append(mapping_key("tax", key))
        return ids


def _odoo_datetime(value: str) -> str:
    """``2026-11-27T10:00:00Z`` → ``2026-11-27 10:00:00`` (Odoo's UTC datetime strings)."""
    text = value.replace("T", " ").replace("Z", "")
    return text[:19]
