"""Opening the local database: private file, migrations, version guard, read-only mode.

Every component of a process shares one :class:`Store`. Commands that only read (``jobs
ls``, ``cursors ls``, ``doctor``...) open it with ``readonly=True``: SQLite then refuses any
write, and a file the operator cannot write (a read-only folder, a backup) still opens.
The statements themselves are built with peewee from the models in the other modules of this
package; :meth:`Store.execute` (raw SQL) is for tests and debugging only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from shopodoo_console.redact import redact
from shopodoo_console.store import migrations, sqlite
from shopodoo_console.store.models import Audit, Shop, database

RESERVE_BYTES = 1024 * 1024


class DatabaseError(Exception):
    """The database cannot be opened or used; the message says why and what to do."""


def create_private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (order data and logs are private)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class Store:
    """The open database."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "normal",
        readonly: bool = False,
        busy_timeout_ms: int | None = None,
    ) -> None:
        """Open ``path``. ``synchronous="full"`` fsyncs every commit (slower; the idempotency
        protocol makes NORMAL safe: a commit lost to a power cut is redone through stamps).

        ``readonly``: SQLite refuses every write through this store. A file that does not
        exist yet reads as an empty database (nothing is created); an older schema is
        upgraded first when the file can be written, and explained when it cannot.
        """
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous must be 'normal' or 'full', not {synchronous!r}")
        self.path = Path(path)
        self.readonly = readonly
        self.applied_migrations: list[int] = []
        timeout = sqlite.BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
        version = self._peek()
        if not readonly:
            self.db = self._open_read_write(synchronous, timeout)
        elif version == 0:
            self.db = self._empty()
        else:
            if version < migrations.LATEST:
                self._upgrade_before_reading(timeout)
            self.db = self._open_read_only()
        database.initialize(self.db)

    def _peek(self) -> int:
        try:
            version = sqlite.peek_version(self.path)
            migrations.check_not_newer(version, str(self.path))
        except migrations.NewerDatabaseError as exc:
            raise DatabaseError(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc, "open") from None
        return version

    def _open_read_write(self, synchronous: str, busy_timeout_ms: int) -> SqliteDatabase:
        try:
            create_private_file(self.path)
            db = sqlite.open_database(
                self.path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms
            )
            self.applied_migrations = migrations.migrate_database(db, str(self.path))
            self._keep_reserve()
        except migrations.NewerDatabaseError as exc:
            raise DatabaseError(str(exc)) from None
        except (OSError, sqlite3.Error, DatabaseError) as exc:
            raise self._explain(exc, "prepare") from None
        except Exception as exc:  # peewee wraps sqlite3's errors in its own classes
            if sqlite.fault_of(exc) is None:
                raise
            raise self._explain(exc, "prepare") from None
        return db

    @property
    def reserve(self) -> Path:
        return Path(f"{self.path}-reserve")

    def _keep_reserve(self) -> None:
        """Keep 1 MB of disk beside the database, given up when the disk fills: enough to
        return the jobs in progress to the queue when nothing else can be written."""
        if self.reserve.exists():
            return
        try:
            create_private_file(self.reserve)
            with self.reserve.open("r+b") as handle:
                handle.write(b"\0" * RESERVE_BYTES)
        except OSError:  # no room for it now; the next start tries again
            self.reserve.unlink(missing_ok=True)

    def free_reserve(self) -> bool:
        """Give the reserved space back to the disk; True if there was some to give."""
        try:
            self.reserve.unlink()
        except OSError:
            return False
        return True

    def _empty(self) -> SqliteDatabase:
        """An empty in-memory database: what a read shows before anything was synced."""
        db = sqlite.open_database(Path(":memory:"))
        migrations.migrate_database(db, ":memory:")
        return db

    def _upgrade_before_reading(self, timeout: int) -> None:
        try:
            Store(self.path, busy_timeout_ms=timeout).close()
        except DatabaseError as exc:
            raise DatabaseError(
                f"{self.path} has an older schema that this console must upgrade before "
                f"reading it — {exc}"
            ) from None

    def _open_read_only(self) -> SqliteDatabase:
        db = sqlite.open_read_only(self.path)
        try:
            db.connect()
            sqlite.user_version(db)
        except Exception as exc:
            db.close()
            if sqlite.error_name(exc) != "SQLITE_CANTOPEN":
                raise self._explain(exc, "open") from None
            # A folder nobody may write: SQLite cannot create the WAL index beside the file.
            db = sqlite.open_read_only(self.path, immutable=True)
        return db

    def _explain(self, exc: BaseException, doing: str) -> DatabaseError:
        from shopodoo_console.store.faults import explain

        return DatabaseError(explain(exc, self.path, doing=doing).one_line())

    # ------------------------------------------------------------ plumbing

    def atomic(self, *, bulk: bool = False) -> Any:
        """A write transaction (``BEGIN IMMEDIATE``); nested, a savepoint.

        ``bulk``: its statements each write many rows (a poll page), so SQLite keeps their
        undo records in memory, not in a temporary file (:func:`sqlite.bulk_transaction`).
        That is decided when the transaction begins: the outermost one says.
        """
        if bulk and not self.db.in_transaction():
            return sqlite.bulk_transaction(self.db)
        return self.db.atomic()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction, or — inside one already — just the enclosing one (a single
        statement needs no savepoint: SQLite undoes a failed statement by itself)."""
        if self.db.in_transaction():
            yield
        else:
            with self.db.atomic():
                yield

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """Run raw SQL: a helper for tests, benchmarks and debugging, never for the product.
        The product's statements are built with peewee from the models (what only SQLite
        says lives in :mod:`sqlite`); tests/test_architecture.py fails on a product call."""
        return self.db.execute_sql(sql, tuple(params))

    @contextmanager
    def thread_connection(self) -> Iterator[None]:
        """Open (and close) this thread's connection: worker threads must not leak them."""
        with self.db.connection_context():
            yield

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database in the background (housekeeping)."""
        if not self.readonly:
            sqlite.checkpoint(self.db)

    def schema_version(self) -> int:
        return sqlite.user_version(self.db)

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
                .as_rowcount()
                .execute(self.db)
            )
            return int(Shop.select(Shop.id).where(Shop.domain == domain).scalar(self.db))

    def shop_id(self, domain: str) -> int | None:
        found = Shop.select(Shop.id).where(Shop.domain == domain).scalar(self.db)
        return int(found) if found is not None else None

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
        Audit.insert(
            {
                Audit.at: at or time.time(),
                Audit.job: job_id,
                Audit.shop: shop_id,
                Audit.system: system,
                Audit.event: event,
                Audit.message: redact(message),
                Audit.data: json.loads(redact(json.dumps(data or {}, sort_keys=True))),
            }
        ).as_rowcount().execute(self.db)

    def timeline(self, job_id: int) -> list[Audit]:
        return list(
            Audit.select().where(Audit.job == job_id).order_by(Audit.at, Audit.id).execute(self.db)
        )
