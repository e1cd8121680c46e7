"""Opening the local database: private file, WAL, sane pragmas, migrations, version guard.

SQLite settings (python-stack.md): WAL so readers never block the writer, ``synchronous=NORMAL``
(durable at checkpoints, fast commits), foreign keys on, a generous busy timeout so two
processes wait for each other instead of failing, and ``BEGIN IMMEDIATE`` for every write
transaction so a transaction never has to upgrade its lock halfway (the classic SQLITE_BUSY
deadlock).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from shopodoo_console.redact import redact
from shopodoo_console.store import migrations
from shopodoo_console.store.models import Audit, Shop, database

BUSY_TIMEOUT_MS = 15_000
PRAGMAS = (
    ("journal_mode", "wal"),
    ("synchronous", "normal"),
    ("foreign_keys", 1),
    ("busy_timeout", BUSY_TIMEOUT_MS),
    ("cache_size", -16_000),  # 16 MB page cache per connection
)


class DatabaseError(Exception):
    """The database cannot be opened; the message says why and what to do."""


def create_private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (order data and logs are private)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _peek_version(path: Path) -> int:
    """Read the schema version without writing anything to the file."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            return migrations.current_version(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"{path} is not a readable shopodoo database ({exc}). Move it aside to start fresh; "
            "it was not modified."
        ) from None


class Store:
    """The open database; every component shares one per process."""

    def __init__(self, path: Path, *, synchronous: str = "normal") -> None:
        """Open ``path``. ``synchronous="full"`` fsyncs every commit (slower; the idempotency
        protocol makes NORMAL safe: a commit lost to a power cut is redone through stamps)."""
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous must be 'normal' or 'full', not {synchronous!r}")
        self.path = Path(path)
        version = _peek_version(self.path)
        try:
            migrations.check_not_newer(version, str(self.path))
        except migrations.NewerDatabaseError as exc:
            raise DatabaseError(str(exc)) from None
        create_private_file(self.path)
        self.db = SqliteDatabase(
            str(self.path),
            pragmas=tuple((k, synchronous if k == "synchronous" else v) for k, v in PRAGMAS),
            lock_type="IMMEDIATE",
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        database.initialize(self.db)
        try:
            self.applied_migrations = migrations.migrate(self.db.connection(), str(self.path))
        except migrations.NewerDatabaseError as exc:
            raise DatabaseError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{self.path}: cannot prepare the database ({exc})") from None

    # ------------------------------------------------------------ plumbing

    def atomic(self) -> Any:
        """A write transaction (``BEGIN IMMEDIATE``)."""
        return self.db.atomic()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute_sql(sql, tuple(params))

    @contextmanager
    def thread_connection(self) -> Any:
        """Open (and close) this thread's connection: worker threads must not leak them."""
        with self.db.connection_context():
            yield

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def schema_version(self) -> int:
        return migrations.current_version(self.db.connection())

    # ------------------------------------------------------------ shops and audit

    def sync_shop(
        self,
        domain: str,
        *,
        api_version: str,
        odoo_company_id: int | None = None,
        odoo_warehouse_id: int | None = None,
        odoo_pricelist_id: int | None = None,
        settings: dict[str, Any] | None = None,
    ) -> int:
        """Create or update the shop row for a configured shop; return its id."""
        now = time.time()
        values = {
            Shop.api_version: api_version,
            Shop.odoo_company_id: odoo_company_id,
            Shop.odoo_warehouse_id: odoo_warehouse_id,
            Shop.odoo_pricelist_id: odoo_pricelist_id,
            Shop.settings: settings or {},
            Shop.updated_at: now,
        }
        with self.atomic():
            (
                Shop.insert({Shop.domain: domain, Shop.created_at: now, **values})
                .on_conflict(conflict_target=[Shop.domain], update=values)
                .execute()
            )
            return Shop.get(Shop.domain == domain).id

    def shop_id(self, domain: str) -> int | None:
        row = Shop.select(Shop.id).where(Shop.domain == domain).first()
        return row.id if row else None

    def audit(
        self,
        *,
        system: str,
        event: str,
        message: str,
        job_id: int | None = None,
        shop_id: int | None = None,
        data: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> None:
        """Append one timeline entry (what happened in which system, and why)."""
        self.execute(
            "INSERT INTO audit (at, job_id, shop_id, system, event, message, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                at or time.time(),
                job_id,
                shop_id,
                system,
                event,
                redact(message),
                redact(json.dumps(data or {}, sort_keys=True)),
            ),
        )

    def timeline(self, job_id: int) -> list[Audit]:
        return list(Audit.select().where(Audit.job == job_id).order_by(Audit.at, Audit.id))
