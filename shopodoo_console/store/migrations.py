"""Numbered schema migrations derived from the models, recorded in SQLite's ``user_version``.

A new database is created straight from the models (:mod:`models` is the one schema source)
and stamped with the latest version. An older database is brought to the same shape step by
step; every step is written with ``playhouse.migrate`` operations over the models' own field
and index declarations (never a hand-copied column or index), and runs in one ``BEGIN
IMMEDIATE`` transaction, re-checking the version under the lock so two processes opening the
same old file migrate it once. ``tests/test_migrations.py`` upgrades a database from every
earlier version and compares the result, column by column and index by index, with a new
one. A database written by a newer console (higher version) is refused before anything
touches it.

Versions: 1 — the first schema; 2 — indexes for pruning and for counts per shop/flow/state;
3 — retry budgets per kind of trouble (``retry_counts``, ``retrying_since``); two indexes
every claim and every enqueue had to maintain are dropped: ``job_state_next_run`` (the
runnable jobs' own partial index, ``job_runnable``, answers when the next one falls due) and
``job_record`` (the unique key index, which starts with the record's identity, finds a
record's versions); 4 — audits and backfills (``reconcile_run``, ``finding``) and the review's
indexes (attempts by when they ended, timeline events by kind); 5 — the stock flow's tables
(``stock_send``: a batch's inventory call by its idempotency key, replayed on retry;
``stock_skip``: what the flow leaves alone, and why; ``stock_resync``: a resync's listing
progress).
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import SchemaManager, SqliteDatabase
from playhouse.migrate import SqliteMigrator, migrate

from shopodoo_console.store import sqlite
from shopodoo_console.store.models import (
    ALL_MODELS,
    INDEXES,
    Finding,
    Job,
    ReconcileRun,
    StockResync,
    StockSend,
    StockSkip,
)


class NewerDatabaseError(Exception):
    """The database was written by a newer console; we refuse to touch it."""


def _create_index(db: SqliteDatabase, name: str) -> None:
    """Create the index the models declare under ``name``, as they declare it."""
    db.execute(INDEXES[name])


def _to_2(db: SqliteDatabase, migrator: SqliteMigrator) -> None:
    _create_index(db, "job_superseded_by")
    _create_index(db, "job_shop_flow_state")


def _to_3(db: SqliteDatabase, migrator: SqliteMigrator) -> None:
    migrate(
        migrator.add_column("job", Job.retry_counts.column_name, Job.retry_counts),
        migrator.add_column("job", Job.retrying_since.column_name, Job.retrying_since),
        migrator.drop_index("job", "job_state_next_run"),
        migrator.drop_index("job", "job_record"),
    )


def _to_4(db: SqliteDatabase, migrator: SqliteMigrator) -> None:
    for model in (ReconcileRun, Finding):
        schema = SchemaManager(model, db)
        schema.create_table(safe=False)
        schema.create_indexes(safe=False)
    _create_index(db, "attempt_ended")
    _create_index(db, "audit_event")


def _to_5(db: SqliteDatabase, migrator: SqliteMigrator) -> None:
    for model in (StockSend, StockSkip, StockResync):
        schema = SchemaManager(model, db)
        schema.create_table(safe=False)
        schema.create_indexes(safe=False)


STEPS: dict[int, Callable[[SqliteDatabase, SqliteMigrator], None]] = {
    2: _to_2,
    3: _to_3,
    4: _to_4,
    5: _to_5,
}
LATEST = 5


def check_not_newer(version: int, path: str) -> None:
    if version > LATEST:
        raise NewerDatabaseError(
            f"{path} was written by a newer shopodoo-console (schema {version}; this version "
            f"understands up to {LATEST}). Upgrade shopodoo-console; the database was not "
            "modified."
        )


def migrate_database(db: SqliteDatabase, path: str) -> list[int]:
    """Create or upgrade the schema; return the versions applied (each in a transaction)."""
    version = sqlite.user_version(db)
    check_not_newer(version, path)
    if version == 0:
        return _create(db, path)
    applied = []
    for number in range(version + 1, LATEST + 1):
        with db.atomic():  # BEGIN IMMEDIATE: the version is re-read under the write lock
            if sqlite.user_version(db) >= number:
                continue
            STEPS[number](db, SqliteMigrator(db))
            sqlite.set_user_version(db, number)
        applied.append(number)
    return applied


def _create(db: SqliteDatabase, path: str) -> list[int]:
    with db.atomic():
        version = sqlite.user_version(db)
        if version:  # another process created it meanwhile
            check_not_newer(version, path)
            return []
        for model in ALL_MODELS:  # on this database (the models' proxy may point elsewhere)
            schema = SchemaManager(model, db)
            schema.create_table(safe=False)
            schema.create_indexes(safe=False)
        sqlite.set_user_version(db, LATEST)
    return list(range(1, LATEST + 1))
