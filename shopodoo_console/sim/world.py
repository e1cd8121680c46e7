"""A Shopify store and an Odoo database that belong together, for the demo, tests and benches.

Both simulators are seeded from one seed so the catalogues line up (every Shopify SKU that
should sync exists in Odoo with the same ``default_code`` and barcode), while chosen SKUs are
left out of Odoo on purpose: those orders fail with "product not mapped" until someone maps
them. Imports only the simulators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shopodoo_console.sim.odoo import OdooSimulator
from shopodoo_console.sim.odoo.scenario import default_scenario
from shopodoo_console.sim.shopify import ShopifySimulator
from shopodoo_console.sim.shopify.scenario import generate


def build_scenarios(
    *,
    seed: int = 7,
    orders: int = 50,
    customers: int | None = None,
    products: int | None = None,
    unmapped_skus: tuple[str, ...] = (),
    days: int = 30,
    now: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Shopify scenario, Odoo scenario) with matching catalogues, except ``unmapped_skus``."""
    shopify = generate(
        seed=seed, orders=orders, customers=customers, products=products, days=days, now=now
    )
    odoo = default_scenario(seed=seed, products=0, partners=10)
    catalogue: dict[str, dict[str, Any]] = {}
    for product in shopify["products"]:
        for variant in product["variants"]:
            sku = variant.get("sku")
            if not sku or sku in catalogue:
                continue
            stock = sum(int(q) for q in (variant.get("stock") or {}).values())
            unmapped = sku in unmapped_skus
            catalogue[sku] = {
                # An "unmapped" SKU exists in Odoo under another reference and without the
                # barcode (the classic mismatch): only a mapping, or a suggestion, finds it.
                "sku": f"LEGACY-{len(catalogue):03d}" if unmapped else sku,
                "barcode": None if unmapped else variant.get("barcode"),
                "name": f"{product['title']} ({variant.get('title')})",
                "price": float(variant.get("price") or 0),
                "type": "storable",
                "company": None,
                "stock": {"eu": stock},
            }
    odoo["products"] = list(catalogue.values())
    # A journal for each gateway the shop takes (the demo maps all but PayPal at first).
    odoo["journals"] = [
        *odoo["journals"],
        {"name": "PayPal", "code": "PAYPL", "type": "bank", "company": "eu"},
    ]
    return shopify, odoo


@dataclass
class World:
    """Both simulators, started on free loopback ports."""

    shopify_scenario: dict[str, Any]
    odoo_scenario: dict[str, Any]
    odoo_version: int = 19
    plan: str = "standard"
    bucket: tuple[int, float] | None = None
    shopify: ShopifySimulator = field(init=False)
    odoo: OdooSimulator = field(init=False)

    def __post_init__(self) -> None:
        self.shopify = ShopifySimulator(self.shopify_scenario, plan=self.plan, bucket=self.bucket)
        self.odoo = OdooSimulator(version=self.odoo_version, scenario=self.odoo_scenario)

    def start(self) -> World:
        self.shopify.start()
        self.odoo.start()
        return self

    def stop(self) -> None:
        self.shopify.stop()
        self.odoo.stop()

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def facts(self) -> dict[str, Any]:
        """Everything a console needs to connect, and the Odoo ids a config refers to."""
        company = self.odoo.company_id("eu")
        warehouses = self.odoo.env["stock.warehouse"].search([("company_id", "=", company)])
        carriers = self.odoo.env["delivery.carrier"].search_read([], ["name", "product_id"])
        journals = self.odoo.env["account.journal"].search_read(
            [("company_id", "=", company)], ["name"]
        )
        return {
            "shop_domain": self.shopify.domain,
            "shop_base_url": self.shopify.base_url,
            "shop_token": self.shopify.static_token,
            "odoo_url": self.odoo.url,
            "odoo_database": self.odoo.database,
            "odoo_login": self.odoo.login,
            "odoo_api_key": self.odoo.api_key,
            "company_id": company,
            "warehouse_id": warehouses[0] if warehouses else None,
            "carriers": {c["name"]: c["id"] for c in carriers},
            "journals": {j["name"]: j["id"] for j in journals},
        }
