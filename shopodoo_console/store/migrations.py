"""Numbered schema migrations, recorded in SQLite's ``user_version``.

Each migration is plain SQL so the schema that matters is visible in one place. A database
written by a newer console (higher ``user_version``) is refused before anything touches it.
"""

from __future__ import annotations

import sqlite3

M1_INITIAL = """
CREATE TABLE shop (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    api_version TEXT NOT NULL,
    odoo_company_id INTEGER,
    odoo_warehouse_id INTEGER,
    odoo_pricelist_id INTEGER,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE job (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    flow TEXT NOT NULL,
    source_id TEXT NOT NULL,
    source_version TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    seen_count INTEGER NOT NULL DEFAULT 1,
    next_run_at REAL NOT NULL,
    lease_owner TEXT,
    lease_expires_at REAL,
    started_at REAL,
    cause_code TEXT,
    cause TEXT,
    blocked_on TEXT,
    intent TEXT,
    plan TEXT,
    approved_at REAL,
    result TEXT,
    superseded_by INTEGER REFERENCES job(id) ON DELETE SET NULL,
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX job_state_next_run ON job(state, next_run_at);
CREATE INDEX job_record ON job(shop_id, flow, source_id);
CREATE INDEX job_cause ON job(cause_code) WHERE cause_code IS NOT NULL;
CREATE INDEX job_finished ON job(finished_at) WHERE finished_at IS NOT NULL;
-- The claim scans this small index only: runnable jobs in claim order.
CREATE INDEX job_runnable ON job(priority DESC, next_run_at, id)
    WHERE state IN ('queued', 'retrying');
-- At most one running job per record (DESIGN §3.2), enforced by the database itself.
CREATE UNIQUE INDEX job_one_running ON job(shop_id, flow, source_id) WHERE state = 'running';

CREATE TABLE attempt (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    worker TEXT NOT NULL DEFAULT '',
    started_at REAL NOT NULL,
    ended_at REAL,
    outcome TEXT NOT NULL,
    cause_code TEXT,
    message TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempt_job ON attempt(job_id, number);

CREATE TABLE link (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    shopify_id TEXT NOT NULL,
    odoo_model TEXT NOT NULL,
    odoo_id INTEGER NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    last_version TEXT,
    digest TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (shop_id, kind, shopify_id),
    UNIQUE (kind, odoo_model, odoo_id, shop_id)
);

CREATE TABLE mapping (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    source_key TEXT NOT NULL,
    odoo_model TEXT NOT NULL,
    odoo_id INTEGER NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (shop_id, kind, source_key)
);

CREATE TABLE cursor (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    stream TEXT NOT NULL,
    position TEXT,
    overlap_seconds INTEGER NOT NULL DEFAULT 600,
    last_poll_at REAL,
    last_poll_ok INTEGER,
    last_poll_message TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL,
    UNIQUE (shop_id, stream)
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    job_id INTEGER REFERENCES job(id) ON DELETE CASCADE,
    shop_id INTEGER REFERENCES shop(id) ON DELETE CASCADE,
    system TEXT NOT NULL,
    event TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_job ON audit(job_id, at);

-- Who may poll this database (one scheduler per database, DESIGN §2).
CREATE TABLE lease (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
"""

M2_INDEXES = """
-- Deleting a job (pruning) checks who points at it through superseded_by: without this index
-- every deleted row scanned the whole table under the write lock.
CREATE INDEX job_superseded_by ON job(superseded_by) WHERE superseded_by IS NOT NULL;
-- Counts per shop, flow and state (dashboard, problem counts) read this index only.
CREATE INDEX job_shop_flow_state ON job(shop_id, flow, state);
"""

M3_STOCK = """
-- The stock flow (issue 12). A batch's inventorySetQuantities as sent, by its idempotency key:
-- a job's retry after a crash resends exactly these quantities with this key, so Shopify
-- replays the first result instead of applying it twice (each job's intent names the key).
CREATE TABLE stock_send (
    key TEXT PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    targets TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX stock_send_created ON stock_send(created_at);

-- What the stock flow leaves alone, and why (the Mappings screen lists them): a location
-- not mapped, a variant without an Odoo product, an untracked item, an archived product.
CREATE TABLE stock_skip (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    mapping_key TEXT,
    seen INTEGER NOT NULL DEFAULT 1,
    first_seen_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    UNIQUE (shop_id, kind, subject)
);

-- A full stock resync: how far the listing of Shopify's variants got (resumable after a
-- kill) and the version its jobs carry (their progress is counted from the job table).
CREATE TABLE stock_resync (
    id INTEGER PRIMARY KEY,
    shop_id INTEGER NOT NULL REFERENCES shop(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    version TEXT NOT NULL,
    after TEXT,
    total INTEGER,
    variants INTEGER NOT NULL DEFAULT 0,
    jobs INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL,
    listed_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL
);
-- At most one resync runs per shop: starting another adopts it.
CREATE UNIQUE INDEX stock_resync_active ON stock_resync(shop_id)
    WHERE state IN ('listing', 'working');
-- A resync's progress counts its jobs by version.
CREATE INDEX job_flow_version ON job(shop_id, flow, source_version);
"""

MIGRATIONS: tuple[str, ...] = (M1_INITIAL, M2_INDEXES, M3_STOCK)
LATEST = len(MIGRATIONS)


class NewerDatabaseError(Exception):
    """The database was written by a newer console; we refuse to touch it."""


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_not_newer(version: int, path: str) -> None:
    if version > LATEST:
        raise NewerDatabaseError(
            f"{path} was written by a newer shopodoo-console (schema {version}; this version "
            f"understands up to {LATEST}). Upgrade shopodoo-console; the database was not "
            "modified."
        )


def migrate(conn: sqlite3.Connection, path: str) -> list[int]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    applied: list[int] = []
    version = current_version(conn)
    check_not_newer(version, path)
    for number in range(version + 1, LATEST + 1):
        script = MIGRATIONS[number - 1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-check under the write lock: another process may have migrated meanwhile.
            if current_version(conn) >= number:
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(number)
    return applied


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit implicitly)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
