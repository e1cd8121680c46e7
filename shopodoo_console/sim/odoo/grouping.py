"""Grouping records for ``read_group`` / ``formatted_read_group`` (odoo.md §4).

Groups are keyed by the raw values of the ``groupby`` fields (many2one ids, selections,
booleans), in the order asked for, and labelled the way Odoo answers: a many2one as
``[id, display_name]`` (``False`` when empty). Aggregates: ``sum``, ``min``, ``max``, ``avg``,
``count``, ``count_distinct`` over stored or computed numeric fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .errors import PyError
from .orm import Model
from .store import Row


def groups(
    m: Model, domain: Sequence[Any], by: list[str], *, order: str | None
) -> Iterator[tuple[tuple[Any, ...], list[Row]]]:
    """(key, rows) per group of the records matching ``domain``."""
    for fname in by:
        if ":" in fname or fname not in m.d.fields:
            raise PyError("ValueError", f"Invalid field {fname!r} on model {m.name!r}")
    ids = m.search(list(domain), order=order)
    found: dict[tuple[Any, ...], list[Row]] = {}
    for rid in ids:
        row = m.table[rid]
        key = tuple(_raw(m, row, f) for f in by)
        found.setdefault(key, []).append(row)
    yield from found.items()


def _raw(m: Model, row: Row, fname: str) -> Any:
    value = m.value(row, fname)
    return value if value not in (None, []) else False


def labels(m: Model, by: list[str], key: tuple[Any, ...]) -> list[Any]:
    out = []
    for fname, value in zip(by, key, strict=True):
        f = m.d.fields[fname]
        if f.type == "many2one" and value:
            out.append([value, m.env[f.relation or ""].display_name(value)])
        else:
            out.append(value)
    return out


def aggregate(m: Model, rows: list[Row], spec: str) -> Any:
    fname, _, func = spec.partition(":")
    func = func or "sum"
    if fname not in m.d.fields:
        raise PyError("ValueError", f"Invalid field {fname!r} on model {m.name!r}")
    values = [m.value(r, fname) for r in rows]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if func == "sum":
        return sum(numbers)
    if func == "min":
        return min(numbers) if numbers else False
    if func == "max":
        return max(numbers) if numbers else False
    if func == "avg":
        return sum(numbers) / len(numbers) if numbers else False
    if func == "count":
        return len([v for v in values if v not in (None, False)])
    if func == "count_distinct":
        return len({v for v in values if v not in (None, False)})
    raise PyError("ValueError", f"Invalid aggregation function {func!r}")
