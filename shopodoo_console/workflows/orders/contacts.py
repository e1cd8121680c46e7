"""Who the sale order is for: the customer and its invoice and delivery contacts (pure).

The customer is found by link, then by its stamp (created by the console earlier), then by
e-mail or phone; only then is a new contact planned, stamped, with its addresses as children
when they differ from the customer's own. A guest checkout uses the shop's guest partner, or
blocks the order with a cause that says which option to set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.workflows.orders.lines import NOTHING_CREATED
from shopodoo_console.workflows.orders.match import (
    Lookups,
    Partner,
    address_stamp,
    address_tuple,
    customer_stamp,
)
from shopodoo_console.workflows.orders.order import Address, ShopifyOrder
from shopodoo_console.workflows.orders.settings import OrdersSettings


@dataclass
class NewContact:
    """A contact to create (stamped): the customer, or one of its addresses."""

    stamp: str
    values: dict[str, Any]
    parent: str | None = None  # the stamp of a parent created in the same batch
    parent_id: int | None = None
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NewContact:
        return cls(**data)


@dataclass
class ContactsPlan:
    """Partner references are ``{"id": 12}`` (exists) or ``{"stamp": "..."}`` (created)."""

    customer: dict[str, Any] = field(default_factory=dict)
    invoice: dict[str, Any] = field(default_factory=dict)
    delivery: dict[str, Any] = field(default_factory=dict)
    new: list[NewContact] = field(default_factory=list)
    who: str = ""  # how the customer was found, for the summary
    cause: Cause | None = None


def plan_contacts(
    order: ShopifyOrder,
    lookups: Lookups,
    shop: ShopRef,
    settings: OrdersSettings,
    company_id: int | None,
) -> ContactsPlan:
    found = _customer(order, lookups, shop, settings, company_id)
    if found.cause is not None:
        return found
    main = address_tuple(order.billing or order.shipping_address)
    partner = found.customer.pop("partner", None)
    if isinstance(partner, Partner):
        main = partner.address
    found.invoice, found.delivery = dict(found.customer), dict(found.customer)
    owner = order.customer.legacy_id if order.customer else "guest"
    for role, address in (("invoice", order.billing), ("delivery", order.shipping_address)):
        if address is None or address_tuple(address) == main:
            continue
        target = _address(order, role, address, owner, found, lookups, shop, company_id)
        if role == "invoice":
            found.invoice = target
        else:
            found.delivery = target
    return found


def _address(
    order: ShopifyOrder,
    role: str,
    address: Address,
    owner: str,
    found: ContactsPlan,
    lookups: Lookups,
    shop: ShopRef,
    company_id: int | None,
) -> dict[str, Any]:
    """One Odoo contact per (customer, role, distinct address): reused by later orders."""
    stamp = address_stamp(shop, owner, role, address)
    if stamp in lookups.stamps:
        return {"id": lookups.stamps[stamp][1]}
    found.new.append(
        NewContact(
            stamp=stamp,
            values=contact_values(
                address, lookups, name=address.name or found.who, kind=role, company_id=company_id
            ),
            parent=found.customer.get("stamp"),
            parent_id=found.customer.get("id"),
            label=f"{role} address {address.one_line()}",
        )
    )
    return {"stamp": stamp}


def _customer(
    order: ShopifyOrder,
    lookups: Lookups,
    shop: ShopRef,
    settings: OrdersSettings,
    company_id: int | None,
) -> ContactsPlan:
    customer = order.customer
    if customer is None:
        if settings.guest_partner_id:
            return ContactsPlan({"id": settings.guest_partner_id}, who="guest partner")
        return ContactsPlan(
            cause=Cause(
                code="mapping.customer_missing",
                record=order.label,
                missing="the order has no customer (a guest checkout) and the shop has no "
                "guest partner set",
                fix="Set options.guest_partner_id for the shop in the config (an Odoo contact "
                "used for guest orders), then retry.",
                retry_note=NOTHING_CREATED,
            )
        )
    link = lookups.customer_links.get(customer.id)
    if link is not None:
        return ContactsPlan({"id": link.odoo_id}, who="linked")
    stamp = customer_stamp(shop, customer.legacy_id)
    if stamp in lookups.stamps:
        return ContactsPlan({"id": lookups.stamps[stamp][1]}, who="created earlier by the console")
    match = (lookups.partners_by_email.get(customer.email) if customer.email else None) or (
        lookups.partners_by_phone.get(customer.phone) if customer.phone else None
    )
    if match is not None:
        return ContactsPlan({"id": match.id, "partner": match}, who=match.how)
    values = contact_values(
        order.billing or order.shipping_address,
        lookups,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        company_id=company_id,
    )
    new = NewContact(stamp=stamp, values=values, label=f"customer {customer.name}")
    return ContactsPlan({"stamp": stamp}, new=[new], who="new")


def contact_values(
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
