"""Scenarios: what the simulated shop holds when it starts, as a plain dict (JSON-friendly).

Format (every key optional)::

    {
      "shop": {"name": "Demo", "domain": "demo.myshopify.com", "currencyCode": "EUR",
               "ianaTimezone": "America/New_York", "utcOffset": "-05:00",
               "firstOrderNumber": 1001, "orderWindowDays": null},
      "auth": {"static_tokens": ["shpat_…"],
               "apps": [{"client_id": "…", "client_secret": "…", "scopes": ["read_orders", …]}],
               "scopes": ["read_orders", …]},          # scopes of the static tokens
      "locations": [{"name": "Main Warehouse", "fulfillsOnlineOrders": true,
                     "isActive": true, "isFulfillmentService": false,
                     "address": {"address1": …, "city": …, "zip": …, "countryCode": "DE"}}],
      "products": [{"title": "Mug", "vendor": "Acme", "status": "ACTIVE",
                    "variants": [{"title": "Red", "sku": "MUG-RED", "barcode": "4006381333931",
                                  "price": "12.50", "stock": {"Main Warehouse": 10},
                                  "tracked": true}]}],
      "customers": [{"firstName": "Jane", "lastName": "Doe", "email": "jane@example.com",
                     "phone": "+4915112345678", "tags": ["vip"],
                     "address": {"firstName": …, "address1": …, "city": …, "zip": …,
                                 "countryCodeV2": "DE", "provinceCode": null}}],
      "orders": [{"customer": "jane@example.com" | {customer spec} | null (guest),
                  "email": "…", "createdAt": "2026-11-01T10:00:00Z", "updatedAt": "…",
                  "lines": [{"sku": "MUG-RED", "quantity": 2, "price": "12.50",
                             "discount": "2.50", "taxRate": "0.19",
                             "location": "Outlet Store"},            # ships from there
                            {"title": "Gift wrap", "price": "3.00"}],      # custom line
                  "shipping": [{"title": "Standard", "code": "STD", "price": "4.90",
                                "taxRate": "0.19"}],
                  "financialStatus": "PAID" | "PENDING" | "AUTHORIZED" | "PARTIALLY_PAID",
                  "gateway": "shopify_payments", "transactions": [{"kind": …, "amount": …}],
                  "fulfilled": "all" | "partial" | null, "trackingNumber": "…",
                  "hold": {"reason": "INCORRECT_ADDRESS", "notes": "…"},
                  "fulfillmentRequest": "submitted" | "accepted",   # at a 3PL location
                  "cancelled": false, "location": "Main Warehouse", "tags": [], "note": "…",
                  "test": false, "presentmentCurrencyCode": "USD", "presentmentRate": "1.08"}]
    }

:func:`generate` builds a realistic one from a seed and counts, deterministically.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from . import fulfillment as fo_rules
from . import mutations
from .state import Store
from .util import iso

FIRST_NAMES = [
    "Jane",
    "Anna",
    "Lukas",
    "Zoë",
    "José",
    "Åsa",
    "Chloé",
    "Mehmet",
    "Olivia",
    "Noah",
    "Léa",
    "Jürgen",
    "Aiko",
    "Priya",
    "Tomasz",
    "Siobhán",
    "Emma",
    "Liam",
    "Sofía",
    "Mateo",
    "Ingrid",
    "Kwame",
    "Yara",
    "Finn",
]
LAST_NAMES = [
    "Doe",
    "Müller",
    "Dubois",
    "García",
    "Nowak",
    "O'Brien",
    "Rossi",
    "Schmidt",
    "Jensen",
    "Kowalski",
    "Martin",
    "Smith",
    "Okafor",
    "Yamamoto",
    "Patel",
    "Svensson",
    "Lefèvre",
    "Fischer",
    "Brown",
    "Costa",
]
COUNTRIES = (
    ("DE", None, "Berlin", "10115", "Friedrichstraße 12", "0.19"),
    ("FR", None, "Lyon", "69002", "12 Rue de la République", "0.20"),
    ("US", "NY", "New York", "10001", "350 5th Ave", "0.08875"),
    ("GB", None, "London", "SW1A 1AA", "10 Downing Street", "0.20"),
    ("NL", None, "Amsterdam", "1012 JS", "Dam 1", "0.21"),
)
PRODUCTS = (
    ("Ceramic Mug", ("Red", "Blue", "White")),
    ("Organic T-Shirt", ("S", "M", "L", "XL")),
    ("Travel Poster", ("A3", "A2")),
    ("Dotted Notebook", ("Default Title",)),
    ("Soy Candle", ("Lavender", "Cedar")),
    ("Canvas Tote Bag", ("Natural", "Black")),
    ("Enamel Pin", ("Default Title",)),
    ("Wool Beanie", ("Grey", "Mustard")),
    ("Espresso Cups (set of 2)", ("Default Title",)),
    ("Linen Apron", ("Sand", "Olive")),
)
SHIPPING = (
    ("Standard", "STD", "4.90"),
    ("Express", "EXP", "12.00"),
    ("Free shipping", "FREE", "0"),
)
GATEWAYS = ("shopify_payments", "shopify_payments", "shopify_payments", "paypal", "manual")


def ean13(rng: random.Random) -> str:
    """A barcode with a valid EAN-13 check digit."""
    digits = [rng.randrange(10) for _ in range(12)]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def generate(
    *,
    seed: int = 7,
    orders: int = 50,
    customers: int | None = None,
    products: int | None = None,
    locations: int = 2,
    days: int = 30,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A realistic shop: same seed, counts and ``now`` → the same scenario, byte for byte.

    Awkward cases included on purpose: a guest order, a custom line without variant, two
    variants sharing one SKU, a variant without SKU, an order with 12 lines (more than one
    page), a cancelled order, partially and fully fulfilled orders, a multi-currency order, a
    test order, a customer without phone or address, an e-mail with capitals, accents
    everywhere.

    The parts are drawn from one random generator in a fixed order (locations, products,
    customers, orders): the helpers below must keep drawing in that order.
    """
    rng = random.Random(seed)
    end = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(minutes=5)
    n_customers = customers if customers is not None else max(5, orders // 3)
    n_products = products if products is not None else max(6, min(200, orders // 8))
    location_specs = _location_specs(rng, locations)
    names = [loc["name"] for loc in location_specs]
    product_specs, skus = _product_specs(rng, n_products, names)
    customer_specs = _customer_specs(rng, n_customers, end, days)
    return {
        "shop": {"name": "Shopodoo Demo Store", "domain": "shopodoo-demo.myshopify.com"},
        "locations": location_specs,
        "products": product_specs,
        "customers": customer_specs,
        "orders": _order_specs(rng, orders, end, days, customer_specs, skus),
    }


def _location_specs(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """At least one location; the first always fulfils online orders."""
    specs = []
    for i in range(max(1, count)):
        country, province, city, zip_, street, _ = COUNTRIES[i % len(COUNTRIES)]
        specs.append(
            {
                "name": ["Main Warehouse", "Outlet Store", "Pop-up Shop", "Returns Center"][i % 4]
                + ("" if i < 4 else f" {i}"),
                "fulfillsOnlineOrders": i == 0 or rng.random() < 0.5,
                "address": {
                    "address1": street,
                    "city": city,
                    "provinceCode": province,
                    "zip": zip_,
                    "countryCode": country,
                },
            }
        )
    return specs


def _product_specs(
    rng: random.Random, count: int, locations: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """``count`` products with stock at every location, their SKUs, then the awkward
    catalogue entries: a SKU shared by two variants and a variant without SKU."""
    specs, skus = [], []
    for i in range(count):
        title, options = PRODUCTS[i % len(PRODUCTS)]
        if i >= len(PRODUCTS):
            title = f"{title} {i // len(PRODUCTS) + 1}"
        base = "".join(w[0] for w in title.upper().split() if w[0].isalnum())
        variants = []
        for option in options:
            sku = f"{base}-{option[:3].upper().replace(' ', '')}-{i:03d}"
            variants.append(
                {
                    "title": option,
                    "sku": sku,
                    "barcode": ean13(rng),
                    "price": f"{rng.randrange(5, 60)}.{rng.choice(['00', '50', '90', '95'])}",
                    "stock": {name: rng.randrange(0, 80) for name in locations},
                }
            )
            skus.append(sku)
        specs.append({"title": title, "vendor": "Shopodoo Goods", "variants": variants})
    specs.append(
        {
            "title": "Gift Card Sleeve",
            "variants": [
                {"title": "Kraft", "sku": "DUP-SKU-1", "barcode": ean13(rng), "price": "2.00"},
                {"title": "White", "sku": "DUP-SKU-1", "barcode": ean13(rng), "price": "2.00"},
                {"title": "Sample", "sku": None, "barcode": None, "price": "0.00"},
            ],
        }
    )
    return specs, skus


def _customer_specs(
    rng: random.Random, count: int, end: datetime, days: int
) -> list[dict[str, Any]]:
    """Customers with accents; the second's e-mail has capitals, the third has no phone,
    the fourth no address."""
    specs: list[dict[str, Any]] = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country, province, city, zip_, street, _ = rng.choice(COUNTRIES)
        email = f"{_ascii(first)}.{_ascii(last)}.{i}@example.com".lower()
        if i == 1:
            email = f"{_ascii(first).title()}.{_ascii(last).upper()}@Example.com"
        specs.append(
            {
                "firstName": first,
                "lastName": last,
                "email": email,
                "phone": None if i == 2 else f"+49151{rng.randrange(10**7, 10**8)}",
                "tags": ["vip"] if rng.random() < 0.1 else [],
                "createdAt": iso(end - timedelta(days=days + 30 - i % 30)),
                "address": None
                if i == 3
                else {
                    "firstName": first,
                    "lastName": last,
                    "address1": street,
                    "city": city,
                    "provinceCode": province,
                    "zip": zip_,
                    "countryCodeV2": country,
                    "country": country,
                    "phone": None,
                },
            }
        )
    return specs


def _order_specs(
    rng: random.Random,
    count: int,
    end: datetime,
    days: int,
    customers: list[dict[str, Any]],
    skus: list[str],
) -> list[dict[str, Any]]:
    """``count`` orders spread evenly over the last ``days``, oldest first."""
    specs = []
    span = timedelta(days=days).total_seconds()
    for i in range(count):
        created = end - timedelta(seconds=span * (1 - (i + 1) / (count + 1)))
        created = created.replace(microsecond=0)
        updated = min(end, created + timedelta(minutes=rng.choice([0, 0, 1, 5, 30, 600])))
        customer = rng.choice(customers)
        country_rate = next(
            c[5]
            for c in COUNTRIES
            if c[0] == (customer["address"] or {}).get("countryCodeV2", "DE")
        )
        lines = _order_lines(rng, i, skus, country_rate)
        ship = rng.choice(SHIPPING)
        spec = {
            "customer": customer["email"],
            "createdAt": iso(created),
            "updatedAt": iso(updated),
            "lines": lines,
            "shipping": [
                {"title": ship[0], "code": ship[1], "price": ship[2], "taxRate": country_rate}
            ],
            "financialStatus": rng.choice(["PAID"] * 8 + ["PENDING", "AUTHORIZED"]),
            "gateway": rng.choice(GATEWAYS),
            "tags": ["wholesale"] if rng.random() < 0.05 else [],
        }
        _make_awkward(spec, i)
        specs.append(spec)
    return specs


def _order_lines(
    rng: random.Random, i: int, skus: list[str], tax_rate: str
) -> list[dict[str, Any]]:
    """Order ``i``'s lines: 1-5 (12 for the fourth order, more than a page), a custom line
    without variant on the sixth, the shared SKU on the ninth."""
    lines = []
    for _ in range(12 if i == 3 else rng.randint(1, 5)):
        line: dict[str, Any] = {
            "sku": rng.choice(skus),
            "quantity": rng.choice([1, 1, 1, 2, 3]),
            "taxRate": tax_rate,
        }
        if rng.random() < 0.15:
            line["discount"] = f"{rng.randrange(1, 5)}.00"
        lines.append(line)
    if i == 5:
        lines.append({"title": "Gift wrapping", "price": "3.50", "requiresShipping": False})
    if i == 8:
        lines.append({"sku": "DUP-SKU-1", "quantity": 1})
    return lines


def _make_awkward(spec: dict[str, Any], i: int) -> None:
    """Order ``i``'s special case, if it has one: a guest, fulfilled (all or part),
    cancelled, in another presentment currency, or a test order with a note."""
    if i % 20 == 4:
        spec["customer"] = None
        spec["email"] = f"guest.{i}@example.org"
    if i % 10 == 7:
        spec["fulfilled"] = "all"
        spec["trackingNumber"] = f"1Z999AA1{i:08d}"
    elif i % 10 == 9:
        spec["fulfilled"] = "partial"
        spec["trackingNumber"] = f"JJD0000{i:08d}"
    if i == 11:
        spec["cancelled"] = True
    if i == 13:
        spec["presentmentCurrencyCode"], spec["presentmentRate"] = "USD", "1.08"
    if i == 17:
        spec["test"] = True
        spec["note"] = "Bitte klingeln – 2. Stock 🚪"


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain if ch.isalnum())


def _fulfillment_states(store: Store, order: dict[str, Any], spec: Mapping[str, Any]) -> None:
    """Holds and fulfillment-service requests as of the order's own time."""
    stamp = order["updatedAt"]
    hold, request = spec.get("hold"), spec.get("fulfillmentRequest")
    for fo_id in order["_fulfillment_orders"]:
        fo = store.nodes[fo_id]
        if request and fo_rules.at_service(store, fo):
            fo_rules.submit_request(store, fo)
            if request == "accepted":
                fo_rules.accept_request(store, fo)
        if hold and fo["status"] in fo_rules.WORKABLE:
            fo_rules.hold(store, fo, hold.get("reason", "OTHER"), hold.get("notes"))
        fo["updatedAt"] = stamp
    order["updatedAt"] = stamp


def load(store: Store, scenario: Mapping[str, Any]) -> None:
    """Create everything a scenario describes, in dependency order."""
    for location in scenario.get("locations") or [{"name": "Main Warehouse"}]:
        store.create_location(location)
    for product in scenario.get("products") or []:
        store.create_product(product)
    for customer in scenario.get("customers") or []:
        store.create_customer(customer)
    for spec in scenario.get("orders") or []:
        create_order(store, spec)


def create_order(store: Store, spec: Mapping[str, Any]) -> str:
    """Create an order; ``fulfilled`` replays fulfillmentCreate at the order's own time,
    ``hold`` and ``fulfillmentRequest`` put its fulfillment orders in those states."""
    with store.lock:
        order_id = store.create_order(spec)
        mode = spec.get("fulfilled")
        order = store.nodes[order_id]
        _fulfillment_states(store, order, spec)
        if mode and order["_fulfillment_orders"] and not order["cancelledAt"]:
            fo = store.nodes[order["_fulfillment_orders"][0]]
            group: dict[str, Any] = {"fulfillmentOrderId": fo["id"]}
            if mode == "partial":
                group["fulfillmentOrderLineItems"] = [{"id": fo["_lines"][0], "quantity": 1}]
            stamp = order["updatedAt"]
            tracking = {"number": spec.get("trackingNumber"), "company": "DHL"}
            result = mutations.fulfillment_create(
                store, {"lineItemsByFulfillmentOrder": [group], "trackingInfo": tracking}
            )
            if result["fulfillment"] is not None:
                result["fulfillment"]["createdAt"] = stamp
                result["fulfillment"]["updatedAt"] = stamp
            order["updatedAt"] = stamp
            fo["updatedAt"] = stamp
        return order_id
