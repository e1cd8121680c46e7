"""Checks that need the remote systems: mapping validation, "test connection", doctor.

The console (mapping editor, settings) and ``shopodoo doctor`` call these through plain
callables, so the UI stays free of clients. Each answers in one sentence an operator can act
on; none of them writes anything remotely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shopodoo_console.causes import CauseError
from shopodoo_console.config import Config
from shopodoo_console.doctor import FAIL, OK, Check
from shopodoo_console.explain import outside_a_job
from shopodoo_console.workflows.connections import Connections

log = logging.getLogger(__name__)

# What the flows read and create in Odoo, for the rights check (the stock flow reads quants,
# done moves, locations and warehouses; it writes nothing in Odoo).
ODOO_MODELS = (
    "sale.order",
    "res.partner",
    "product.product",
    "ir.model.data",
    # the fulfillments flow: deliveries, their moves and the sale lines they ship
    "stock.picking",
    "stock.move",
    "sale.order.line",
    # the stock flow: quantities, done moves and the locations they sit in
    "stock.quant",
    "stock.location",
    "stock.warehouse",
)


def validate_mapping(
    connections: Connections, shop_domain: str, kind: str, odoo_model: str, odoo_id: int
) -> tuple[bool, str, str]:
    """(ok, sentence, label): the Odoo record exists, is active, and the shop's company may
    use it."""
    config = connections.config
    try:
        shop = config.shop(shop_domain)
        odoo = connections.odoo()
        fields = odoo.fields(odoo_model)
        wanted = [
            f
            for f in ("display_name", "active", "company_id")
            if f in fields or f == "display_name"
        ]
        rows = odoo.search_read(
            odoo_model, [("id", "=", odoo_id)], wanted, context={"active_test": False}
        )
    except CauseError as exc:
        return False, f"Could not check in Odoo: {exc.cause.missing}", ""
    if not rows:
        return False, f"There is no {odoo_model} with id {odoo_id} in Odoo.", ""
    row = rows[0]
    label = str(row.get("display_name") or f"{odoo_model} {odoo_id}")
    if row.get("active") is False:
        return False, f"{label} is archived in Odoo; unarchive it or pick another.", label
    company = row.get("company_id")
    company_id = company[0] if isinstance(company, list) and company else None
    if company_id and shop.odoo_company_id and company_id != shop.odoo_company_id:
        name = company[1] if isinstance(company, list) and len(company) > 1 else company_id
        return (
            False,
            (
                f"{label} belongs to another company ({name}); the shop works in "
                f"company {shop.odoo_company_id}."
            ),
            label,
        )
    return True, f"{label} exists in Odoo and fits the shop's company.", label


def test_connection(connections: Connections, name: str) -> tuple[bool, str]:
    """``"odoo"`` or ``"shopify:<domain>"``: connect, and say what was found."""
    try:
        if name == "odoo":
            odoo = connections.odoo()
            info = odoo.connect()
            return True, (f"Connected to Odoo {info.version} over {info.protocol} as {odoo.login}.")
        if name.startswith("shopify:"):
            domain = name.split(":", 1)[1]
            client = connections.shopify(connections.config.shop(domain))
            access = client.access_scopes()
            missing = access.missing()
            shop_name = access.shop.get("name", domain)
            if missing:
                return False, (
                    f"Connected to {shop_name}, but the app lacks the scopes "
                    f"{', '.join(missing)}: add them and reinstall the app."
                )
            return True, f"Connected to {shop_name}; every required scope is granted."
    except CauseError as exc:
        return False, outside_a_job(exc.cause)
    return False, f"Unknown connection {name!r}."


def doctor_checks(connections: Connections) -> Callable[[Config], list[Check]]:
    """Reachability, Shopify scopes and Odoo rights, for ``shopodoo doctor``."""

    def checks(config: Config) -> list[Check]:
        out: list[Check] = []
        if config.odoo is not None:
            ok, message = test_connection(connections, "odoo")
            out.append(Check("odoo", OK if ok else FAIL, message))
            if ok:
                out.extend(_odoo_rights(connections))
        for shop in config.shops:
            ok, message = test_connection(connections, f"shopify:{shop.domain}")
            out.append(Check(f"shopify {shop.domain}", OK if ok else FAIL, message))
        return out

    return checks


def _odoo_rights(connections: Connections) -> list[Check]:
    odoo = connections.odoo()
    out = []
    for model in ODOO_MODELS:
        try:
            odoo.search_count(model, [("id", "=", 0)])
        except CauseError as exc:
            out.append(Check(f"odoo rights {model}", FAIL, outside_a_job(exc.cause)))
            continue
        out.append(
            Check(
                f"odoo rights {model}",
                OK,
                "readable (create rights are checked on "
                "first use; a missing one stops the job naming the group to grant)",
            )
        )
    return out


def suggest(
    connections: Connections, shop_domain: str, kind: str, source_key: str, limit: int = 6
) -> list[tuple[int, str, str]]:
    """Odoo records that could be what ``source_key`` means: ``(id, label, why)``.

    Products: the Shopify variant with that SKU is read for its barcode and title, then Odoo
    is searched by barcode, by a similar internal reference and by name — the usual reasons
    a SKU does not match (a typo, a prefix, a different reference scheme). Locations: the
    Odoo warehouses at the Shopify location's address (names rarely agree), then by name.
    """
    try:
        config = connections.config
        shop = config.shop(shop_domain)
        odoo = connections.odoo()
        if kind == "product":
            return _suggest_products(connections, shop_domain, source_key, limit)
        if kind == "location":
            return _suggest_locations(connections, shop_domain, source_key, limit)
        model, field = {
            "carrier": ("delivery.carrier", "name"),
            "gateway": ("account.journal", "name"),
            "tax": ("account.tax", "name"),
        }.get(kind, ("", ""))
        if not model:
            return []
        domain: list[Any] = []
        words = [w for w in source_key.replace("_", " ").split() if len(w) > 2]
        if words:
            domain = ["|"] * (len(words) - 1) + [(field, "ilike", w) for w in words]
        if shop.odoo_company_id and kind in ("gateway", "tax"):
            domain.append(("company_id", "in", [shop.odoo_company_id, False]))
        rows = odoo.search_read(model, domain, ["display_name"], limit=limit)
        return [
            (int(r["id"]), str(r["display_name"]), "name matches" if words else "") for r in rows
        ]
    except CauseError as exc:
        log.warning("no suggestions for %s %s: %s", kind, source_key, exc.cause.missing)
        return []


def _suggest_locations(
    connections: Connections, shop_domain: str, location_id: str, limit: int
) -> list[tuple[int, str, str]]:
    """Odoo stock locations for a Shopify location, by address first, then by name."""
    from shopodoo_console.workflows.stock.locations import ShopLocation, suggest_locations

    shop = connections.config.shop(shop_domain)
    client = connections.shopify(shop)
    found = [
        n
        for n in client.locations(include_inactive=True, include_legacy=True)
        if location_id in (n.get("id"), n.get("name"))
    ]
    if not found:
        return []
    layout = connections.odoo().stock_layout()
    ranked = suggest_locations(ShopLocation.parse(found[0]), layout, shop.odoo_company_id, limit)
    return [(s.odoo_location_id, s.label, s.why) for s in ranked]


def _suggest_products(
    connections: Connections, shop_domain: str, sku: str, limit: int
) -> list[tuple[int, str, str]]:
    odoo = connections.odoo()
    client = connections.shopify(connections.config.shop(shop_domain))
    variants = client.variants_by_sku(sku) if sku and not sku.startswith("title:") else []
    barcodes = sorted({v["barcode"] for v in variants if v.get("barcode")})
    titles = sorted({(v.get("product") or {}).get("title", "") for v in variants} - {""})
    if sku.startswith("title:"):
        titles = [sku.split(":", 1)[1]]
    found: dict[int, tuple[int, str, str]] = {}

    def add(rows: list[dict[str, Any]], why: str) -> None:
        for row in rows:
            if row["id"] not in found:
                name = str(row["display_name"])
                code = row.get("default_code")
                if code and f"[{code}]" not in name:
                    name += f" [{code}]"
                found[int(row["id"])] = (int(row["id"]), name, why)

    fields = ["display_name", "default_code"]
    if barcodes:
        add(
            odoo.search_read("product.product", [("barcode", "in", barcodes)], fields, limit=limit),
            "same barcode",
        )
    core = sku.replace("-", "").replace("_", "")
    if core and not sku.startswith("title:"):
        add(
            odoo.search_read(
                "product.product", [("default_code", "ilike", core[:6])], fields, limit=limit
            ),
            "similar internal reference",
        )
    for title in titles:
        add(
            odoo.search_read(
                "product.product", [("name", "ilike", title)], fields, limit=limit * 2
            ),
            f"name matches '{title}'",
        )
    # The variant's own words ("XL", "Red") first: of four T-shirts, the XL one.
    words = {w.lower() for v in variants for w in str(v.get("title") or "").split()} - {"default"}

    def rank(item: tuple[int, str, str]) -> tuple[int, int]:
        label = item[1].lower().replace("(", " ").replace(")", " ").split()
        return (0 if item[2] == "same barcode" else 1, -sum(w in label for w in words))

    return sorted(found.values(), key=rank)[:limit]


def search_records(
    connections: Connections, model: str, text: str, limit: int = 8
) -> list[tuple[int, str]]:
    """Odoo records of ``model`` whose name (or a product's reference) contains ``text``:
    ``(id, label)``, for the console's option picker. An empty text lists the first few."""
    odoo = connections.odoo()
    domain: list[Any] = []
    if text.isdigit():
        domain = [("id", "=", int(text))]
    elif text:
        domain = [("name", "ilike", text)]
        if model == "product.product":
            domain = ["|", ("default_code", "ilike", text), *domain]
    rows = odoo.search_read(model, domain, ["display_name"], limit=limit)
    return [(int(r["id"]), str(r["display_name"])) for r in rows]
