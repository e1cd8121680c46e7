"""Stock and deliveries read from Odoo in few, constant calls (odoo.md §8, §9).

* :func:`stock_layout` — warehouses with their addresses and the internal location tree
  (for location mappings and their suggestions by name and address): three calls.
* :func:`stock_levels` — on hand, reserved and free quantity per product per *set* of
  locations (a Shopify location maps to one or more Odoo locations, their children included)
  in one ``read_group`` call per 1000 products (``formatted_read_group`` from 19, where
  ``read_group`` is deprecated).
* :func:`changed_quants` / :func:`done_moves` — what changed since a ``write_date``, with the
  poll overlap, page by page on ``(write_date, id)`` so that records written during the poll
  are neither skipped nor read twice within it.
* :func:`done_pickings` — deliveries (and their returns) that became done since a
  ``write_date``, with moves, sale order, carrier and tracking: four calls per page.

Version differences come from ``fields_get`` (``quantity_done`` on 16, ``quantity`` from 17;
``return_id`` from 17 — 16 knows a return by its moves' ``origin_returned_move_id``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from .stamps import chunks

if TYPE_CHECKING:
    from .client import OdooClient

K = TypeVar("K", bound=Hashable)
ODOO_TIME = "%Y-%m-%d %H:%M:%S"
DEFAULT_OVERLAP = timedelta(minutes=5)


def odoo_time(when: datetime) -> str:
    """An aware datetime as Odoo stores ``write_date``: UTC, ``YYYY-MM-DD HH:MM:SS``."""
    if when.tzinfo is None:
        raise ValueError("use an aware datetime (UTC) for Odoo write_date cursors")
    return when.astimezone(UTC).strftime(ODOO_TIME)


def parse_odoo_time(value: str) -> datetime:
    return datetime.strptime(value, ODOO_TIME).replace(tzinfo=UTC)


def _id(value: Any) -> int | None:
    """A many2one as read (``[id, name]`` or ``False``) → its id."""
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _name(value: Any) -> str | None:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else None


# -- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street: str | None
    street2: str | None
    city: str | None
    zip: str | None
    country_code: str | None
    country: str | None


@dataclass(frozen=True)
class Warehouse:
    id: int
    name: str
    code: str
    company_id: int | None
    stock_location_id: int | None
    view_location_id: int | None
    address: Address | None


@dataclass(frozen=True)
class Location:
    id: int
    name: str
    complete_name: str
    parent_id: int | None
    warehouse_id: int | None
    company_id: int | None
    usage: str
    path: tuple[int, ...]  # root … itself (``parent_path``)


@dataclass(frozen=True)
class StockLayout:
    """Warehouses and the internal locations (with the views above them)."""

    warehouses: tuple[Warehouse, ...]
    locations: dict[int, Location]

    def under(self, location_id: int, root_id: int) -> bool:
        """Whether a location is ``root_id`` or below it."""
        location = self.locations.get(location_id)
        return location is not None and root_id in location.path

    def warehouse_of(self, location_id: int) -> Warehouse | None:
        location = self.locations.get(location_id)
        if location is None:
            return None
        return next((w for w in self.warehouses if w.id == location.warehouse_id), None)


def _country_codes(client: OdooClient, partners: list[dict[str, Any]]) -> dict[int, str]:
    """``country_code`` when the server has the related field, else one read of countries."""
    if "country_code" in client.fields("res.partner"):
        return {int(p["id"]): str(p["country_code"]) for p in partners if p.get("country_code")}
    country_ids = sorted({c for p in partners if (c := _id(p.get("country_id")))})
    rows = client.read("res.country", country_ids, ["code"]) if country_ids else []
    codes = {int(r["id"]): str(r["code"]) for r in rows}
    return {int(p["id"]): codes[c] for p in partners if (c := _id(p.get("country_id"))) in codes}


def stock_layout(client: OdooClient) -> StockLayout:
    """Warehouses with addresses and the location tree: 3 calls (4 without ``country_code``)."""
    warehouses = client.search_read(
        "stock.warehouse",
        [],
        ["name", "code", "company_id", "lot_stock_id", "view_location_id", "partner_id"],
        order="id",
    )
    partner_ids = sorted({p for w in warehouses if (p := _id(w.get("partner_id")))})
    fields = ["street", "street2", "city", "zip", "country_id"]
    if "country_code" in client.fields("res.partner"):
        fields.append("country_code")
    partners = client.read("res.partner", partner_ids, fields) if partner_ids else []
    codes = _country_codes(client, partners)
    addresses = {
        int(p["id"]): Address(
            street=p.get("street") or None,
            street2=p.get("street2") or None,
            city=p.get("city") or None,
            zip=p.get("zip") or None,
            country_code=codes.get(int(p["id"])),
            country=_name(p.get("country_id")),
        )
        for p in partners
    }
    locations = client.search_read(
        "stock.location",
        [("usage", "in", ["internal", "view"])],
        [
            "name",
            "complete_name",
            "location_id",
            "warehouse_id",
            "company_id",
            "usage",
            "parent_path",
        ],
        order="id",
    )
    return StockLayout(
        warehouses=tuple(
            Warehouse(
                id=int(w["id"]),
                name=str(w["name"]),
                code=str(w["code"]),
                company_id=_id(w.get("company_id")),
                stock_location_id=_id(w.get("lot_stock_id")),
                view_location_id=_id(w.get("view_location_id")),
                address=addresses.get(_id(w.get("partner_id")) or 0),
            )
            for w in warehouses
        ),
        locations={
            int(row["id"]): Location(
                id=int(row["id"]),
                name=str(row["name"]),
                complete_name=str(row.get("complete_name") or row["name"]),
                parent_id=_id(row.get("location_id")),
                warehouse_id=_id(row.get("warehouse_id")),
                company_id=_id(row.get("company_id")),
                usage=str(row.get("usage")),
                path=tuple(int(p) for p in str(row.get("parent_path") or "").split("/") if p),
            )
            for row in locations
        },
    )


# -- quantities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockQuantity:
    """What a set of locations holds of a product: on hand, reserved, and free (the rest)."""

    on_hand: float = 0.0
    reserved: float = 0.0

    @property
    def free(self) -> float:
        return self.on_hand - self.reserved

    def __add__(self, other: StockQuantity) -> StockQuantity:
        return StockQuantity(self.on_hand + other.on_hand, self.reserved + other.reserved)


def _groups(
    client: OdooClient, product_ids: Sequence[int], roots: Sequence[int]
) -> list[dict[str, Any]]:
    """Quant sums per (product, location) under ``roots``: one call."""
    domain = [
        ("product_id", "in", list(product_ids)),
        ("location_id", "child_of", list(roots)),
        ("location_id.usage", "=", "internal"),
    ]
    by = ["product_id", "location_id"]
    sums = ["quantity:sum", "reserved_quantity:sum"]
    if client.connect().major >= 19:  # read_group is deprecated from 19
        result = client.execute(
            "stock.quant",
            "formatted_read_group",
            params={"domain": domain, "groupby": by, "aggregates": sums},
            positional=("domain",),
        )
    else:
        result = client.execute(
            "stock.quant",
            "read_group",
            params={"domain": domain, "fields": sums, "groupby": by, "lazy": False},
            positional=("domain", "fields", "groupby"),
        )
    return list(result or [])


def _sum(group: Mapping[str, Any], fname: str) -> float:
    """``quantity:sum`` (formatted_read_group) or ``quantity`` (read_group)."""
    value = group.get(f"{fname}:sum", group.get(fname))
    return float(value or 0.0)


def stock_levels(
    client: OdooClient,
    product_ids: Iterable[int],
    location_sets: Mapping[K, Sequence[int]],
    *,
    layout: StockLayout | None = None,
    chunk: int = 1000,
) -> dict[tuple[int, K], StockQuantity]:
    """On hand / reserved / free per (product, location set), every pair present (zeros
    included). A set is Odoo location ids whose children count too (``WH/Stock`` covers
    ``WH/Stock/Shelf 1``); only internal locations hold stock. One call per ``chunk``
    products, plus the layout's three when it is not given."""
    products = sorted(set(product_ids))
    layout = layout or stock_layout(client)
    roots = sorted({r for ids in location_sets.values() for r in ids})
    out = {(p, key): StockQuantity() for p in products for key in location_sets}
    if not roots or not products:
        return out
    for part in chunks(products, chunk):
        for group in _groups(client, part, roots):
            product, location = _id(group.get("product_id")), _id(group.get("location_id"))
            if product is None or location is None:
                continue
            quantity = StockQuantity(_sum(group, "quantity"), _sum(group, "reserved_quantity"))
            for key, ids in location_sets.items():
                if any(layout.under(location, root) for root in ids):
                    out[(product, key)] = out[(product, key)] + quantity
    return out


# -- changes since a write_date ---------------------------------------------------------------


def changed_since(
    client: OdooClient,
    model: str,
    since: datetime,
    *,
    fields: Sequence[str],
    domain: Sequence[Any] = (),
    overlap: timedelta = DEFAULT_OVERLAP,
    page_size: int = 500,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of ``model`` records written at or after ``since - overlap``, oldest first.

    Keyset pages on ``(write_date, id)``: one call per page whatever the offset. The caller
    deduplicates on ``(id, write_date)`` and advances its cursor only after the last page.
    """
    wanted = list(dict.fromkeys([*fields, "write_date"]))
    bound: list[Any] = [("write_date", ">=", odoo_time(since - overlap))]
    while True:
        page = client.search_read(
            model,
            [*domain, *bound],
            wanted,
            limit=page_size,
            order="write_date asc, id asc",
        )
        if page:
            yield page
        if len(page) < page_size:
            return
        last = page[-1]
        bound = [
            "|",
            ("write_date", ">", last["write_date"]),
            "&",
            ("write_date", "=", last["write_date"]),
            ("id", ">", last["id"]),
        ]


def changed_quants(
    client: OdooClient,
    since: datetime,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    page_size: int = 1000,
) -> Iterator[list[dict[str, Any]]]:
    """Quants of internal locations written since ``since - overlap`` (a stock change, a
    reservation): ``product_id``, ``location_id``, ``quantity``, ``reserved_quantity``."""
    return changed_since(
        client,
        "stock.quant",
        since,
        fields=["product_id", "location_id", "quantity", "reserved_quantity", "company_id"],
        domain=[("location_id.usage", "=", "internal")],
        overlap=overlap,
        page_size=page_size,
    )


def done_moves(
    client: OdooClient,
    since: datetime,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    page_size: int = 1000,
) -> Iterator[list[dict[str, Any]]]:
    """Done stock moves written since ``since - overlap`` (deliveries, receipts, inventory
    adjustments); ``done_qty`` holds the done quantity whatever this version calls it."""
    done_field = client.field_name("stock.move", "done_qty") or "quantity"
    fields = [
        "product_id",
        "location_id",
        "location_dest_id",
        "product_uom_qty",
        done_field,
        "date",
        "picking_id",
        "reference",
        "company_id",
    ]
    existing = client.fields("stock.move")
    fields = [f for f in fields if f in existing]
    for page in changed_since(
        client,
        "stock.move",
        since,
        fields=fields,
        domain=[("state", "=", "done")],
        overlap=overlap,
        page_size=page_size,
    ):
        for row in page:
            row["done_qty"] = float(row.get(done_field) or 0.0)
        yield page


# -- deliveries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippedMove:
    id: int
    product_id: int
    product: str
    demand: float
    done: float
    state: str
    sale_line_id: int | None
    returned_move_id: int | None  # the delivery move a return move gives back


@dataclass(frozen=True)
class Picking:
    """A transfer as a fulfilment needs it: what shipped, for which order, how to track it."""

    id: int
    name: str
    state: str
    code: str
    origin: str | None
    write_date: str
    date_done: str | None
    location_id: int | None
    location_dest_id: int | None
    sale_order_id: int | None
    sale_order_name: str | None
    client_order_ref: str | None
    carrier_id: int | None
    carrier: str | None
    tracking_ref: str | None
    tracking_url: str | None
    backorder_of: int | None
    return_of: int | None
    moves: tuple[ShippedMove, ...] = field(default=())

    @property
    def is_return(self) -> bool:
        return self.return_of is not None

    @property
    def tracking_numbers(self) -> list[str]:
        """``carrier_tracking_ref`` may hold several numbers, comma separated."""
        return [n.strip() for n in (self.tracking_ref or "").split(",") if n.strip()]


PICKING_FIELDS = [
    "name",
    "state",
    "picking_type_code",
    "origin",
    "write_date",
    "date_done",
    "location_id",
    "location_dest_id",
    "sale_id",
    "carrier_id",
    "carrier_tracking_ref",
    "carrier_tracking_url",
    "backorder_id",
    "return_id",
]


def _moves(client: OdooClient, picking_ids: list[int]) -> dict[int, list[ShippedMove]]:
    done_field = client.field_name("stock.move", "done_qty") or "quantity"
    wanted = [
        "picking_id",
        "product_id",
        "product_uom_qty",
        done_field,
        "state",
        "sale_line_id",
        "origin_returned_move_id",
    ]
    existing = client.fields("stock.move")
    rows = client.search_read(
        "stock.move",
        [("picking_id", "in", picking_ids)],
        [f for f in wanted if f in existing],
        order="id",
    )
    out: dict[int, list[ShippedMove]] = {}
    for row in rows:
        done = float(row.get(done_field) or 0.0)
        if row.get("state") == "done" and not done:
            done = float(row.get("product_uom_qty") or 0.0)
        out.setdefault(_id(row["picking_id"]) or 0, []).append(
            ShippedMove(
                id=int(row["id"]),
                product_id=_id(row["product_id"]) or 0,
                product=_name(row["product_id"]) or "",
                demand=float(row.get("product_uom_qty") or 0.0),
                done=done,
                state=str(row.get("state")),
                sale_line_id=_id(row.get("sale_line_id")),
                returned_move_id=_id(row.get("origin_returned_move_id")),
            )
        )
    return out


def _returned_pickings(client: OdooClient, moves: dict[int, list[ShippedMove]]) -> dict[int, int]:
    """16: a return's picking → the delivery it returns, through its moves (one call)."""
    origin = {
        m.returned_move_id: pid for pid, ms in moves.items() for m in ms if m.returned_move_id
    }
    if not origin:
        return {}
    rows = client.read("stock.move", sorted(origin), ["picking_id"])
    return {origin[int(r["id"])]: p for r in rows if (p := _id(r.get("picking_id")))}


def _orders(client: OdooClient, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    ids = sorted({s for r in rows if (s := _id(r.get("sale_id")))})
    if not ids:
        return {}
    found = client.read("sale.order", ids, ["name", "client_order_ref"])
    return {int(r["id"]): r for r in found}


def done_pickings(
    client: OdooClient,
    since: datetime,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    states: Sequence[str] = ("done",),
    page_size: int = 200,
) -> Iterator[list[Picking]]:
    """Deliveries (and returns of deliveries) in ``states`` written since ``since - overlap``,
    oldest first, with moves, sale order, carrier and tracking: 3 calls per page (a 4th on
    16 when a page holds returns). Receipts that return nothing (purchases) are left out."""
    existing = client.fields("stock.picking")
    fields = [f for f in PICKING_FIELDS if f in existing]
    domain = [("state", "in", list(states)), ("picking_type_code", "in", ["outgoing", "incoming"])]
    for rows in changed_since(
        client, "stock.picking", since, fields=fields, domain=domain, overlap=overlap,
        page_size=page_size,
    ):  # fmt: skip
        yield _pickings(client, rows, existing)


def pickings(client: OdooClient, ids: Sequence[int]) -> list[Picking]:
    """Transfers by id, as they are now (a job fetching its picking fresh): 3 calls for any
    number of ids (a 4th on 16 when one is a return). Ids Odoo no longer has are left out;
    receipts that return nothing are left out too."""
    if not ids:
        return []
    existing = client.fields("stock.picking")
    fields = [f for f in PICKING_FIELDS if f in existing]
    rows = client.search_read(
        "stock.picking",
        [("id", "in", sorted(set(ids)))],
        list(dict.fromkeys([*fields, "write_date"])),
        order="id",
    )
    return _pickings(client, rows, existing) if rows else []


def _pickings(
    client: OdooClient, rows: list[dict[str, Any]], existing: Mapping[str, Any]
) -> list[Picking]:
    moves = _moves(client, [int(r["id"]) for r in rows])
    returns = {} if "return_id" in existing else _returned_pickings(client, moves)
    orders = _orders(client, rows)
    page = []
    for row in rows:
        pid = int(row["id"])
        return_of = _id(row.get("return_id")) or returns.get(pid)
        if row.get("picking_type_code") == "incoming" and return_of is None:
            continue
        order = orders.get(_id(row.get("sale_id")) or 0, {})
        page.append(
            Picking(
                id=pid,
                name=str(row["name"]),
                state=str(row["state"]),
                code=str(row.get("picking_type_code")),
                origin=row.get("origin") or None,
                write_date=str(row["write_date"]),
                date_done=row.get("date_done") or None,
                location_id=_id(row.get("location_id")),
                location_dest_id=_id(row.get("location_dest_id")),
                sale_order_id=_id(row.get("sale_id")),
                sale_order_name=order.get("name"),
                client_order_ref=order.get("client_order_ref") or None,
                carrier_id=_id(row.get("carrier_id")),
                carrier=_name(row.get("carrier_id")),
                tracking_ref=row.get("carrier_tracking_ref") or None,
                tracking_url=row.get("carrier_tracking_url") or None,
                backorder_of=_id(row.get("backorder_id")),
                return_of=return_of,
                moves=tuple(moves.get(pid, [])),
            )
        )
    return page
