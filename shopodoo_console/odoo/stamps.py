"""Stamps: the console's external ids in Odoo, and ``load()`` payloads that make them.

A stamp is ``shopodoo.<name>`` in ``ir.model.data`` (DESIGN §3.4). Creating through ``load()``
with an ``id`` column makes the record, its one2many lines and the stamp in one transaction
(odoo.md §5.2 option D), so a lost answer can never leave an unstamped record behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

STAMP_MODULE = "shopodoo"
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")

FieldsOf = Callable[[str], Mapping[str, Mapping[str, Any]]]


def check_stamp(name: str) -> str:
    """A stamp name is letters, digits, ``_`` and ``-`` (Odoo forbids spaces; a dot would
    change the module)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"invalid stamp {name!r}: use 1-200 letters, digits, '_' or '-' (no spaces or dots)"
        )
    return name


def xmlid(name: str) -> str:
    return f"{STAMP_MODULE}.{check_stamp(name)}"


def _scalar(value: Any, ftype: str) -> str:
    if value is None or value is False:
        return "" if ftype != "boolean" else "0"
    if ftype == "boolean":
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _ids(value: Any) -> list[int]:
    """many2many values: ids, or commands ``(6, 0, ids)`` / ``(4, id)``."""
    if value in (None, False):
        return []
    out: list[int] = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            out.append(item)
        elif isinstance(item, list | tuple) and item and item[0] == 6:
            out = [int(i) for i in item[2]]
        elif isinstance(item, list | tuple) and item and item[0] == 4:
            out.append(int(item[1]))
        else:
            raise ValueError(f"unsupported many2many value {item!r} in a stamped create")
    return out


def _lines(value: Any) -> list[dict[str, Any]]:
    """one2many values: dicts or ``(0, 0, dict)`` commands (new lines only)."""
    out = []
    for item in value or []:
        if isinstance(item, dict):
            out.append(item)
        elif isinstance(item, list | tuple) and len(item) == 3 and item[0] == 0:
            out.append(dict(item[2]))
        else:
            raise ValueError(f"a stamped create takes new lines only, not {item!r}")
    return out


def _cells(
    values: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]], model: str, prefix: str = ""
) -> dict[str, str]:
    cells: dict[str, str] = {}
    for key, value in values.items():
        desc = fields.get(key)
        if desc is None:
            raise ValueError(f"{model} has no field {key!r}")
        ftype = desc.get("type", "char")
        if ftype == "many2one":
            if isinstance(value, list | tuple):
                value = value[0] if value else False
            cells[f"{prefix}{key}/.id"] = _scalar(value, "integer")
        elif ftype == "many2many":
            cells[f"{prefix}{key}/.id"] = ",".join(str(i) for i in _ids(value))
        elif ftype == "one2many":
            raise ValueError(f"nested one2many {key!r} is not supported in a stamped create")
        else:
            cells[f"{prefix}{key}"] = _scalar(value, ftype)
    return cells


def load_payload(
    model: str, items: Sequence[tuple[str, Mapping[str, Any]]], fields_of: FieldsOf
) -> tuple[list[str], list[list[str]]]:
    """``(fields, data)`` for ``model.load`` creating each ``(stamp name, values)`` item.

    one2many values become sub-columns (``order_line/product_id/.id``) and extra rows whose
    main columns are empty — Odoo's import format for lines (odoo.md §4).
    """
    fields = fields_of(model)
    records: list[list[dict[str, str]]] = []  # per record: its rows as column -> text
    columns: dict[str, None] = {"id": None}
    for name, values in items:
        main = {k: v for k, v in values.items() if fields.get(k, {}).get("type") != "one2many"}
        rows = [{"id": xmlid(name), **_cells(main, fields, model)}]
        for key, value in values.items():
            desc = fields.get(key)
            if desc is None or desc.get("type") != "one2many":
                continue
            sub_fields = fields_of(str(desc["relation"]))
            for n, line in enumerate(_lines(value)):
                while len(rows) <= n:
                    rows.append({})
                rows[n].update(_cells(line, sub_fields, str(desc["relation"]), prefix=f"{key}/"))
        for row in rows:
            columns.update(dict.fromkeys(row))
        records.append(rows)
    names = list(columns)
    data = [[row.get(c, "") for c in names] for rows in records for row in rows]
    return names, data


def chunks(values: Iterable[Any], size: int) -> list[list[Any]]:
    seen: dict[Any, None] = dict.fromkeys(values)
    items = list(seen)
    return [items[i : i + size] for i in range(0, len(items), size)]
