"""The models the sync touches, with their per-version field differences (odoo.md §1, §8).

``build_registry(version)`` returns model definitions for Odoo 16, 17, 18 or 19: ``tax_id`` →
``tax_ids`` and ``product_uom`` → ``product_uom_id`` on sale lines in 19, ``detailed_type`` (16/17)
→ ``is_storable`` (18+), ``quantity_done`` (16) → ``quantity`` + ``picked`` (17+), the ``done``
sale state (16) → ``locked`` (17+), ``mobile``/``title`` gone in 19, ``payment_id`` →
``origin_payment_id`` in 18. Business methods are attached by ``business.py``.
"""

from __future__ import annotations

from typing import Any

from . import stock
from .errors import UserError, sql_error
from .orm import Env, Field, Model, ModelDef, now
from .store import Row


def m2o(relation: str, string: str = "", **kw: Any) -> Field:
    return Field("many2one", string, relation=relation, **kw)


def o2m(relation: str, inverse: str, string: str = "") -> Field:
    return Field("one2many", string, relation=relation, inverse=inverse)


def m2m(relation: str, string: str = "", **kw: Any) -> Field:
    return Field("many2many", string, relation=relation, **kw)


def sel(options: list[tuple[str, str]], string: str = "", **kw: Any) -> Field:
    return Field("selection", string, selection=options, **kw)


def char(string: str = "", **kw: Any) -> Field:
    return Field("char", string, **kw)


def num(string: str = "", **kw: Any) -> Field:
    return Field("float", string, **kw)


def flag(string: str = "", **kw: Any) -> Field:
    return Field("boolean", string, **kw)


def computed(ftype: str, fn: Any, string: str = "", **kw: Any) -> Field:
    return Field(ftype, string, compute=fn, **kw)


def _company(env: Env) -> int:
    return env.company_id


def _rows(env: Env, model: str, fname: str, target: int) -> list[Row]:
    table = env.store.tables[model]
    return [table[i] for i in env.store.referencing(model, fname, target)]


# -- computed values -------------------------------------------------------------------------


def line_amounts(env: Env, line: Row, tax_field: str) -> tuple[float, float]:
    """(subtotal, tax) of a sale line: percent taxes on the discounted price."""
    qty = line.get("product_uom_qty") or 0.0
    subtotal = qty * (line.get("price_unit") or 0.0) * (1 - (line.get("discount") or 0.0) / 100)
    taxes = env.store.tables["account.tax"]
    rate = sum(taxes[t].get("amount") or 0.0 for t in line.get(tax_field) or [] if t in taxes)
    return round(subtotal, 2), round(subtotal * rate / 100, 2)


def _partner_display(env: Env, row: Row) -> str:
    name = row.get("name") or ""
    parent = env.store.tables["res.partner"].get(row.get("parent_id") or 0)
    if parent and not row.get("is_company"):
        return f"{parent.get('name')}, {name}" if name else str(parent.get("name"))
    return name


def _product_display(env: Env, row: Row) -> str:
    tmpl = env.store.tables["product.template"].get(row.get("product_tmpl_id") or 0, {})
    code = row.get("default_code")
    return f"[{code}] {tmpl.get('name', '')}" if code else str(tmpl.get("name", ""))


def _location_path(env: Env, row: Row) -> str:
    """Odoo's ``complete_name``: parent path unless the location is a view."""
    parent = env.store.tables["stock.location"].get(row.get("location_id") or 0)
    if parent and row.get("usage") != "view":
        return f"{_location_path(env, parent)}/{row.get('name') or ''}"
    return str(row.get("name") or "")


def stock_locations(env: Env) -> set[int] | None:
    """Internal locations selected by the ``location``/``warehouse`` context (odoo.md §8)."""
    ctx = env.context
    store = env.store
    roots: list[int] = []
    loc = ctx.get("location") or ctx.get("search_location")
    wh = ctx.get("warehouse_id") or ctx.get("warehouse") or ctx.get("search_warehouse")
    if loc:
        roots = list(loc) if isinstance(loc, list) else [loc]
    elif wh:
        whs = wh if isinstance(wh, list) else [wh]
        roots = [
            store.tables["stock.warehouse"][w]["view_location_id"]
            for w in whs
            if isinstance(w, int) and w in store.tables["stock.warehouse"]
        ]
    else:
        return None
    found, frontier = set(roots), set(roots)
    while frontier:
        frontier = {
            c for r in frontier for c in store.referencing("stock.location", "location_id", r)
        } - found
        found |= frontier
    return found


def _qty(kind: str) -> Any:
    def compute(env: Env, row: Row) -> float:
        locs = stock_locations(env)
        locations = env.store.tables["stock.location"]
        total = 0.0
        for q in _rows(env, "stock.quant", "product_id", row["id"]):
            loc = locations.get(q.get("location_id") or 0)
            if not loc or loc.get("usage") != "internal":
                continue
            if locs is not None and loc["id"] not in locs:
                continue
            if locs is None and q.get("company_id") not in env.company_ids:
                continue
            total += (q.get("quantity") or 0.0) - (
                (q.get("reserved_quantity") or 0.0) if kind == "free" else 0.0
            )
        if kind == "virtual":
            for mv in _rows(env, "stock.move", "product_id", row["id"]):
                if mv.get("state") not in ("done", "cancel", "draft"):
                    total -= mv.get("product_uom_qty") or 0.0
        return round(total, 4)

    return compute


def _order_amount(kind: str, tax_field: str) -> Any:
    def compute(env: Env, row: Row) -> float:
        sub = tax = 0.0
        for line in _rows(env, "sale.order.line", "order_id", row["id"]):
            s, t = line_amounts(env, line, tax_field)
            sub, tax = sub + s, tax + t
        return round({"untaxed": sub, "tax": tax, "total": sub + tax}[kind], 2)

    return compute


def _move_total(env: Env, row: Row) -> float:
    """Invoice total: its lines' quantity x price, discount, percent taxes."""
    total = 0.0
    for line in _rows(env, "account.move.line", "move_id", row["id"]):
        sub, tax = line_amounts(env, {**line, "product_uom_qty": line.get("quantity")}, "tax_ids")
        total += sub + tax
    return round(total, 2)


def _line_amount(kind: str, tax_field: str) -> Any:
    def compute(env: Env, row: Row) -> float:
        s, t = line_amounts(env, row, tax_field)
        return round({"subtotal": s, "tax": t, "total": s + t}[kind], 2)

    return compute


# -- hooks -----------------------------------------------------------------------------------


def _order_prepare(model: Model, vals: dict[str, Any]) -> None:
    store = model.env.store
    if not vals.get("name") or vals["name"] == "New":
        vals["name"] = f"S{store.next_sequence('sale.order'):05d}"
    partner = vals.get("partner_id")
    if isinstance(partner, int) and partner in store.tables["res.partner"]:
        vals.setdefault("partner_invoice_id", partner)
        vals.setdefault("partner_shipping_id", partner)
    if not vals.get("warehouse_id"):
        company = vals.get("company_id") or model.env.company_id
        for wh in store.tables["stock.warehouse"].values():
            if wh.get("company_id") == company:
                vals["warehouse_id"] = wh["id"]
                break


def _line_prepare(uom_field: str) -> Any:
    def prepare(model: Model, vals: dict[str, Any]) -> None:
        store = model.env.store
        order = store.tables["sale.order"].get(vals.get("order_id") or 0)
        if order:
            vals["company_id"] = order.get("company_id")
        product = store.tables["product.product"].get(vals.get("product_id") or 0)
        if product:
            tmpl = store.tables["product.template"].get(product["product_tmpl_id"], {})
            vals.setdefault("name", model.env["product.product"].display_name(product["id"]))
            vals.setdefault(uom_field, tmpl.get("uom_id") or False)
            if "price_unit" not in vals:
                vals["price_unit"] = tmpl.get("list_price") or 0.0
        if not vals.get("name"):
            vals["name"] = "/"

    return prepare


def _order_check_unlink(model: Model, ids: list[int]) -> None:
    for rid in ids:
        if model.table[rid].get("state") not in ("draft", "cancel"):
            raise UserError(
                "You can not delete a sent quotation or a confirmed sales order. "
                "You must first cancel it."
            )


def _xmlid_prepare(model: Model, vals: dict[str, Any]) -> None:
    """ir.model.data constraints: no spaces, unique (module, name) (odoo.md §5.1)."""
    name, module = vals.get("name") or "", vals.get("module") or ""
    vals["module"] = module
    if " " in name:
        raise sql_error("External IDs cannot contain spaces")
    table = model.env.store.tables["ir.model.data"]
    for rid in model.env.store.referencing("ir.model.data", "name", name):  # indexed by name
        row = table[rid]
        if row.get("module") == module and row.get("name") == name:
            raise sql_error(
                'duplicate key value violates unique constraint "ir_model_data_module_name_uniq_'
                f'index"\nDETAIL:  Key (module, name)=({module}, {name}) already exists.'
            )


def _template_after_create(model: Model, ids: list[int]) -> None:
    """A product template gets its single variant, as Odoo does."""
    if model.env.context.get("create_product_product") is False:
        return
    variants = model.env["product.product"].sudo()
    for tid in ids:
        variants.with_context(create_product_product=False).create([{"product_tmpl_id": tid}])


def _picking_prepare(model: Model, vals: dict[str, Any]) -> None:
    store = model.env.store
    ptype = store.tables["stock.picking.type"].get(vals.get("picking_type_id") or 0)
    if ptype:
        vals.setdefault("location_id", ptype.get("default_location_src_id"))
        vals.setdefault("location_dest_id", ptype.get("default_location_dest_id"))
        vals.setdefault("company_id", ptype.get("company_id"))
        if not vals.get("name") or vals["name"] == "/":  # Odoo numbers a "/" on create
            wh = store.tables["stock.warehouse"].get(ptype.get("warehouse_id") or 0, {})
            seq = store.next_sequence(f"picking-{ptype['id']}")
            vals["name"] = f"{wh.get('code', 'WH')}/{ptype.get('sequence_code', 'OUT')}/{seq:05d}"


def _move_prepare(model: Model, vals: dict[str, Any]) -> None:
    store = model.env.store
    picking = store.tables["stock.picking"].get(vals.get("picking_id") or 0)
    if picking:
        for f in ("location_id", "location_dest_id", "company_id"):
            vals.setdefault(f, picking.get(f))
    product = store.tables["product.product"].get(vals.get("product_id") or 0)
    if product:
        vals.setdefault("name", model.env["product.product"].display_name(product["id"]))
        tmpl = store.tables["product.template"].get(product["product_tmpl_id"], {})
        vals.setdefault("product_uom", tmpl.get("uom_id") or False)


def _tracking_url(env: Env, row: Row) -> str | bool:
    """The carrier's tracking link with the reference in it (``<shipmenttrackingnumber>``
    placeholder, stock_delivery's fixed/rule carriers [M]); several references: the first."""
    ref = row.get("carrier_tracking_ref")
    carrier = env.store.tables["delivery.carrier"].get(row.get("carrier_id") or 0)
    template = carrier.get("tracking_url") if carrier else None
    if not ref or not template:
        return False
    first = str(ref).split(",")[0].strip()
    return str(template).replace("<shipmenttrackingnumber>", first)


def _sale_pickings(env: Env, row: Row) -> list[int]:
    return env.store.referencing("stock.picking", "sale_id", row["id"])


def _delivery_status(env: Env, row: Row) -> str | bool:
    """sale_stock's ``delivery_status`` from the order's pickings (False: nothing to ship)."""
    pickings = env.store.tables["stock.picking"]
    states = [
        pickings[i].get("state")
        for i in env.store.referencing("stock.picking", "sale_id", row["id"])
        if pickings[i].get("state") != "cancel"
    ]
    if not states:
        return False
    if all(s == "done" for s in states):
        return "full"
    return "partial" if "done" in states else "pending"


def _order_invoices(env: Env, row: Row) -> list[int]:
    return [
        m["id"]
        for m in env.store.tables["account.move"].values()
        if m.get("invoice_origin") == row.get("name")
    ]


def _imd_complete(env: Env, row: Row) -> str:
    return f"{row.get('module')}.{row.get('name')}" if row.get("module") else row.get("name", "")


def build_registry(version: int) -> dict[str, ModelDef]:
    """All model definitions for one Odoo major version."""
    v = version
    # One Field object each, shared by the models below that have a company.
    company = m2o("res.company", "Company", default=_company)
    shared_company = m2o("res.company", "Company")
    models = [
        *_contact_models(v),
        *_product_models(v, shared_company),
        *_sale_models(v),
        *_stock_models(v, company),
        *_accounting_models(v, company, shared_company),
        _external_ids_model(),
    ]
    registry = {m.name: m for m in models}
    stock.extend_registry(registry, version)
    return registry


def _contact_models(v: int) -> list[ModelDef]:
    """Contacts, currencies, countries, companies, groups, users and units of measure."""
    models: list[ModelDef] = []
    add = models.append

    partner_types = [
        ("contact", "Contact"),
        ("invoice", "Invoice Address"),
        ("delivery", "Delivery Address"),
        ("other", "Other Address"),
    ]
    if v == 16:
        partner_types.append(("private", "Private Address"))
    partner_fields: dict[str, Field] = {
        "name": char("Name"),
        "email": char("Email"),
        "phone": char("Phone"),
        "street": char("Street"),
        "street2": char("Street2"),
        "city": char("City"),
        "zip": char("Zip"),
        "country_id": m2o("res.country", "Country"),
        "state_id": m2o("res.country.state", "State"),
        "parent_id": m2o("res.partner", "Related Company"),
        "child_ids": o2m("res.partner", "parent_id", "Contact"),
        "type": sel(partner_types, "Address Type", default="contact"),
        "ref": char("Reference"),
        "company_id": m2o("res.company", "Company"),
        "is_company": flag("Is a Company"),
        "vat": char("Tax ID"),
        "lang": char("Language", default="en_US"),
        "active": flag("Active", default=True),
        "customer_rank": Field("integer", "Customer Rank", default=0),
    }
    if v <= 18:
        partner_fields["mobile"] = char("Mobile")
        partner_fields["title"] = m2o("res.partner.title", "Title")
    add(
        ModelDef(
            "res.partner", "Contact", partner_fields, display=_partner_display, order="name, id"
        )
    )
    add(
        ModelDef(
            "res.currency",
            "Currency",
            {"name": char("Currency", required=True), "symbol": char("Symbol")},
        )
    )
    add(
        ModelDef(
            "res.country",
            "Country",
            {"name": char("Country Name", required=True), "code": char("Country Code")},
            order="name",
        )
    )
    add(
        ModelDef(
            "res.country.state",
            "Country state",
            {
                "name": char("State Name", required=True),
                "code": char("State Code"),
                "country_id": m2o("res.country", "Country", required=True),
            },
        )
    )
    add(
        ModelDef(
            "res.company",
            "Companies",
            {
                "name": char("Company Name", required=True),
                "currency_id": m2o("res.currency", "Currency"),
                "country_id": m2o("res.country", "Country"),
                "partner_id": m2o("res.partner", "Partner"),
            },
        )
    )
    add(
        ModelDef(
            "res.groups",
            "Access Groups",
            {"name": char("Name", required=True), "full_name": char("Group Name")},
            display=lambda env, r: r.get("full_name") or r.get("name", ""),
        )
    )
    add(
        ModelDef(
            "res.users",
            "User",
            {
                "name": char("Name", required=True),
                "login": char("Login", required=True),
                "partner_id": m2o("res.partner", "Related Partner"),
                "company_id": m2o("res.company", "Company"),
                "company_ids": m2m("res.company", "Companies"),
                "groups_id": m2m("res.groups", "Groups"),
                "active": flag("Active", default=True),
                "share": flag("Share User"),
            },
        )
    )
    add(
        ModelDef(
            "uom.uom",
            "Product Unit of Measure",
            {"name": char("Unit", required=True), "factor": num("Ratio", default=1.0)},
        )
    )
    return models


def _product_models(v: int, shared_company: Field) -> list[ModelDef]:
    """Product templates and their variants (``_inherits``: the template's fields are related)."""
    models: list[ModelDef] = []
    add = models.append

    type_sel = (
        [("consu", "Consumable"), ("service", "Service"), ("product", "Storable Product")]
        if v <= 17
        else [("consu", "Goods"), ("service", "Service"), ("combo", "Combo")]
    )
    tmpl_fields: dict[str, Field] = {
        "name": char("Name", required=True),
        "type": sel(type_sel, "Product Type", default="consu"),
        "list_price": num("Sales Price", default=1.0),
        "standard_price": num("Cost"),
        "uom_id": m2o("uom.uom", "Unit of Measure", default=lambda env: 1),
        "company_id": shared_company,
        "sale_ok": flag("Can be Sold", default=True),
        "active": flag("Active", default=True),
        "weight": num("Weight"),
        "product_variant_ids": o2m("product.product", "product_tmpl_id", "Products"),
    }
    related = ["name", "type", "list_price", "standard_price", "uom_id", "sale_ok", "weight"]
    if v <= 17:
        tmpl_fields["detailed_type"] = sel(type_sel, "Product Type", default="consu")
        related.append("detailed_type")
    else:
        tmpl_fields["is_storable"] = flag("Track Inventory")
        related.append("is_storable")
    if v <= 18:
        tmpl_fields["uom_po_id"] = m2o("uom.uom", "Purchase UoM")
    add(
        ModelDef(
            "product.template",
            "Product",
            tmpl_fields,
            after_create=_template_after_create,
            order="name, id",
        )
    )
    product_fields: dict[str, Field] = {
        "product_tmpl_id": m2o(
            "product.template", "Product Template", required=True, ondelete="cascade"
        ),
        "default_code": char("Internal Reference"),
        "barcode": char("Barcode"),
        "active": flag("Active", default=True),
        "company_id": shared_company,
        "lst_price": Field("float", "Sales Price", related=("product_tmpl_id", "list_price")),
        "qty_available": computed("float", _qty("on_hand"), "Quantity On Hand"),
        "free_qty": computed("float", _qty("free"), "Free To Use Quantity"),
        "virtual_available": computed("float", _qty("virtual"), "Forecasted Quantity"),
    }
    for name in related:
        base = tmpl_fields[name]
        product_fields[name] = Field(
            base.type,
            base.string,
            relation=base.relation,
            selection=base.selection,
            related=("product_tmpl_id", name),
        )
    add(
        ModelDef(
            "product.product",
            "Product Variant",
            product_fields,
            display=_product_display,
            delegate=("product.template", "product_tmpl_id"),
            order="default_code, id",
        )
    )
    return models


def _sale_models(v: int) -> list[ModelDef]:
    """Sales orders and their lines (the tax and unit fields are named per version)."""
    models: list[ModelDef] = []
    add = models.append

    tax_f, uom_f = line_fields(v)
    so_states = [("draft", "Quotation"), ("sent", "Quotation Sent"), ("sale", "Sales Order")]
    so_states += [("done", "Locked")] if v == 16 else []
    so_states += [("cancel", "Cancelled")]
    order_fields: dict[str, Field] = {
        "name": char("Order Reference", required=True, default="New"),
        "partner_id": m2o("res.partner", "Customer", required=True, check_company=True),
        "partner_invoice_id": m2o("res.partner", "Invoice Address", check_company=True),
        "partner_shipping_id": m2o("res.partner", "Delivery Address", check_company=True),
        "client_order_ref": char("Customer Reference"),
        "origin": char("Source Document"),
        "date_order": Field("datetime", "Order Date", default=lambda env: now()),
        "state": sel(so_states, "Status", default="draft"),
        "company_id": m2o("res.company", "Company", required=True, default=_company),
        "warehouse_id": m2o("stock.warehouse", "Warehouse", check_company=True),
        "carrier_id": m2o("delivery.carrier", "Delivery Method", check_company=True),
        "user_id": m2o("res.users", "Salesperson", default=lambda env: env.uid),
        "note": Field("text", "Terms and conditions"),
        "order_line": o2m("sale.order.line", "order_id", "Order Lines"),
        "picking_ids": computed("one2many", _sale_pickings, "Transfers", relation="stock.picking"),
        "invoice_ids": computed("many2many", _order_invoices, "Invoices", relation="account.move"),
        "amount_untaxed": computed("monetary", _order_amount("untaxed", tax_f), "Untaxed"),
        "amount_tax": computed("monetary", _order_amount("tax", tax_f), "Taxes"),
        "amount_total": computed("monetary", _order_amount("total", tax_f), "Total"),
        "currency_id": computed(
            "many2one",
            lambda env, r: (
                env.store.tables["res.company"].get(r.get("company_id") or 0, {}).get("currency_id")
                or False
            ),
            "Currency",
            relation="res.currency",
        ),
        "delivery_status": computed(
            "selection",
            _delivery_status,
            "Delivery Status",
            selection=[
                ("pending", "Not Delivered"),
                ("started", "Started"),
                ("partial", "Partially Delivered"),
                ("full", "Fully Delivered"),
            ],
        ),
        "invoice_status": sel(
            [
                ("upselling", "Upselling Opportunity"),
                ("invoiced", "Fully Invoiced"),
                ("to invoice", "To Invoice"),
                ("no", "Nothing to Invoice"),
            ],
            "Invoice Status",
            default="no",
        ),
    }
    if v >= 17:
        order_fields["locked"] = flag("Locked")
    add(
        ModelDef(
            "sale.order",
            "Sales Order",
            order_fields,
            prepare_create=_order_prepare,
            check_unlink=_order_check_unlink,
            order="date_order desc, id desc",
        )
    )
    add(
        ModelDef(
            "sale.order.line",
            "Sales Order Line",
            {
                "order_id": m2o("sale.order", "Order Reference", required=True, ondelete="cascade"),
                "sequence": Field("integer", "Sequence", default=10),
                "name": Field("text", "Description", required=True),
                "product_id": m2o("product.product", "Product", check_company=True),
                "product_uom_qty": num("Quantity", default=1.0),
                uom_f: m2o("uom.uom", "Unit of Measure"),
                "price_unit": num("Unit Price"),
                "discount": num("Discount (%)"),
                tax_f: m2m("account.tax", "Taxes", check_company=True),
                "price_subtotal": computed("monetary", _line_amount("subtotal", tax_f), "Subtotal"),
                "price_tax": computed("float", _line_amount("tax", tax_f), "Total Tax"),
                "price_total": computed("monetary", _line_amount("total", tax_f), "Total"),
                "qty_delivered": num("Delivery Quantity"),
                "qty_invoiced": num("Invoiced Quantity"),
                "display_type": sel(
                    [("line_section", "Section"), ("line_note", "Note")], "Display Type"
                ),
                "is_delivery": flag("Is a Delivery"),
                "company_id": m2o("res.company", "Company"),
                "state": Field(
                    "selection", "Order Status", selection=so_states, related=("order_id", "state")
                ),
            },
            prepare_create=_line_prepare(uom_f),
            order="order_id, sequence, id",
        )
    )
    return models


def _stock_models(v: int, company: Field) -> list[ModelDef]:
    """Locations, warehouses, operation types, quants, transfers, moves and their wizards."""
    models: list[ModelDef] = []
    add = models.append

    add(
        ModelDef(
            "stock.location",
            "Inventory Locations",
            {
                "name": char("Location Name", required=True),
                "complete_name": computed("char", _location_path, "Full Location Name"),
                "usage": sel(
                    [
                        (u, u.title())
                        for u in (
                            "supplier",
                            "view",
                            "internal",
                            "customer",
                            "inventory",
                            "production",
                            "transit",
                        )
                    ],
                    "Location Type",
                    default="internal",
                ),
                "location_id": m2o("stock.location", "Parent Location"),
                "warehouse_id": m2o("stock.warehouse", "Warehouse"),
                "company_id": m2o("res.company", "Company"),
                "active": flag("Active", default=True),
            },
            display=_location_path,
            parent_field="location_id",
            order="id",
        )
    )
    add(
        ModelDef(
            "stock.warehouse",
            "Warehouse",
            {
                "name": char("Warehouse", required=True),
                "code": char("Short Name", required=True),
                "company_id": company,
                "partner_id": m2o("res.partner", "Address"),
                "view_location_id": m2o("stock.location", "View Location"),
                "lot_stock_id": m2o("stock.location", "Location Stock"),
                "out_type_id": m2o("stock.picking.type", "Out Type"),
            },
        )
    )
    add(
        ModelDef(
            "stock.picking.type",
            "Picking Type",
            {
                "name": char("Operation Type", required=True),
                "code": sel(
                    [
                        ("incoming", "Receipt"),
                        ("outgoing", "Delivery"),
                        ("internal", "Internal Transfer"),
                    ],
                    "Type of Operation",
                    required=True,
                ),
                "sequence_code": char("Sequence Prefix"),
                "warehouse_id": m2o("stock.warehouse", "Warehouse"),
                "default_location_src_id": m2o("stock.location", "Default Source Location"),
                "default_location_dest_id": m2o("stock.location", "Default Destination Location"),
                "company_id": company,
            },
        )
    )
    add(
        ModelDef(
            "stock.quant",
            "Quants",
            {
                "product_id": m2o("product.product", "Product", required=True),
                "location_id": m2o("stock.location", "Location", required=True),
                "quantity": num("Quantity"),
                "reserved_quantity": num("Reserved Quantity"),
                "available_quantity": computed(
                    "float",
                    lambda env, r: (r.get("quantity") or 0.0) - (r.get("reserved_quantity") or 0.0),
                    "Available",
                ),
                "inventory_quantity": num("Counted Quantity"),
                "company_id": company,
            },
            rec_name="id",
        )
    )
    picking_states = [
        ("draft", "Draft"),
        ("waiting", "Waiting Another Operation"),
        ("confirmed", "Waiting"),
        ("assigned", "Ready"),
        ("done", "Done"),
        ("cancel", "Cancelled"),
    ]
    add(
        ModelDef(
            "stock.picking",
            "Transfer",
            {
                "name": char("Reference", default="/"),
                "origin": char("Source Document"),
                "state": sel(picking_states, "Status", default="draft"),
                "picking_type_id": m2o("stock.picking.type", "Operation Type", required=True),
                "location_id": m2o("stock.location", "Source Location", required=True),
                "location_dest_id": m2o("stock.location", "Destination Location", required=True),
                "partner_id": m2o("res.partner", "Contact", check_company=True),
                "scheduled_date": Field("datetime", "Scheduled Date", default=lambda env: now()),
                "date_done": Field("datetime", "Date of Transfer"),
                "company_id": company,
                "sale_id": m2o("sale.order", "Sales Order"),
                "carrier_id": m2o("delivery.carrier", "Carrier"),
                "carrier_tracking_ref": char("Tracking Reference"),
                "carrier_tracking_url": computed("char", _tracking_url, "Tracking URL"),
                "carrier_price": num("Shipping Cost"),
                "weight": num("Weight"),
                "backorder_id": m2o("stock.picking", "Back Order of"),
                "move_ids": o2m("stock.move", "picking_id", "Stock Moves"),
                "move_ids_without_package": o2m(
                    "stock.move", "picking_id", "Stock moves not in package"
                ),
            },
            prepare_create=_picking_prepare,
            order="id desc",
        )
    )
    move_fields: dict[str, Field] = {
        "name": char("Description", required=True, default="/"),
        "product_id": m2o("product.product", "Product", required=True),
        "product_uom_qty": num("Demand"),
        "product_uom": m2o("uom.uom", "UoM"),
        "state": sel(
            [
                ("draft", "New"),
                ("waiting", "Waiting Another Move"),
                ("confirmed", "Waiting Availability"),
                ("partially_available", "Partially Available"),
                ("assigned", "Available"),
                ("done", "Done"),
                ("cancel", "Cancelled"),
            ],
            "Status",
            default="draft",
        ),
        "picking_id": m2o("stock.picking", "Transfer", ondelete="cascade"),
        "sale_line_id": m2o("sale.order.line", "Sale Line"),
        "location_id": m2o("stock.location", "Source Location"),
        "location_dest_id": m2o("stock.location", "Destination Location"),
        "company_id": company,
        "origin": char("Source Document"),
    }
    if v == 16:
        move_fields["quantity_done"] = num("Quantity Done")
        move_fields["reserved_availability"] = num("Quantity Reserved")
    else:
        move_fields["quantity"] = num("Quantity")
        move_fields["picked"] = flag("Picked")
    add(ModelDef("stock.move", "Stock Move", move_fields, prepare_create=_move_prepare))
    if v == 16:
        add(
            ModelDef(
                "stock.immediate.transfer",
                "Immediate Transfer",
                {"pick_ids": m2m("stock.picking", "Transfers")},
                rec_name="id",
            )
        )
    add(
        ModelDef(
            "stock.backorder.confirmation",
            "Backorder Confirmation",
            {"pick_ids": m2m("stock.picking", "Transfers")},
            rec_name="id",
        )
    )
    return models


def _accounting_models(v: int, company: Field, shared_company: Field) -> list[ModelDef]:
    """Delivery methods, taxes, journals, payments, invoices and their lines."""
    models: list[ModelDef] = []
    add = models.append

    add(
        ModelDef(
            "delivery.carrier",
            "Shipping Methods",
            {
                "name": char("Delivery Method", required=True),
                "delivery_type": sel(
                    [("fixed", "Fixed Price"), ("base_on_rule", "Based on Rules")],
                    "Provider",
                    default="fixed",
                ),
                "product_id": m2o("product.product", "Delivery Product", required=True),
                "fixed_price": num("Fixed Price"),
                "company_id": shared_company,
                "active": flag("Active", default=True),
                "integration_level": sel(
                    [("rate", "Get Rate"), ("rate_and_ship", "Get Rate and Create Shipment")],
                    "Integration Level",
                    default="rate_and_ship",
                ),
            },
        )
    )
    add(
        ModelDef(
            "account.tax",
            "Tax",
            {
                "name": char("Tax Name", required=True),
                "amount": num("Amount"),
                "amount_type": sel(
                    [("percent", "Percentage of Price"), ("fixed", "Fixed")],
                    "Tax Computation",
                    default="percent",
                ),
                "type_tax_use": sel(
                    [("sale", "Sales"), ("purchase", "Purchases"), ("none", "None")],
                    "Tax Type",
                    default="sale",
                ),
                "price_include": flag("Included in Price"),
                "company_id": m2o("res.company", "Company", required=True, default=_company),
                "active": flag("Active", default=True),
            },
        )
    )
    journal_types = [
        ("sale", "Sales"),
        ("purchase", "Purchase"),
        ("cash", "Cash"),
        ("bank", "Bank"),
        ("general", "Miscellaneous"),
    ]
    if v >= 18:
        journal_types.append(("credit", "Credit Card"))
    add(
        ModelDef(
            "account.journal",
            "Journal",
            {
                "name": char("Journal Name", required=True),
                "code": char("Short Code", required=True),
                "type": sel(journal_types, "Type", required=True),
                "company_id": m2o("res.company", "Company", required=True, default=_company),
                "active": flag("Active", default=True),
            },
        )
    )
    # Customer payments [M: fields from 16-18 core; 18 renamed ref → memo and has the
    # draft/in_process/paid/canceled/rejected states].
    pay_memo = "memo" if v >= 18 else "ref"
    payment_states = (
        [
            ("draft", "Draft"),
            ("in_process", "In Process"),
            ("paid", "Paid"),
            ("canceled", "Canceled"),
            ("rejected", "Rejected"),
        ]
        if v >= 18
        else [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")]
    )
    add(
        ModelDef(
            "account.payment",
            "Payments",
            {
                "name": char("Number", default="/"),
                "payment_type": sel(
                    [("outbound", "Send"), ("inbound", "Receive")],
                    "Payment Type",
                    required=True,
                    default="inbound",
                ),
                "partner_type": sel(
                    [("customer", "Customer"), ("supplier", "Vendor")],
                    "Partner Type",
                    default="customer",
                ),
                "partner_id": m2o("res.partner", "Customer/Vendor", check_company=True),
                "amount": num("Amount"),
                "journal_id": m2o("account.journal", "Journal", required=True, check_company=True),
                "date": Field("date", "Date"),
                pay_memo: char("Memo"),
                "state": sel(payment_states, "Status", default="draft"),
                "company_id": m2o("res.company", "Company", required=True, default=_company),
            },
            order="id desc",
        )
    )
    move_payment: dict[str, Field] = (
        {"payment_id": m2o("account.payment", "Payment")}
        if v <= 17
        else {
            "origin_payment_id": m2o("account.payment", "Payment"),
            "matched_payment_ids": m2m("account.payment", "Matched Payments"),
        }
    )
    pay_states = ["not_paid", "in_payment", "paid", "partial", "reversed", "invoicing_legacy"]
    pay_states += ["blocked"] if v >= 18 else []
    add(
        ModelDef(
            "account.move",
            "Journal Entry",
            {
                "name": char("Number", default="/"),
                "move_type": sel(
                    [
                        (t, t)
                        for t in (
                            "entry",
                            "out_invoice",
                            "out_refund",
                            "in_invoice",
                            "in_refund",
                            "out_receipt",
                            "in_receipt",
                        )
                    ],
                    "Type",
                    default="entry",
                ),
                "state": sel(
                    [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
                    "Status",
                    default="draft",
                ),
                "payment_state": sel(
                    [(s, s) for s in pay_states], "Payment Status", default="not_paid"
                ),
                "invoice_origin": char("Origin"),
                "ref": char("Reference"),
                "partner_id": m2o("res.partner", "Partner", check_company=True),
                "invoice_date": Field("date", "Invoice/Bill Date"),
                "invoice_date_due": Field("date", "Due Date"),
                "journal_id": m2o("account.journal", "Journal", check_company=True),
                "company_id": company,
                "invoice_line_ids": o2m("account.move.line", "move_id", "Invoice lines"),
                "line_ids": o2m("account.move.line", "move_id", "Journal Items"),
                "amount_total": computed("monetary", _move_total, "Total"),
                **move_payment,
            },
            order="id desc",
        )
    )
    add(
        ModelDef(
            "account.move.line",
            "Journal Item",
            {
                "move_id": m2o("account.move", "Journal Entry", required=True, ondelete="cascade"),
                "product_id": m2o("product.product", "Product"),
                "name": char("Label"),
                "quantity": num("Quantity", default=1.0),
                "product_uom_qty": computed(
                    "float", lambda env, r: r.get("quantity") or 0.0, "Qty"
                ),
                "price_unit": num("Unit Price"),
                "discount": num("Discount (%)"),
                "tax_ids": m2m("account.tax", "Taxes"),
                "company_id": company,
            },
        )
    )
    return models


def _external_ids_model() -> ModelDef:
    """``ir.model.data``: external ids (``module.name``), the stamps the console creates with."""
    return ModelDef(
        "ir.model.data",
        "Model Data",
        {
            "name": char("External Identifier", required=True),
            "module": char("Module", required=True, default=""),
            "model": char("Model Name", required=True),
            "res_id": Field("many2one_reference", "Record ID"),
            "noupdate": flag("Non Updatable"),
            "complete_name": computed("char", _imd_complete, "Complete ID"),
            "reference": computed(
                "char", lambda env, r: f"{r.get('model')},{r.get('res_id')}", "Reference"
            ),
        },
        prepare_create=_xmlid_prepare,
        display=_imd_complete,
        order="module, name",
        indexed=("name", "res_id"),
    )


def line_fields(version: int) -> tuple[str, str]:
    """(tax field, uom field) on sale.order.line for a version — for the simulator only."""
    return ("tax_ids", "product_uom_id") if version >= 19 else ("tax_id", "product_uom")
