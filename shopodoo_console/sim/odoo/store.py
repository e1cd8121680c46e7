"""The simulator's in-memory database: tables of rows, one lock, undo-log transactions.

Every request runs inside :meth:`Store.transaction`: it holds the lock (requests are
serialised, like a single Odoo worker) and an undo log, so an error anywhere rolls every
change of that call back — one call, one transaction (odoo.md §2.1, §2.3). ``savepoint``
gives ``load()`` its try-together-then-one-by-one behaviour (odoo.md §4).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Row = dict[str, Any]


class Store:
    """Tables ``model -> {id: row}``, id sequences and a reverse index for many2one fields."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, dict[int, Row]] = defaultdict(dict)
        self._next_id: dict[str, int] = defaultdict(lambda: 1)
        self.sequences: dict[str, int] = defaultdict(int)
        # (model, m2o field) -> target id -> ids pointing at it: one2many reads stay O(lines).
        # Also other indexed fields (a model's ``indexed``): value -> ids having it.
        self.reverse: dict[tuple[str, str], dict[Any, set[int]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.m2o_fields: dict[str, tuple[str, ...]] = {}
        self._undo: list[Callable[[], Any]] | None = None

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run a block as one transaction: all its changes, or none of them."""
        with self.lock:
            if self._undo is not None:  # nested: part of the outer transaction
                yield
                return
            self._undo = []
            try:
                yield
            except BaseException:
                self._rollback_to(0)
                raise
            finally:
                self._undo = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Roll back only this block's changes if it raises (the transaction goes on)."""
        assert self._undo is not None, "savepoint outside a transaction"
        mark = len(self._undo)
        try:
            yield
        except BaseException:
            self._rollback_to(mark)
            raise

    def _rollback_to(self, mark: int) -> None:
        assert self._undo is not None
        while len(self._undo) > mark:
            self._undo.pop()()

    def _log(self, undo: Callable[[], Any]) -> None:
        if self._undo is not None:
            self._undo.append(undo)

    # -- rows -----------------------------------------------------------------------------

    def new_id(self, model: str) -> int:
        """Next id of ``model``; like PostgreSQL sequences, never rolled back."""
        value = self._next_id[model]
        self._next_id[model] = value + 1
        return value

    def next_sequence(self, code: str) -> int:
        self.sequences[code] += 1
        return self.sequences[code]

    def insert(self, model: str, row: Row) -> None:
        rid = row["id"]
        self.tables[model][rid] = row
        self._index(model, rid, row, add=True)
        self._log(lambda: self._raw_delete(model, rid))

    def update(self, model: str, rid: int, changes: Row) -> None:
        row = self.tables[model][rid]
        old = {k: row.get(k) for k in changes}
        self._index(model, rid, old, add=False)
        row.update(changes)
        self._index(model, rid, changes, add=True)

        def undo() -> None:
            self._index(model, rid, changes, add=False)
            row.update(old)
            self._index(model, rid, old, add=True)

        self._log(undo)

    def delete(self, model: str, rid: int) -> None:
        row = self._raw_delete(model, rid)
        if row is not None:
            self._log(lambda: self.insert(model, row))

    def _raw_delete(self, model: str, rid: int) -> Row | None:
        row = self.tables[model].pop(rid, None)
        if row is not None:
            self._index(model, rid, row, add=False)
        return row

    def _index(self, model: str, rid: int, values: Row, *, add: bool) -> None:
        for fname in self.m2o_fields.get(model, ()):
            target = values.get(fname)
            if not target or fname not in values:
                continue
            bucket = self.reverse[(model, fname)][target]
            if add:
                bucket.add(rid)
            else:
                bucket.discard(rid)

    def referencing(self, model: str, fname: str, target: Any) -> list[int]:
        """Ids of ``model`` whose many2one ``fname`` points at ``target``, in id order."""
        return sorted(self.reverse[(model, fname)].get(target, ()))
