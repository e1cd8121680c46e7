"""Finding the Odoo counterparts of a batch of Shopify orders, with as few calls as possible.

Everything a batch needs is looked up together: one ``ir.model.data`` call for every stamp
(orders, customers, addresses), one ``product.product`` call for every SKU and barcode not
already mapped or cached, one ``res.partner`` call for every customer email. Planning then
works on these answers without touching the network (DESIGN §7: plan is pure).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.engine import mappings
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.odoo import OdooClient
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.orders.order import Address, ShopifyOrder

PRODUCT_CACHE_SECONDS = 600.0


def shop_slug(domain: str) -> str:
    """``acme.myshopify.com`` → ``acme`` (stamps may hold letters, digits, ``_`` and ``-``)."""
    return domain.split(".", 1)[0]


def order_stamp(shop: ShopRef, order: ShopifyOrder) -> str:
    return f"{shop_slug(shop.domain)}_order_{order.legacy_id}"


def customer_stamp(shop: ShopRef, legacy_id: str) -> str:
    return f"{shop_slug(shop.domain)}_customer_{legacy_id}"


def payment_stamp(shop: ShopRef, payment_legacy_id: str) -> str:
    """One Odoo payment per Shopify transaction, whatever retries or crashes happen."""
    return f"{shop_slug(shop.domain)}_payment_{payment_legacy_id}"


def address_stamp(shop: ShopRef, owner: str, role: str, address: Address) -> str:
    """One Odoo contact per (customer, role, distinct address): reused by later orders."""
    return f"{shop_slug(shop.domain)}_{role}_{owner}_{address.key}"


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    how: str  # "linked", "stamped", "matched by email", ...
    address: tuple[str, str] = ("", "")  # (street, zip), to tell whether an address differs


@dataclass(frozen=True)
class ProductMatch:
    id: int
    name: str
    how: str  # "mapping", "SKU", "barcode"


@dataclass
class Lookups:
    """What Odoo and the local tables said about one batch."""

    stamps: dict[str, tuple[str, int]] = field(default_factory=dict)
    order_links: dict[str, links.LinkRow] = field(default_factory=dict)
    customer_links: dict[str, links.LinkRow] = field(default_factory=dict)
    partners_by_email: dict[str, Partner] = field(default_factory=dict)
    partners_by_phone: dict[str, Partner] = field(default_factory=dict)
    products: dict[str, ProductMatch] = field(default_factory=dict)
    ambiguous: dict[str, int] = field(default_factory=dict)  # product key → how many matched
    carriers: dict[str, tuple[int, int | None, str]] = field(default_factory=dict)
    taxes: dict[str, int] = field(default_factory=dict)
    journals: dict[str, int] = field(default_factory=dict)  # payment gateway → journal
    countries: dict[str, int] = field(default_factory=dict)
    states: dict[tuple[str, str], int] = field(default_factory=dict)


def tax_key(title: str, rate: Any) -> str:
    return f"{title} {rate}%"


class ProductCache:
    """Positive SKU/barcode → product hits, per shop, for a few minutes (products rarely
    change; a miss is always asked again so a newly created product is found at once)."""

    def __init__(self, ttl: float = PRODUCT_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._hits: dict[tuple[int, str, str], tuple[float, ProductMatch]] = {}
        self._lock = threading.Lock()

    def get(self, shop_id: int, kind: str, value: str) -> ProductMatch | None:
        with self._lock:
            hit = self._hits.get((shop_id, kind, value))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, shop_id: int, kind: str, value: str, match: ProductMatch) -> None:
        with self._lock:
            self._hits[(shop_id, kind, value)] = (time.monotonic() + self.ttl, match)

    def forget(self, shop_id: int) -> None:
        with self._lock:
            for key in [k for k in self._hits if k[0] == shop_id]:
                del self._hits[key]


class CountryCache:
    """Country codes → ids (read once per connection), states per country on demand."""

    def __init__(self) -> None:
        self.countries: dict[str, int] | None = None
        self.states: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def load(self, odoo: OdooClient, wanted: set[tuple[str, str]]) -> None:
        with self._lock:
            if self.countries is None:
                rows = odoo.search_read("res.country", [], ["code"])
                self.countries = {str(r["code"]).upper(): int(r["id"]) for r in rows if r["code"]}
            missing = {c for c, s in wanted if s and (c, s) not in self.states}
            ids = [self.countries[c] for c in missing if c in self.countries]
            if ids:
                for row in odoo.search_read_in(
                    "res.country.state", "country_id", ids, ["code", "country_id"]
                ):
                    country = next(
                        (c for c, i in self.countries.items() if i == _m2o(row["country_id"])), None
                    )
                    if country:
                        self.states[(country, str(row["code"]).upper())] = int(row["id"])


def _m2o(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _addr_tuple(street: Any, zip_: Any) -> tuple[str, str]:
    return (str(street or "").strip().lower(), str(zip_ or "").strip().lower())


def address_tuple(address: Address | None) -> tuple[str, str]:
    if address is None:
        return ("", "")
    return _addr_tuple(address.street, address.zip)


class Matcher:
    """Batch lookups for one shop, against the local tables and Odoo."""

    def __init__(
        self,
        store: Store,
        odoo: OdooClient,
        shop: ShopRef,
        company_id: int | None,
        products: ProductCache,
        countries: CountryCache,
    ) -> None:
        self.store = store
        self.odoo = odoo
        self.shop = shop
        self.company_id = company_id
        self.product_cache = products
        self.country_cache = countries

    def _company_domain(self) -> list[Any]:
        if self.company_id is None:
            return []
        return [("company_id", "in", [self.company_id, False])]

    def _context(self) -> dict[str, Any] | None:
        return {"allowed_company_ids": [self.company_id]} if self.company_id else None

    def known(
        self, orders: list[ShopifyOrder], stamp_names: Callable[[list[ShopifyOrder]], Iterable[str]]
    ) -> Lookups:
        """Local links first; then, for the orders without one, every stamp in one Odoo call
        (DESIGN §3.4: links before creates). A batch of linked orders costs no Odoo call."""
        found = Lookups()
        shop_id = self.shop.id
        found.order_links = links.find_links(self.store, shop_id, "order", [o.id for o in orders])
        customer_ids = sorted({o.customer.id for o in orders if o.customer})
        found.customer_links = links.find_links(self.store, shop_id, "customer", customer_ids)
        unlinked = [o for o in orders if o.id not in found.order_links]
        names = sorted(set(stamp_names(unlinked))) if unlinked else []
        if names:
            found.stamps = self.odoo.find_stamps(names)
        return found

    def journals(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        """Payment gateway → journal mappings (local only: no Odoo call)."""
        gateways = sorted({p.gateway for o in orders for p in o.payments})
        if gateways:
            rows = mappings.get_mappings(self.store, self.shop.id, "gateway", gateways)
            found.journals = {key: row.odoo_id for key, row in rows.items()}

    def resolve(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        """Products, customers, carriers, taxes and countries for the orders to plan."""
        if not orders:
            return
        self._products(orders, found)
        self._partners(orders, found)
        self._mapped(orders, found)
        self._countries(orders, found)

    # ---------------------------------------------------------------- products

    def _products(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        lines = [line for o in orders for line in o.lines]
        keys = sorted({line.product_key for line in lines})
        for key, mapped in mappings.get_mappings(self.store, self.shop.id, "product", keys).items():
            found.products[key] = ProductMatch(
                mapped.odoo_id, mapped.label or f"product {mapped.odoo_id}", "mapping"
            )
        skus, barcodes = set(), set()
        for line in lines:
            if line.product_key in found.products:
                continue
            hit = (self.product_cache.get(self.shop.id, "sku", line.sku) if line.sku else None) or (
                self.product_cache.get(self.shop.id, "barcode", line.barcode)
                if line.barcode
                else None
            )
            if hit is not None:
                found.products[line.product_key] = hit
                continue
            if line.sku:
                skus.add(line.sku)
            if line.barcode:
                barcodes.add(line.barcode)
        if not skus and not barcodes:
            return
        terms: list[Any] = []
        if skus and barcodes:
            terms = ["|", ("default_code", "in", sorted(skus)), ("barcode", "in", sorted(barcodes))]
        elif skus:
            terms = [("default_code", "in", sorted(skus))]
        else:
            terms = [("barcode", "in", sorted(barcodes))]
        rows = self.odoo.search_read(
            "product.product",
            [*terms, *self._company_domain()],
            ["default_code", "barcode", "display_name"],
            context=self._context(),
        )
        by_sku: dict[str, list[dict[str, Any]]] = {}
        by_barcode: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row.get("default_code"):
                by_sku.setdefault(str(row["default_code"]), []).append(row)
            if row.get("barcode"):
                by_barcode.setdefault(str(row["barcode"]), []).append(row)
        for line in lines:
            if line.product_key in found.products:
                continue
            for kind, value, index in (
                ("sku", line.sku, by_sku),
                ("barcode", line.barcode, by_barcode),
            ):
                matches = index.get(value, []) if value else []
                if len(matches) == 1:
                    row = matches[0]
                    match = ProductMatch(
                        int(row["id"]),
                        str(row.get("display_name") or ""),
                        "SKU" if kind == "sku" else "barcode",
                    )
                    self.product_cache.put(self.shop.id, kind, value, match)
                    found.products[line.product_key] = match
                    break
                if len(matches) > 1:
                    found.ambiguous[line.product_key] = len(matches)
                    break

    # ---------------------------------------------------------------- customers

    def _partners(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        emails, phones = set(), set()
        for order in orders:
            customer = order.customer
            if customer is None or customer.id in found.customer_links:
                continue
            if customer_stamp(self.shop, customer.legacy_id) in found.stamps:
                continue
            if customer.email:
                emails.add(customer.email)
            elif customer.phone:
                phones.add(customer.phone)
        fields = ["name", "email", "phone", "street", "zip"]
        base = [("parent_id", "=", False), *self._company_domain()]
        if emails:
            # One call for every e-mail, compared case-insensitively (=ilike without wildcards).
            ordered = sorted(emails)
            terms: list[Any] = ["|"] * (len(ordered) - 1)
            terms += [("email", "=ilike", email) for email in ordered]
            rows = self.odoo.search_read(
                "res.partner", [*terms, *base], fields, order="id", context=self._context()
            )
            for row in rows:
                email = str(row.get("email") or "").strip().lower()
                if email and email not in found.partners_by_email:
                    found.partners_by_email[email] = _partner(row, "matched by email")
        if phones:
            rows = self.odoo.search_read(
                "res.partner",
                [("phone", "in", sorted(phones)), *base],
                fields,
                order="id",
                context=self._context(),
            )
            for row in rows:
                phone = str(row.get("phone") or "").strip()
                if phone and phone not in found.partners_by_phone:
                    found.partners_by_phone[phone] = _partner(row, "matched by phone")

    # ---------------------------------------------------------------- mappings

    def _mapped(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        carrier_keys = sorted({s.carrier_key for o in orders for s in o.shipping})
        if carrier_keys:
            rows = mappings.get_mappings(self.store, self.shop.id, "carrier", carrier_keys)
            if rows:
                carriers = self.odoo.read(
                    "delivery.carrier",
                    sorted({r.odoo_id for r in rows.values()}),
                    ["name", "product_id"],
                )
                by_id = {int(c["id"]): c for c in carriers}
                for key, row in rows.items():
                    carrier = by_id.get(row.odoo_id)
                    if carrier is not None:
                        found.carriers[key] = (
                            row.odoo_id,
                            _m2o(carrier.get("product_id")),
                            str(carrier.get("name") or ""),
                        )
        tax_keys = sorted(
            {tax_key(t, r) for o in orders for line in o.lines for t, r in line.tax_lines}
            | {tax_key(t, r) for o in orders for s in o.shipping for t, r in s.tax_lines}
        )
        if tax_keys:
            for key, row in mappings.get_mappings(
                self.store, self.shop.id, "tax", tax_keys
            ).items():
                found.taxes[key] = row.odoo_id

    def _countries(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        wanted = set()
        for order in orders:
            for address in (order.billing, order.shipping_address):
                if address is not None and address.country_code:
                    wanted.add((address.country_code.upper(), address.province_code.upper()))
        if not wanted:
            return
        self.country_cache.load(self.odoo, wanted)
        found.countries = dict(self.country_cache.countries or {})
        found.states = dict(self.country_cache.states)


def _partner(row: dict[str, Any], how: str) -> Partner:
    return Partner(
        int(row["id"]),
        str(row.get("name") or ""),
        how,
        _addr_tuple(row.get("street"), row.get("zip")),
    )
