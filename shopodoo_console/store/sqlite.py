"""Everything that only SQLite says, in one place.

The rest of :mod:`store` builds its statements with peewee from the models; what is specific
to SQLite — connection pragmas, ``BEGIN IMMEDIATE``, ``user_version``, read-only and
immutable opening, ``INDEXED BY`` hints, the SQL functions only SQLite spells this way (JSON
access, ``group_concat``, local dates, truncating casts), the link writer's one raw
statement, ``PRAGMA`` checks and SQLite's own error codes — is here, so a PostgreSQL store
would replace this module and keep the others.

Settings (python-stack.md): WAL so readers never block the writer, ``synchronous=NORMAL``
(durable at checkpoints, fast commits; a power cut may drop the last commits, never corrupt,
and jobs are re-derived from the source systems), foreign keys on, a generous busy timeout so
two processes wait for each other instead of failing, and ``BEGIN IMMEDIATE`` for every write
transaction so a transaction never has to upgrade its lock halfway (the classic BUSY
deadlock). The WAL may grow to 16,000 pages (64 MB) before a commit checkpoints it, rather
than SQLite's 1,000: a poll page touches hundreds of index pages, and folding the repeated
writes of a page into one checkpoint write keeps the copying and fsyncs per job low; the
engine's housekeeping also checkpoints in the background (:func:`checkpoint`), so in
practice the WAL stays far smaller and commits rarely pay for it.
"""

from __future__ import annotations

import enum
import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from peewee import SQL, Context, Entity, Function, Node, NodeList, SqliteDatabase, fn

BUSY_TIMEOUT_MS = 15_000
PRAGMAS: tuple[tuple[str, Any], ...] = (
    ("journal_mode", "wal"),
    ("synchronous", "normal"),
    ("foreign_keys", 1),
    ("busy_timeout", BUSY_TIMEOUT_MS),
    ("cache_size", -16_000),  # 16 MB page cache per connection
    ("wal_autocheckpoint", 16_000),
    ("journal_size_limit", 64 * 1024 * 1024),  # the WAL file is truncated back to 64 MB
)
READ_PRAGMAS: tuple[tuple[str, Any], ...] = (
    ("foreign_keys", 1),
    ("busy_timeout", BUSY_TIMEOUT_MS),
    ("cache_size", -16_000),
)


def _null(value: None) -> None:
    return value


# sqlite3 binds int, float and str directly, but looks every None up as an object to adapt
# — an AttributeError raised and discarded per None (3.11), a quarter of a microsecond each,
# and a finished batch binds hundreds of them. Registering None's adapter (None -> NULL, as
# before) makes that lookup a dictionary hit. Process-wide, and changes no value bound.
sqlite3.register_adapter(type(None), _null)


class Database(SqliteDatabase):
    """peewee's SQLite database, minus one trap: when SQLite has already rolled a transaction
    back itself (a COMMIT that failed on a full disk does), peewee's ROLLBACK would fail with
    "cannot rollback - no transaction is active" and hide the real error."""

    def rollback(self) -> None:
        if not self.is_closed() and not self.connection().in_transaction:
            return
        super().rollback()


def open_database(
    path: Path, *, synchronous: str = "normal", busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> SqliteDatabase:
    """A read-write database whose write transactions start with ``BEGIN IMMEDIATE``."""
    pragmas = [
        (k, synchronous if k == "synchronous" else busy_timeout_ms if k == "busy_timeout" else v)
        for k, v in PRAGMAS
    ]
    return Database(
        str(path),
        pragmas=pragmas,
        lock_type="IMMEDIATE",
        timeout=busy_timeout_ms / 1000,
        returning_clause=True,
    )


def open_read_only(path: Path, *, immutable: bool = False) -> SqliteDatabase:
    """A database opened read-only (``mode=ro``): nothing can be written through it.

    ``immutable`` is for a file nobody can write (a read-only folder, where SQLite cannot
    create the WAL index): SQLite then reads the main file without locking.
    """
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    return Database(
        uri,
        pragmas=list(READ_PRAGMAS),
        uri=True,
        timeout=BUSY_TIMEOUT_MS / 1000,
        returning_clause=True,
    )


def peek_version(path: Path) -> int:
    """Read the schema version without writing anything to the file (0: no database)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    for immutable in (False, True):
        uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.OperationalError:
            continue
        try:
            return user_version(conn)
        except sqlite3.OperationalError as exc:
            if immutable or error_name(exc) != "SQLITE_CANTOPEN":
                raise
        finally:
            conn.close()
    raise sqlite3.OperationalError("unable to open database file")


def user_version(conn: Any) -> int:
    """The schema version SQLite keeps in the file header (``conn``: sqlite3 or peewee)."""
    return int(_execute(conn, "PRAGMA user_version").fetchone()[0])


def set_user_version(conn: Any, version: int) -> None:
    _execute(conn, f"PRAGMA user_version = {int(version)}")


def begin_immediate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


@contextmanager
def bulk_transaction(db: SqliteDatabase) -> Iterator[None]:
    """A write transaction whose statements each write many rows (a poll page's upsert).

    Inside a transaction SQLite keeps, for each statement that changes several rows, a
    statement journal: the prior content of every page the statement changes, so that a
    failed statement can be undone alone. Past 64 KB it goes to a temporary file; a poll
    page's upsert touches some 250 scattered pages, so each page wrote and threw away about
    a megabyte there. ``temp_store=MEMORY`` keeps it in RAM instead — bounded here, since a
    page is — but it would also keep sorts in RAM, so it holds only for this transaction (it
    takes effect when the transaction begins, hence set before ``BEGIN``).
    """
    db.execute_sql("PRAGMA temp_store = MEMORY")
    try:
        with db.atomic():
            yield
    finally:
        db.execute_sql("PRAGMA temp_store = DEFAULT")


def checkpoint(db: SqliteDatabase) -> None:
    """Copy what the WAL holds into the database without waiting for anyone (PASSIVE)."""
    db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")


def journal_mode(db: SqliteDatabase) -> str:
    return str(db.execute_sql("PRAGMA journal_mode").fetchone()[0])


def quick_check(db: SqliteDatabase) -> str:
    """``ok``, or SQLite's description of the first damage it finds."""
    return str(db.execute_sql("PRAGMA quick_check").fetchone()[0])


def table_columns(db: SqliteDatabase, table: str) -> list[str]:
    return [r[1] for r in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()]


def _execute(conn: Any, sql: str) -> Any:
    if isinstance(conn, SqliteDatabase):
        return conn.execute_sql(sql)
    return conn.execute(sql)


class IndexedBy(Node):
    """``source INDEXED BY index``: tells SQLite's planner which index a query must walk (it
    fails loudly if the index is gone, instead of silently scanning the table)."""

    def __init__(self, source: Any, index: str) -> None:
        self.source = source
        self.index = index

    def __sql__(self, ctx: Context) -> Context:
        ctx.sql(self.source)
        return ctx.literal(f' INDEXED BY "{self.index}"')


# ---------------------------------------------------------------- SQL functions SQLite spells


def _path(key: str) -> SQL:
    """A JSON path to a top-level key, written into the statement (a constant of the code,
    never input): an expression spelled twice (selected, grouped by) is then the same text."""
    if not key.isidentifier():
        raise ValueError(f"not a JSON key: {key!r}")
    return SQL(f"'$.{key}'")


def json_value(field: Any, key: str) -> Function:
    """The value at ``key`` of a JSON column (``json_extract``; PostgreSQL: ``field ->> key``).
    Returned as stored — never decoded by the column's own converter."""
    return fn.json_extract(field, _path(key)).coerce(False)


class JSONItems(Node):
    """The items of the JSON list at ``key`` of a column, as a table to join (SQLite's
    table-valued ``json_each``; PostgreSQL: ``jsonb_array_elements_text``). ``value`` is the
    item; a row whose list is missing or empty joins nothing (use a LEFT JOIN to keep it)."""

    def __init__(self, field: Any, key: str, alias: str) -> None:
        self.field = field
        self.key = key
        self.alias = alias
        self.value = Entity(alias, "value")

    def __sql__(self, ctx: Context) -> Context:
        ctx.sql(fn.json_each(self.field, _path(self.key)))
        return ctx.literal(f' AS "{self.alias}"')


def joined(expr: Any, *, distinct: bool = False) -> Function:
    """A group's values joined with commas, in no set order (``group_concat``; PostgreSQL:
    ``string_agg``)."""
    arg = NodeList((SQL("DISTINCT"), expr)) if distinct else expr
    return fn.group_concat(arg).coerce(False)


def local_day(epoch_seconds: Any) -> Function:
    """The local calendar day (``YYYY-MM-DD``) of a column of epoch seconds."""
    return fn.date(epoch_seconds, SQL("'unixepoch'"), SQL("'localtime'")).coerce(False)


def whole(number: Any) -> Node:
    """The integer part of a number, truncated toward zero (SQLite's ``CAST AS INTEGER``
    truncates; PostgreSQL's rounds, so it would say ``trunc``)."""
    return number.cast("INTEGER")


# ---------------------------------------------------------------- the link writer


# The link writer's one statement (store/links.py ``write_link``). peewee cannot say two
# ON CONFLICT clauses, and PostgreSQL allows only one. A link that already names another Odoo
# record is never overwritten: the row comes back unchanged and the caller adopts it (someone
# linked it first). The second clause covers the Odoo side: that record is already linked to
# another Shopify record, and no row comes back. Parameters: shop_id, kind, shopify_id,
# odoo_model, odoo_id, label, last_version, digest, created_at, updated_at, and 1 to set
# last_version (0 keeps it).
_SAME = "link.odoo_model = excluded.odoo_model AND link.odoo_id = excluded.odoo_id"
LINK_WRITE = (
    "INSERT INTO link (shop_id, kind, shopify_id, odoo_model, odoo_id, label, last_version, "
    "digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(shop_id, kind, shopify_id) DO UPDATE SET "
    f"label = CASE WHEN {_SAME} AND excluded.label <> '' THEN excluded.label ELSE link.label END, "
    f"last_version = CASE WHEN {_SAME} AND ? THEN excluded.last_version "
    "ELSE link.last_version END, "
    f"digest = CASE WHEN {_SAME} THEN COALESCE(excluded.digest, link.digest) ELSE link.digest END, "
    f"updated_at = CASE WHEN {_SAME} THEN excluded.updated_at ELSE link.updated_at END "
    "ON CONFLICT DO NOTHING RETURNING id, shop_id, kind, shopify_id, odoo_model, odoo_id, label, "
    "last_version, digest, updated_at"
)


def write_link_row(db: SqliteDatabase, values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run :data:`LINK_WRITE` with ``values`` (in its parameter order); the rows it returns."""
    return list(db.execute_sql(LINK_WRITE, values).fetchall())


# ---------------------------------------------------------------- SQLite's own error codes


class Fault(enum.Enum):
    """The kinds of database trouble an operator can act on."""

    BUSY = "busy"  # another process holds the write lock past the busy timeout
    FULL = "full"  # the disk (or the quota) is full
    READONLY = "readonly"  # the file, its -wal/-shm, or its folder cannot be written
    CORRUPT = "corrupt"  # the file is damaged or is not a database
    OTHER = "other"


_FAULTS = {
    "SQLITE_BUSY": Fault.BUSY,
    "SQLITE_LOCKED": Fault.BUSY,
    "SQLITE_FULL": Fault.FULL,
    "SQLITE_IOERR_WRITE": Fault.FULL,
    "SQLITE_READONLY": Fault.READONLY,
    "SQLITE_CANTOPEN": Fault.READONLY,
    "SQLITE_PERM": Fault.READONLY,
    "SQLITE_AUTH": Fault.READONLY,
    "SQLITE_CORRUPT": Fault.CORRUPT,
    "SQLITE_NOTADB": Fault.CORRUPT,
}


def sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    """The sqlite3 error behind ``exc`` (peewee wraps it; a failed commit may chain more):
    the first one SQLite names as a fault we know, else the first one found."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    found: list[sqlite3.Error] = []
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        if isinstance(current, sqlite3.Error) and getattr(current, "sqlite_errorname", None):
            found.append(current)
        todo.extend([*current.args[:1], current.__cause__, current.__context__])
    known = [e for e in found if _known(getattr(e, "sqlite_errorname", ""))]
    best = known or found
    return best[0] if best else None


def _known(name: str) -> bool:
    return name in _FAULTS or "_".join(name.split("_", 2)[:2]) in _FAULTS


def error_name(exc: BaseException) -> str | None:
    """SQLite's name for the error behind ``exc`` (``SQLITE_FULL``...), when there is one."""
    error = sqlite_error(exc)
    return getattr(error, "sqlite_errorname", None) if error is not None else None


_OS_FAULTS = {
    errno.ENOSPC: Fault.FULL,
    errno.EDQUOT: Fault.FULL,
    errno.EACCES: Fault.READONLY,
    errno.EPERM: Fault.READONLY,
    errno.EROFS: Fault.READONLY,
}


def fault_of(exc: BaseException) -> Fault | None:
    """Which kind of database trouble ``exc`` is; None when it is no database error.

    An ``OSError`` counts when it comes from preparing the database file itself (creating
    it, setting its mode): the caller decides that by asking.
    """
    if isinstance(exc, OSError) and exc.errno in _OS_FAULTS:
        return _OS_FAULTS[exc.errno]
    name = error_name(exc)
    if name is None:
        if isinstance(exc, (sqlite3.DatabaseError, *_peewee_errors())):
            return _fault_from_message(str(exc))
        return None
    if name in _FAULTS:
        return _FAULTS[name]
    base = name.split("_", 2)
    return _FAULTS.get("_".join(base[:2]), Fault.OTHER)


def _fault_from_message(message: str) -> Fault:
    text = message.lower()
    if "locked" in text or "busy" in text:
        return Fault.BUSY
    if "disk is full" in text or "database or disk is full" in text:
        return Fault.FULL
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return Fault.READONLY
    if "malformed" in text or "not a database" in text:
        return Fault.CORRUPT
    return Fault.OTHER


def _peewee_errors() -> tuple[type[BaseException], ...]:
    from peewee import DatabaseError as PeeweeDatabaseError

    return (PeeweeDatabaseError,)
