"""Scenarios: what the simulated Odoo database holds when it starts.

A scenario is a plain dict (JSON-compatible). :func:`default_scenario` builds a realistic one,
deterministically from ``seed``; every key can be replaced by the caller. Keys:

``database``  database name (default ``"shopodoo"``)
``companies`` ``[{"key", "name", "currency", "country", "warehouse": {"name", "code"}}]`` —
              the first is the main company; ``"warehouses": [...]`` instead gives it several,
              each ``{"name", "code", "address": {"street", "city", "zip", "country"},
              "sublocations": ["Shelf 1", …]}`` (the first is the company's main warehouse)
``users``     ``[{"login", "name", "password", "api_key", "groups": [xmlid…],
              "companies": [key…], "company": key}]`` — the first is the integration user the
              simulator reports as ``sim.login``; ``api_key: null`` draws a random key
``taxes``     ``[{"name", "amount", "company"}]`` (percent sale taxes)
``journals``  ``[{"name", "code", "type", "company"}]``
``carriers``  ``[{"name", "price", "sku", "company", "tracking_url"}]`` — each gets a service
              delivery product; ``tracking_url`` holds ``<shipmenttrackingnumber>``
``products``  ``[{"sku", "barcode", "name", "price", "type": "storable"|"consu"|"service",
              "company": key|null, "stock": {place: qty}}]`` — a place is a company key (its
              main warehouse's stock), a warehouse code or ``"CODE/Shelf 1"``
``partners``  ``[{"name", "email", "phone", "street", "city", "zip", "country", "company",
              "is_company"}]``

SKUs and barcodes are scenario data: :func:`default_scenario` takes ``sku_format`` (e.g.
``"SKU-{n:04d}"``) and ``barcode_prefix`` so they can match another simulator's catalogue.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from .orm import Env, Model

INTEGRATION_GROUPS = [
    "base.group_user",
    "base.group_partner_manager",
    "sales_team.group_sale_salesman_all_leads",
    "stock.group_stock_user",
    "account.group_account_invoice",
]
ADMIN_GROUPS = [
    "base.group_system",
    "base.group_partner_manager",
    "sales_team.group_sale_manager",
    "stock.group_stock_manager",
    "account.group_account_manager",
]
COUNTRIES = [
    ("BE", "Belgium", []),
    ("FR", "France", []),
    ("DE", "Germany", []),
    ("NL", "Netherlands", []),
    ("GB", "United Kingdom", []),
    ("US", "United States", [("NY", "New York"), ("CA", "California"), ("NJ", "New Jersey")]),
    ("CA", "Canada", [("ON", "Ontario"), ("QC", "Quebec")]),
]
_ADJ = [
    "Classic",
    "Organic",
    "Recycled",
    "Linen",
    "Ceramic",
    "Walnut",
    "Merino",
    "Canvas",
    "Copper",
    "Bamboo",
    "Stoneware",
    "Cotton",
]
_NOUN = [
    "Mug",
    "Tote Bag",
    "Notebook",
    "Candle",
    "Scarf",
    "Water Bottle",
    "Apron",
    "Cap",
    "Coaster Set",
    "Lamp",
    "Cushion",
    "Blanket",
    "Teapot",
    "Planter",
]
_FIRST = [
    "Jane",
    "Lucas",
    "Emma",
    "Noah",
    "Mila",
    "Arthur",
    "Olivia",
    "Louis",
    "Sofia",
    "Jules",
    "Chloe",
    "Adam",
    "Nora",
    "Victor",
    "Lena",
    "Hugo",
]
_LAST = [
    "Doe",
    "Peeters",
    "Janssens",
    "Martin",
    "Dubois",
    "Smith",
    "Müller",
    "De Smet",
    "Garcia",
    "Nguyen",
    "Rossi",
    "Maes",
    "Bernard",
    "Jacobs",
]
_STREETS = ["Rue Haute", "Main Street", "Kerkstraat", "Avenue Louise"]
_CITIES = [
    ("BE", "Brussels", "1000"),
    ("BE", "Ghent", "9000"),
    ("FR", "Lyon", "69001"),
    ("NL", "Utrecht", "3511"),
    ("DE", "Cologne", "50667"),
    ("US", "Brooklyn", "11201"),
]


def ean13(prefix: str, n: int) -> str:
    """A valid EAN-13 from a prefix and a number (check digit included)."""
    body = (prefix + str(n).zfill(12 - len(prefix)))[:12]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def default_scenario(
    *,
    seed: int = 7,
    products: int = 40,
    partners: int = 25,
    sku_format: str = "SKU-{n:04d}",
    barcode_prefix: str = "200",
    database: str = "shopodoo",
) -> dict[str, Any]:
    """A realistic two-company database, the same for the same arguments."""
    rnd = random.Random(seed)
    catalogue = []
    for n in range(1, products + 1):
        kind = "service" if n % 17 == 0 else "consu" if n % 11 == 0 else "storable"
        catalogue.append(
            {
                "sku": sku_format.format(n=n),
                "barcode": ean13(barcode_prefix, n) if kind != "service" else None,
                "name": f"{rnd.choice(_ADJ)} {rnd.choice(_NOUN)}",
                "price": round(rnd.uniform(6, 120), 2),
                "type": kind,
                "company": None,
                "stock": {"eu": rnd.choice([0, 3, 12, 40, 100]), "us": rnd.choice([0, 5, 20])}
                if kind == "storable"
                else {},
            }
        )
    people = []
    for n in range(partners):
        first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
        country, city, zip_code = rnd.choice(_CITIES)
        people.append(
            {
                "name": f"{first} {last}",
                "email": f"{first}.{last}.{n}@example.com".lower().replace(" ", ""),
                "phone": "+32 470 " + " ".join(str(rnd.randint(10, 99)) for _ in range(3)),
                "street": f"{rnd.randint(1, 200)} {rnd.choice(_STREETS)}",
                "city": city,
                "zip": zip_code,
                "country": country,
                "company": None,
                "is_company": False,
            }
        )
    return {
        "database": database,
        "companies": [
            {
                "key": "eu",
                "name": "Shopodoo Europe SRL",
                "currency": "EUR",
                "country": "BE",
                "warehouse": {"name": "Brussels Warehouse", "code": "WH"},
            },
            {
                "key": "us",
                "name": "Shopodoo Inc.",
                "currency": "USD",
                "country": "US",
                "warehouse": {"name": "Newark Warehouse", "code": "NWK"},
            },
        ],
        "users": [
            {
                "login": "shopodoo-bot",
                "name": "Shopodoo Integration",
                "password": None,
                "api_key": None,
                "groups": INTEGRATION_GROUPS,
                "companies": ["eu"],
                "company": "eu",
            },
            {
                "login": "admin",
                "name": "Mitchell Admin",
                "password": "admin",
                "api_key": None,
                "groups": ADMIN_GROUPS,
                "companies": ["eu", "us"],
                "company": "eu",
            },
        ],
        "taxes": [
            {"name": "21%", "amount": 21.0, "company": "eu"},
            {"name": "6%", "amount": 6.0, "company": "eu"},
            {"name": "Sales Tax 6.625%", "amount": 6.625, "company": "us"},
        ],
        "journals": [
            {"name": "Customer Invoices", "code": "INV", "type": "sale", "company": "eu"},
            {"name": "Bank", "code": "BNK1", "type": "bank", "company": "eu"},
            {"name": "Shopify Payments", "code": "SHOP", "type": "bank", "company": "eu"},
            {"name": "Customer Invoices", "code": "INV", "type": "sale", "company": "us"},
        ],
        "carriers": [
            {"name": "Standard delivery", "price": 4.95, "sku": "SHIP-STD", "company": None},
            {
                "name": "DHL Express",
                "price": 12.5,
                "sku": "SHIP-DHL",
                "company": None,
                "tracking_url": "https://www.dhl.com/en/express/tracking.html?AWB="
                "<shipmenttrackingnumber>",
            },
            {
                "name": "bpost",
                "price": 6.9,
                "sku": "SHIP-BPOST",
                "company": "eu",
                "tracking_url": "https://track.bpost.cloud/btr/web/#/search?itemCode="
                "<shipmenttrackingnumber>",
            },
        ],
        "products": catalogue,
        "partners": people,
    }


class Seeder:
    """Writes a scenario into a fresh database as the superuser (before any request)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.companies: dict[str, int] = {}
        self.xmlids: list[tuple[str, str, str, int]] = []

    def m(self, model: str) -> Model:
        return self.env[model]

    def make(self, model: str, vals: dict[str, Any], xmlid: str | None = None) -> int:
        rid = self.m(model).create([vals])[0]
        if xmlid:
            module, _, name = xmlid.partition(".")
            self.m("ir.model.data").create(
                [{"module": module, "name": name, "model": model, "res_id": rid, "noupdate": True}]
            )
        return rid

    def run(self, scenario: dict[str, Any]) -> list[dict[str, Any]]:
        """Seed everything; returns the users with their resolved ids and API keys."""
        from .security import GROUPS

        self.make("res.partner", {"name": "OdooBot"}, "base.partner_root")
        self.m("res.users").create([{"name": "OdooBot", "login": "__system__", "active": False}])
        units = self.make("uom.uom", {"name": "Units"}, "uom.product_uom_unit")
        self.make("uom.uom", {"name": "Dozens", "factor": 1 / 12}, "uom.product_uom_dozen")
        assert units == 1
        countries = self._countries()
        currencies: dict[str, int] = {}
        for cfg in scenario["companies"]:
            cur = cfg.get("currency", "EUR")
            if cur not in currencies:
                currencies[cur] = self.make("res.currency", {"name": cur}, f"base.{cur}")
        physical = self.make(
            "stock.location", {"name": "Physical Locations", "usage": "view", "company_id": False}
        )
        partners_view = self.make(
            "stock.location", {"name": "Partners", "usage": "view", "company_id": False}
        )
        customers = self.make(
            "stock.location",
            {
                "name": "Customers",
                "usage": "customer",
                "location_id": partners_view,
                "company_id": False,
            },
            "stock.stock_location_customers",
        )
        self.make(
            "stock.location",
            {
                "name": "Vendors",
                "usage": "supplier",
                "location_id": partners_view,
                "company_id": False,
            },
            "stock.stock_location_suppliers",
        )
        stock_loc: dict[str, int] = {}
        for n, cfg in enumerate(scenario["companies"]):
            cid, partner = self._company(n, cfg, currencies, countries)
            configs = cfg.get("warehouses") or [
                cfg.get("warehouse") or {"name": f"{cfg['name']} Warehouse", "code": "WH"}
            ]
            for index, wh_cfg in enumerate(configs):
                _, places = self._warehouse(wh_cfg, cid, partner, physical, customers, countries)
                if index == 0:
                    stock_loc[cfg["key"]] = places[wh_cfg["code"]]
                stock_loc.update(places)
        self.make(
            "stock.location",
            {"name": "Virtual Locations", "usage": "view", "company_id": False},
        )
        self.make(
            "stock.location",
            {"name": "Inventory adjustment", "usage": "inventory", "company_id": False},
            "stock.stock_location_inventory",
        )
        for xmlid, group in GROUPS.items():
            gid = self.make(
                "res.groups",
                {"name": group.full_name.split(" / ")[-1], "full_name": group.full_name},
                xmlid,
            )
            self.env.store.update("res.groups", gid, {"xmlid": xmlid})
        for t in scenario.get("taxes", []):
            self.make(
                "account.tax",
                {
                    "name": t["name"],
                    "amount": float(t["amount"]),
                    "company_id": self.companies[t["company"]],
                },
            )
        for j in scenario.get("journals", []):
            self.make(
                "account.journal",
                {
                    "name": j["name"],
                    "code": j["code"],
                    "type": j["type"],
                    "company_id": self.companies[j["company"]],
                },
            )
        for p in scenario.get("products", []):
            self._product(p, stock_loc)
        for c in scenario.get("carriers", []):
            product = self._product(
                {
                    "sku": c["sku"],
                    "name": c["name"],
                    "price": c["price"],
                    "type": "service",
                    "company": c.get("company"),
                },
                stock_loc,
            )
            self.make(
                "delivery.carrier",
                {
                    "name": c["name"],
                    "fixed_price": float(c["price"]),
                    "product_id": product,
                    "company_id": self.companies.get(c.get("company") or "", False),
                    "tracking_url": c.get("tracking_url") or False,
                },
            )
        for p in scenario.get("partners", []):
            self.make(
                "res.partner",
                {
                    "name": p["name"],
                    "email": p.get("email"),
                    "phone": p.get("phone"),
                    "street": p.get("street"),
                    "city": p.get("city"),
                    "zip": p.get("zip"),
                    "country_id": countries.get(p.get("country") or "", False),
                    "company_id": self.companies.get(p.get("company") or "", False),
                    "is_company": bool(p.get("is_company")),
                    "customer_rank": 1,
                },
            )
        return self._users(scenario.get("users", []))

    def _countries(self) -> dict[str, int]:
        """Countries (and their states) by ISO code."""
        countries: dict[str, int] = {}
        for code, name, states in COUNTRIES:
            countries[code] = self.make(
                "res.country", {"name": name, "code": code}, f"base.{code.lower()}"
            )
            for scode, sname in states:
                self.make(
                    "res.country.state",
                    {"name": sname, "code": scode, "country_id": countries[code]},
                    f"base.state_{code.lower()}_{scode.lower()}",
                )
        return countries

    def _company(
        self,
        n: int,
        cfg: dict[str, Any],
        currencies: dict[str, int],
        countries: dict[str, int],
    ) -> tuple[int, int]:
        """A company and its partner; the first is ``base.main_company``."""
        partner = self.make(
            "res.partner",
            {
                "name": cfg["name"],
                "is_company": True,
                "country_id": countries.get(cfg.get("country") or ""),
            },
        )
        cid = self.make(
            "res.company",
            {
                "name": cfg["name"],
                "currency_id": currencies[cfg.get("currency", "EUR")],
                "country_id": countries.get(cfg.get("country") or ""),
                "partner_id": partner,
            },
            "base.main_company" if n == 0 else f"base.company_{cfg['key']}",
        )
        self.companies[cfg["key"]] = cid
        self.m("res.partner").write([partner], {"company_id": cid})
        return cid, partner

    def _warehouse(
        self,
        cfg: dict[str, Any],
        cid: int,
        company_partner: int,
        physical: int,
        customers: int,
        countries: dict[str, int],
    ) -> tuple[int, dict[str, int]]:
        """A warehouse: its view and stock locations (plus ``sublocations`` under stock), its
        address (a partner of its own when ``address`` is given), delivery and receipt types.
        Returns its id and its internal locations by path: ``CODE`` (stock), ``CODE/Shelf 1``."""
        code = cfg["code"]
        partner = company_partner
        address = cfg.get("address")
        if address:
            partner = self.make(
                "res.partner",
                {
                    "name": cfg["name"],
                    "is_company": True,
                    "street": address.get("street"),
                    "street2": address.get("street2"),
                    "city": address.get("city"),
                    "zip": address.get("zip"),
                    "country_id": countries.get(address.get("country") or "", False),
                    "company_id": cid,
                },
            )
        view = self.make(
            "stock.location",
            {"name": code, "usage": "view", "location_id": physical, "company_id": cid},
        )
        stock = self.make(
            "stock.location",
            {"name": "Stock", "usage": "internal", "location_id": view, "company_id": cid},
        )
        wh = self.make(
            "stock.warehouse",
            {
                "name": cfg["name"],
                "code": code,
                "company_id": cid,
                "partner_id": partner,
                "view_location_id": view,
                "lot_stock_id": stock,
            },
        )
        places = {code: stock}
        for sub in cfg.get("sublocations") or []:
            places[f"{code}/{sub}"] = self.make(
                "stock.location",
                {"name": sub, "usage": "internal", "location_id": stock, "company_id": cid},
            )
        self.m("stock.location").write([view, *places.values()], {"warehouse_id": wh})
        out = self.make(
            "stock.picking.type",
            {
                "name": "Delivery Orders",
                "code": "outgoing",
                "sequence_code": "OUT",
                "warehouse_id": wh,
                "default_location_src_id": stock,
                "default_location_dest_id": customers,
                "company_id": cid,
            },
        )
        receipts = self.make(
            "stock.picking.type",
            {
                "name": "Receipts",
                "code": "incoming",
                "sequence_code": "IN",
                "warehouse_id": wh,
                "default_location_dest_id": stock,
                "company_id": cid,
            },
        )
        self.m("stock.warehouse").write([wh], {"out_type_id": out, "in_type_id": receipts})
        return wh, places

    def _product(self, p: dict[str, Any], stock_loc: dict[str, int]) -> int:
        kind = p.get("type", "storable")
        vals: dict[str, Any] = {
            "name": p["name"],
            "list_price": float(p.get("price", 1.0)),
            "default_code": p.get("sku") or False,
            "barcode": p.get("barcode") or False,
            "company_id": self.companies.get(p.get("company") or "", False),
        }
        if self.env.version <= 17:
            odoo_type = {"storable": "product", "consu": "consu", "service": "service"}[kind]
            vals.update(type=odoo_type, detailed_type=odoo_type)
        else:
            vals.update(
                type="service" if kind == "service" else "consu", is_storable=kind == "storable"
            )
        pid = self.m("product.product").create([vals])[0]
        for key, qty in (p.get("stock") or {}).items():
            if qty and key in stock_loc:
                location = self.env.store.tables["stock.location"][stock_loc[key]]
                self.m("stock.quant").create(
                    [
                        {
                            "product_id": pid,
                            "location_id": stock_loc[key],
                            "quantity": float(qty),
                            "company_id": location["company_id"],
                        }
                    ]
                )
        return pid

    def _users(self, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
        groups = {r["xmlid"]: r["id"] for r in self.env.store.tables["res.groups"].values()}
        out = []
        for u in users:
            companies = [self.companies[c] for c in u.get("companies") or list(self.companies)]
            partner = self.make(
                "res.partner", {"name": u["name"], "email": f"{u['login']}@example.com"}
            )
            uid = self.m("res.users").create(
                [
                    {
                        "name": u["name"],
                        "login": u["login"],
                        "partner_id": partner,
                        "company_id": self.companies[
                            u.get("company") or next(iter(self.companies))
                        ],
                        "company_ids": [(6, 0, companies)],
                        "groups_id": [(6, 0, [groups[g] for g in u.get("groups", [])])],
                    }
                ]
            )[0]
            out.append(
                {
                    **u,
                    "uid": uid,
                    "password": u.get("password") or secrets.token_urlsafe(16),
                    "api_key": u.get("api_key") or secrets.token_hex(20),
                }
            )
        return out
