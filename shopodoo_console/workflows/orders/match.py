"""The match stage: what already exists for a batch of Shopify orders, with few calls.

Per order: linked (a local link), stamped in Odoo (created by us; the answer was lost or the
process died before linking), or new. Everything else a plan needs is looked up together: one
``ir.model.data`` call for every stamp (orders, customers, addresses, payments), one
``product.product`` call for every SKU and barcode not already mapped or cached, one
``res.partner`` call for every customer email, and for existing orders their state and lines in
two calls. Planning then works on these answers without touching the network (DESIGN §7: plan
is pure). A read Odoo refuses for lack of a right becomes one of the order's blockers, listed
with its missing mappings, instead of failing the batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopodoo_console.causes import Cause, CauseError, Kind
from shopodoo_console.engine import mappings
from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.odoo import OdooClient
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.orders.order import Address, ShopifyOrder
from shopodoo_console.workflows.pipeline import synced_state

if TYPE_CHECKING:
    from shopodoo_console.workflows.orders.jobs import OrderJob
    from shopodoo_console.workflows.orders.link import OrderLinks
    from shopodoo_console.workflows.orders.plan import Rules

PRODUCT_CACHE_SECONDS = 600.0


def shop_slug(domain: str) -> str:
    """``acme.myshopify.com`` → ``acme`` (stamps may hold letters, digits, ``_`` and ``-``)."""
    return domain.split(".", 1)[0]


def order_stamp(shop: ShopRef, order: ShopifyOrder) -> str:
    return order_stamp_name(shop.domain, order.legacy_id)


def order_stamp_name(domain: str, legacy_id: int | str) -> str:
    """The stamp of the sale order made for Shopify order ``legacy_id`` (the audit looks
    orders up by it too)."""
    return f"{shop_slug(domain)}_order_{legacy_id}"


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
    payments: dict[str, tuple[int, str]] = field(default_factory=dict)  # stamp → (id, state)
    denied: dict[str, Cause] = field(default_factory=dict)  # lookup → the permission it lacks


@dataclass(frozen=True)
class OdooOrder:
    """An existing sale order as the plan needs it."""

    id: int
    name: str
    state: str
    locked: bool
    partner_id: int | None
    lines: tuple[dict[str, Any], ...]  # product lines, in the plan's shape (with their ids)
    delivered: bool  # a delivery of it is done

    @property
    def open(self) -> bool:
        """A quotation the console may still change or confirm."""
        return self.state in OPEN_STATES and not self.locked


OPEN_STATES = ("draft", "sent")


@dataclass
class Match:
    """What exists in Odoo for one Shopify order."""

    how: str  # "linked", "stamped" or "new"
    odoo_id: int | None = None
    link: links.LinkRow | None = None
    odoo: OdooOrder | None = None  # read for existing orders that are not unchanged
    unchanged: bool = False  # linked, in step, and nothing the flow reads changed
    deleted: bool = False  # linked or stamped, but the sale order is gone

    @property
    def existing(self) -> bool:
        return self.how != "new"


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

    def links(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        """Local links first (DESIGN §3.4): a batch of linked orders costs no Odoo call."""
        shop_id = self.shop.id
        found.order_links = links.find_links(self.store, shop_id, "order", [o.id for o in orders])
        customer_ids = sorted({o.customer.id for o in orders if o.customer})
        found.customer_links = links.find_links(self.store, shop_id, "customer", customer_ids)

    def stamps(self, names: Iterable[str], found: Lookups) -> None:
        """Every stamp the batch may need, in one Odoo call."""
        wanted = sorted(set(names) - set(found.stamps))
        if wanted:
            found.stamps.update(self._guarded("stamps", found, self.odoo.find_stamps, wanted) or {})

    def payment_states(self, found: Lookups) -> None:
        """The state of payments already registered (a draft is posted, not created again)."""
        ids = {s: rid for s, (model, rid) in found.stamps.items() if model == "account.payment"}
        if not ids:
            return
        rows = self._guarded(
            "payments",
            found,
            self.odoo.read,
            "account.payment",
            sorted(set(ids.values())),
            ["state"],
            context=self._context(),
        )
        states = {int(r["id"]): str(r.get("state") or "") for r in rows or []}
        for stamp, rid in ids.items():
            if rid in states:
                found.payments[stamp] = (rid, states[rid])

    def _guarded(
        self, what: str, found: Lookups, call: Callable[..., Any], *a: Any, **kw: Any
    ) -> Any:
        """Run a lookup; a missing right becomes a blocker of the batch's orders (listed with
        their other causes), anything temporary goes up and fails the batch for a retry."""
        try:
            return call(*a, **kw)
        except CauseError as exc:
            if exc.cause.kind is not Kind.PERMISSION:
                raise
            found.denied[what] = exc.cause
            return None

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
        """Product mapping first, then the cache, then one search by SKU and barcode."""
        lines = [line for o in orders for line in o.lines]
        keys = sorted({line.product_key for line in lines})
        for key, row in mappings.get_mappings(self.store, self.shop.id, "product", keys).items():
            found.products[key] = ProductMatch(
                row.odoo_id, row.label or f"product {row.odoo_id}", "mapping"
            )
        todo = [line for line in lines if not self._cached(line, found)]
        skus = {line.sku for line in todo if line.sku}
        barcodes = {line.barcode for line in todo if line.barcode}
        if not skus and not barcodes:
            return
        rows = self._guarded(
            "products",
            found,
            self.odoo.search_read,
            "product.product",
            [*_code_terms(skus, barcodes), *self._company_domain()],
            ["default_code", "barcode", "display_name"],
            context=self._context(),
        )
        by_sku: dict[str, list[dict[str, Any]]] = {}
        by_barcode: dict[str, list[dict[str, Any]]] = {}
        for row in rows or []:
            if row.get("default_code"):
                by_sku.setdefault(str(row["default_code"]), []).append(row)
            if row.get("barcode"):
                by_barcode.setdefault(str(row["barcode"]), []).append(row)
        for line in todo:
            self._pick(
                line, (("sku", line.sku, by_sku), ("barcode", line.barcode, by_barcode)), found
            )

    def _cached(self, line: Any, found: Lookups) -> bool:
        if line.product_key in found.products:
            return True
        hit = (self.product_cache.get(self.shop.id, "sku", line.sku) if line.sku else None) or (
            self.product_cache.get(self.shop.id, "barcode", line.barcode) if line.barcode else None
        )
        if hit is not None:
            found.products[line.product_key] = hit
        return hit is not None

    def _pick(self, line: Any, indexes: Any, found: Lookups) -> None:
        """One match by SKU (else barcode) is the product; several are ambiguous, never guessed."""
        if line.product_key in found.products:
            return
        for kind, value, index in indexes:
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
                return
            if len(matches) > 1:
                found.ambiguous[line.product_key] = len(matches)
                return

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
            rows = self._guarded(
                "partners",
                found,
                self.odoo.search_read,
                "res.partner",
                [*terms, *base],
                fields,
                order="id",
                context=self._context(),
            )
            for row in rows or []:
                email = str(row.get("email") or "").strip().lower()
                if email and email not in found.partners_by_email:
                    found.partners_by_email[email] = _partner(row, "matched by email")
        if phones:
            rows = self._guarded(
                "partners",
                found,
                self.odoo.search_read,
                "res.partner",
                [("phone", "in", sorted(phones)), *base],
                fields,
                order="id",
                context=self._context(),
            )
            for row in rows or []:
                phone = str(row.get("phone") or "").strip()
                if phone and phone not in found.partners_by_phone:
                    found.partners_by_phone[phone] = _partner(row, "matched by phone")

    # ---------------------------------------------------------------- mappings

    def _mapped(self, orders: list[ShopifyOrder], found: Lookups) -> None:
        carrier_keys = sorted({s.carrier_key for o in orders for s in o.shipping})
        if carrier_keys:
            rows = mappings.get_mappings(self.store, self.shop.id, "carrier", carrier_keys)
            if rows:
                carriers = self._guarded(
                    "carriers",
                    found,
                    self.odoo.read,
                    "delivery.carrier",
                    sorted({r.odoo_id for r in rows.values()}),
                    ["name", "product_id"],
                )
                by_id = {int(c["id"]): c for c in carriers or []}
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
        self._guarded("countries", found, self.country_cache.load, self.odoo, wanted)
        found.countries = dict(self.country_cache.countries or {})
        found.states = dict(self.country_cache.states)

    # ---------------------------------------------------------------- existing orders

    def odoo_orders(self, ids: list[int], cancelled: set[int]) -> dict[int, OdooOrder]:
        """State and product lines of existing sale orders, in two calls (three when some were
        cancelled in Shopify: their deliveries decide whether Odoo may cancel them). An order
        deleted in Odoo is simply absent (search_read, not read: no error for the batch)."""
        if not ids:
            return {}
        fields = ["name", "state", "order_line", "picking_ids", "partner_id"]
        locked = self.odoo.field_name("sale.order", "locked")
        if locked:
            fields.append(locked)
        rows = self.odoo.search_read(
            "sale.order",
            [("id", "in", sorted(set(ids)))],
            fields,
            context={**(self._context() or {}), "active_test": False},
        )
        lines = self._order_lines([int(i) for r in rows for i in r.get("order_line") or []])
        delivered = self._delivered(
            [r for r in rows if int(r["id"]) in cancelled and r.get("state") not in OPEN_STATES]
        )
        out = {}
        for row in rows:
            rid = int(row["id"])
            out[rid] = OdooOrder(
                id=rid,
                name=str(row.get("name") or f"sale order {rid}"),
                state=str(row.get("state") or "draft"),
                locked=bool(locked and row.get(locked)),
                partner_id=_m2o(row.get("partner_id")),
                lines=tuple(lines.get(rid, ())),
                delivered=rid in delivered,
            )
        return out

    def _order_lines(self, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Product lines per order in the plan's shape (sections and notes left out: the
        console neither writes nor removes them)."""
        if not ids:
            return {}
        tax_field = self.odoo.field_name("sale.order.line", "taxes") or "tax_id"
        fields = ["order_id", "product_id", "name", "product_uom_qty", "price_unit", "discount"]
        fields += ["display_type", tax_field]
        out: dict[int, list[dict[str, Any]]] = {}
        for line in self.odoo.read("sale.order.line", ids, fields, context=self._context()):
            if line.get("display_type"):
                continue
            out.setdefault(_m2o(line.get("order_id")) or 0, []).append(
                {
                    "id": int(line["id"]),
                    "product_id": _m2o(line.get("product_id")),
                    "name": line.get("name") or "",
                    "product_uom_qty": line.get("product_uom_qty") or 0,
                    "price_unit": line.get("price_unit") or 0,
                    "discount": line.get("discount") or 0,
                    "tax_ids": line.get(tax_field) or [],
                }
            )
        return out

    def _delivered(self, rows: list[dict[str, Any]]) -> set[int]:
        pickings = {int(p): int(r["id"]) for r in rows for p in r.get("picking_ids") or []}
        if not pickings:
            return set()
        done = self.odoo.read("stock.picking", sorted(pickings), ["state"], context=self._context())
        return {pickings[int(p["id"])] for p in done if p.get("state") == "done"}


def _code_terms(skus: set[str], barcodes: set[str]) -> list[Any]:
    if skus and barcodes:
        return ["|", ("default_code", "in", sorted(skus)), ("barcode", "in", sorted(barcodes))]
    if skus:
        return [("default_code", "in", sorted(skus))]
    return [("barcode", "in", sorted(barcodes))]


def _partner(row: dict[str, Any], how: str) -> Partner:
    return Partner(
        int(row["id"]),
        str(row.get("name") or ""),
        how,
        _addr_tuple(row.get("street"), row.get("zip")),
    )


# ---------------------------------------------------------------- the stage


def match_orders(
    matcher: Matcher, jobs: list[OrderJob], rules: Rules, order_links: OrderLinks
) -> Lookups:
    """Per job: linked, stamped or new, and everything its plan will need.

    Linked orders that are in step and unchanged cost nothing more (no Odoo call); a stamped
    order is ours (created before its link was written) and is linked now, "not synced".
    """
    found = Lookups()
    orders = [job.order for job in jobs if job.order is not None]
    matcher.links(orders, found)
    for job in jobs:
        assert job.order is not None
        link = found.order_links.get(job.order.id)
        if link is not None:
            state = synced_state(link)
            unchanged = state is not None and state.digest == job.order.digest()
            job.match = Match("linked", link.odoo_id, link, unchanged=unchanged)
            job.odoo_id, job.odoo_name = link.odoo_id, link.label
    planned = [job for job in jobs if job.match is None or not job.match.unchanged]
    matcher.stamps(_stamp_names(jobs, planned, rules), found)
    for job in jobs:
        if job.match is None:
            assert job.order is not None
            stamp = found.stamps.get(order_stamp(rules.shop, job.order))
            job.match = Match("stamped", stamp[1]) if stamp else Match("new")
            job.odoo_id = stamp[1] if stamp else None
    planned_orders = [job.order for job in planned if job.order is not None]
    matcher.payment_states(found)
    matcher.journals(planned_orders, found)
    matcher.resolve(planned_orders, found)
    _existing(matcher, [job for job in planned if job.match and job.match.existing], order_links)
    return found


def _stamp_names(jobs: list[OrderJob], planned: list[OrderJob], rules: Rules) -> list[str]:
    """The stamps of unlinked orders, their customers and addresses, and of the payments of
    every order that will be planned (a registered payment is not registered twice)."""
    names = []
    for job in jobs:
        order = job.order
        if order is None:
            continue
        if job.match is None:
            names.append(order_stamp(rules.shop, order))
            owner = order.customer.legacy_id if order.customer else "guest"
            if order.customer:
                names.append(customer_stamp(rules.shop, order.customer.legacy_id))
            for role, address in (("invoice", order.billing), ("delivery", order.shipping_address)):
                if address is not None:
                    names.append(address_stamp(rules.shop, owner, role, address))
        if job in planned and rules.settings.register_payments:
            names += [payment_stamp(rules.shop, p.legacy_id) for p in order.payments]
    return names


def _existing(matcher: Matcher, jobs: list[OrderJob], order_links: OrderLinks) -> None:
    """Read the existing sale orders; link the stamped ones (adopted) as soon as they are."""
    cancelled = {job.odoo_id for job in jobs if job.order and job.order.cancelled and job.odoo_id}
    rows = matcher.odoo_orders([job.odoo_id for job in jobs if job.odoo_id], cancelled)
    for job in jobs:
        assert job.match is not None
        odoo = rows.get(job.odoo_id or 0)
        if odoo is None:
            job.match.deleted = True
            job.audit(
                "odoo",
                "missing",
                f"Odoo sale order {job.odoo_id}, {job.match.how} to {job.order_label}, "
                "no longer exists",
            )
            continue
        job.match.odoo = odoo
        job.odoo_name = odoo.name
        if job.match.how == "stamped" and job.order is not None:
            job.audit(
                "odoo",
                "adopted",
                f"Found {odoo.name} already in Odoo (stamp shopodoo."
                f"{order_stamp(matcher.shop, job.order)}); adopted it instead of creating "
                "another",
            )
            order_links.adopted(job)
