"""Business methods ("buttons") and wizards, per version (odoo.md §6).

``sale.order.action_confirm`` creates the delivery with its moves and reserves stock;
``stock.picking.button_validate`` returns the immediate-transfer wizard (16, nothing done),
auto-picks (17+) and returns the backorder wizard on partial quantities unless
``skip_backorder``; ``account.move.action_post`` posts. Each returns ``True``/``False`` or an
action dict, like Odoo.
"""

from __future__ import annotations

import time
from typing import Any

from . import stock
from .errors import PyError, UserError
from .orm import Model, ModelDef, now
from .store import Row


def _stored_type_is_storable(model: Model, product_id: int) -> bool:
    store = model.env.store
    product = store.tables["product.product"].get(product_id)
    if not product:
        return False
    tmpl = store.tables["product.template"].get(product["product_tmpl_id"], {})
    if model.env.version <= 17:
        return tmpl.get("detailed_type") == "product" or tmpl.get("type") == "product"
    return bool(tmpl.get("is_storable"))


def _is_service(model: Model, product_id: int) -> bool:
    store = model.env.store
    product = store.tables["product.product"].get(product_id, {})
    tmpl = store.tables["product.template"].get(product.get("product_tmpl_id") or 0, {})
    return tmpl.get("type") == "service"


def _warehouse_stock(model: Model, location_id: int) -> list[int]:
    """Internal locations under ``location_id`` (itself included)."""
    store = model.env.store
    found, frontier = {location_id}, {location_id}
    while frontier:
        frontier = {
            c for r in frontier for c in store.referencing("stock.location", "location_id", r)
        } - found
        found |= frontier
    return [
        i
        for i in sorted(found)
        if store.tables["stock.location"].get(i, {}).get("usage") == "internal"
    ]


# -- sale.order -----------------------------------------------------------------------------


def action_confirm(model: Model, ids: list[int]) -> bool:
    bad = [model.row(i)["name"] for i in ids if model.row(i).get("state") not in ("draft", "sent")]
    if bad:
        raise UserError(
            "The following orders are not in a state requiring confirmation: " + ", ".join(bad)
        )
    model.write(ids, {"state": "sale"})
    su = model.sudo()
    for rid in ids:
        _create_delivery(su, su.row(rid))
    return True


def _create_delivery(model: Model, order: Row) -> None:
    env, store = model.env, model.env.store
    lines = [
        store.tables["sale.order.line"][i]
        for i in store.referencing("sale.order.line", "order_id", order["id"])
    ]
    lines = [
        ln for ln in lines if ln.get("product_id") and not _is_service(model, ln["product_id"])
    ]
    if not lines:
        return
    wh = store.tables["stock.warehouse"].get(order.get("warehouse_id") or 0)
    if not wh or not wh.get("out_type_id"):
        raise UserError(f"You must set a warehouse on your sale order {order['name']} to proceed.")
    picking_id = (
        env["stock.picking"]
        .sudo()
        .create(
            [
                {
                    "picking_type_id": wh["out_type_id"],
                    "partner_id": order.get("partner_shipping_id") or order.get("partner_id"),
                    "origin": order["name"],
                    "sale_id": order["id"],
                    "carrier_id": order.get("carrier_id") or False,
                    "company_id": order["company_id"],
                }
            ]
        )[0]
    )
    moves = env["stock.move"].sudo()
    for ln in lines:
        moves.create(
            [
                {
                    "product_id": ln["product_id"],
                    "product_uom_qty": ln.get("product_uom_qty") or 0.0,
                    "picking_id": picking_id,
                    "sale_line_id": ln["id"],
                    "origin": order["name"],
                    "state": "confirmed",
                }
            ]
        )
    _assign(env["stock.picking"].sudo(), [picking_id])


def action_cancel(model: Model, ids: list[int]) -> bool | dict[str, Any]:
    """Cancel orders. From 17, a sent or confirmed order is not cancelled: Odoo answers with
    the ``sale.order.cancel`` wizard (to e-mail the customer) unless the context carries
    ``disable_cancel_warning`` (core ``sale_order.py``). A locked order (17+) refuses."""
    rows = [model.row(i) for i in ids]
    if model.env.version >= 17:
        if any(r.get("locked") for r in rows):
            raise UserError("You cannot cancel a locked order. Please unlock it first.")
        warn = [r for r in rows if r.get("state") in ("sent", "sale")]
        if warn and not model.env.context.get("disable_cancel_warning"):
            return {
                "type": "ir.actions.act_window",
                "res_model": "sale.order.cancel",
                "view_mode": "form",
                "target": "new",
                "context": {"default_order_id": ids[0]},
                "name": "Cancel Sales Order",
            }
    model.write(ids, {"state": "cancel"})
    pickings = model.env["stock.picking"].sudo()
    for rid in ids:
        open_ids = [
            p
            for p in model.env.store.referencing("stock.picking", "sale_id", rid)
            if pickings.row(p).get("state") not in ("done", "cancel")
        ]
        if open_ids:
            picking_cancel(pickings, open_ids)
    return True


def action_draft(model: Model, ids: list[int]) -> bool:
    bad = [model.row(i)["name"] for i in ids if model.row(i).get("state") not in ("cancel", "sent")]
    if bad:
        raise UserError("Only cancelled or sent orders can be set back to quotation.")
    return model.write(ids, {"state": "draft"})


# -- stock.picking ---------------------------------------------------------------------------


def _moves(model: Model, picking_id: int) -> list[Row]:
    store = model.env.store
    return [
        store.tables["stock.move"][m]
        for m in store.referencing("stock.move", "picking_id", picking_id)
    ]


def _done_field(model: Model) -> str:
    return "quantity_done" if model.env.version == 16 else "quantity"


def _assign(model: Model, ids: list[int]) -> bool:
    """Reserve what the source location holds, move by move (``action_assign``)."""
    env, store = model.env, model.env.store
    quants = env["stock.quant"].sudo()
    moves = env["stock.move"].sudo()
    reserved_field = "reserved_availability" if env.version == 16 else "quantity"
    for pid in ids:
        picking = store.tables["stock.picking"][pid]
        locs = set(_warehouse_stock(model, picking["location_id"]))
        any_reserved = False
        all_reserved = True
        for mv in _moves(model, pid):
            if mv.get("state") in ("done", "cancel"):
                continue
            demand = mv.get("product_uom_qty") or 0.0
            already = mv.get(reserved_field) or 0.0
            need = demand - already
            if not _stored_type_is_storable(model, mv["product_id"]):
                got = need
            else:
                got = 0.0
                for qid in store.referencing("stock.quant", "product_id", mv["product_id"]):
                    q = store.tables["stock.quant"][qid]
                    if q.get("location_id") not in locs or need - got <= 0:
                        continue
                    free = (q.get("quantity") or 0.0) - (q.get("reserved_quantity") or 0.0)
                    take = max(0.0, min(free, need - got))
                    if take:
                        quants.write(
                            [qid], {"reserved_quantity": (q.get("reserved_quantity") or 0.0) + take}
                        )
                        got += take
            total = already + got
            state = (
                "assigned"
                if total >= demand
                else ("partially_available" if total > 0 else "confirmed")
            )
            moves.write([mv["id"]], {reserved_field: total, "state": state})
            any_reserved |= total > 0
            all_reserved &= total >= demand
        model.write([pid], {"state": "assigned" if any_reserved else "confirmed"})
    return True


def action_assign(model: Model, ids: list[int]) -> bool:
    model.env.security.check_access(model, "write")
    return _assign(model.sudo(), ids)


def _wizard_action(name: str, res_model: str, ids: list[int]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "ir.actions.act_window",
        "res_model": res_model,
        "view_mode": "form",
        "views": [[False, "form"]],
        "target": "new",
        "context": {
            "button_validate_picking_ids": ids,
            "default_show_transfers": False,
            "default_pick_ids": [[4, i] for i in ids],
        },
    }


def button_validate(model: Model, ids: list[int]) -> Any:
    """Validate transfers; may answer with a wizard action instead (odoo.md §6)."""
    model.env.security.check_access(model, "write")
    model.env.security.check_rules(model, [model.row(i) for i in ids], "write")
    ctx = model.env.context
    su = model.sudo()
    _refuse_finished(su, ids)
    if model.env.version == 16:
        nothing_done = _nothing_done(su, ids)
        if nothing_done and not ctx.get("skip_immediate"):
            return _wizard_action("Immediate Transfer?", "stock.immediate.transfer", nothing_done)
    else:
        _auto_pick(su, ids)
    partial = _partial(su, ids)
    if partial and not ctx.get("skip_backorder"):
        return _wizard_action("Create Backorder?", "stock.backorder.confirmation", partial)
    no_backorder = set(ctx.get("picking_ids_not_to_backorder") or [])
    for pid in ids:
        _validate(su, pid, backorder=pid not in no_backorder and not ctx.get("cancel_backorder"))
    return True


def _refuse_finished(model: Model, ids: list[int]) -> None:
    """A transfer already done or cancelled cannot be validated (nothing is changed)."""
    for pid in ids:
        if model.row(pid).get("state") in ("done", "cancel"):
            raise UserError(f"The transfer {model.row(pid)['name']} is already done or cancelled.")


def _partial(model: Model, ids: list[int]) -> list[int]:
    """The transfers with a move done for less than its demand (the backorder wizard's)."""
    return [
        p
        for p in ids
        if any(_done_qty(model, m) < (m.get("product_uom_qty") or 0.0) for m in _moves(model, p))
    ]


def _nothing_done(model: Model, ids: list[int]) -> list[int]:
    """16: the transfers without any done quantity (the immediate-transfer wizard's)."""
    done_f = _done_field(model)
    return [p for p in ids if not any(m.get(done_f) for m in _moves(model, p))]


def _auto_pick(model: Model, ids: list[int]) -> None:
    """17+: a transfer with nothing picked counts as everything picked (odoo.md §6), unless
    nothing is reserved either."""
    for pid in ids:
        moves = _moves(model, pid)
        if all(not m.get("picked") for m in moves):
            if all(not m.get("quantity") for m in moves):
                raise UserError(
                    "You cannot validate a transfer if no quantities are reserved. To force "
                    "the transfer, encode quantities."
                )
            for m in moves:
                model.env["stock.move"].write([m["id"]], {"picked": True})


def _done_qty(model: Model, move: Row) -> float:
    if model.env.version == 16:
        return move.get("quantity_done") or 0.0
    return (move.get("quantity") or 0.0) if move.get("picked") else 0.0


def _validate(model: Model, pid: int, *, backorder: bool) -> None:
    env, store = model.env, model.env.store
    picking = store.tables["stock.picking"][pid]
    moves = env["stock.move"].sudo()
    quants = env["stock.quant"].sudo()
    remaining: list[tuple[Row, float]] = []
    locs = _warehouse_stock(model, picking["location_id"])
    into = _warehouse_stock(model, picking["location_dest_id"])
    for mv in _moves(model, pid):
        if mv.get("state") in ("done", "cancel"):
            continue
        done = _done_qty(model, mv)
        demand = mv.get("product_uom_qty") or 0.0
        if done < demand:
            remaining.append((mv, demand - done))
        if _stored_type_is_storable(model, mv["product_id"]):
            _consume(quants, store, mv["product_id"], locs, done, picking.get("company_id"))
            _receive(quants, store, mv["product_id"], into, done, picking.get("company_id"))
        state = "done" if done else "cancel"
        moves.write([mv["id"]], {"state": state, "product_uom_qty": done or demand, "date": now()})
        _deliver(model, mv, done)
    model.write([pid], {"state": "done", "date_done": now()})
    if backorder and remaining:
        new_id = model.create(
            [
                {
                    "picking_type_id": picking["picking_type_id"],
                    "partner_id": picking.get("partner_id"),
                    "origin": picking.get("origin"),
                    "sale_id": picking.get("sale_id"),
                    "carrier_id": picking.get("carrier_id"),
                    "company_id": picking.get("company_id"),
                    "backorder_id": pid,
                }
            ]
        )[0]
        for mv, qty in remaining:
            moves.create(
                [
                    {
                        "product_id": mv["product_id"],
                        "product_uom_qty": qty,
                        "picking_id": new_id,
                        "sale_line_id": mv.get("sale_line_id"),
                        "origin": mv.get("origin"),
                        "state": "confirmed",
                    }
                ]
            )
        _assign(model, [new_id])


def _deliver(model: Model, move: Row, done: float) -> None:
    """The sale line's delivered quantity: up with a delivery, down with its return."""
    line = model.env.store.tables["sale.order.line"].get(move.get("sale_line_id") or 0)
    if not line or not done:
        return
    sign = -1.0 if move.get("origin_returned_move_id") else 1.0
    model.env["sale.order.line"].sudo().write(
        [line["id"]], {"qty_delivered": (line.get("qty_delivered") or 0.0) + sign * done}
    )


def _receive(
    quants: Model, store: Any, product_id: int, locs: list[int], qty: float, company_id: int | None
) -> None:
    """Units arrive in an internal location (a receipt, a return): its quant grows."""
    if not locs or qty <= 0:
        return
    target = locs[0]
    for qid in store.referencing("stock.quant", "product_id", product_id):
        quant = store.tables["stock.quant"][qid]
        if quant.get("location_id") == target:
            quants.write([qid], {"quantity": (quant.get("quantity") or 0.0) + qty})
            return
    quants.create(
        [
            {
                "product_id": product_id,
                "location_id": target,
                "quantity": qty,
                "company_id": company_id,
            }
        ]
    )


def _consume(
    quants: Model, store: Any, product_id: int, locs: list[int], qty: float, company_id: int | None
) -> None:
    """Take ``qty`` out of stock (reserved first); Odoo lets a quant go negative."""
    left = qty
    ids = [
        q
        for q in store.referencing("stock.quant", "product_id", product_id)
        if store.tables["stock.quant"][q].get("location_id") in locs
    ]
    for qid in ids:
        q = store.tables["stock.quant"][qid]
        take = min(left, q.get("quantity") or 0.0)
        quants.write(
            [qid],
            {
                "quantity": (q.get("quantity") or 0.0) - take,
                "reserved_quantity": max(0.0, (q.get("reserved_quantity") or 0.0) - take),
            },
        )
        left -= take
    if left > 0:
        if ids:
            q = store.tables["stock.quant"][ids[0]]
            quants.write([ids[0]], {"quantity": (q.get("quantity") or 0.0) - left})
        elif locs:
            quants.create(
                [
                    {
                        "product_id": product_id,
                        "location_id": locs[0],
                        "quantity": -left,
                        "company_id": company_id,
                    }
                ]
            )


def picking_cancel(model: Model, ids: list[int]) -> bool:
    su = model.sudo()
    quants = su.env["stock.quant"]
    reserved_field = "reserved_availability" if model.env.version == 16 else "quantity"
    for pid in ids:
        picking = su.row(pid)
        if picking.get("state") == "done":
            raise UserError("You cannot cancel a stock move that has been set to 'Done'.")
        locs = _warehouse_stock(su, picking["location_id"])
        for mv in _moves(su, pid):
            reserved = mv.get(reserved_field) or 0.0
            for qid in su.env.store.referencing("stock.quant", "product_id", mv["product_id"]):
                q = su.env.store.tables["stock.quant"][qid]
                if reserved <= 0 or q.get("location_id") not in locs:
                    continue
                give = min(reserved, q.get("reserved_quantity") or 0.0)
                quants.write(
                    [qid], {"reserved_quantity": (q.get("reserved_quantity") or 0.0) - give}
                )
                reserved -= give
            su.env["stock.move"].write([mv["id"]], {"state": "cancel"})
    model.write(ids, {"state": "cancel"})
    return True


def set_quantities_to_reservation(model: Model, ids: list[int]) -> bool:
    """16: ``action_set_quantities_to_reservation`` — done quantities := reserved ones."""
    moves = model.env["stock.move"]
    for pid in ids:
        for mv in _moves(model, pid):
            moves.write([mv["id"]], {"quantity_done": mv.get("reserved_availability") or 0.0})
    return True


# -- wizards ---------------------------------------------------------------------------------


def _wizard_pickings(model: Model, ids: list[int]) -> list[int]:
    picks: list[int] = []
    for wid in ids:
        picks += model.row(wid).get("pick_ids") or []
    return picks or list(model.env.context.get("button_validate_picking_ids") or [])


def immediate_process(model: Model, ids: list[int]) -> Any:
    """16: set done = reserved (or demand for non-storables), then validate again."""
    pickings = model.env["stock.picking"]
    picks = _wizard_pickings(model, ids)
    moves = model.env["stock.move"].sudo()
    for pid in picks:
        for mv in _moves(model, pid):
            qty = mv.get("reserved_availability") or 0.0
            if not _stored_type_is_storable(model, mv["product_id"]):
                qty = mv.get("product_uom_qty") or 0.0
            moves.write([mv["id"]], {"quantity_done": qty})
    return button_validate(pickings.with_context(skip_immediate=True), picks)


def backorder_process(model: Model, ids: list[int]) -> Any:
    picks = _wizard_pickings(model, ids)
    return button_validate(model.env["stock.picking"].with_context(skip_backorder=True), picks)


def backorder_cancel(model: Model, ids: list[int]) -> Any:
    picks = _wizard_pickings(model, ids)
    pickings = model.env["stock.picking"].with_context(
        skip_backorder=True, picking_ids_not_to_backorder=picks
    )
    return button_validate(pickings, picks)


# -- account.move, res.users, ir.model.data ---------------------------------------------------


def action_post(model: Model, ids: list[int]) -> bool:
    store = model.env.store
    for mid in ids:
        move = model.row(mid)
        if move.get("state") != "draft":
            raise UserError("The entry is already posted or cancelled.")
        if not store.referencing("account.move.line", "move_id", mid):
            raise UserError("You need to add a line before posting.")
        journal = store.tables["account.journal"].get(move.get("journal_id") or 0, {})
        code = journal.get("code", "MISC")
        year = time.gmtime().tm_year
        seq = store.next_sequence(f"move-{code}-{year}")
        model.write([mid], {"state": "posted", "name": f"{code}/{year}/{seq:05d}"})
    return False


def payment_post(model: Model, ids: list[int]) -> bool:
    """``account.payment.action_post``: a draft payment is posted (18+: "in process" until
    the bank statement matches it) and numbered in its journal."""
    store = model.env.store
    for pid in ids:
        payment = model.row(pid)
        if payment.get("state") != "draft":
            raise UserError("Only a draft payment can be posted.")
        if not payment.get("amount") or payment["amount"] <= 0:
            raise UserError("The payment amount must be strictly positive.")
        journal = store.tables["account.journal"].get(payment.get("journal_id") or 0, {})
        if journal.get("type") not in ("bank", "cash", "credit"):
            raise UserError(
                f"A payment must use a bank or cash journal, not {journal.get('name')}."
            )
        code = journal.get("code", "PAY")
        year = time.gmtime().tm_year
        seq = store.next_sequence(f"payment-{code}-{year}")
        posted = "in_process" if model.env.version >= 18 else "posted"
        model.write([pid], {"state": posted, "name": f"P{code}/{year}/{seq:05d}"})
    return True


def context_get(model: Model) -> dict[str, Any]:
    return {"lang": "en_US", "tz": "Europe/Brussels", "uid": model.env.uid}


def check_object_reference(model: Model, module: str, xml_id: str) -> list[Any]:
    for row in model.env.store.tables["ir.model.data"].values():
        if row.get("module") == module and row.get("name") == xml_id:
            return [row["model"], row["res_id"]]
    raise PyError("ValueError", f"External ID not found in the system: {module}.{xml_id}")


def attach(registry: dict[str, ModelDef], version: int) -> None:
    """Register the public business methods on their models."""

    def rec(model: str, name: str, fn: Any) -> None:
        if model in registry:
            registry[model].methods[name] = (fn, False)

    rec("sale.order", "action_confirm", action_confirm)
    rec("sale.order", "action_cancel", action_cancel)
    rec("sale.order", "action_draft", action_draft)
    if version == 16:
        rec("sale.order", "action_done", lambda m, ids: m.write(ids, {"state": "done"}))
        rec("sale.order", "action_unlock", lambda m, ids: m.write(ids, {"state": "sale"}))
    else:
        rec("sale.order", "action_lock", lambda m, ids: m.write(ids, {"locked": True}))
        rec("sale.order", "action_unlock", lambda m, ids: m.write(ids, {"locked": False}))
    rec("stock.picking", "button_validate", button_validate)
    rec("stock.picking", "action_assign", action_assign)
    rec("stock.picking", "action_cancel", picking_cancel)
    if version == 16:
        rec("stock.picking", "action_set_quantities_to_reservation", set_quantities_to_reservation)
        rec("stock.immediate.transfer", "process", immediate_process)
    rec("stock.backorder.confirmation", "process", backorder_process)
    rec("stock.backorder.confirmation", "process_cancel_backorder", backorder_cancel)
    rec("account.move", "action_post", action_post)
    rec("account.payment", "action_post", payment_post)
    stock.attach(registry, version)
    registry["res.users"].methods["context_get"] = (context_get, True)
    registry["ir.model.data"].methods["check_object_reference"] = (check_object_reference, True)
