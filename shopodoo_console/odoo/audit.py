"""What the reconciliation audit reads from Odoo (issue 14): cheap, batched, version-proof.

Sale orders are read with only what a comparison needs — amounts, state, invoice and delivery
status, the Shopify references a person or another tool may have typed (``client_order_ref``,
``origin``) and the console's stamps (``ir.model.data``, module ``shopodoo``; DESIGN §3.4) —
in a small constant number of calls per batch of up to ``page_size`` orders:

1. ``sale.order`` ``search_read`` (by period, or by stamps / references in one ``|`` domain),
   preceded, for references, by one ``ir.model.data`` call resolving the stamp names;
2. ``ir.model.data`` for every stamp on the orders found (also stamps the caller did not ask
   for: a second order stamped for the same Shopify order under another shop name);
3. ``sale.order.line`` for shipping (delivery lines) and discounts (optional);
4. ``account.move`` for payment (optional), ``stock.picking`` only where the server has no
   ``delivery_status`` field.

Field names come from ``fields_get`` (odoo.md §8): a field a version lacks is not asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .client import OdooClient
from .stamps import STAMP_MODULE, chunks

CENT = Decimal("0.01")
ORDER_FIELDS = (
    "name",
    "state",
    "locked",
    "client_order_ref",
    "origin",
    "date_order",
    "company_id",
    "currency_id",
    "amount_total",
    "amount_tax",
    "amount_untaxed",
    "invoice_status",
    "delivery_status",
    "invoice_ids",
)
LINE_FIELDS = (
    "order_id",
    "price_unit",
    "product_uom_qty",
    "discount",
    "price_subtotal",
    "is_delivery",
    "display_type",
)
INVOICE_FIELDS = ("move_type", "state", "payment_state", "amount_total")
_ORDER_STAMP = re.compile(r"^(?P<shop>.+)_order_(?P<legacy>\d+)$")


def parse_order_stamp(name: str) -> tuple[str, int] | None:
    """``(shop slug, Shopify legacy id)`` of an order stamp named like the orders flow names
    them (``<shop slug>_order_<legacy id>``, workflows/orders/match.py), else ``None``.
    Shopify ids are unique across shops, so two stamps with one legacy id are one order."""
    match = _ORDER_STAMP.match(name)
    return (match["shop"], int(match["legacy"])) if match else None


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _m2o(value: Any) -> int | None:
    if isinstance(value, list | tuple):
        return int(value[0]) if value else None
    return int(value) if isinstance(value, int) and value else None


def _m2o_name(value: Any) -> str | None:
    return str(value[1]) if isinstance(value, list | tuple) and len(value) > 1 else None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, False, "") else None


def odoo_datetime(when: datetime) -> str:
    """Odoo's UTC ``YYYY-MM-DD HH:MM:SS`` for a domain on a datetime field."""
    if when.tzinfo is None:
        raise ValueError("use an aware datetime (UTC)")
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class OrderRef:
    """How one Shopify order may appear in Odoo; ``key`` is the caller's id for it (a GID)."""

    key: str
    stamps: tuple[str, ...] = ()  # our stamp names (module shopodoo)
    names: tuple[str, ...] = ()  # client_order_ref values ("#1001")
    origins: tuple[str, ...] = ()  # origin values ("Shopify acme.myshopify.com #1001")


@dataclass(frozen=True)
class InvoiceSummary:
    id: int
    move_type: str
    state: str
    payment_state: str | None
    amount_total: Decimal


@dataclass(frozen=True)
class SaleOrderSummary:
    """One sale order, as the audit compares it. ``shipping``/``discount`` are ``None`` when
    lines were not read (or the server has no delivery lines); ``invoices`` when invoices
    were not read."""

    id: int
    name: str
    state: str
    locked: bool | None
    client_order_ref: str | None
    origin: str | None
    date_order: str | None
    company_id: int | None
    currency: str | None
    amount_total: Decimal
    amount_tax: Decimal
    amount_untaxed: Decimal
    shipping: Decimal | None
    discount: Decimal | None
    invoice_status: str | None
    delivery_status: str | None  # pending / started / partial / full; None: nothing to ship
    stamps: tuple[str, ...]
    invoices: tuple[InvoiceSummary, ...] | None = None

    @property
    def cancelled(self) -> bool:
        return self.state == "cancel"

    @property
    def confirmed(self) -> bool:
        return self.state in ("sale", "done")

    @property
    def delivered(self) -> bool:
        return self.delivery_status == "full"

    @property
    def payment(self) -> str | None:
        """``paid`` / ``partial`` / ``not_paid`` over posted customer invoices; ``None`` when
        there is none (or invoices were not read)."""
        posted = [
            i for i in self.invoices or () if i.state == "posted" and i.move_type == "out_invoice"
        ]
        if not posted:
            return None
        states = {i.payment_state for i in posted}
        if states <= {"paid", "in_payment"}:
            return "paid"
        if states & {"paid", "in_payment", "partial"}:
            return "partial"
        return "not_paid"


@dataclass(frozen=True)
class RefMatch:
    """A sale order found for an :class:`OrderRef`, and how (``stamp``, ``client_order_ref``,
    ``origin``): two matches for one ref are a duplicate."""

    order: SaleOrderSummary
    by: frozenset[str]


@dataclass
class SaleOrderReader:
    """Batched sale-order reads for the audit. ``calls`` counts the RPCs it made (``fields_get``
    is asked once per connection by the client and not counted)."""

    client: OdooClient
    company_id: int | None = None
    lines: bool = True
    invoices: bool = False
    page_size: int = 500
    calls: int = field(default=0, init=False)

    # -- what the server has ------------------------------------------------------------------

    def _existing(self, model: str, wanted: Iterable[str]) -> list[str]:
        known = self.client.fields(model)
        return [f for f in wanted if f in known]

    def _read(self, model: str, domain: Sequence[Any], fields: Sequence[str], **kw: Any) -> list:
        self.calls += 1
        return self.client.search_read(model, domain, fields, **kw)

    # -- reads --------------------------------------------------------------------------------

    def in_period(
        self, since: datetime, until: datetime | None = None
    ) -> Iterator[list[SaleOrderSummary]]:
        """Pages of sale orders whose ``date_order`` is in ``[since, until)``, by id (keyset
        paging: no offsets), whoever created them."""
        domain: list[Any] = [("date_order", ">=", odoo_datetime(since))]
        if until is not None:
            domain.append(("date_order", "<", odoo_datetime(until)))
        if self.company_id:
            domain.append(("company_id", "=", self.company_id))
        last = 0
        while True:
            rows = self._read(
                "sale.order",
                [*domain, ("id", ">", last)],
                self._existing("sale.order", ORDER_FIELDS),
                limit=self.page_size,
                order="id",
            )
            if not rows:
                return
            yield self._summaries(rows)
            if len(rows) < self.page_size:
                return
            last = int(rows[-1]["id"])

    def by_refs(self, refs: Sequence[OrderRef]) -> dict[str, list[RefMatch]]:
        """The sale orders of each ref, found by stamp, ``client_order_ref`` or ``origin``
        (orders the console did not create included); refs without any match are absent."""
        found: dict[str, list[RefMatch]] = {}
        for part in chunks(refs, self.page_size):
            found.update(self._by_refs(part))
        return found

    def _by_refs(self, refs: list[OrderRef]) -> dict[str, list[RefMatch]]:
        stamped = self._stamped([s for r in refs for s in r.stamps])
        domain = _ref_domain(
            sorted(set(stamped.values())),
            sorted({n for r in refs for n in r.names}),
            sorted({o for r in refs for o in r.origins}),
        )
        if not domain:
            return {}
        if self.company_id:
            domain = ["&", ("company_id", "=", self.company_id), *domain]
        rows = self._read(
            "sale.order", domain, self._existing("sale.order", ORDER_FIELDS), order="id"
        )
        orders = self._summaries(rows)
        out: dict[str, list[RefMatch]] = {}
        for ref in refs:
            matches = _matches(ref, orders, {stamped[s] for s in ref.stamps if s in stamped})
            if matches:
                out[ref.key] = matches
        return out

    def _stamped(self, names: Iterable[str]) -> dict[str, int]:
        """``{stamp name: sale order id}`` for the stamps that exist (one call)."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        rows = self._read(
            "ir.model.data",
            [("module", "=", STAMP_MODULE), ("model", "=", "sale.order"), ("name", "in", wanted)],
            ["name", "res_id"],
        )
        return {str(r["name"]): int(r["res_id"]) for r in rows}

    # -- one batch, enriched --------------------------------------------------------------------

    def _summaries(self, rows: list[dict[str, Any]]) -> list[SaleOrderSummary]:
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        stamps = self._stamps(ids)
        amounts = self._line_amounts(ids) if self.lines else {}
        deliveries = {} if "delivery_status" in rows[0] else self._deliveries(ids)
        invoices = self._invoices(rows) if self.invoices else None
        return [self._summary(row, stamps, amounts, deliveries, invoices) for row in rows]

    def _summary(
        self,
        row: Mapping[str, Any],
        stamps: Mapping[int, list[str]],
        amounts: Mapping[int, tuple[Decimal | None, Decimal]],
        deliveries: Mapping[int, str | None],
        invoices: Mapping[int, InvoiceSummary] | None,
    ) -> SaleOrderSummary:
        rid = int(row["id"])
        shipping, discount = amounts.get(rid, (None, None))
        if "delivery_status" in row:
            delivery = _text(row.get("delivery_status"))
        else:
            delivery = deliveries.get(rid)
        own = None
        if invoices is not None:
            own = tuple(invoices[i] for i in row.get("invoice_ids") or [] if i in invoices)
        return SaleOrderSummary(
            id=rid,
            name=str(row.get("name") or ""),
            state=str(row.get("state") or ""),
            locked=bool(row["locked"]) if "locked" in row else None,
            client_order_ref=_text(row.get("client_order_ref")),
            origin=_text(row.get("origin")),
            date_order=_text(row.get("date_order")),
            company_id=_m2o(row.get("company_id")),
            currency=_m2o_name(row.get("currency_id")),
            amount_total=_money(row.get("amount_total")),
            amount_tax=_money(row.get("amount_tax")),
            amount_untaxed=_money(row.get("amount_untaxed")),
            shipping=shipping,
            discount=discount,
            invoice_status=_text(row.get("invoice_status")),
            delivery_status=delivery,
            stamps=tuple(sorted(stamps.get(rid, []))),
            invoices=own,
        )

    def _stamps(self, ids: list[int]) -> dict[int, list[str]]:
        rows = self._read(
            "ir.model.data",
            [("module", "=", STAMP_MODULE), ("model", "=", "sale.order"), ("res_id", "in", ids)],
            ["name", "res_id"],
        )
        out: dict[int, list[str]] = {}
        for row in rows:
            out.setdefault(int(row["res_id"]), []).append(str(row["name"]))
        return out

    def _line_amounts(self, ids: list[int]) -> dict[int, tuple[Decimal | None, Decimal]]:
        """``{order id: (shipping untaxed, discounts)}`` from the order lines; shipping is
        ``None`` on a server without delivery lines (no ``is_delivery`` field)."""
        fields = self._existing("sale.order.line", LINE_FIELDS)
        rows = self._read("sale.order.line", [("order_id", "in", ids)], fields)
        shipping = dict.fromkeys(ids, Decimal(0))
        discount = dict.fromkeys(ids, Decimal(0))
        for line in rows:
            order = _m2o(line.get("order_id"))
            if order is None or order not in shipping or line.get("display_type"):
                continue
            subtotal = Decimal(str(line.get("price_subtotal") or 0))
            if line.get("is_delivery"):
                shipping[order] += subtotal
            elif subtotal < 0:  # a discount or reward line
                discount[order] -= subtotal
            else:
                gross = Decimal(str(line.get("price_unit") or 0)) * Decimal(
                    str(line.get("product_uom_qty") or 0)
                )
                discount[order] += gross * Decimal(str(line.get("discount") or 0)) / 100
        delivery_known = "is_delivery" in fields
        return {
            order: (
                shipping[order].quantize(CENT) if delivery_known else None,
                discount[order].quantize(CENT),
            )
            for order in ids
        }

    def _deliveries(self, ids: list[int]) -> dict[int, str | None]:
        """``delivery_status`` from the pickings, for servers without the field."""
        rows = self._read("stock.picking", [("sale_id", "in", ids)], ["sale_id", "state"])
        states: dict[int, list[str]] = {}
        for row in rows:
            order = _m2o(row.get("sale_id"))
            if order is not None:
                states.setdefault(order, []).append(str(row.get("state")))
        return {order: delivery_status(found) for order, found in states.items()}

    def _invoices(self, rows: list[dict[str, Any]]) -> dict[int, InvoiceSummary]:
        ids = sorted({int(i) for r in rows for i in r.get("invoice_ids") or []})
        if not ids:
            return {}
        found = self._read(
            "account.move", [("id", "in", ids)], self._existing("account.move", INVOICE_FIELDS)
        )
        return {
            int(m["id"]): InvoiceSummary(
                id=int(m["id"]),
                move_type=str(m.get("move_type") or ""),
                state=str(m.get("state") or ""),
                payment_state=_text(m.get("payment_state")),
                amount_total=_money(m.get("amount_total")),
            )
            for m in found
        }


def _ref_domain(ids: list[int], names: list[str], origins: list[str]) -> list[Any]:
    """``id in … OR client_order_ref in … OR origin in …`` with the parts that have values."""
    terms: list[Any] = []
    if ids:
        terms.append(("id", "in", ids))
    if names:
        terms.append(("client_order_ref", "in", names))
    if origins:
        terms.append(("origin", "in", origins))
    return ["|"] * (len(terms) - 1) + terms if terms else []


def _matches(
    ref: OrderRef, orders: Iterable[SaleOrderSummary], stamped_ids: set[int]
) -> list[RefMatch]:
    matches = []
    for order in orders:
        how = set()
        if order.id in stamped_ids:
            how.add("stamp")
        if order.client_order_ref is not None and order.client_order_ref in ref.names:
            how.add("client_order_ref")
        if order.origin is not None and order.origin in ref.origins:
            how.add("origin")
        if how:
            matches.append(RefMatch(order, frozenset(how)))
    return matches


def delivery_status(picking_states: Sequence[str]) -> str | None:
    """Odoo's ``sale.order.delivery_status`` from its pickings' states (sale_stock)."""
    live = [s for s in picking_states if s != "cancel"]
    if not live:
        return None
    if all(s == "done" for s in live):
        return "full"
    if any(s == "done" for s in live):
        return "partial"
    return "pending"
