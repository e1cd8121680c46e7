"""The simulated shop's records, kept as dicts with Shopify's own field names.

Scalar and plain-object fields are stored exactly as the API returns them; relations are kept
as GIDs under keys starting with ``_`` and resolved by :mod:`.resolvers`. Every record that is a
``Node`` is also in :attr:`Store.nodes` by GID. One re-entrant lock guards everything: the
simulator is about behaviour, not speed.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .util import bag, dec, gid, iso, legacy, now, parse_iso

QUANTITY_NAMES = (
    "available",
    "committed",
    "damaged",
    "incoming",
    "on_hand",
    "quality_control",
    "reserved",
    "safety_stock",
)
DEFAULT_SCOPES = (
    "read_orders",
    "write_orders",
    "read_all_orders",
    "read_customers",
    "write_customers",
    "read_products",
    "write_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_fulfillments",
    "write_fulfillments",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "write_assigned_fulfillment_orders",
)
CENT = Decimal("0.01")
# Money in the shop's and the order's presentment currency, as a MoneyBag node.
MoneyBag = Callable[[Decimal], dict[str, Any]]
LOCATION_ADDRESS = (
    "address1",
    "address2",
    "city",
    "province",
    "provinceCode",
    "zip",
    "country",
    "countryCode",
    "phone",
)


class StateError(ValueError):
    """A control-API request that does not fit the shop (unknown SKU, location...)."""


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _address(spec: Mapping[str, Any] | None, number: int) -> dict[str, Any] | None:
    if not spec:
        return None
    fields = [
        "firstName",
        "lastName",
        "company",
        "address1",
        "address2",
        "city",
        "province",
        "provinceCode",
        "zip",
        "country",
        "countryCodeV2",
        "phone",
    ]
    out: dict[str, Any] = {"__typename": "MailingAddress", "id": gid("MailingAddress", number)}
    out.update({name: spec.get(name) for name in fields})
    if out["countryCodeV2"] is None and spec.get("countryCode"):
        out["countryCodeV2"] = spec["countryCode"]
    return out


def _order_contact(
    spec: Mapping[str, Any], customer: Mapping[str, Any] | None
) -> tuple[str | None, Any]:
    """The order's e-mail and shipping address: the spec's, else the customer's defaults."""
    email = spec.get("email")
    if email is None and customer and customer["defaultEmailAddress"]:
        email = customer["defaultEmailAddress"]["emailAddress"]
    ship_spec = spec.get("shippingAddress")
    if ship_spec is None and customer and customer["defaultAddress"]:
        ship_spec = customer["defaultAddress"]
    return email, ship_spec


class Store:
    """All records of one simulated shop, plus the domain operations that change them."""

    def __init__(self, shop: Mapping[str, Any] | None = None) -> None:
        shop = dict(shop or {})
        self.lock = threading.RLock()
        self._ids = itertools.count(10_000_000_001)
        self.shop: dict[str, Any] = {
            "name": shop.get("name", "Shopodoo Demo Store"),
            "domain": shop.get("domain", "shopodoo-demo.myshopify.com"),
            "currencyCode": shop.get("currencyCode", "EUR"),
            "ianaTimezone": shop.get("ianaTimezone", "America/New_York"),
            "utcOffset": shop.get("utcOffset", "-05:00"),
            "plan": shop.get("plan", "standard"),
        }
        self.nodes: dict[str, dict[str, Any]] = {}
        self.orders: list[str] = []
        self.customers: list[str] = []
        self.products: list[str] = []
        self.variants: list[str] = []
        self.locations: list[str] = []
        self.levels: dict[tuple[str, str], dict[str, Any]] = {}
        self.metafields: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, Any]] = {}
        self.inflight: dict[str, object] = {}  # idempotency key -> the request running with it
        self.failed_keys: set[str] = set()  # keys of attempts that failed (§8.4)
        # every quantity an inventorySetQuantities changed: (item, location, name, delta, group)
        self.adjustments: list[tuple[str, str, str, int, str]] = []
        self.order_number = itertools.count(int(shop.get("firstOrderNumber", 1001)))
        self.fulfillment_counts: dict[str, int] = {}
        self.order_window_days: int | None = shop.get("orderWindowDays")

    # -- basics ---------------------------------------------------------------------------

    @property
    def tz(self) -> timezone:
        sign = -1 if self.shop["utcOffset"].startswith("-") else 1
        hours, minutes = self.shop["utcOffset"][1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    def new_gid(self, kind: str) -> str:
        return gid(kind, next(self._ids))

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        self.nodes[record["id"]] = record
        return record

    def get(self, gid_: str | None, kind: str | None = None) -> dict[str, Any] | None:
        record = self.nodes.get(gid_ or "")
        if record is None or (kind and record["__typename"] != kind):
            return None
        return record

    def claim_keys(self, keys: Iterable[str], token: object) -> None:
        """Idempotency keys a request is running with, until :meth:`release_keys`."""
        with self.lock:
            for key in keys:
                self.inflight.setdefault(key, token)

    def release_keys(self, keys: Iterable[str], token: object) -> None:
        with self.lock:
            for key in keys:
                if self.inflight.get(key) is token:
                    del self.inflight[key]

    def touch(self, record: dict[str, Any], at: datetime | None = None) -> str:
        """Bump ``updatedAt`` to now (strictly later than before, second precision)."""
        when = at or now()
        previous = record.get("updatedAt")
        if previous and when <= parse_iso(previous):
            when = parse_iso(previous) + timedelta(seconds=1)
        record["updatedAt"] = iso(when)
        return record["updatedAt"]

    def order_visible(self, order: Mapping[str, Any], scopes: Iterable[str]) -> bool:
        """The 60-day window (shopify.md §7.4), when switched on for this shop."""
        if self.order_window_days is None or "read_all_orders" in scopes:
            return True
        limit = datetime.now(UTC) - timedelta(days=self.order_window_days)
        return parse_iso(order["createdAt"]) >= limit

    # -- locations, products, stock -------------------------------------------------------

    def create_location(self, spec: Mapping[str, Any]) -> str:
        """A location; ``isFulfillmentService`` makes it a fulfillment service's (a 3PL)."""
        with self.lock:
            id_ = self.new_gid("Location")
            address = dict(spec.get("address") or {})
            service = bool(spec.get("isFulfillmentService", False))
            self.add(
                {
                    "__typename": "Location",
                    "id": id_,
                    "legacyResourceId": str(legacy(id_)),
                    "name": spec["name"],
                    "isActive": spec.get("isActive", True),
                    "fulfillsOnlineOrders": spec.get("fulfillsOnlineOrders", True),
                    "isFulfillmentService": service,
                    "shipsInventory": spec.get("shipsInventory", True),
                    "updatedAt": iso(now()),
                    "address": {key: address.get(key) for key in LOCATION_ADDRESS},
                }
            )
            self.locations.append(id_)
            return id_

    def location(self, ref: str) -> dict[str, Any]:
        """A location by GID or by name."""
        found = self.get(ref, "Location") or next(
            (self.nodes[i] for i in self.locations if self.nodes[i]["name"] == ref), None
        )
        if found is None:
            raise StateError(f"no location {ref!r}")
        return found

    def create_product(self, spec: Mapping[str, Any]) -> str:
        with self.lock:
            product_id = self.new_gid("Product")
            stamp = spec.get("updatedAt") or iso(now())
            product = self.add(
                {
                    "__typename": "Product",
                    "id": product_id,
                    "title": spec["title"],
                    "status": spec.get("status", "ACTIVE"),
                    "vendor": spec.get("vendor"),
                    "_variants": [],
                }
            )
            self.products.append(product_id)
            for variant_spec in spec.get("variants") or [{"title": "Default Title"}]:
                variant_id = self.new_gid("ProductVariant")
                item_id = self.new_gid("InventoryItem")
                title = variant_spec.get("title", "Default Title")
                self.add(
                    {
                        "__typename": "ProductVariant",
                        "id": variant_id,
                        "legacyResourceId": str(legacy(variant_id)),
                        "sku": variant_spec.get("sku"),
                        "barcode": variant_spec.get("barcode"),
                        "title": title,
                        "displayName": spec["title"]
                        if title == "Default Title"
                        else f"{spec['title']} - {title}",
                        "price": dec(variant_spec.get("price", "10.00")),
                        "updatedAt": variant_spec.get("updatedAt", stamp),
                        "_product": product_id,
                        "_item": item_id,
                    }
                )
                self.add(
                    {
                        "__typename": "InventoryItem",
                        "id": item_id,
                        "sku": variant_spec.get("sku"),
                        "tracked": variant_spec.get("tracked", True),
                        "_variant": variant_id,
                    }
                )
                product["_variants"].append(variant_id)
                self.variants.append(variant_id)
                stock = variant_spec.get("stock")
                if stock is None:
                    stock = {self.nodes[loc]["name"]: 0 for loc in self.locations}
                for location_ref, quantity in stock.items():
                    self.stock(item_id, self.location(location_ref)["id"], int(quantity))
            return product_id

    def update_variant(self, id_: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a variant's SKU, barcode, price or title (and its item's SKU)."""
        with self.lock:
            variant = self.get(id_, "ProductVariant")
            if variant is None:
                raise StateError(f"no variant {id_}")
            for key, value in changes.items():
                if key not in ("sku", "barcode", "price", "title"):
                    raise StateError(f"cannot change variant field {key!r}")
                variant[key] = dec(value) if key == "price" else value
                if key == "sku":
                    self.nodes[variant["_item"]]["sku"] = value
            self.touch(variant)
            return variant

    def variants_by_sku(self, sku: str) -> list[dict[str, Any]]:
        return [self.nodes[v] for v in self.variants if self.nodes[v].get("sku") == sku]

    def stock(self, item_id: str, location_id: str, available: int) -> dict[str, Any]:
        """Stock an item at a location (activating the level) with ``available`` units."""
        with self.lock:
            key = (item_id, location_id)
            level = self.levels.get(key)
            if level is None:
                level_number = next(self._ids)
                level = {
                    "__typename": "InventoryLevel",
                    "id": f"gid://shopify/InventoryLevel/{level_number}"
                    f"?inventory_item_id={legacy(item_id)}",
                    "isActive": True,
                    "updatedAt": iso(now()),
                    "_item": item_id,
                    "_location": location_id,
                    "_q": dict.fromkeys(QUANTITY_NAMES, 0),
                    "_q_updated": dict.fromkeys(QUANTITY_NAMES),
                }
                self.levels[key] = level
                self.nodes[level["id"]] = level
            self.change_quantity(level, "available", available - level["_q"]["available"])
            return level

    def change_quantity(self, level: dict[str, Any], name: str, delta: int) -> None:
        """Move one quantity; ``available`` and ``on_hand`` move together (shopify.md §8.4)."""
        if not delta:
            return
        stamp = iso(now())
        names = ("available", "on_hand") if name in ("available", "on_hand") else (name,)
        for each in names:
            level["_q"][each] += delta
            level["_q_updated"][each] = stamp
        level["updatedAt"] = stamp

    # -- customers ------------------------------------------------------------------------

    def create_customer(self, spec: Mapping[str, Any]) -> str:
        with self.lock:
            id_ = self.new_gid("Customer")
            created = spec.get("createdAt") or iso(now())
            first, last = spec.get("firstName"), spec.get("lastName")
            email, phone = spec.get("email"), spec.get("phone")
            display = " ".join(p for p in (first, last) if p) or email or phone or "Customer"
            self.add(
                {
                    "__typename": "Customer",
                    "id": id_,
                    "legacyResourceId": str(legacy(id_)),
                    "firstName": first,
                    "lastName": last,
                    "displayName": display,
                    "createdAt": created,
                    "updatedAt": spec.get("updatedAt") or created,
                    "tags": sorted(spec.get("tags") or [], key=str.lower),
                    "note": spec.get("note"),
                    "state": spec.get("state", "ENABLED"),
                    "defaultEmailAddress": {"emailAddress": email} if email else None,
                    "defaultPhoneNumber": {"phoneNumber": phone} if phone else None,
                    "defaultAddress": _address(spec.get("address"), next(self._ids)),
                }
            )
            self.customers.append(id_)
            return id_

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        for id_ in self.customers:
            address = self.nodes[id_]["defaultEmailAddress"]
            if address and address["emailAddress"].lower() == wanted:
                return self.nodes[id_]
        return None

    def update_customer(self, id_: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            customer = self.get(id_, "Customer")
            if customer is None:
                raise StateError(f"no customer {id_}")
            for key, value in changes.items():
                if key == "email":
                    customer["defaultEmailAddress"] = {"emailAddress": value} if value else None
                elif key == "phone":
                    customer["defaultPhoneNumber"] = {"phoneNumber": value} if value else None
                elif key == "address":
                    customer["defaultAddress"] = _address(value, next(self._ids))
                elif key in ("firstName", "lastName", "note", "tags", "state"):
                    customer[key] = value
                else:
                    raise StateError(f"cannot change customer field {key!r}")
            self.touch(customer)
            return customer

    # -- orders ---------------------------------------------------------------------------

    def create_order(self, spec: Mapping[str, Any]) -> str:
        """Create an order from a scenario spec (see :mod:`.scenario` for the format)."""
        with self.lock:
            currency = spec.get("currencyCode", self.shop["currencyCode"])
            rate = _d(spec.get("presentmentRate", "1"))
            presentment = spec.get("presentmentCurrencyCode", currency)

            def money_bag(amount: Decimal) -> dict[str, Any]:
                shown = (amount * rate).quantize(CENT, ROUND_HALF_UP)
                return bag(amount, currency, (shown, presentment))

            id_ = self.new_gid("Order")
            number = next(self.order_number)
            created = spec.get("createdAt") or iso(now())
            customer = self._order_customer(spec.get("customer"))
            email, ship_spec = _order_contact(spec, customer)
            lines, subtotal, taxes, discounts = self._order_lines(spec, id_, money_bag)
            shipping_lines, shipping_total, taxes = self._shipping_lines(spec, money_bag, taxes)
            total = subtotal + taxes + shipping_total
            order = self.add(
                {
                    "__typename": "Order",
                    "id": id_,
                    "legacyResourceId": str(legacy(id_)),
                    "name": f"#{number}",
                    "createdAt": created,
                    "updatedAt": spec.get("updatedAt") or created,
                    "processedAt": spec.get("processedAt") or created,
                    "cancelledAt": None,
                    "cancelReason": None,
                    "closedAt": None,
                    "displayFinancialStatus": None,
                    "displayFulfillmentStatus": "UNFULFILLED",
                    "currencyCode": currency,
                    "presentmentCurrencyCode": presentment,
                    "email": email,
                    "phone": spec.get("phone"),
                    "note": spec.get("note"),
                    "tags": sorted(spec.get("tags") or [], key=str.lower),
                    "test": bool(spec.get("test", False)),
                    "taxesIncluded": bool(spec.get("taxesIncluded", False)),
                    "sourceName": spec.get("sourceName", "web"),
                    "totalPriceSet": money_bag(total),
                    "subtotalPriceSet": money_bag(subtotal),
                    "totalTaxSet": money_bag(taxes),
                    "totalShippingPriceSet": money_bag(shipping_total),
                    "totalDiscountsSet": money_bag(discounts),
                    "shippingAddress": _address(ship_spec, next(self._ids)),
                    "billingAddress": _address(
                        spec.get("billingAddress") or ship_spec, next(self._ids)
                    ),
                    "_customer": customer["id"] if customer else None,
                    "_lines": [line["id"] for line in lines],
                    "_shipping_lines": shipping_lines,
                    "_transactions": [],
                    "_fulfillment_orders": [],
                    "_fulfillments": [],
                }
            )
            self._payments(order, spec, total, money_bag)
            self._fulfillment_orders(order, lines, spec.get("location"))
            self.orders.append(id_)
            if spec.get("cancelled"):
                self.cancel_order(order, at=created, reason=spec.get("cancelReason", "CUSTOMER"))
            if customer is not None:
                customer["_orders"] = [*customer.get("_orders", []), id_]
            return id_

    def _order_lines(
        self, spec: Mapping[str, Any], order_id: str, money_bag: MoneyBag
    ) -> tuple[list[dict[str, Any]], Decimal, Decimal, Decimal]:
        """The order's line items with their sums: net subtotal, taxes and discounts."""
        lines, subtotal, taxes, discounts = [], Decimal(0), Decimal(0), Decimal(0)
        for line_spec in spec.get("lines") or []:
            line, line_net, line_tax, line_discount = self._line(line_spec, order_id, money_bag)
            lines.append(line)
            subtotal += line_net
            taxes += line_tax
            discounts += line_discount
        return lines, subtotal, taxes, discounts

    def _shipping_lines(
        self, spec: Mapping[str, Any], money_bag: MoneyBag, taxes: Decimal
    ) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
        """The shipping lines, their total, and ``taxes`` with their tax added."""
        shipping_lines, shipping_total = [], Decimal(0)
        for ship in spec.get("shipping") or []:
            price = _d(ship.get("price", "0"))
            tax = (price * _d(ship.get("taxRate", "0"))).quantize(CENT, ROUND_HALF_UP)
            taxes += tax
            shipping_total += price
            shipping_lines.append(
                {
                    "id": self.new_gid("ShippingLine"),
                    "title": ship.get("title", "Standard"),
                    "code": ship.get("code", ship.get("title", "Standard")),
                    "source": ship.get("source", "shopify"),
                    "originalPriceSet": money_bag(price),
                    "discountedPriceSet": money_bag(price),
                    "taxLines": [self._tax_line(ship, tax, money_bag)] if tax else [],
                }
            )
        return shipping_lines, shipping_total, taxes

    def _order_customer(self, ref: Any) -> dict[str, Any] | None:
        if ref is None:
            return None
        if isinstance(ref, Mapping):
            existing = self.customer_by_email(ref["email"]) if ref.get("email") else None
            return existing or self.nodes[self.create_customer(ref)]
        found = self.get(ref, "Customer") or self.customer_by_email(str(ref))
        if found is None:
            raise StateError(f"no customer {ref!r}")
        return found

    def _tax_line(self, spec: Mapping[str, Any], amount: Decimal, money_bag) -> dict[str, Any]:
        rate = _d(spec.get("taxRate", "0"))
        return {
            "title": spec.get("taxTitle", "VAT"),
            "rate": float(rate),
            "ratePercentage": float(rate * 100),
            "priceSet": money_bag(amount),
        }

    def _line(self, spec: Mapping[str, Any], order_id: str, money_bag) -> tuple:
        variant = None
        if spec.get("variant"):
            variant = self.get(spec["variant"], "ProductVariant")
        elif spec.get("sku"):
            matches = self.variants_by_sku(spec["sku"])
            variant = matches[0] if matches else None
            if variant is None and not spec.get("title"):
                raise StateError(f"no variant with SKU {spec['sku']!r}")
        product = self.nodes[variant["_product"]] if variant else None
        quantity = int(spec.get("quantity", 1))
        price = _d(spec.get("price", variant["price"] if variant else "0"))
        discount = _d(spec.get("discount", "0"))
        net = price * quantity - discount
        tax = (net * _d(spec.get("taxRate", "0"))).quantize(CENT, ROUND_HALF_UP)
        title = spec.get("title") or (product["title"] if product else "Custom item")
        variant_title = None
        if variant and variant["title"] != "Default Title":
            variant_title = variant["title"]
        line = self.add(
            {
                "__typename": "LineItem",
                "id": self.new_gid("LineItem"),
                "name": f"{title} - {variant_title}" if variant_title else title,
                "title": title,
                "variantTitle": variant_title,
                "sku": spec.get("sku", variant["sku"] if variant else None),
                "vendor": product.get("vendor") if product else None,
                "quantity": quantity,
                "currentQuantity": quantity,
                "unfulfilledQuantity": quantity,
                "requiresShipping": bool(spec.get("requiresShipping", True)),
                "taxable": bool(tax),
                "originalUnitPriceSet": money_bag(price),
                "discountedUnitPriceSet": money_bag(
                    (net / quantity).quantize(CENT, ROUND_HALF_UP) if quantity else price
                ),
                "discountAllocations": [{"allocatedAmountSet": money_bag(discount)}]
                if discount
                else [],
                "taxLines": [self._tax_line(spec, tax, money_bag)] if tax else [],
                "_variant": variant["id"] if variant else None,
                "_product": product["id"] if product else None,
                "_order": order_id,
                "_ship_from": spec.get("location"),
            }
        )
        return line, net, tax, discount

    def _payments(self, order: dict[str, Any], spec: Mapping[str, Any], total: Decimal, money_bag):
        status = spec.get("financialStatus", "PAID")
        gateway = spec.get("gateway", "shopify_payments")
        kinds = {"PAID": "SALE", "AUTHORIZED": "AUTHORIZATION", "PARTIALLY_PAID": "SALE"}
        specs = spec.get("transactions")
        if specs is None and status in kinds:
            amount = total if status != "PARTIALLY_PAID" else (total / 2).quantize(CENT)
            specs = [{"kind": kinds[status], "amount": str(amount), "gateway": gateway}]
        parent = None
        for tx in specs or []:
            record = self.add(
                {
                    "__typename": "OrderTransaction",
                    "id": self.new_gid("OrderTransaction"),
                    "kind": tx.get("kind", "SALE"),
                    "status": tx.get("status", "SUCCESS"),
                    "gateway": tx.get("gateway", gateway),
                    "test": bool(tx.get("test", order["test"])),
                    "processedAt": tx.get("processedAt", order["processedAt"]),
                    "amountSet": money_bag(_d(tx.get("amount", total))),
                    "parentTransaction": parent if tx.get("kind") in ("CAPTURE", "VOID") else None,
                }
            )
            parent = record
            order["_transactions"].append(record["id"])
        order["displayFinancialStatus"] = status if (specs or status == "PENDING") else None

    def _fulfillment_orders(self, order: dict[str, Any], lines: list, location_ref: Any) -> None:
        from .fulfillment import open_fulfillment_orders

        open_fulfillment_orders(self, order, lines, location_ref)

    def cancel_order(self, order: dict[str, Any], *, at: str | None = None, reason: str) -> None:
        order["cancelledAt"] = at or iso(now())
        order["closedAt"] = order["cancelledAt"]
        order["cancelReason"] = reason
        from .fulfillment import cancel

        for fo_id in order["_fulfillment_orders"]:
            cancel(self, self.nodes[fo_id])
        if at is None:
            self.touch(order)

    def update_order(
        self, id_: str, changes: Mapping[str, Any], *, same_second: bool = False
    ) -> dict[str, Any]:
        """Change what a merchant could change in the admin, and bump ``updatedAt``:
        note, email, phone, test, tags, shippingAddress, cancel (+ reason), financialStatus,
        currentQuantities ({line GID or SKU: quantity}). ``same_second``: a second change within
        the second of the last one, so ``updatedAt`` (whole seconds) stays as it was."""
        with self.lock:
            order = self.get(id_, "Order")
            if order is None:
                raise StateError(f"no order {id_}")
            previous = order["updatedAt"]
            for key, value in changes.items():
                if key in ("note", "email", "phone", "test"):
                    order[key] = value
                elif key == "tags":
                    order["tags"] = sorted(value, key=str.lower)
                elif key == "shippingAddress":
                    order["shippingAddress"] = _address(value, next(self._ids))
                elif key == "cancel":
                    if value:
                        self.cancel_order(order, reason=str(changes.get("reason", "CUSTOMER")))
                elif key in ("reason", "gateway"):
                    continue
                elif key == "financialStatus":
                    # "Mark as paid": the status, and the SALE transaction that records it.
                    order["displayFinancialStatus"] = value
                    paid = [
                        self.nodes[t]
                        for t in order["_transactions"]
                        if self.nodes[t]["kind"] in ("SALE", "CAPTURE")
                        and self.nodes[t]["status"] == "SUCCESS"
                    ]
                    if value == "PAID" and not paid:
                        record = self.add(
                            {
                                "__typename": "OrderTransaction",
                                "id": self.new_gid("OrderTransaction"),
                                "kind": "SALE",
                                "status": "SUCCESS",
                                "gateway": str(changes.get("gateway", "manual")),
                                "test": bool(order.get("test")),
                                "processedAt": order["processedAt"],
                                "amountSet": copy.deepcopy(order["totalPriceSet"]),
                                "parentTransaction": None,
                            }
                        )
                        order["_transactions"].append(record["id"])
                elif key == "currentQuantities":
                    # An order edit: {line GID or SKU: new quantity} (removed units drop
                    # currentQuantity; quantity keeps the original, as in Shopify).
                    for line_id in order["_lines"]:
                        line = self.nodes[line_id]
                        wanted = value.get(line["id"], value.get(line.get("sku")))
                        if wanted is not None:
                            line["currentQuantity"] = int(wanted)
                            line["unfulfilledQuantity"] = min(
                                line["unfulfilledQuantity"], int(wanted)
                            )
                else:
                    raise StateError(f"cannot change order field {key!r}")
            if same_second:
                order["updatedAt"] = previous
            else:
                self.touch(order)
            return order

    def order_by_name(self, name: str) -> dict[str, Any] | None:
        return next((self.nodes[i] for i in self.orders if self.nodes[i]["name"] == name), None)

    # -- fulfillments ---------------------------------------------------------------------

    def refresh_fulfillment_status(self, order: dict[str, Any]) -> None:
        from .fulfillment import refresh_display_status

        refresh_display_status(self, order)

    def next_fulfillment_name(self, order: dict[str, Any]) -> str:
        count = self.fulfillment_counts.get(order["id"], 0) + 1
        self.fulfillment_counts[order["id"]] = count
        return f"{order['name']}-F{count}"


def as_money(amount: Any) -> str:
    return dec(amount)
