"""Statements peewee writes once and the store runs many times.

The hot statements (enqueue a poll page, claim a batch, finish a batch) are built with peewee
from the models like every other statement, but with named placeholders (:func:`param`)
instead of values. Peewee renders each shape of a statement once per kind of database; after
that a call costs one ``execute`` with fresh parameters, not a query build — which for a
250-row insert is ten milliseconds of Python. Peewee still decides the SQL text, so the
statements stay portable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from peewee import Database, Value


class _Slot:
    """A placeholder's name, carried through peewee to the compiled parameter list."""

    __slots__ = ("name",)

    def __init__(self, name: Hashable) -> None:
        self.name = name


def param(name: Hashable) -> Value:
    """A placeholder in a statement: bound to ``values[name]`` when the statement runs."""
    return Value(_Slot(name), converter=False, unpack=False)


class _Const:
    """A value peewee bound itself (a column default, a literal in an expression)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_SEQUENCES = (list, tuple)


class Statement:
    """A statement whose SQL is compiled once per database kind and shape."""

    def __init__(self, build: Callable[..., Any], *, name: str = "") -> None:
        self._build = build
        self.name = name or getattr(build, "__name__", "statement")
        self._compiled: dict[Hashable, tuple[str, tuple[Any, ...], bool]] = {}
        self._lock = threading.Lock()

    def sql(self, db: Database, *shape: Hashable) -> str:
        return self._compile(db, shape)[0]

    def _compile(self, db: Database, shape: tuple[Hashable, ...]) -> tuple[str, tuple, bool]:
        key = (type(db), shape)
        found = self._compiled.get(key)
        if found is not None:
            return found
        query = self._build(*shape)
        sql, params = db.get_sql_context().sql(query).query()
        names = tuple(p.name if isinstance(p, _Slot) else _Const(p) for p in params)
        positional = names == tuple(range(len(names)))
        compiled = (sql, names, positional)
        with self._lock:
            if len(self._compiled) > 256:  # shapes are few; never let them pile up
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled

    def bind(self, db: Database, values: Mapping[Any, Any] | Sequence[Any], *shape: Hashable):
        """The SQL and its parameters, in the order the SQL wants them."""
        sql, names, positional = self._compile(db, shape)
        if positional and type(values) in _SEQUENCES:  # not isinstance(Sequence): an ABC is slow
            return sql, values
        return sql, [n.value if isinstance(n, _Const) else values[n] for n in names]  # type: ignore[index]

    def run(
        self, db: Database, values: Mapping[Any, Any] | Sequence[Any] = (), *shape: Hashable
    ) -> Any:
        """Execute with ``values`` (by name, or by position for positional placeholders)."""
        sql, args = self.bind(db, values, *shape)
        return db.execute_sql(sql, args)
