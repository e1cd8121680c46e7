"""Statements about poll cursors: where each shop's stream continues, and how its last poll
went (DESIGN §4). A cursor moves in the same transaction as the page it covers."""

from __future__ import annotations

import time

from shopodoo_console.store.db import Store
from shopodoo_console.store.models import Cursor


def position(store: Store, shop_id: int, stream: str) -> str | None:
    query = Cursor.select(Cursor.position).where(
        (Cursor.shop == shop_id) & (Cursor.stream == stream)
    )
    found = query.tuples().execute(store.db)
    row = next(iter(found), None)
    return row[0] if row else None


def set_position(store: Store, shop_id: int, stream: str, value: str | None) -> None:
    now = time.time()
    (
        Cursor.insert(
            {
                Cursor.shop: shop_id,
                Cursor.stream: stream,
                Cursor.position: value,
                Cursor.updated_at: now,
            }
        )
        .on_conflict(
            conflict_target=[Cursor.shop, Cursor.stream],
            update={Cursor.position: value, Cursor.updated_at: now},
        )
        .as_rowcount()
        .execute(store.db)
    )


def record_poll(store: Store, shop_id: int, stream: str, *, ok: bool, message: str) -> None:
    """Note when the stream was last polled and how it went (the cursor itself stays)."""
    now = time.time()
    values = {
        Cursor.last_poll_at: now,
        Cursor.last_poll_ok: int(ok),
        Cursor.last_poll_message: message,
    }
    (
        Cursor.insert(
            {Cursor.shop: shop_id, Cursor.stream: stream, Cursor.updated_at: now, **values}
        )
        .on_conflict(conflict_target=[Cursor.shop, Cursor.stream], update=values)
        .as_rowcount()
        .execute(store.db)
    )
