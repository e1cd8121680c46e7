"""Fault injection: what can go wrong between the console and Odoo (odoo.md §10 item 9).

A :class:`FaultRule` matches calls by model and method (``None`` = any; JSON-RPC ``common``
calls use model ``"common"``, ``GET /web/version`` model ``"web"``) and fires ``times`` times
(``None`` = until removed). Kinds:

``latency``        sleep ``delay`` seconds before handling (outside the database lock)
``status``         a reverse proxy answers ``status`` (502/503/504) with an HTML page; with
                   ``after=True`` the call first runs and commits (a write whose answer is lost)
``serialization``  ``psycopg2.errors.SerializationFailure`` ("could not serialize access …")
``lock``           ``odoo.exceptions.LockError`` ("Record(s) could not be locked.", 409)
``drop``           the call runs and commits, then the connection is closed with no answer
``delete``         ``record_id`` of ``model`` (default: the call's own ids) is deleted just before
                   the call, as if someone removed it in Odoo behind our back
``race``           a lost race on a stamp: another worker made the same call a moment earlier and
                   committed (the call runs and commits), and this one is answered as the loser
                   of Postgres' unique index on ``ir.model.data`` — ``load`` with the
                   duplicate-key message for each record, anything else with the error
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("latency", "status", "serialization", "lock", "drop", "delete", "race")
_ids = itertools.count(1)


@dataclass
class FaultRule:
    kind: str
    model: str | None = None
    method: str | None = None
    times: int | None = 1
    delay: float = 0.0
    status: int = 502
    after: bool = False
    record_id: int | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")

    def matches(self, model: str, method: str) -> bool:
        return (self.model in (None, model)) and (self.method in (None, method))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The active rules; thread-safe, consumed as they fire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule | dict[str, Any] | None = None, **kw: Any) -> FaultRule:
        """Add a rule: ``faults.add(kind="drop", model="sale.order", method="load")``."""
        if rule is None:
            rule = FaultRule(**kw)
        elif isinstance(rule, dict):
            rule = FaultRule(**{k: v for k, v in rule.items() if k != "id"})
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if r.id != rule_id]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, model: str, method: str) -> list[FaultRule]:
        """The rules firing for this call, in the order they were added: every matching
        ``latency`` and ``delete`` rule, and the first other one (the rest wait their turn)."""
        fired = []
        terminal = False
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(model, method):
                    continue
                if rule.kind not in ("latency", "delete"):
                    if terminal:
                        continue
                    terminal = True
                fired.append(rule)
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
        return fired
