"""Stamped creates for a batch: one ``load()`` for many records, each with its stamp.

A temporary error (Odoo down, answer lost) fails every job of the call: their retry looks the
stamps up first, so whatever Odoo committed is adopted, not repeated. A data error on a call
for several records is narrowed down one by one, so one bad order does not stop the others. A
lost race on a stamp — another worker created the same record a moment earlier and Odoo's
unique index refused ours — is never a data error: the stamps are looked up again and the
winner's records adopted, for a call of one record as for a call of many (issue 9, item 4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.causes import Cause, CauseError, Kind
from shopodoo_console.odoo import OdooClient

Fail = Callable[[str, Cause], None]  # (stamp, cause): the owners of that stamp fail with it


@dataclass
class Created:
    ids: dict[str, int] = field(default_factory=dict)  # stamp → record id
    adopted: set[str] = field(default_factory=set)  # stamps another worker had created


class StampedCreator:
    def __init__(self, odoo: OdooClient, context: dict[str, Any] | None) -> None:
        self.odoo = odoo
        self.context = context

    def create(
        self,
        model: str,
        items: Sequence[tuple[str, dict[str, Any]]],
        fail: Fail,
        record: str = "",
    ) -> Created:
        unique = list(dict(items).items())
        out = Created()
        if not unique:
            return out
        try:
            out.ids.update(self._load(model, unique, record))
            return out
        except CauseError as exc:
            cause = exc.cause
        if cause.code == "odoo.stamp_taken":
            return self._after_race(model, unique, fail, record, cause)
        if cause.kind is Kind.TEMPORARY or len(unique) == 1:
            for stamp, _ in unique:
                fail(stamp, cause)
            return out
        for item in unique:  # narrow a data error down to the record it is about
            part = self.create(model, [item], fail, record)
            out.ids.update(part.ids)
            out.adopted |= part.adopted
        return out

    def _after_race(
        self,
        model: str,
        unique: list[tuple[str, dict[str, Any]]],
        fail: Fail,
        record: str,
        cause: Cause,
    ) -> Created:
        """Look the stamps up again: the winner's records are ours to adopt; what is still
        missing is created once more (it lost no race), and fails temporarily if it cannot."""
        found = {
            name: rid
            for name, (found_model, rid) in self.odoo.find_stamps([s for s, _ in unique]).items()
            if found_model == model
        }
        out = Created(dict(found), set(found))
        rest = [(s, v) for s, v in unique if s not in found]
        if not rest:
            return out
        try:
            out.ids.update(self._load(model, rest, record))
        except CauseError as exc:
            for stamp, _ in rest:
                fail(stamp, exc.cause if exc.cause.code != "odoo.stamp_taken" else cause)
        return out

    def _load(
        self, model: str, items: list[tuple[str, dict[str, Any]]], record: str
    ) -> dict[str, int]:
        return self.odoo.create_stamped_many(model, items, context=self.context, record=record)
