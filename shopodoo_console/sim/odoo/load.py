"""``BaseModel.load``: import rows, upserting by external id, all or nothing (odoo.md §4).

Columns are field paths: ``id`` (external id), ``name``, ``partner_id/.id`` (database id),
``partner_id/id`` (external id), ``partner_id`` (a name), ``tax_id/.id`` ("1,2" for
many2many), and one2many sub-columns such as ``order_line/product_id/.id``; a row whose main
columns are all empty continues the previous record's one2many lines. Like Odoo, errors do
not raise: they come back in ``messages`` with ``ids: False`` and nothing is kept. The
``_load_records`` rules apply: with ``mode='update'`` in the context, an external id registered
``noupdate`` is returned untouched — the console's create-if-absent.
"""

from __future__ import annotations

from typing import Any

from .errors import PyError, SimError, ValidationError
from .orm import Field, Model


class _RowError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _convert(model: Model, f: Field, sub: str, raw: str) -> Any:
    """An import string to a field value (``ir.fields.converter``, simplified)."""
    label = f.string or f.name
    if raw == "":
        return [] if f.type == "many2many" else False
    if f.type in ("many2one", "many2many"):
        target = model.env[f.relation or ""]
        ids = []
        for token in raw.split(",") if f.type == "many2many" else [raw]:
            token = token.strip()
            ids.append(_resolve(target, sub, token, label))
        return [(6, 0, ids)] if f.type == "many2many" else ids[0]
    if f.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise _RowError(
                f"'{raw}' does not seem to be an integer for field '{label}'", f.name
            ) from None
    if f.type in ("float", "monetary"):
        try:
            return float(raw)
        except ValueError:
            raise _RowError(
                f"'{raw}' does not seem to be a number for field '{label}'", f.name
            ) from None
    if f.type == "boolean":
        low = raw.strip().lower()
        if low in ("1", "true", "yes"):
            return True
        if low in ("0", "false", "no"):
            return False
        raise _RowError(f"Unknown value '{raw}' for boolean field '{label}'", f.name)
    if f.type == "selection":
        for key, text in f.selection or []:
            if raw in (key, text):
                return key
        raise _RowError(f"Value '{raw}' not found in selection field '{label}'", f.name)
    return raw


def _resolve(target: Model, sub: str, token: str, label: str) -> int:
    if sub == ".id":
        if token.isdigit() and int(token) in target.table:
            return int(token)
        raise _RowError(f"No matching record found for database id '{token}' in field '{label}'")
    if sub == "id":
        module, _, name = token.rpartition(".")
        for row in target.env.store.tables["ir.model.data"].values():
            same = row.get("module") == (module or "__import__") and row.get("name") == name
            if same and row.get("res_id") in target.table:
                return int(row["res_id"])
        raise _RowError(f"No matching record found for external id '{token}' in field '{label}'")
    hits = target.name_search(token, operator="=", limit=2)
    if not hits:
        raise _RowError(f"No matching record found for name '{token}' in field '{label}'")
    return hits[0][0]


def _split(model: Model, fields: list[str]) -> list[tuple[str, str, str]]:
    """Each column as (field, sub-field path or '', kind 'main' | 'o2m')."""
    out = []
    for col in fields:
        head, _, rest = col.partition("/")
        if head == "id" and not rest:
            out.append(("id", "", "main"))
            continue
        if head == ".id" and not rest:
            out.append((".id", "", "main"))
            continue
        f = model.d.fields.get(head)
        if f is None:
            raise PyError("ValueError", f"Invalid field {head!r} on model {model.name!r}")
        out.append((head, rest, "o2m" if f.type == "one2many" else "main"))
    return out


def load(model: Model, fields: list[str], data: list[list[Any]]) -> dict[str, Any]:
    if not isinstance(fields, list) or not isinstance(data, list):
        raise PyError("TypeError", "load() takes a list of fields and a list of rows")
    cols = _split(model, [str(c) for c in fields])
    rows = [["" if v in (None, False) else str(v) for v in row] for row in data]
    records: list[tuple[int, list[list[str]]]] = []
    for index, row in enumerate(rows):
        if len(row) != len(cols):
            raise PyError("ValueError", f"row {index} has {len(row)} values for {len(cols)} fields")
        starts = any(v for v, c in zip(row, cols, strict=True) if c[2] == "main")
        if starts or not records:
            records.append((index, [row]))
        else:
            records[-1][1].append(row)
    store = model.env.store
    mark = len(store._undo or [])
    messages: list[dict[str, Any]] = []
    ids: list[int] = []
    for number, (start, group) in enumerate(records):
        info = {"record": number, "rows": {"from": start, "to": start + len(group) - 1}}
        try:
            with store.savepoint():
                ids.append(_load_one(model, cols, group))
        except _RowError as e:
            messages.append({**info, "type": "error", "message": e.message, "field": e.field})
        except SimError as e:
            messages.append({**info, "type": "error", "message": e.message})
    if any(m["type"] == "error" for m in messages):
        store._rollback_to(mark)
        return {"ids": False, "messages": messages, "nextrow": 0}
    return {"ids": ids, "messages": messages, "nextrow": 0}


def _load_one(model: Model, cols: list[tuple[str, str, str]], group: list[list[str]]) -> int:
    first = group[0]
    vals: dict[str, Any] = {}
    xml_id = dbid = None
    o2m: dict[str, list[dict[str, Any]]] = {}
    for i, (head, sub, kind) in enumerate(cols):
        if kind == "main":
            raw = first[i]
            if head == "id":
                xml_id = raw or None
            elif head == ".id":
                dbid = int(raw) if raw else None
            else:
                vals[head] = _convert(model, model.d.fields[head], sub, raw)
    for r, row in enumerate(group):
        for i, (head, sub, kind) in enumerate(cols):
            if kind != "o2m" or not row[i]:
                continue
            lines = o2m.setdefault(head, [])
            while len(lines) <= r:
                lines.append({})
            child = model.env[model.d.fields[head].relation or ""]
            field_name, _, leaf = sub.partition("/")
            if field_name not in child.d.fields:
                raise _RowError(f"Invalid field {field_name!r} on model {child.name!r}")
            lines[r][field_name] = _convert(child, child.d.fields[field_name], leaf, row[i])
    for head, lines in o2m.items():
        vals[head] = [(0, 0, line) for line in lines if line]
    return _upsert(model, xml_id, dbid, vals)


def _upsert(model: Model, xml_id: str | None, dbid: int | None, vals: dict[str, Any]) -> int:
    """``_load_records``: create or update by external id (odoo.md §4)."""
    ctx = model.env.context
    update_mode = ctx.get("mode", "init") == "update"
    if xml_id is None:
        if dbid:
            model.write([dbid], vals)
            return dbid
        return model.create([vals])[0]
    module, _, name = xml_id.rpartition(".")
    module = module or ctx.get("module") or "__import__"
    imd = model.env["ir.model.data"].sudo()
    existing = [
        r
        for r in model.env.store.tables["ir.model.data"].values()
        if r.get("module") == module and r.get("name") == name
    ]
    if existing:
        row = existing[0]
        if row["model"] != model.name:
            raise ValidationError(
                f"For external id {xml_id} when trying to create/update a record of model "
                f"{model.name} found record of different model {row['model']} ({row['res_id']})"
            )
        if row.get("res_id") in model.table:
            if not (update_mode and row.get("noupdate")):
                model.write([row["res_id"]], vals)
            return int(row["res_id"])
        imd.unlink([row["id"]])  # stale: its record was deleted
    rid = model.create([vals])[0]
    imd.create(
        [
            {
                "module": module,
                "name": name,
                "model": model.name,
                "res_id": rid,
                "noupdate": bool(ctx.get("noupdate")),
            }
        ]
    )
    return rid
