"""Calling a model method from outside: method lookup, argument binding, results.

Shared by JSON-RPC ``execute_kw`` (positional ``args`` + ``kwargs``, ids in ``args[0]``) and
JSON-2 (named parameters, ``ids`` apart) — odoo.md §2.2, §2.3, §4. Both protocols see the
same ORM; only the error for an unknown model/method and the ``create`` return differ.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from . import grouping
from .errors import AccessError, NotFound, PyError, UnprocessableEntity, UserError
from .load import load
from .orm import Model


def _search(
    m: Model,
    domain: Sequence[Any],
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    return m.search(domain, offset, limit, order)


def _search_read(
    m: Model,
    domain: Sequence[Any] | None = None,
    fields: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[dict[str, Any]]:
    return m.search_read(domain, fields, offset, limit, order)


def _search_count(m: Model, domain: Sequence[Any], limit: int | None = None) -> int:
    return m.search_count(domain, limit)


def _read(
    m: Model,
    ids: list[int],
    fields: Sequence[str] | None = None,
    load: str | None = "_classic_read",
) -> list[dict[str, Any]]:
    return m.read(ids, fields, load)


def _create(m: Model, vals_list: Any) -> list[int]:
    return m.create(vals_list)


def _write(m: Model, ids: list[int], vals: dict[str, Any]) -> bool:
    return m.write(ids, vals)


def _unlink(m: Model, ids: list[int]) -> bool:
    return m.unlink(ids)


def _fields_get(
    m: Model, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
) -> dict[str, Any]:
    return m.fields_get(allfields, attributes)


def _name_search_16(
    m: Model,
    name: str = "",
    args: Sequence[Any] | None = None,
    operator: str = "ilike",
    limit: int = 100,
) -> list[list[Any]]:
    return m.name_search(name, args, operator, limit)


def _name_search(
    m: Model,
    name: str = "",
    domain: Sequence[Any] | None = None,
    operator: str = "ilike",
    limit: int = 100,
) -> list[list[Any]]:
    return m.name_search(name, domain, operator, limit)


def _load(m: Model, fields: list[str], data: list[list[Any]]) -> dict[str, Any]:
    return load(m, fields, data)


def _default_get(m: Model, fields_list: list[str]) -> dict[str, Any]:
    out = {}
    for n in fields_list:
        f = m.d.fields.get(n)
        if f is not None and f.default is not None:
            out[n] = f.default(m.env) if callable(f.default) else f.default
    return out


def _exists(m: Model, ids: list[int]) -> list[int]:
    return m.exists(ids)


def _read_group(
    m: Model,
    domain: Sequence[Any],
    fields: Sequence[str],
    groupby: Sequence[str] | str,
    offset: int = 0,
    limit: int | None = None,
    orderby: str | bool = False,
    lazy: bool = True,
) -> list[dict[str, Any]]:
    """``read_group`` (16-19; deprecated in 19): aggregates keyed by the field name."""
    by = [groupby] if isinstance(groupby, str) else list(groupby)
    if lazy:
        by = by[:1]
    specs = [f for f in fields if ":" in f or f == "__count"]
    specs += [f"{f}:sum" for f in fields if ":" not in f and f != "__count" and f not in by]
    out = []
    sort = orderby if isinstance(orderby, str) and orderby else None
    for key, rows in grouping.groups(m, domain, by, order=sort):
        group: dict[str, Any] = dict(zip(by, grouping.labels(m, by, key), strict=True))
        for spec in specs:
            if spec == "__count":
                continue
            fname = spec.split(":")[0]
            group[fname] = grouping.aggregate(m, rows, spec)
        group["__count" if not lazy else f"{by[0]}_count"] = len(rows)
        group["__domain"] = [
            *[list(t) if isinstance(t, tuple) else t for t in domain],
            *[[f, "=", v] for f, v in zip(by, key, strict=True)],
        ]
        out.append(group)
    return out[offset : (offset + limit) if limit else None]


def _formatted_read_group(
    m: Model,
    domain: Sequence[Any],
    groupby: Sequence[str] = (),
    aggregates: Sequence[str] = (),
    having: Sequence[Any] = (),
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[dict[str, Any]]:
    """``formatted_read_group`` (19): aggregates keyed by their spec (``quantity:sum``)."""
    by = list(groupby)
    out = []
    for key, rows in grouping.groups(m, domain, by, order=order):
        group: dict[str, Any] = dict(zip(by, grouping.labels(m, by, key), strict=True))
        for spec in aggregates:
            group[spec] = len(rows) if spec == "__count" else grouping.aggregate(m, rows, spec)
        group["__extra_domain"] = [[f, "=", v] for f, v in zip(by, key, strict=True)]
        out.append(group)
    return out[offset : (offset + limit) if limit else None]


# name -> (function, is an @api.model method)
ORM: dict[str, tuple[Callable[..., Any], bool]] = {
    "search": (_search, True),
    "search_read": (_search_read, True),
    "search_count": (_search_count, True),
    "read": (_read, False),
    "create": (_create, True),
    "write": (_write, False),
    "unlink": (_unlink, False),
    "fields_get": (_fields_get, True),
    "name_search": (_name_search, True),
    "load": (_load, True),
    "default_get": (_default_get, True),
    "exists": (_exists, False),
    "read_group": (_read_group, True),
}
ORM_19 = {"formatted_read_group": (_formatted_read_group, True)}


def resolve(m: Model, method: str, *, json2: bool) -> tuple[Callable[..., Any], bool]:
    """The callable behind ``model.method`` and whether it is an ``@api.model`` method."""
    if method.startswith("_"):
        if json2:
            raise NotFound(f"Private methods (such as {method}) cannot be called remotely.")
        raise AccessError(f"Private methods (such as {method}) cannot be called remotely.")
    if method == "name_search" and m.env.version == 16:
        return _name_search_16, True
    found = m.d.methods.get(method) or ORM.get(method)
    if found is None and m.env.version >= 19:
        found = ORM_19.get(method)
    if found is None:
        text = f"The method '{method}' does not exist on the model '{m.name}'"
        if json2:
            raise NotFound(text)
        raise PyError("AttributeError", text)
    return found


def call(
    m: Model,
    method: str,
    ids: list[int] | None,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    json2: bool,
) -> Any:
    """Bind and run one call; binding errors are Odoo's TypeError (JSON-2: 422)."""
    fn, model_method = resolve(m, method, json2=json2)
    if json2 and model_method and ids:
        raise UnprocessableEntity(f"cannot call {m.name}.{method} with ids")
    positional: list[Any] = list(args)
    if not model_method:
        if ids is None:
            if not positional:
                raise _type_error(
                    json2, f"{method}() missing 1 required positional argument: 'ids'"
                )
            ids = positional.pop(0)
        if isinstance(ids, int) and not isinstance(ids, bool):
            ids = [ids]
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise _type_error(json2, f"ids must be a list of integers, not {ids!r}")
        positional.insert(0, ids)
    try:
        inspect.signature(fn).bind(m, *positional, **kwargs)
    except TypeError as e:
        raise _type_error(json2, f"{method}() {e}") from None
    return fn(m, *positional, **kwargs)


def _type_error(json2: bool, text: str) -> Exception:
    return UnprocessableEntity(text) if json2 else PyError("TypeError", text)


def model_missing(model: str, *, json2: bool) -> Exception:
    if json2:
        return NotFound(f"the model '{model}' does not exist")
    return UserError(f"Object {model} doesn't exist")
