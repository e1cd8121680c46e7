"""The fetch and match stages of the stock flow: each product, its variant, both sides' stock.

For a batch of jobs, in a constant number of calls:

* **Odoo products** — one ``read``: a product deleted in Odoo, or not storable (a service, a
  consumable), has no stock to publish;
* **the variant** — the stock link first (kept from an earlier match), then the product
  mappings read backwards (a SKU or a variant mapped to this
  product), then the product's internal reference and barcode searched in Shopify (one search
  per 25 values). Exactly one variant, or none: several variants with one SKU are never
  guessed between; a variant whose SKU is mapped to another product is that product's. A
  match is linked at once (one statement; a conflict means another product holds it);
* **Shopify levels** — every linked variant's inventory item and levels in ``nodes(ids:)``
  batches sized to the bucket (a search already returned them for the others);
* **Odoo quantities** — on hand and reserved per product per mapped location set, one
  ``read_group`` per 1000 products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopodoo_console.engine import mappings
from shopodoo_console.engine.flows import ShopRef, Skipped
from shopodoo_console.odoo import OdooClient
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.inventory import ItemInventory
from shopodoo_console.store import links as store_links
from shopodoo_console.store import stock as store_stock
from shopodoo_console.store.db import Store
from shopodoo_console.store.stock import STOCK_LINK
from shopodoo_console.workflows.pipeline import LinkTarget, LinkWriter, open_items
from shopodoo_console.workflows.stock.jobs import OdooProduct, StockJob
from shopodoo_console.workflows.stock.locations import MappedLocation

VARIANT = "gid://shopify/ProductVariant/"


@dataclass
class Sides:
    """The clients and facts one batch of one shop works with."""

    store: Store
    shop: ShopRef
    odoo: OdooClient
    shopify: ShopifyClient
    levels: int  # locations read per item (the shop's active locations)
    mapped: dict[str, MappedLocation]
    company_id: int | None


# -- Odoo products ------------------------------------------------------------------------


def read_products(sides: Sides, jobs: Sequence[StockJob]) -> None:
    odoo = sides.odoo
    storable = odoo.field_name("product.product", "storable") or "type"
    fields = ["display_name", "default_code", "barcode", storable]
    if storable == "is_storable":
        fields.append("type")
    rows = odoo.read(
        "product.product",
        sorted({j.product_id for j in jobs}),
        fields,
        context={"active_test": False},
    )
    found = {int(r["id"]): r for r in rows}
    for job in jobs:
        row = found.get(job.product_id)
        if row is None:
            job.end(Skipped("The product no longer exists in Odoo: its Shopify levels are left"))
            continue
        job.product = OdooProduct(
            id=job.product_id,
            name=str(row.get("display_name") or f"product {job.product_id}"),
            code=row.get("default_code") or None,
            barcode=row.get("barcode") or None,
            storable=odoo.is_storable(row),
        )
        if not job.product.storable:
            job.end(Skipped(f"{job.product.label} is not a storable product in Odoo: no stock"))


# -- the variant --------------------------------------------------------------------------


def match_variants(sides: Sides, jobs: Sequence[StockJob]) -> None:
    """Each open job's variant and its fresh inventory, or a skip saying why there is none."""
    jobs = open_items(jobs)
    links = store_stock.stock_links(sides.store, sides.shop.id, [j.product_id for j in jobs])
    for job in jobs:
        link = links.get(job.product_id)
        if link is not None:
            job.variant_id, job.matched_by = link.shopify_id, "link"
    known = [j for j in jobs if j.variant_id]
    read = sides.shopify.inventory_by_variants(
        [j.variant_id for j in known if j.variant_id], levels=sides.levels
    )
    for job in known:
        job.inventory = read.get(job.variant_id or "")
        if job.inventory is None:  # deleted in Shopify: the link is stale, match again
            if job.matched_by == "link":
                store_links.delete_link(
                    sides.store, sides.shop.id, STOCK_LINK, job.variant_id or ""
                )
                job.audit("console", "unlinked", f"Shopify variant {job.variant_id} is gone")
            job.variant_id, job.matched_by = None, ""
    _search(sides, [j for j in jobs if j.variant_id is None])
    _link(sides, [j for j in jobs if j.open and j.inventory is not None])


@dataclass(frozen=True)
class _Wanted:
    """What identifies a product's variant: mapped variants or SKUs, else its codes."""

    gids: tuple[str, ...] = ()
    mapped_skus: tuple[str, ...] = ()
    code: str | None = None
    barcode: str | None = None


def _wanted(keys: list[str], product: OdooProduct | None) -> _Wanted:
    if keys:
        return _Wanted(
            gids=tuple(k for k in keys if k.startswith(VARIANT)),
            mapped_skus=tuple(k for k in keys if not k.startswith((VARIANT, "title:"))),
        )
    return _Wanted(
        code=product.code if product else None, barcode=product.barcode if product else None
    )


@dataclass
class _Found:
    """What one lookup in Shopify found for a batch: variants by GID, and by SKU or barcode
    (with the product mappings of those SKUs: a variant mapped to another product is theirs)."""

    by_gid: dict[str, ItemInventory | None]
    by_code: list[ItemInventory]
    owners: dict[str, int]

    def candidates(self, w: _Wanted, product_id: int) -> tuple[list[ItemInventory], str]:
        if w.gids or w.mapped_skus:
            found = [i for g in w.gids if (i := self.by_gid.get(g)) is not None]
            found += [i for i in self.by_code if i.sku and i.sku in w.mapped_skus]
            return list({i.variant_id: i for i in found}.values()), "mapping"
        mine = [i for i in self.by_code if self._free(i, product_id)]
        by_sku = [i for i in mine if w.code and i.sku == w.code]
        if by_sku or not w.barcode:
            return by_sku, "SKU"
        return [i for i in mine if i.barcode == w.barcode], "barcode"

    def _free(self, item: ItemInventory, product_id: int) -> bool:
        owner = self.owners.get(item.sku or "")
        return owner is None or owner == product_id


def _lookup(sides: Sides, wanted: list[_Wanted]) -> _Found:
    """Every variant the batch's products may be: by GID, then one search by code."""
    by_gid = sides.shopify.inventory_by_variants(
        sorted({g for w in wanted for g in w.gids}), levels=sides.levels
    )
    skus = sorted({s for w in wanted for s in (*w.mapped_skus, w.code) if s})
    barcodes = sorted({w.barcode for w in wanted if w.barcode})
    by_code = sides.shopify.inventory_by_codes(skus, barcodes, levels=sides.levels)
    rows = mappings.get_mappings(
        sides.store, sides.shop.id, "product", sorted({i.sku for i in by_code if i.sku})
    )
    return _Found(by_gid, by_code, {sku: row.odoo_id for sku, row in rows.items()})


def _search(sides: Sides, jobs: list[StockJob]) -> None:
    """Variants by what is mapped to each product, else its internal reference and barcode."""
    if not jobs:
        return
    mapped = store_stock.product_mappings_to(
        sides.store, sides.shop.id, [j.product_id for j in jobs]
    )
    wanted = {j.product_id: _wanted(mapped.get(j.product_id, []), j.product) for j in jobs}
    found = _lookup(sides, list(wanted.values()))
    for job in jobs:
        candidates, how = found.candidates(wanted[job.product_id], job.product_id)
        _choose(job, candidates, how)


def _choose(job: StockJob, candidates: list[ItemInventory], how: str) -> None:
    if len(candidates) == 1:
        job.inventory, job.variant_id, job.matched_by = candidates[0], candidates[0].variant_id, how
        return
    label = job.product.label if job.product else job.label
    if not candidates:
        job.end(
            Skipped(
                f"{label} has no Shopify variant in this shop (no link, mapping, SKU or "
                "barcode match): nothing to publish"
            )
        )
        return
    names = ", ".join(sorted(c.title or c.variant_id or "?" for c in candidates))
    job.end(
        Skipped(
            f"{len(candidates)} Shopify variants match {label} by {how} ({names}): never "
            "guessed — map the right one in Mappings › Products"
        )
    )


def _link(sides: Sides, jobs: list[StockJob]) -> None:
    """Link new matches (one statement each); a variant another product holds is theirs."""
    writer = LinkWriter(sides.store)
    for job in jobs:
        if job.matched_by == "link" or job.variant_id is None:
            continue
        linked = writer.identity(
            LinkTarget(
                sides.shop.id,
                STOCK_LINK,
                job.variant_id,
                "product.product",
                job.product_id,
                job.title,
            )
        )
        if linked.row is not None and linked.ours:
            job.audit("console", "linked", f"Linked {job.title} ↔ {job.label} ({job.matched_by})")
            continue
        other = (
            f"Odoo product {linked.row.odoo_id}"
            if linked.row is not None
            else f"Shopify variant {linked.taken_by.shopify_id if linked.taken_by else '?'}"
        )
        job.end(
            Skipped(
                f"{job.title} and {job.label} match, but {other} already holds that link: one "
                "Odoo product publishes to one variant (fix the SKUs, or map it)"
            )
        )


# -- Odoo quantities ----------------------------------------------------------------------


def read_quantities(sides: Sides, jobs: Sequence[StockJob]) -> None:
    jobs = open_items(jobs)
    if not jobs or not sides.mapped:
        return
    sets = {gid: [m.odoo_location_id] for gid, m in sides.mapped.items()}
    # The layout is read with the levels (3 calls): a location made in Odoo a minute ago
    # must count, and a cached tree would drop its quants without a word.
    levels = sides.odoo.stock_levels([j.product_id for j in jobs], sets)
    for job in jobs:
        job.quantities = {gid: levels[(job.product_id, gid)] for gid in sets}
