"""The warehouse's hands: change stock, ship, cancel and take back, while the console runs.

Every public method is callable from Python (``sim.control.validate_picking("WH/OUT/00001")``)
and over HTTP (``POST /_sim/control/<method>`` with the keyword arguments as a JSON object;
the answer is ``{"result": …}``), so the demo or a crash test in another process can drive it.
Each one is a single transaction run as the superuser, through the same business methods a
person's click would call, so ``write_date`` moves as it does in Odoo.

References are forgiving: a product by id, SKU (``default_code``) or barcode; a location by
id, full name (``WH/Stock``, ``WH/Stock/Shelf 1``) or warehouse code (its stock location); a
transfer by id or name (``WH/OUT/00003``); a sale order by id, name (``S00012``) or customer
reference (``#1001``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import stock
from .business import button_validate, picking_cancel
from .errors import UserError
from .orm import SUPERUSER, Env

if TYPE_CHECKING:
    from .server import OdooSimulator

PUBLIC = (
    "set_stock",
    "reserve",
    "quants",
    "pickings",
    "validate_picking",
    "cancel_picking",
    "return_picking",
)


class Control:
    def __init__(self, sim: OdooSimulator) -> None:
        self._sim = sim

    def call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        if name not in PUBLIC:
            raise KeyError(f"unknown control method {name!r}; one of {', '.join(PUBLIC)}")
        return getattr(self, name)(**arguments)

    def _run(self, work: Any) -> Any:
        with self._sim.store.transaction():
            env = self._sim._env(SUPERUSER, {}, su=True)
            return work(env)

    # -- references --------------------------------------------------------------------------

    @staticmethod
    def _one(env: Env, model: str, ref: Any, fields: tuple[str, ...]) -> int:
        if isinstance(ref, int) and not isinstance(ref, bool):
            if ref in env.store.tables[model]:
                return ref
        else:
            m = env[model]
            for fname in fields:
                for row in m.table.values():
                    if str(m.value(row, fname)) == str(ref):
                        return int(row["id"])
        raise UserError(f"No {model} matches {ref!r}.")

    def _product(self, env: Env, ref: Any) -> int:
        return self._one(env, "product.product", ref, ("default_code", "barcode"))

    def _location(self, env: Env, ref: Any) -> int:
        if isinstance(ref, str):
            for wh in env.store.tables["stock.warehouse"].values():
                if wh.get("code") == ref:
                    return int(wh["lot_stock_id"])
        return self._one(env, "stock.location", ref, ("complete_name",))

    def _picking(self, env: Env, ref: Any) -> int:
        return self._one(env, "stock.picking", ref, ("name",))

    def _order(self, env: Env, ref: Any) -> int:
        return self._one(env, "sale.order", ref, ("name", "client_order_ref"))

    # -- stock -------------------------------------------------------------------------------

    def set_stock(self, product: Any, location: Any, quantity: float) -> dict[str, Any]:
        """Count ``quantity`` units of a product at a location: an inventory adjustment (a done
        move from or to the inventory-loss location); returns the quant."""

        def work(env: Env) -> dict[str, Any]:
            pid, lid = self._product(env, product), self._location(env, location)
            quants = env["stock.quant"]
            found = quants.search([("product_id", "=", pid), ("location_id", "=", lid)])
            if not found:
                company = env.store.tables["stock.location"][lid].get("company_id")
                found = quants.create(
                    [
                        {
                            "product_id": pid,
                            "location_id": lid,
                            "quantity": 0.0,
                            "company_id": company,
                        }
                    ]
                )
            quants.write(found[:1], {"inventory_quantity": float(quantity)})
            stock.apply_inventory(quants, found[:1])
            return self._quant(env, found[0])

        result: dict[str, Any] = self._run(work)
        return result

    def reserve(self, product: Any, location: Any, quantity: float) -> dict[str, Any]:
        """Set the reserved quantity of a product's quant at a location (as a confirmed
        delivery of another channel would)."""

        def work(env: Env) -> dict[str, Any]:
            pid, lid = self._product(env, product), self._location(env, location)
            found = env["stock.quant"].search([("product_id", "=", pid), ("location_id", "=", lid)])
            if not found:
                raise UserError("There is no stock of this product at this location to reserve.")
            env["stock.quant"].write(found[:1], {"reserved_quantity": float(quantity)})
            return self._quant(env, found[0])

        result: dict[str, Any] = self._run(work)
        return result

    def quants(self, product: Any) -> list[dict[str, Any]]:
        """A product's quants: location, quantity, reserved, write_date."""

        def work(env: Env) -> list[dict[str, Any]]:
            pid = self._product(env, product)
            ids = env["stock.quant"].search([("product_id", "=", pid)])
            return [self._quant(env, qid) for qid in ids]

        result: list[dict[str, Any]] = self._run(work)
        return result

    @staticmethod
    def _quant(env: Env, qid: int) -> dict[str, Any]:
        row = env.store.tables["stock.quant"][qid]
        return {
            "id": qid,
            "location": env["stock.location"].display_name(row["location_id"]),
            "location_id": row["location_id"],
            "quantity": row.get("quantity") or 0.0,
            "reserved_quantity": row.get("reserved_quantity") or 0.0,
            "write_date": row["write_date"],
        }

    # -- transfers ---------------------------------------------------------------------------

    def pickings(self, order: Any) -> list[dict[str, Any]]:
        """A sale order's transfers with their moves (product, demand, state)."""

        def work(env: Env) -> list[dict[str, Any]]:
            oid = self._order(env, order)
            ids = env.store.referencing("stock.picking", "sale_id", oid)
            return [self._describe(env, pid) for pid in ids]

        result: list[dict[str, Any]] = self._run(work)
        return result

    @staticmethod
    def _describe(env: Env, pid: int) -> dict[str, Any]:
        row = env.store.tables["stock.picking"][pid]
        moves = [
            env.store.tables["stock.move"][m]
            for m in env.store.referencing("stock.move", "picking_id", pid)
        ]
        return {
            "id": pid,
            "name": row["name"],
            "state": row["state"],
            "code": env["stock.picking"].value(row, "picking_type_code"),
            "carrier_tracking_ref": row.get("carrier_tracking_ref") or None,
            "backorder_id": row.get("backorder_id") or None,
            "moves": [
                {
                    "id": m["id"],
                    "product": env["product.product"].value(
                        env.store.tables["product.product"][m["product_id"]], "default_code"
                    ),
                    "product_uom_qty": m.get("product_uom_qty") or 0.0,
                    "state": m.get("state"),
                }
                for m in moves
            ],
        }

    def validate_picking(
        self,
        picking: Any,
        quantities: Mapping[str, float] | None = None,
        tracking_ref: str | None = None,
        carrier: Any = None,
        backorder: bool = True,
    ) -> dict[str, Any]:
        """Ship a transfer: everything (``quantities`` omitted) or ``{product ref: units}``
        (a partial shipment leaves a backorder unless ``backorder`` is false), with the
        carrier's tracking reference; returns the transfer and its backorder, if any."""

        def work(env: Env) -> dict[str, Any]:
            pid = self._picking(env, picking)
            vals: dict[str, Any] = {}
            if tracking_ref is not None:
                vals["carrier_tracking_ref"] = tracking_ref
            if carrier is not None:
                vals["carrier_id"] = self._one(env, "delivery.carrier", carrier, ("name",))
            if vals:
                env["stock.picking"].write([pid], vals)
            wanted = None
            if quantities is not None:
                wanted = {self._product(env, k): float(v) for k, v in quantities.items()}
            self._set_done(env, pid, wanted)
            ctx: dict[str, Any] = {"skip_backorder": True, "skip_immediate": True}
            if not backorder:
                ctx["picking_ids_not_to_backorder"] = [pid]
            button_validate(env["stock.picking"].with_context(**ctx), [pid])
            later = env.store.referencing("stock.picking", "backorder_id", pid)
            out = self._describe(env, pid)
            out["backorder"] = self._describe(env, later[-1]) if later else None
            return out

        result: dict[str, Any] = self._run(work)
        return result

    @staticmethod
    def _set_done(env: Env, pid: int, wanted: dict[int, float] | None) -> None:
        """Done quantities per move: the demand, or what ``wanted`` says per product."""
        moves = env["stock.move"]
        left = dict(wanted or {})
        for mid in env.store.referencing("stock.move", "picking_id", pid):
            move = env.store.tables["stock.move"][mid]
            if move.get("state") in ("done", "cancel"):
                continue
            demand = float(move.get("product_uom_qty") or 0.0)
            qty = demand if wanted is None else min(demand, left.get(move["product_id"], 0.0))
            if wanted is not None:
                left[move["product_id"]] = left.get(move["product_id"], 0.0) - qty
            moves.write([mid], stock.done_values(env, qty))

    def cancel_picking(self, picking: Any) -> dict[str, Any]:
        """Cancel a transfer that is not done: its reservations are released."""

        def work(env: Env) -> dict[str, Any]:
            pid = self._picking(env, picking)
            picking_cancel(env["stock.picking"], [pid])
            return self._describe(env, pid)

        result: dict[str, Any] = self._run(work)
        return result

    def return_picking(
        self, picking: Any, quantities: Mapping[str, float] | None = None, validate: bool = True
    ) -> dict[str, Any]:
        """A customer sends back a done delivery (all, or ``{product ref: units}``): the return
        receipt, validated unless ``validate`` is false (units back in stock)."""

        def work(env: Env) -> dict[str, Any]:
            pid = self._picking(env, picking)
            done: dict[int, float] = {}
            for mid in env.store.referencing("stock.move", "picking_id", pid):
                move = env.store.tables["stock.move"][mid]
                if move.get("state") != "done":
                    continue
                qty = float(move.get("product_uom_qty") or 0.0)
                if quantities is not None:
                    wanted = {self._product(env, k): float(v) for k, v in quantities.items()}
                    qty = min(qty, wanted.get(move["product_id"], 0.0))
                done[mid] = qty
            new_id = stock.make_return(env, pid, done)
            if validate:
                self._set_done(env, new_id, None)
                ctx = {"skip_backorder": True, "skip_immediate": True}
                button_validate(env["stock.picking"].with_context(**ctx), [new_id])
            return self._describe(env, new_id)

        result: dict[str, Any] = self._run(work)
        return result
