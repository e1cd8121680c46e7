"""Statements about operator-owned mapping rules (DESIGN §3.8, §4)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Job, Mapping, in_states
from shopodoo_console.store.states import State

IN_CHUNK = 900


@dataclass(frozen=True)
class MappingRow:
    id: int
    shop_id: int
    kind: str
    source_key: str
    odoo_model: str
    odoo_id: int
    label: str
    note: str
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source_key": self.source_key,
            "odoo_model": self.odoo_model,
            "odoo_id": self.odoo_id,
            "label": self.label,
            "note": self.note,
        }


_COLUMNS = (
    Mapping.id,
    Mapping.shop,
    Mapping.kind,
    Mapping.source_key,
    Mapping.odoo_model,
    Mapping.odoo_id,
    Mapping.label,
    Mapping.note,
    Mapping.updated_at,
)


def _rows(query: Any, store: Store) -> list[MappingRow]:
    return [MappingRow(*row) for row in query.tuples().execute(store.db)]


def get_mapping(store: Store, shop_id: int, kind: str, source_key: str) -> MappingRow | None:
    query = Mapping.select(*_COLUMNS).where(
        (Mapping.shop == shop_id) & (Mapping.kind == kind) & (Mapping.source_key == source_key)
    )
    found = _rows(query, store)
    return found[0] if found else None


def get_mappings(
    store: Store, shop_id: int, kind: str, source_keys: Sequence[str]
) -> dict[str, MappingRow]:
    """Many mappings in one query (all lines of a batch of orders)."""
    found: dict[str, MappingRow] = {}
    for start in range(0, len(source_keys), IN_CHUNK):
        part = list(source_keys[start : start + IN_CHUNK])
        query = Mapping.select(*_COLUMNS).where(
            (Mapping.shop == shop_id) & (Mapping.kind == kind) & Mapping.source_key.in_(part)
        )
        found.update({row.source_key: row for row in _rows(query, store)})
    return found


def list_mappings(
    store: Store,
    shop_id: int | None = None,
    kind: str | None = None,
    *,
    limit: int = 500,
    offset: int = 0,
) -> list[MappingRow]:
    query = Mapping.select(*_COLUMNS)
    if shop_id is not None:
        query = query.where(Mapping.shop == shop_id)
    if kind is not None:
        query = query.where(Mapping.kind == kind)
    return _rows(
        query.order_by(Mapping.kind, Mapping.source_key).limit(limit).offset(offset), store
    )


def upsert_mapping(
    store: Store,
    shop_id: int,
    kind: str,
    source_key: str,
    odoo_model: str,
    odoo_id: int,
    *,
    label: str,
    note: str,
) -> None:
    """Create the mapping, or change the one with the same (shop, kind, source key)."""
    now = time.time()
    values = {
        Mapping.odoo_model: odoo_model,
        Mapping.odoo_id: odoo_id,
        Mapping.label: label,
        Mapping.note: note,
        Mapping.updated_at: now,
    }
    (
        Mapping.insert(
            {
                Mapping.shop: shop_id,
                Mapping.kind: kind,
                Mapping.source_key: source_key,
                Mapping.created_at: now,
                **values,
            }
        )
        .on_conflict(
            conflict_target=[Mapping.shop, Mapping.kind, Mapping.source_key], update=values
        )
        .as_rowcount()
        .execute(store.db)
    )


def delete_mapping(store: Store, shop_id: int, kind: str, source_key: str) -> bool:
    query = Mapping.delete().where(
        (Mapping.shop == shop_id) & (Mapping.kind == kind) & (Mapping.source_key == source_key)
    )
    return int(query.execute(store.db)) == 1


def blocked_keys(store: Store, shop_id: int | None = None) -> list[str]:
    """The ``|key|key|`` lists of every job waiting for a mapping."""
    query = Job.select(Job.blocked_on).where(
        in_states(Job.state, (State.NEEDS_ATTENTION,)) & Job.blocked_on.is_null(False)
    )
    if shop_id is not None:
        query = query.where(Job.shop == shop_id)
    return [row[0] for row in query.tuples().execute(store.db)]
