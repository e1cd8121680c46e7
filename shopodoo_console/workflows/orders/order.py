"""A Shopify order as the orders flow reads it: typed, validated, with a digest.

The client returns orders as Shopify sends them (real field names, money as strings). This
module reads exactly the fields the flow uses and refuses a malformed order with
``data.invalid_payload`` naming the field, instead of failing somewhere deep in a plan. The
digest covers those fields only, so our own write-backs (a metafield, which bumps
``updatedAt``) are recognised as "unchanged" (DESIGN §3.7).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shopodoo_console.causes import Cause, CauseError

PAID_STATUSES = ("PAID",)


@dataclass(frozen=True)
class Address:
    name: str
    company: str
    street: str
    street2: str
    city: str
    zip: str
    country_code: str
    province_code: str
    phone: str

    @property
    def key(self) -> str:
        """Identity of the address, for reusing one Odoo contact per distinct address."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def one_line(self) -> str:
        parts = [self.name, self.street, self.zip + " " + self.city, self.country_code]
        return ", ".join(p.strip() for p in parts if p.strip())


@dataclass(frozen=True)
class Line:
    id: str
    title: str
    variant_title: str
    sku: str
    barcode: str
    variant_id: str
    quantity: int
    unit_price: Decimal
    discount: Decimal  # total allocated to the line, shop currency
    tax_lines: tuple[tuple[str, Decimal], ...]  # (title, rate percentage)

    @property
    def is_custom(self) -> bool:
        """A custom line item (gift wrapping, a service): no variant and no SKU."""
        return not self.variant_id and not self.sku

    @property
    def product_key(self) -> str:
        """What a product mapping for this line is keyed by: the SKU, else the variant, else
        the title (custom line items have neither)."""
        return self.sku or self.variant_id or f"title:{self.title}"

    def describe(self) -> str:
        sku = f"SKU {self.sku!r}" if self.sku else "no SKU"
        title = self.title + (f" — {self.variant_title}" if self.variant_title else "")
        return f"{sku} ({title})"


@dataclass(frozen=True)
class Shipping:
    title: str
    code: str
    price: Decimal
    tax_lines: tuple[tuple[str, Decimal], ...]

    @property
    def carrier_key(self) -> str:
        return self.code or self.title


@dataclass(frozen=True)
class Payment:
    """A successful sale or capture: money received through one gateway."""

    id: str
    legacy_id: str
    gateway: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Customer:
    id: str
    legacy_id: str
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class ShopifyOrder:
    id: str
    legacy_id: str
    name: str
    updated_at: str
    processed_at: str
    cancelled_at: str | None
    financial_status: str | None
    currency: str
    taxes_included: bool
    test: bool  # placed with Shopify's test gateway: not a real sale
    note: str
    email: str
    phone: str
    customer: Customer | None
    billing: Address | None
    shipping_address: Address | None
    lines: tuple[Line, ...]
    shipping: tuple[Shipping, ...]
    payments: tuple[Payment, ...]
    metafields: dict[str, str]
    quantity_total: int = 0  # currentSubtotalLineItemsQuantity
    watch: tuple[str, ...] = ()  # see :func:`watched`

    @property
    def label(self) -> str:
        return f"Shopify order {self.name}"

    @property
    def paid(self) -> bool:
        return self.financial_status in PAID_STATUSES

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def digest(self) -> str:
        """A digest of every field the flow uses (not ``updatedAt``, not our metafields)."""
        data = asdict(self)
        for volatile in ("updated_at", "metafields", "quantity_total", "watch"):
            data.pop(volatile)
        blob = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


# ---------------------------------------------------------------- parsing


class _Reader:
    """Reads fields of one order, naming the path of anything missing or malformed."""

    def __init__(self, order_label: str) -> None:
        self.label = order_label

    def fail(self, path: str, problem: str) -> CauseError:
        return CauseError(
            Cause(
                code="data.invalid_payload",
                record=self.label,
                missing=f"Shopify sent the order with {path} {problem}",
                retry_note="nothing was written; a retry fetches the order again",
                fix="Check the order in Shopify admin; if it looks right, report this message.",
            )
        )

    def get(self, data: Any, path: str, key: str, *, required: bool = True) -> Any:
        if not isinstance(data, dict):
            raise self.fail(path, "not an object")
        value = data.get(key)
        if value is None and required:
            raise self.fail(f"{path}.{key}", "missing")
        return value

    def text(self, data: Any, path: str, key: str) -> str:
        value = self.get(data, path, key, required=False)
        return "" if value is None else str(value)

    def money(self, data: Any, path: str, key: str, *, required: bool = True) -> Decimal:
        bag = self.get(data, path, key, required=required)
        if bag is None:
            return Decimal("0")
        amount = self.get(
            self.get(bag, f"{path}.{key}", "shopMoney"), f"{path}.{key}.shopMoney", "amount"
        )
        try:
            return Decimal(str(amount))
        except InvalidOperation:
            raise self.fail(
                f"{path}.{key}.shopMoney.amount", f"not a number ({amount!r})"
            ) from None

    def nodes(self, data: Any, path: str, key: str) -> list[Any]:
        connection = self.get(data, path, key, required=False)
        if connection is None:
            return []
        if isinstance(connection, list):
            return connection
        items = self.get(connection, f"{path}.{key}", "nodes")
        if not isinstance(items, list):
            raise self.fail(f"{path}.{key}.nodes", "not a list")
        return items


def _tax_lines(r: _Reader, raw: list[Any], path: str) -> tuple[tuple[str, Decimal], ...]:
    out = []
    for i, tax in enumerate(raw or []):
        title = r.text(tax, f"{path}[{i}]", "title")
        rate = tax.get("ratePercentage") if isinstance(tax, dict) else None
        if rate is None and isinstance(tax, dict) and tax.get("rate") is not None:
            rate = Decimal(str(tax["rate"])) * 100
        out.append((title, Decimal(str(rate or 0)).normalize()))
    return tuple(out)


def _address(r: _Reader, data: Any, path: str) -> Address | None:
    if data is None:
        return None
    name = " ".join(
        p for p in (r.text(data, path, "firstName"), r.text(data, path, "lastName")) if p
    )
    return Address(
        name=name,
        company=r.text(data, path, "company"),
        street=r.text(data, path, "address1"),
        street2=r.text(data, path, "address2"),
        city=r.text(data, path, "city"),
        zip=r.text(data, path, "zip"),
        country_code=r.text(data, path, "countryCodeV2"),
        province_code=r.text(data, path, "provinceCode"),
        phone=r.text(data, path, "phone"),
    )


def parse_order(raw: Any, label: str = "Shopify order") -> ShopifyOrder:
    """Read the fields the flow uses from a ``fragments/OrderSync`` order."""
    r = _Reader(label)
    if not isinstance(raw, dict):
        raise r.fail("the order", "not an object")
    name = str(r.get(raw, "order", "name"))
    r.label = f"Shopify order {name} ({raw.get('id')})"
    lines = _lines(r, raw)
    quantity = raw.get("currentSubtotalLineItemsQuantity")
    return ShopifyOrder(
        id=str(r.get(raw, "order", "id")),
        legacy_id=str(r.get(raw, "order", "legacyResourceId")),
        name=name,
        updated_at=str(r.get(raw, "order", "updatedAt")),
        processed_at=str(raw.get("processedAt") or raw.get("createdAt") or ""),
        cancelled_at=raw.get("cancelledAt"),
        financial_status=raw.get("displayFinancialStatus"),
        currency=str(raw.get("currencyCode") or ""),
        taxes_included=bool(raw.get("taxesIncluded")),
        test=bool(raw.get("test")),
        note=r.text(raw, "order", "note"),
        email=(raw.get("email") or "").strip().lower(),
        phone=(raw.get("phone") or "").strip(),
        customer=_customer(r, raw),
        billing=_address(r, raw.get("billingAddress"), "billingAddress"),
        shipping_address=_address(r, raw.get("shippingAddress"), "shippingAddress"),
        lines=tuple(lines),
        shipping=tuple(_shipping(r, raw)),
        payments=tuple(_payments(r, raw)),
        metafields=_metafields(r, raw),
        quantity_total=int(quantity)
        if isinstance(quantity, int)
        else sum(line.quantity for line in lines),
        watch=watched(raw),
    )


WATCHED = (
    "displayFinancialStatus",
    "cancelledAt",
    "note",
    "email",
    "phone",
    "currentSubtotalLineItemsQuantity",
)


def watched(raw: Any) -> tuple[str, ...]:
    """The order's scalar fields that most changes touch (payment, cancellation, an edit of
    quantities, the note or contact): free to read back with a write, so a change made between
    our fetch and our write-back is told from our own write (DESIGN §3.7)."""
    data = raw if isinstance(raw, dict) else {}
    return tuple(str(data.get(key) or "").strip() for key in WATCHED)


def _customer(r: _Reader, raw: dict[str, Any]) -> Customer | None:
    c = raw.get("customer")
    if c is None:
        return None
    email = (c.get("defaultEmailAddress") or {}).get("emailAddress") or ""
    # The order's phone stands in when the customer's own is not fetched (it costs a point).
    phone = (c.get("defaultPhoneNumber") or {}).get("phoneNumber") or raw.get("phone") or ""
    full = " ".join(
        p for p in (r.text(c, "customer", "firstName"), r.text(c, "customer", "lastName")) if p
    )
    return Customer(
        id=str(r.get(c, "customer", "id")),
        legacy_id=str(r.get(c, "customer", "legacyResourceId")),
        name=full or c.get("displayName") or email or "Shopify customer",
        email=email.strip().lower(),
        phone=phone.strip(),
    )


def _lines(r: _Reader, raw: dict[str, Any]) -> list[Line]:
    lines = []
    for i, node in enumerate(r.nodes(raw, "order", "lineItems")):
        path = f"lineItems[{i}]"
        variant = r.get(node, path, "variant", required=False) or {}
        # currentQuantity: what is left after order edits and removals (quantity is original).
        quantity = node.get("currentQuantity")
        if quantity is None:
            quantity = r.get(node, path, "quantity")
        if not isinstance(quantity, int) or quantity < 0:
            raise r.fail(f"{path}.quantity", f"not a whole number ({quantity!r})")
        discount = sum(
            (
                r.money(a, f"{path}.discountAllocations", "allocatedAmountSet")
                for a in node.get("discountAllocations") or []
            ),
            Decimal("0"),
        )
        lines.append(
            Line(
                id=str(r.get(node, path, "id")),
                title=r.text(node, path, "title"),
                variant_title=r.text(node, path, "variantTitle"),
                sku=(node.get("sku") or variant.get("sku") or "").strip(),
                barcode=(variant.get("barcode") or "").strip(),
                variant_id=str(variant.get("id") or ""),
                quantity=quantity,
                unit_price=r.money(node, path, "originalUnitPriceSet"),
                discount=discount,
                tax_lines=_tax_lines(r, node.get("taxLines") or [], f"{path}.taxLines"),
            )
        )
    return lines


def _shipping(r: _Reader, raw: dict[str, Any]) -> list[Shipping]:
    shipping = []
    for i, node in enumerate(r.nodes(raw, "order", "shippingLines")):
        path = f"shippingLines[{i}]"
        price_key = "discountedPriceSet" if node.get("discountedPriceSet") else "originalPriceSet"
        shipping.append(
            Shipping(
                title=r.text(node, path, "title"),
                code=r.text(node, path, "code"),
                price=r.money(node, path, price_key),
                tax_lines=_tax_lines(r, node.get("taxLines") or [], f"{path}.taxLines"),
            )
        )
    return shipping


def _payments(r: _Reader, raw: dict[str, Any]) -> list[Payment]:
    payments = []
    for i, tx in enumerate(raw.get("transactions") or []):
        path = f"transactions[{i}]"
        if not isinstance(tx, dict) or tx.get("status") != "SUCCESS" or tx.get("test"):
            continue
        if tx.get("kind") not in ("SALE", "CAPTURE"):
            continue  # authorizations move no money; refunds are not synced (yet)
        gid = str(r.get(tx, path, "id"))
        bag = r.get(r.get(tx, path, "amountSet"), f"{path}.amountSet", "shopMoney")
        payments.append(
            Payment(
                id=gid,
                legacy_id=gid.rsplit("/", 1)[-1],
                gateway=str(tx.get("gateway") or "unknown"),
                amount=r.money(tx, path, "amountSet"),
                currency=str(bag.get("currencyCode") or ""),
            )
        )
    return payments


def _metafields(r: _Reader, raw: dict[str, Any]) -> dict[str, str]:
    metafields = {}
    for node in r.nodes(raw, "order", "metafields"):
        if isinstance(node, dict) and node.get("namespace") == "shopodoo":
            metafields[str(node.get("key"))] = str(node.get("value"))
    return metafields
