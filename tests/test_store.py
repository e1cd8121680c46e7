"""The local database: migrations, version guard, pragmas, private files (DESIGN §4)."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from pathlib import Path

import pytest

from shopodoo_console.store import jobs, migrations
from shopodoo_console.store.db import DatabaseError, Store
from shopodoo_console.store.models import ALL_MODELS


def test_migrates_an_empty_database(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.db")
    assert store.applied_migrations == list(range(1, migrations.LATEST + 1))
    assert store.schema_version() == migrations.LATEST
    tables = {
        r[0]
        for r in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    }
    assert {"shop", "job", "attempt", "link", "mapping", "cursor", "audit", "lease"} <= tables
    store.close()
    again = Store(tmp_path / "new.db")
    assert again.applied_migrations == []  # idempotent on reopen
    again.close()


def test_pragmas_are_applied(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert store.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    store.close()


def test_a_bulk_transaction_keeps_its_undo_records_in_memory_while_it_lasts(
    tmp_path: Path,
) -> None:
    """A poll page's upsert journals every page it changes; in a bulk transaction that record
    stays in RAM (``temp_store=MEMORY``) — and only there: after it, sorts spill to disk again,
    whether it committed or failed."""
    store = Store(tmp_path / "b.db")

    def temp_store() -> int:
        return int(store.execute("PRAGMA temp_store").fetchone()[0])

    assert temp_store() == 0
    with store.atomic(bulk=True):
        assert temp_store() == 2
        store.sync_shop("a.myshopify.com", api_version="2026-07")
    assert temp_store() == 0
    assert store.shop_id("a.myshopify.com") is not None

    with pytest.raises(RuntimeError), store.atomic(bulk=True):
        store.sync_shop("b.myshopify.com", api_version="2026-07")
        raise RuntimeError("a page that fails halfway")
    assert store.shop_id("b.myshopify.com") is None  # nothing half-written
    assert temp_store() == 0

    with store.atomic(), store.atomic(bulk=True):  # a savepoint: the outer transaction decided
        assert temp_store() == 0
    store.close()


def test_database_file_is_private(tmp_path: Path) -> None:
    store = Store(tmp_path / "data" / "priv.db")
    store.sync_shop("a.myshopify.com", api_version="2026-07")
    for path in (tmp_path / "data").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    store.close()


def test_newer_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future_thing (x)")
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DatabaseError, match="newer shopodoo-console"):
        Store(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "future.db-wal").exists()


def test_garbage_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="is damaged or is not a shopodoo database") as err:
        Store(path)
    assert f"`mv {path} {path}.damaged-" in str(err.value)  # the exact command to move it
    assert "\n" not in str(err.value)  # one line
    assert path.read_bytes() == before  # and it was not modified


def test_unique_constraints_of_design(tmp_path: Path) -> None:
    store = Store(tmp_path / "u.db")
    shop = store.sync_shop("a.myshopify.com", api_version="2026-07")
    now = 1.0
    store.execute(
        "INSERT INTO link (shop_id, kind, shopify_id, odoo_model, odoo_id, created_at, "
        "updated_at) VALUES (?, 'order', 'gid://1', 'sale.order', 7, ?, ?)",
        (shop, now, now),
    )
    for shopify_id, odoo_id in (("gid://1", 8), ("gid://2", 7)):
        with pytest.raises(Exception, match="UNIQUE"):
            store.execute(
                "INSERT INTO link (shop_id, kind, shopify_id, odoo_model, odoo_id, created_at, "
                "updated_at) VALUES (?, 'order', ?, 'sale.order', ?, ?, ?)",
                (shop, shopify_id, odoo_id, now, now),
            )
    store.execute(
        "INSERT INTO mapping (shop_id, kind, source_key, odoo_model, odoo_id, "
        "created_at, updated_at) VALUES (?, 'product', 'SKU', 'product.product', 1, "
        "?, ?)",
        (shop, now, now),
    )
    with pytest.raises(Exception, match="UNIQUE"):
        store.execute(
            "INSERT INTO mapping (shop_id, kind, source_key, odoo_model, odoo_id, "
            "created_at, updated_at) VALUES (?, 'product', 'SKU', 'product.product', "
            "2, ?, ?)",
            (shop, now, now),
        )
    store.close()


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    """The peewee models and the migration SQL must describe the same columns."""
    store = Store(tmp_path / "m.db")
    for model in ALL_MODELS:
        table = model._meta.table_name
        db_columns = {r[1] for r in store.execute(f"PRAGMA table_info({table})").fetchall()}
        model_columns = {f.column_name for f in model._meta.sorted_fields}
        assert model_columns == db_columns, table
    store.close()


def test_claim_uses_the_runnable_index(tmp_path: Path) -> None:
    """The claim must not scan the job table (it stays fast at a million rows)."""
    store = Store(tmp_path / "i.db")
    for shape in ((1, 1, False), (None, None, True), (2, None, False)):
        sql = jobs.CLAIM.sql(store.db, *shape)
        placeholders = sql.count("?")
        plan = store.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * placeholders).fetchall()
        text = " | ".join(r[-1] for r in plan)
        assert "job_runnable" in text and "job_one_running" in text, text
        assert "TEMP B-TREE" not in text  # walks the index in claim order: no sort
    store.close()


def test_due_time_and_versions_are_read_from_indexes(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    due = " | ".join(
        r[-1]
        for r in store.execute(f"EXPLAIN QUERY PLAN {jobs.NEXT_DUE.sql(store.db)}", [1]).fetchall()
    )
    assert "job_runnable" in due, due
    versions = " | ".join(
        r[-1]
        for r in store.execute(
            f"EXPLAIN QUERY PLAN {jobs.WAITING_VERSIONS.sql(store.db, 4)}", ["a", "b"] * 4
        ).fetchall()
    )
    assert "job_key" in versions, versions
    store.close()
