"""Migrations from every earlier version end in the schema the models declare, data intact.

``fixtures/schema_v1.sql`` to ``schema_v3.sql`` are the schemas databases of earlier consoles
have (user_version 1 to 3), exactly as the old migrations wrote them. A database at each version,
with rows in every table, is opened by the current console; its schema must then equal,
column by column and index by index, a new database created from the models — and every row
must still be there and usable.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest
from support import SHOP

from shopodoo_console.engine.flows import Change
from shopodoo_console.engine.queue import Queue
from shopodoo_console.store import migrations
from shopodoo_console.store.db import Store

FIXTURES = Path(__file__).parent / "fixtures"
NOW = 1_800_000_000.0


def old_database(path: Path, version: int) -> None:
    """A database as a console at ``version`` left it, with a row in every table."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    for number in range(1, version + 1):
        conn.executescript((FIXTURES / f"schema_v{number}.sql").read_text())
    conn.execute(f"PRAGMA user_version = {version}")
    conn.executescript(
        f"""
        INSERT INTO shop (id, domain, api_version, created_at, updated_at)
            VALUES (1, '{SHOP}', '2026-07', {NOW}, {NOW});
        INSERT INTO job (id, key, shop_id, flow, source_id, source_version, state, attempts,
                         retries, next_run_at, created_at, last_seen_at, updated_at,
                         finished_at, cause_code, cause)
            VALUES (1, '{SHOP}:orders:gid1:v1', 1, 'orders', 'gid1', 'v1', 'done', 1, 0,
                    {NOW}, {NOW}, {NOW}, {NOW}, {NOW}, NULL, NULL),
                   (2, '{SHOP}:orders:gid2:v1', 1, 'orders', 'gid2', 'v1', 'retrying', 3, 2,
                    {NOW}, {NOW}, {NOW}, {NOW}, NULL, 'odoo.unreachable',
                    '{{"code": "odoo.unreachable", "missing": "down"}}'),
                   (3, '{SHOP}:orders:gid3:v1', 1, 'orders', 'gid3', 'v1', 'queued', 0, 0,
                    {NOW}, {NOW}, {NOW}, {NOW}, NULL, NULL, NULL);
        INSERT INTO attempt (job_id, number, worker, started_at, ended_at, outcome)
            VALUES (1, 1, 'w', {NOW}, {NOW}, 'done');
        INSERT INTO link (shop_id, kind, shopify_id, odoo_model, odoo_id, created_at, updated_at)
            VALUES (1, 'order', 'gid1', 'sale.order', 42, {NOW}, {NOW});
        INSERT INTO mapping (shop_id, kind, source_key, odoo_model, odoo_id, created_at,
                             updated_at)
            VALUES (1, 'product', 'MUG-RED', 'product.product', 7, {NOW}, {NOW});
        INSERT INTO cursor (shop_id, stream, position, updated_at)
            VALUES (1, 'orders', '2026-11-01T00:00:00Z', {NOW});
        INSERT INTO audit (at, job_id, shop_id, system, event, message)
            VALUES ({NOW}, 1, 1, 'odoo', 'created', 'Odoo S00042 created');
        INSERT INTO lease (name, owner, pid, host, acquired_at, expires_at)
            VALUES ('scheduler', 'gone', 1, 'elsewhere', {NOW}, {NOW});
        """
    )
    conn.close()


def schema(path: Path) -> dict[str, object]:
    """What the schema means, whatever wrote it: per table its columns (name, type affinity,
    not null, default, primary key), foreign keys, unique column sets, other indexes (columns,
    order, partial condition)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out: dict[str, object] = {}
        for table in tables:
            columns = [
                (name, _affinity(kind), bool(notnull) or bool(pk), _default(default), pk)
                for _, name, kind, notnull, default, pk in conn.execute(
                    f'PRAGMA table_info("{table}")'
                )
            ]
            foreign = sorted(
                (r[2], r[3], r[4], r[6])
                for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')
            )
            unique, other = set(), set()
            for _, name, is_unique, origin, partial in conn.execute(
                f'PRAGMA index_list("{table}")'
            ):
                if origin == "pk":
                    continue
                cols = tuple(
                    (r[2], r[3])  # column, descending
                    for r in conn.execute(f'PRAGMA index_xinfo("{name}")')
                    if r[5]  # key columns only
                )
                where = _where(conn, name) if partial else None
                if is_unique and not partial:
                    unique.add(cols)
                else:
                    other.add((name, cols, bool(is_unique), where))
            out[table] = {
                "columns": sorted(columns),
                "foreign": foreign,
                "unique": sorted(unique),
                "indexes": sorted(other, key=repr),
            }
        return out
    finally:
        conn.close()


def _affinity(declared: str) -> str:
    kind = declared.upper()
    if "INT" in kind:
        return "INTEGER"
    if any(t in kind for t in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if any(t in kind for t in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return kind or "BLOB"


def _default(value: str | None) -> str | None:
    return None if value is None else value.strip("()")


def _where(conn: sqlite3.Connection, index: str) -> str:
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
    condition = sql.split(" WHERE ", 1)[1]
    return re.sub(r'[\s"()]', "", condition).lower().replace("in'running'", "='running'")


@pytest.fixture
def fresh(tmp_path: Path) -> dict[str, object]:
    Store(tmp_path / "fresh.db").close()
    return schema(tmp_path / "fresh.db")


@pytest.mark.parametrize("version", range(1, migrations.LATEST))
def test_every_earlier_version_migrates_to_the_models_schema(
    tmp_path: Path, version: int, fresh: dict[str, object]
) -> None:
    path = tmp_path / f"v{version}.db"
    old_database(path, version)
    store = Store(path)
    assert store.applied_migrations == list(range(version + 1, migrations.LATEST + 1))
    assert store.schema_version() == migrations.LATEST
    store.close()
    assert schema(path) == fresh


@pytest.mark.parametrize("version", range(1, migrations.LATEST))
def test_an_upgraded_database_keeps_its_rows_and_works(tmp_path: Path, version: int) -> None:
    path = tmp_path / f"v{version}.db"
    old_database(path, version)
    store = Store(path)
    try:
        counts = {
            table: store.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("shop", "job", "attempt", "link", "mapping", "cursor", "audit", "lease")
        }
        assert counts == {
            "shop": 1,
            "job": 3,
            "attempt": 1,
            "link": 1,
            "mapping": 1,
            "cursor": 1,
            "audit": 1,
            "lease": 1,
        }
        queue = Queue(store, clock=lambda: NOW + 1)
        job = queue.claim("w", 30)  # the retrying job keeps its history and is claimable
        assert job is not None and (job.id, job.attempts, job.retries) == (2, 4, 2)
        assert job.retry_counts == {}  # no budget spent under the new accounting yet
        again = queue.enqueue(1, SHOP, "orders", [Change("gid3", "v2")])
        assert (again.new, again.superseded) == (1, 1)  # versions found through the key index
        assert queue.finish_done(job.claim)
    finally:
        store.close()


def test_a_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    old_database(path, 2)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    before = path.read_bytes()
    from shopodoo_console.store.db import DatabaseError

    with pytest.raises(DatabaseError, match="newer shopodoo-console"):
        Store(path)
    assert path.read_bytes() == before


def test_two_processes_opening_an_old_database_migrate_it_once(
    tmp_path: Path, fresh: dict[str, object]
) -> None:
    path = tmp_path / "v1.db"
    old_database(path, 1)
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            store = Store(path)
            applied.append(store.applied_migrations)
            store.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    steps = sorted(step for steps in applied for step in steps)
    assert steps == list(range(2, migrations.LATEST + 1))  # each step once
    assert schema(path) == fresh
