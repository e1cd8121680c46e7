"""The stock flow's own tables and reads (issue 12): sends, skips, resyncs.

* ``stock_send`` — a batch's ``inventorySetQuantities`` as sent, by its idempotency key. Each
  job of the batch records the key in its intent; a retry after a crash loads the send and
  resends it as it was, so Shopify replays the first result instead of applying it twice.
* ``stock_skip`` — what the flow leaves alone and why (a location not mapped, a variant
  without an Odoo product, an untracked item, an archived product), for the Mappings screen.
* ``stock_resync`` — a full resync's listing progress, resumable after a kill; its jobs carry
  its version, so their progress is counted from the job table.

Plus the reads the flow needs on shared tables in one statement each: reverse product
mappings, stock links by Odoo product, and the versions the links are in step at.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shopodoo_console.store.db import Store
from shopodoo_console.store.links import _COLUMNS as LINK_COLUMNS
from shopodoo_console.store.links import LinkRow

SEND_KEEP_SECONDS = 7 * 86400  # Shopify does not keep idempotency keys for days either
STOCK_LINK = "stock"  # link kind: Shopify variant ↔ Odoo product.product, in step at a version
_CHUNK = 900


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


# -- sends ----------------------------------------------------------------------------------


def save_send(store: Store, shop_id: int, key: str, targets: list[list[Any]]) -> None:
    """Keep a batch's targets under its key before it is sent (the same key keeps its first
    targets: a key names one send); sends older than a week are dropped."""
    now = time.time()
    with store.atomic():
        store.execute(
            "INSERT INTO stock_send (key, shop_id, targets, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO NOTHING",
            (key, shop_id, json.dumps(targets), now),
        )
        store.execute("DELETE FROM stock_send WHERE created_at < ?", (now - SEND_KEEP_SECONDS,))


def load_send(store: Store, key: str) -> list[list[Any]] | None:
    row = store.execute("SELECT targets FROM stock_send WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else None


# -- links and mappings read by Odoo product ------------------------------------------------


def stock_links(store: Store, shop_id: int, product_ids: Sequence[int]) -> dict[int, LinkRow]:
    """The stock links of many Odoo products: ``{product id: link}``."""
    found: dict[int, LinkRow] = {}
    ids = sorted(set(product_ids))
    for part in _chunks(ids):
        rows = store.execute(
            f"SELECT {LINK_COLUMNS} FROM link WHERE shop_id = ? AND kind = ? "
            f"AND odoo_model = 'product.product' AND odoo_id IN ({_marks(part)})",
            [shop_id, STOCK_LINK, *part],
        ).fetchall()
        found.update({int(r[5]): LinkRow(*r) for r in rows})
    return found


def stock_links_by_variant(
    store: Store, shop_id: int, variant_ids: Sequence[str]
) -> dict[str, LinkRow]:
    found: dict[str, LinkRow] = {}
    ids = sorted(set(variant_ids))
    for part in _chunks(ids):
        rows = store.execute(
            f"SELECT {LINK_COLUMNS} FROM link WHERE shop_id = ? AND kind = ? "
            f"AND shopify_id IN ({_marks(part)})",
            [shop_id, STOCK_LINK, *part],
        ).fetchall()
        found.update({str(r[3]): LinkRow(*r) for r in rows})
    return found


def synced_versions(store: Store, shop_id: int, since: str) -> dict[int, str]:
    """``{Odoo product id: last_version}`` of stock links in step at a version from ``since``
    on (versions start with an ISO time, so they compare as text): the poll drops sightings
    of exactly these versions."""
    rows = store.execute(
        "SELECT odoo_id, last_version FROM link WHERE shop_id = ? AND kind = ? "
        "AND last_version >= ?",
        (shop_id, STOCK_LINK, since),
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def product_mappings_to(
    store: Store, shop_id: int, product_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Product mappings read backwards: ``{Odoo product id: [SKU or variant GID, ...]}``."""
    found: dict[int, list[str]] = {}
    ids = sorted(set(product_ids))
    for part in _chunks(ids):
        rows = store.execute(
            "SELECT odoo_id, source_key FROM mapping WHERE shop_id = ? AND kind = 'product' "
            f"AND odoo_id IN ({_marks(part)}) ORDER BY source_key",
            [shop_id, *part],
        ).fetchall()
        for odoo_id, key in rows:
            found.setdefault(int(odoo_id), []).append(str(key))
    return found


# -- skips ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkipRow:
    shop_id: int
    kind: str  # location | variant | level
    subject: str  # the Shopify location or variant GID, or "variant@location"
    label: str
    reason: str
    mapping_key: str | None  # the mapping that would fix it (a SKU, a GID), if one can
    seen: int
    last_seen_at: float


@dataclass(frozen=True)
class SkipNote:
    kind: str
    subject: str
    label: str
    reason: str
    mapping_key: str | None = None


def note_skips(store: Store, shop_id: int, notes: Sequence[SkipNote]) -> None:
    """Record (or refresh) what was left alone, in one statement per note, one transaction."""
    if not notes:
        return
    now = time.time()
    with store.atomic():
        store.db.cursor().executemany(
            "INSERT INTO stock_skip (shop_id, kind, subject, label, reason, mapping_key, seen, "
            "first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) "
            "ON CONFLICT(shop_id, kind, subject) DO UPDATE SET label = excluded.label, "
            "reason = excluded.reason, mapping_key = excluded.mapping_key, "
            "seen = stock_skip.seen + 1, last_seen_at = excluded.last_seen_at",
            [
                (shop_id, n.kind, n.subject, n.label, n.reason, n.mapping_key, now, now)
                for n in notes
            ],
        )


def clear_skips(store: Store, shop_id: int, kind: str, subjects: Sequence[str]) -> int:
    """Forget skips that no longer hold (the variant synced, the item is tracked again)."""
    gone = 0
    for part in _chunks(sorted(set(subjects))):
        gone += store.execute(
            "DELETE FROM stock_skip WHERE shop_id = ? AND kind = ? "
            f"AND subject IN ({_marks(part)})",
            [shop_id, kind, *part],
        ).rowcount
    return gone


def list_skips(
    store: Store, shop_id: int | None = None, kinds: Sequence[str] = (), *, limit: int = 500
) -> list[SkipRow]:
    """What the stock flow leaves alone, newest first; a location mapped since is left out."""
    clauses = [
        "NOT (s.kind = 'location' AND EXISTS (SELECT 1 FROM mapping AS m WHERE "
        "m.shop_id = s.shop_id AND m.kind = 'location' AND m.source_key = s.subject))"
    ]
    params: list[Any] = []
    if shop_id is not None:
        clauses.append("s.shop_id = ?")
        params.append(shop_id)
    if kinds:
        clauses.append(f"s.kind IN ({_marks(kinds)})")
        params.extend(kinds)
    rows = store.execute(
        "SELECT s.shop_id, s.kind, s.subject, s.label, s.reason, s.mapping_key, s.seen, "
        "s.last_seen_at "
        f"FROM stock_skip AS s WHERE {' AND '.join(clauses)} "
        "ORDER BY s.last_seen_at DESC, s.id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    return [SkipRow(*r) for r in rows]


# -- resyncs --------------------------------------------------------------------------------

WAITING = ("queued", "retrying", "running")
PROBLEMS = ("failed", "needs_attention", "awaiting_approval")


@dataclass(frozen=True)
class ResyncRow:
    id: int
    shop_id: int
    state: str  # listing | working | done | cancelled
    version: str
    after: str | None
    total: int | None
    variants: int
    jobs: int  # variants that became a job
    skipped: int  # variants left alone at listing (or already queued for their product)
    started_at: float
    listed_at: float | None
    finished_at: float | None

    @property
    def active(self) -> bool:
        return self.state in ("listing", "working")


_RESYNC = (
    "id, shop_id, state, version, after, total, variants, jobs, skipped, started_at, "
    "listed_at, finished_at"
)


def start_resync(store: Store, shop_id: int, version: str) -> tuple[ResyncRow, bool]:
    """Start a resync of the shop, or adopt the one already running (after a kill, or from
    another console): one insert that a running resync turns into nothing. Returns the row
    and whether it is new."""
    now = time.time()
    with store.atomic():
        created = store.execute(
            "INSERT INTO stock_resync (shop_id, state, version, started_at, updated_at) "
            "VALUES (?, 'listing', ?, ?, ?) "
            "ON CONFLICT(shop_id) WHERE state IN ('listing', 'working') DO NOTHING",
            (shop_id, version, now, now),
        ).rowcount
        row = active_resync(store, shop_id)
    assert row is not None
    return row, created == 1


def active_resync(store: Store, shop_id: int) -> ResyncRow | None:
    row = store.execute(
        f"SELECT {_RESYNC} FROM stock_resync WHERE shop_id = ? AND state IN ('listing', 'working')",
        (shop_id,),
    ).fetchone()
    return ResyncRow(*row) if row else None


def last_resync(store: Store, shop_id: int) -> ResyncRow | None:
    """The running resync, else the latest one."""
    row = store.execute(
        f"SELECT {_RESYNC} FROM stock_resync WHERE shop_id = ? ORDER BY id DESC LIMIT 1",
        (shop_id,),
    ).fetchone()
    return ResyncRow(*row) if row else None


def listed_page(
    store: Store,
    resync_id: int,
    *,
    after: str | None,
    total: int | None,
    variants: int,
    jobs: int,
    skipped: int,
) -> None:
    """A page of variants listed: where the listing resumes, and the counts so far. Call it in
    the transaction that enqueues the page's jobs, so a kill repeats nothing and loses nothing."""
    store.execute(
        "UPDATE stock_resync SET after = ?, total = COALESCE(?, total), "
        "variants = variants + ?, jobs = jobs + ?, skipped = skipped + ?, updated_at = ? "
        "WHERE id = ? AND state = 'listing'",
        (after, total, variants, jobs, skipped, time.time(), resync_id),
    )


def listing_done(store: Store, resync_id: int) -> None:
    now = time.time()
    store.execute(
        "UPDATE stock_resync SET state = 'working', listed_at = ?, updated_at = ? "
        "WHERE id = ? AND state = 'listing'",
        (now, now, resync_id),
    )


def end_resync(store: Store, resync_id: int, state: str = "done") -> bool:
    """Mark a resync done (or cancelled); False if it was no longer running."""
    if state not in ("done", "cancelled"):
        raise ValueError(f"a resync ends done or cancelled, not {state!r}")
    now = time.time()
    return (
        store.execute(
            "UPDATE stock_resync SET state = ?, finished_at = ?, updated_at = ? "
            "WHERE id = ? AND state IN ('listing', 'working')",
            (state, now, now, resync_id),
        ).rowcount
        == 1
    )


def finish_resyncs(store: Store, shop_id: int, running: Sequence[int] = ()) -> int:
    """Mark done the shop's listed resyncs none of whose jobs waits any more (``running``:
    jobs of the caller's batch, about to finish). One statement."""
    now = time.time()
    exclude = f"AND j.id NOT IN ({_marks(running)}) " if running else ""
    return store.execute(
        "UPDATE stock_resync SET state = 'done', finished_at = ?, updated_at = ? "
        "WHERE shop_id = ? AND state = 'working' AND NOT EXISTS (SELECT 1 FROM job AS j "
        "WHERE j.shop_id = stock_resync.shop_id AND j.flow = 'stock' "
        f"AND j.source_version = stock_resync.version AND j.state IN {WAITING} {exclude})",
        [now, now, shop_id, *running],
    ).rowcount


def job_states(store: Store, shop_id: int, version: str) -> dict[str, int]:
    """Stock jobs carrying ``version`` (a resync's), counted by state."""
    rows = store.execute(
        "SELECT state, count(*) FROM job WHERE shop_id = ? AND flow = 'stock' "
        "AND source_version = ? GROUP BY state",
        (shop_id, version),
    ).fetchall()
    return {str(s): int(n) for s, n in rows}


def queued_job_ids(store: Store, shop_id: int, version: str) -> list[int]:
    """A resync's jobs not started yet (what cancelling it cancels)."""
    rows = store.execute(
        "SELECT id FROM job WHERE shop_id = ? AND flow = 'stock' AND source_version = ? "
        "AND state IN ('queued', 'retrying')",
        (shop_id, version),
    ).fetchall()
    return [int(r[0]) for r in rows]


def finished_times(store: Store, shop_id: int, version: str, limit: int = 300) -> list[float]:
    """When the latest jobs of a resync finished, newest first (its pace, for the ETA)."""
    rows = store.execute(
        "SELECT updated_at FROM job WHERE shop_id = ? AND flow = 'stock' "
        "AND source_version = ? AND state NOT IN ('queued', 'retrying', 'running') "
        "ORDER BY updated_at DESC LIMIT ?",
        (shop_id, version, limit),
    ).fetchall()
    return [float(r[0]) for r in rows]


@dataclass(frozen=True)
class ResyncProgress:
    """A resync as its progress bar shows it. Units are variants: each one listed is either
    left alone at once (no Odoo product, untracked...) or becomes a job, finished when the
    job is."""

    resync: ResyncRow
    total: int  # variants to go through (the shop's count until the listing ends)
    finished: int  # variants left alone at listing + jobs finished
    waiting: int  # jobs still queued, retrying or running
    problems: int  # jobs that failed, need attention or wait for approval
    states: dict[str, int]
    rate: float | None  # variants per second lately
    eta: float | None  # seconds left, once the pace is known

    @property
    def fraction(self) -> float:
        return min(1.0, self.finished / self.total) if self.total else 0.0

    @property
    def done(self) -> bool:
        return not self.resync.active


def resync_progress(store: Store, shop_id: int, now: float | None = None) -> ResyncProgress | None:
    """The running (or latest) resync of a shop and how far it got; a read only."""
    row = last_resync(store, shop_id)
    if row is None:
        return None
    states = job_states(store, shop_id, row.version)
    waiting = sum(states.get(s, 0) for s in WAITING)
    problems = sum(states.get(s, 0) for s in PROBLEMS)
    finished_jobs = sum(states.values()) - waiting - problems
    listed = row.state != "listing"
    total = row.variants if listed else max(row.variants, row.total or 0)
    finished = row.skipped + finished_jobs
    rate = _rate(finished_times(store, shop_id, row.version), now or time.time())
    left = max(0, total - finished - problems)
    eta = left / rate if rate and row.active else None
    return ResyncProgress(row, total, finished, waiting, problems, states, rate, eta)


def _rate(times: list[float], now: float) -> float | None:
    """Jobs per second over the latest finishes (``None`` until there are a few over a few
    seconds: one batch finishing at once says nothing about the pace)."""
    if len(times) < 5:
        return None
    span = max(now, times[0]) - times[-1]
    return (len(times) - 1) / span if span >= 3.0 else None
