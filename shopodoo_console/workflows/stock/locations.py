"""Shopify locations ↔ Odoo stock locations: the location mapping kind, and its suggestions.

A location mapping says which Odoo stock location (its children included: ``BER/Stock`` covers
``BER/Stock/Shelf A``) holds the stock a Shopify location sells. Nothing is guessed: an
unmapped location is left as it is and listed with its reason. What a person needs to map
one is a good suggestion — and names rarely agree (a shop's "Main Warehouse" is Odoo's
"Berlin DC"), addresses do: candidates are ranked by address first (postcode, city, country,
street), then by name.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from shopodoo_console.engine import mappings
from shopodoo_console.odoo.stock import Address, StockLayout, Warehouse
from shopodoo_console.store.db import Store

CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class ShopLocation:
    """A Shopify location as the mapping screen and the plan show it."""

    id: str
    name: str
    active: bool
    fulfillment_service: bool
    address: dict[str, Any]

    @classmethod
    def parse(cls, node: dict[str, Any]) -> ShopLocation:
        return cls(
            id=str(node["id"]),
            name=str(node.get("name") or node["id"]),
            active=bool(node.get("isActive", True)),
            fulfillment_service=bool(node.get("isFulfillmentService")),
            address=dict(node.get("address") or {}),
        )

    @property
    def place(self) -> str:
        a = self.address
        parts = [a.get("address1"), " ".join(p for p in (a.get("zip"), a.get("city")) if p)]
        parts.append(a.get("countryCode"))
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class MappedLocation:
    """A mapped Shopify location: the Odoo stock location (and below) behind it."""

    shopify_id: str
    odoo_location_id: int
    label: str


def mapped_locations(store: Store, shop_id: int) -> dict[str, MappedLocation]:
    """The shop's location mappings by Shopify location id."""
    rows = mappings.list_mappings(store, shop_id, "location", limit=10_000)
    return {
        r.source_key: MappedLocation(r.source_key, r.odoo_id, r.label or f"location {r.odoo_id}")
        for r in rows
    }


class LocationCache:
    """Each shop's Shopify locations, read once every few minutes (they rarely change, and a
    read costs about 100 points)."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, list[ShopLocation]]] = {}
        self._reading: dict[str, threading.Lock] = {}

    def get(self, domain: str, read: Callable[[], list[dict[str, Any]]]) -> list[ShopLocation]:
        """The cached list, or one read however many workers ask at once."""
        with self._lock:
            reading = self._reading.setdefault(domain, threading.Lock())
        with reading:
            with self._lock:
                hit = self._cached.get(domain)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            found = [ShopLocation.parse(n) for n in read()]
            with self._lock:
                self._cached[domain] = (time.monotonic() + self.ttl, found)
            return found

    def forget(self, domain: str | None = None) -> None:
        with self._lock:
            if domain is None:
                self._cached.clear()
            else:
                self._cached.pop(domain, None)


# -- suggestions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationSuggestion:
    odoo_location_id: int
    label: str
    why: str
    score: int


def _fold(text: str | None) -> str:
    text = (text or "").casefold().replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _words(text: str | None) -> set[str]:
    return {w for w in _fold(text).split() if w}


def _street_match(shop: str | None, odoo: str | None) -> bool:
    """Same street: the house numbers agree and most words are shared ("Rue de la
    République 12" and "12 rue de la Republique" are the same place)."""
    a, b = _words(shop), _words(odoo)
    if not a or not b:
        return False
    numbers_a = {w for w in a if w.isdigit()}
    numbers_b = {w for w in b if w.isdigit()}
    if numbers_a != numbers_b:
        return False
    return len(a & b) / len(a | b) >= 0.6


def address_score(location: ShopLocation, address: Address | None) -> tuple[int, str]:
    """How surely a warehouse address is the Shopify location's: (score, why)."""
    if address is None or not location.address:
        return 0, ""
    a = location.address
    country = (a.get("countryCode") or "").upper() == (address.country_code or "").upper()
    zip_same = bool(a.get("zip")) and _fold(a.get("zip")) == _fold(address.zip)
    city_same = bool(a.get("city")) and _fold(a.get("city")) == _fold(address.city)
    street_same = _street_match(a.get("address1"), address.street)
    if country and zip_same and street_same:
        return 100, f"same address: {location.place}"
    if country and zip_same and city_same:
        return 60, f"same postcode and city: {a.get('zip')} {a.get('city')}"
    if country and city_same:
        return 30, f"same city: {a.get('city')}"
    return 0, ""


def name_score(shop_name: str, odoo_name: str) -> int:
    a, b = _words(shop_name), _words(odoo_name)
    if not a or not b:
        return 0
    return int(20 * len(a & b) / len(a | b))


def _warehouse_label(warehouse: Warehouse, layout: StockLayout) -> str:
    stock = layout.locations.get(warehouse.stock_location_id or 0)
    where = stock.complete_name if stock else f"location {warehouse.stock_location_id}"
    return f"{warehouse.name} — {where}"


def suggest_locations(
    location: ShopLocation, layout: StockLayout, company_id: int | None, limit: int = 6
) -> list[LocationSuggestion]:
    """Odoo stock locations that could hold what ``location`` sells, best first: each
    warehouse's stock location ranked by address, then by name; then internal locations
    whose name resembles the Shopify location's."""
    found: dict[int, LocationSuggestion] = {}

    def offer(location_id: int | None, label: str, why: str, score: int) -> None:
        if not location_id or score <= 0:
            return
        best = found.get(location_id)
        if best is None or best.score < score:
            found[location_id] = LocationSuggestion(location_id, label, why, score)

    for warehouse in layout.warehouses:
        if company_id and warehouse.company_id not in (None, company_id):
            continue
        score, why = address_score(location, warehouse.address)
        named = name_score(location.name, f"{warehouse.name} {warehouse.code}")
        if named and not score:
            score, why = named, f"name resembles '{warehouse.name}'"
        offer(warehouse.stock_location_id, _warehouse_label(warehouse, layout), why, score)
    for odoo_location in layout.locations.values():
        if odoo_location.usage != "internal":
            continue
        if company_id and odoo_location.company_id not in (None, company_id):
            continue
        named = name_score(location.name, odoo_location.name)
        offer(
            odoo_location.id,
            odoo_location.complete_name,
            f"name resembles '{odoo_location.complete_name}'",
            named,
        )
    ranked = sorted(found.values(), key=lambda s: (-s.score, s.label))
    return ranked[:limit]


@dataclass(frozen=True)
class LocationRow:
    """One Shopify location on the Mappings screen: mapped or not, and the best candidates."""

    location: ShopLocation
    mapped: MappedLocation | None
    suggestions: tuple[LocationSuggestion, ...]


def location_rows(
    locations: Sequence[ShopLocation],
    mapped: dict[str, MappedLocation],
    layout: StockLayout | None,
    company_id: int | None,
) -> list[LocationRow]:
    """Every Shopify location, unmapped first, with suggestions for the unmapped ones."""
    rows = []
    for location in locations:
        mapping = mapped.get(location.id)
        suggestions: tuple[LocationSuggestion, ...] = ()
        if mapping is None and layout is not None:
            suggestions = tuple(suggest_locations(location, layout, company_id))
        rows.append(LocationRow(location, mapping, suggestions))
    return sorted(
        rows, key=lambda r: (r.mapped is not None, not r.location.active, r.location.name)
    )


def read_location_rows(
    shopify_locations: Callable[[], list[dict[str, Any]]],
    layout: Callable[[], StockLayout],
    mapped: dict[str, MappedLocation],
    company_id: int | None,
) -> list[LocationRow]:
    """Every Shopify location (inactive and fulfillment-service ones too) with its mapping
    or, unmapped, the Odoo stock locations suggested for it: one Shopify read, three Odoo."""
    locations = [ShopLocation.parse(n) for n in shopify_locations()]
    needs_layout = any(loc.id not in mapped for loc in locations)
    return location_rows(locations, mapped, layout() if needs_layout else None, company_id)
