"""Stock as the sync reads it: quants, done moves, locations, returns (odoo.md §6, §8).

Adds to the registry what ``models.py`` leaves out for stock: ``parent_path`` on locations
(Odoo's ``_parent_store``), ``picking_type_code`` and ``return_id`` (17+) on pickings, ``date``,
``picking_code`` and ``origin_returned_move_id`` on moves, ``tracking_url`` on carriers (with
the ``<shipmenttrackingnumber>`` placeholder), ``country_code`` on partners, the return wizard
(``stock.return.picking``: ``create_returns``; ``action_create_returns`` from 18 [M]) and
``stock.quant.action_apply_inventory`` (an inventory adjustment: a done move from the
inventory-loss location). Facts marked [M] in odoo.md stay hypotheses here too.
"""

from __future__ import annotations

from typing import Any

from .errors import UserError
from .orm import Env, Field, Model, ModelDef, now
from .store import Row


def _field(ftype: str, string: str, **kw: Any) -> Field:
    return Field(ftype, string, **kw)


def _parent_path(env: Env, row: Row) -> str:
    """``"1/7/8/"``: the ids from the root down to this location."""
    ids: list[int] = []
    table = env.store.tables["stock.location"]
    current: Row | None = row
    while current is not None and len(ids) < 64:
        ids.append(int(current["id"]))
        current = table.get(current.get("location_id") or 0)
    return "".join(f"{i}/" for i in reversed(ids))


def _reference(env: Env, row: Row) -> str:
    picking = env.store.tables["stock.picking"].get(row.get("picking_id") or 0)
    return str(picking.get("name")) if picking else str(row.get("name") or "")


def _add(mdef: ModelDef, fields: dict[str, Field]) -> None:
    for fname, f in fields.items():
        f.name = fname
        mdef.fields[fname] = f


def extend_registry(registry: dict[str, ModelDef], version: int) -> None:
    """The stock fields and models the sync needs, per version."""
    codes = [("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")]
    _add(registry["stock.location"], {"parent_path": _field("char", "Path", compute=_parent_path)})
    _add(
        registry["stock.warehouse"],
        {
            "active": _field("boolean", "Active", default=True),
            "in_type_id": _field("many2one", "In Type", relation="stock.picking.type"),
        },
    )
    picking: dict[str, Field] = {
        "picking_type_code": _field(
            "selection", "Type of Operation", selection=codes, related=("picking_type_id", "code")
        )
    }
    if version >= 17:  # [M] "Return of" on the picking from 17; 16 knows returns by their moves
        picking["return_id"] = _field("many2one", "Return of", relation="stock.picking")
    _add(registry["stock.picking"], picking)
    _add(
        registry["stock.move"],
        {
            "date": _field("datetime", "Date Scheduled", default=lambda env: now()),
            "reference": _field("char", "Reference", compute=_reference),
            "picking_type_id": _field("many2one", "Operation Type", relation="stock.picking.type"),
            "picking_code": _field(
                "selection",
                "Type of Operation",
                selection=codes,
                related=("picking_type_id", "code"),
            ),
            "origin_returned_move_id": _field(
                "many2one", "Origin return move", relation="stock.move"
            ),
            "is_inventory": _field("boolean", "Inventory"),
        },
    )
    _add(
        registry["stock.quant"],
        {"inventory_quantity_set": _field("boolean", "Inventory Quantity Set")},
    )
    _add(registry["delivery.carrier"], {"tracking_url": _field("char", "Tracking Link")})
    _add(
        registry["res.partner"],
        {"country_code": _field("char", "Country Code", related=("country_id", "code"))},
    )
    move_prepare = registry["stock.move"].prepare_create

    def prepare_move(model: Model, vals: dict[str, Any]) -> None:
        if move_prepare is not None:
            move_prepare(model, vals)
        picking_row = model.env.store.tables["stock.picking"].get(vals.get("picking_id") or 0)
        if picking_row:
            vals.setdefault("picking_type_id", picking_row.get("picking_type_id"))

    registry["stock.move"].prepare_create = prepare_move
    registry["stock.return.picking"] = ModelDef(
        "stock.return.picking",
        "Return Picking",
        {
            "picking_id": Field("many2one", "Picking", relation="stock.picking"),
            "product_return_moves": Field(
                "one2many", "Moves", relation="stock.return.picking.line", inverse="wizard_id"
            ),
        },
        rec_name="id",
        prepare_create=_return_prepare,
        after_create=_return_lines,
    )
    registry["stock.return.picking.line"] = ModelDef(
        "stock.return.picking.line",
        "Return Picking Line",
        {
            "wizard_id": Field(
                "many2one", "Wizard", relation="stock.return.picking", ondelete="cascade"
            ),
            "product_id": Field("many2one", "Product", relation="product.product", required=True),
            "quantity": Field("float", "Quantity"),
            "move_id": Field("many2one", "Move", relation="stock.move"),
        },
        rec_name="id",
    )


# -- inventory adjustments -------------------------------------------------------------------


def _inventory_location(env: Env) -> int:
    for row in env.store.tables["stock.location"].values():
        if row.get("usage") == "inventory":
            return int(row["id"])
    raise UserError("No inventory adjustment location is configured.")


def done_values(env: Env, quantity: float) -> dict[str, Any]:
    """Values marking ``quantity`` done on a move: ``quantity_done`` (16), else picked."""
    if env.version == 16:
        return {"quantity_done": quantity}
    return {"quantity": quantity, "picked": True}


def apply_inventory(model: Model, ids: list[int]) -> bool:
    """``stock.quant.action_apply_inventory``: counted quantities become the quantity, each
    difference a done move to or from the inventory-loss location."""
    model.env.security.check_access(model, "write")
    su = model.sudo()
    moves = su.env["stock.move"]
    loss = _inventory_location(su.env)
    for qid in ids:
        quant = su.row(qid)
        counted = float(quant.get("inventory_quantity") or 0.0)
        delta = counted - float(quant.get("quantity") or 0.0)
        if delta:
            inbound = delta > 0
            moves.create(
                [
                    {
                        "name": "Product Quantity Updated",
                        "product_id": quant["product_id"],
                        "product_uom_qty": abs(delta),
                        "location_id": loss if inbound else quant["location_id"],
                        "location_dest_id": quant["location_id"] if inbound else loss,
                        "company_id": quant.get("company_id"),
                        "state": "done",
                        "date": now(),
                        "is_inventory": True,
                        **done_values(su.env, abs(delta)),
                    }
                ]
            )
        su.write(
            [qid], {"quantity": counted, "inventory_quantity": 0.0, "inventory_quantity_set": False}
        )
    return True


# -- returns -----------------------------------------------------------------------------------


def _return_prepare(model: Model, vals: dict[str, Any]) -> None:
    if not vals.get("picking_id"):
        ctx = model.env.context
        active = ctx.get("active_id") or (ctx.get("active_ids") or [None])[0]
        vals["picking_id"] = active or False
    if not vals.get("picking_id"):
        raise UserError("Return a transfer: open the return wizard from a done transfer.")
    picking = model.env.store.tables["stock.picking"].get(vals["picking_id"])
    if not picking or picking.get("state") != "done":
        raise UserError("You may only return Done pickings.")


def _return_lines(model: Model, ids: list[int]) -> None:
    """Without lines given, the wizard proposes every done move of the picking."""
    store = model.env.store
    lines = model.env["stock.return.picking.line"].sudo()
    for wid in ids:
        if store.referencing("stock.return.picking.line", "wizard_id", wid):
            continue
        picking_id = model.table[wid]["picking_id"]
        for mid in store.referencing("stock.move", "picking_id", picking_id):
            move = store.tables["stock.move"][mid]
            if move.get("state") != "done":
                continue
            lines.create(
                [
                    {
                        "wizard_id": wid,
                        "product_id": move["product_id"],
                        "quantity": move.get("product_uom_qty") or 0.0,
                        "move_id": mid,
                    }
                ]
            )


def create_returns(model: Model, ids: list[int]) -> dict[str, Any]:
    """The return transfer (a receipt from the customer), ready to validate."""
    store = model.env.store
    (wid,) = ids
    wizard = model.row(wid)
    lines = [
        store.tables["stock.return.picking.line"][i]
        for i in store.referencing("stock.return.picking.line", "wizard_id", wid)
    ]
    quantities = {line["move_id"]: float(line.get("quantity") or 0.0) for line in lines}
    new_id = make_return(model.env, wizard["picking_id"], quantities)
    return {
        "name": "Returned Picking",
        "type": "ir.actions.act_window",
        "res_model": "stock.picking",
        "res_id": new_id,
        "view_mode": "form",
        "context": dict(model.env.context),
    }


def make_return(env: Env, picking_id: int, quantities: dict[int, float]) -> int:
    """A receipt of ``quantities`` (move id → units) of a done delivery, assigned."""
    su = env.sudo()
    store = su.store
    picking = store.tables["stock.picking"][picking_id]
    out_type = store.tables["stock.picking.type"][picking["picking_type_id"]]
    warehouse = store.tables["stock.warehouse"].get(out_type.get("warehouse_id") or 0) or {}
    in_type = warehouse.get("in_type_id")
    if not in_type:
        raise UserError("Please define a return operation type on the warehouse.")
    quantities = {m: q for m, q in quantities.items() if q > 0}
    if not quantities:
        raise UserError("Please specify at least one non-zero quantity.")
    vals: dict[str, Any] = {
        "picking_type_id": in_type,
        "location_id": picking["location_dest_id"],
        "location_dest_id": picking["location_id"],
        "partner_id": picking.get("partner_id"),
        "origin": f"Return of {picking['name']}",
        "sale_id": picking.get("sale_id"),
        "company_id": picking.get("company_id"),
    }
    if env.version >= 17:
        vals["return_id"] = picking_id
    new_id = su["stock.picking"].create([vals])[0]
    reserved = "reserved_availability" if env.version == 16 else "quantity"
    for move_id, quantity in quantities.items():
        move = store.tables["stock.move"][move_id]
        su["stock.move"].create(
            [
                {
                    "product_id": move["product_id"],
                    "product_uom_qty": quantity,
                    "picking_id": new_id,
                    "sale_line_id": move.get("sale_line_id"),
                    "origin_returned_move_id": move_id,
                    "origin": vals["origin"],
                    "state": "assigned",
                    reserved: quantity,
                }
            ]
        )
    su["stock.picking"].write([new_id], {"state": "assigned"})
    return new_id


def attach(registry: dict[str, ModelDef], version: int) -> None:
    registry["stock.quant"].methods["action_apply_inventory"] = (apply_inventory, False)
    registry["stock.return.picking"].methods["create_returns"] = (create_returns, False)
    if version >= 18:  # [M] the 18 name of the same button
        registry["stock.return.picking"].methods["action_create_returns"] = (create_returns, False)
