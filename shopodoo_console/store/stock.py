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

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import SQL, fn

from shopodoo_console.store.db import Store
from shopodoo_console.store.links import LinkRow
from shopodoo_console.store.models import (
    RESYNC_ACTIVE,
    Job,
    Link,
    Mapping,
    StockResync,
    StockSend,
    StockSkip,
    in_states,
)
from shopodoo_console.store.states import State

SEND_KEEP_SECONDS = 7 * 86400  # Shopify does not keep idempotency keys for days either
STOCK_LINK = "stock"  # link kind: Shopify variant ↔ Odoo product.product, in step at a version
_CHUNK = 900


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


_LINK_COLUMNS = (
    Link.id,
    Link.shop,
    Link.kind,
    Link.shopify_id,
    Link.odoo_model,
    Link.odoo_id,
    Link.label,
    Link.last_version,
    Link.digest,
    Link.updated_at,
)


# -- sends ----------------------------------------------------------------------------------


def save_send(store: Store, shop_id: int, key: str, targets: list[list[Any]]) -> None:
    """Keep a batch's targets under its key before it is sent (the same key keeps its first
    targets: a key names one send); sends older than a week are dropped."""
    now = time.time()
    with store.atomic():
        StockSend.insert(
            key=key, shop=shop_id, targets=targets, created_at=now
        ).on_conflict_ignore().execute(store.db)
        StockSend.delete().where(StockSend.created_at < now - SEND_KEEP_SECONDS).execute(store.db)


def load_send(store: Store, key: str) -> list[list[Any]] | None:
    rows = list(
        StockSend.select(StockSend.targets).where(StockSend.key == key).tuples().execute(store.db)
    )
    return rows[0][0] if rows else None


# -- links and mappings read by Odoo product ------------------------------------------------


def _links(store: Store, where: Any) -> list[LinkRow]:
    query = Link.select(*_LINK_COLUMNS).where(where)
    return [LinkRow(*row) for row in query.tuples().execute(store.db)]


def stock_links(store: Store, shop_id: int, product_ids: Sequence[int]) -> dict[int, LinkRow]:
    """The stock links of many Odoo products: ``{product id: link}``."""
    found: dict[int, LinkRow] = {}
    for part in _chunks(sorted(set(product_ids))):
        for row in _links(
            store,
            (Link.shop == shop_id)
            & (Link.kind == STOCK_LINK)
            & (Link.odoo_model == "product.product")
            & Link.odoo_id.in_(list(part)),
        ):
            found[row.odoo_id] = row
    return found


def stock_links_by_variant(
    store: Store, shop_id: int, variant_ids: Sequence[str]
) -> dict[str, LinkRow]:
    found: dict[str, LinkRow] = {}
    for part in _chunks(sorted(set(variant_ids))):
        for row in _links(
            store,
            (Link.shop == shop_id) & (Link.kind == STOCK_LINK) & Link.shopify_id.in_(list(part)),
        ):
            found[row.shopify_id] = row
    return found


def synced_versions(store: Store, shop_id: int, since: str) -> dict[int, str]:
    """``{Odoo product id: last_version}`` of stock links in step at a version from ``since``
    on (versions start with an ISO time, so they compare as text): the poll drops sightings
    of exactly these versions."""
    query = Link.select(Link.odoo_id, Link.last_version).where(
        (Link.shop == shop_id) & (Link.kind == STOCK_LINK) & (Link.last_version >= since)
    )
    return {int(odoo_id): str(version) for odoo_id, version in query.tuples().execute(store.db)}


def product_mappings_to(
    store: Store, shop_id: int, product_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Product mappings read backwards: ``{Odoo product id: [SKU or variant GID, ...]}``."""
    found: dict[int, list[str]] = {}
    for part in _chunks(sorted(set(product_ids))):
        query = (
            Mapping.select(Mapping.odoo_id, Mapping.source_key)
            .where(
                (Mapping.shop == shop_id)
                & (Mapping.kind == "product")
                & Mapping.odoo_id.in_(list(part))
            )
            .order_by(Mapping.source_key)
        )
        for odoo_id, key in query.tuples().execute(store.db):
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
    """Record (or refresh) what was left alone: one upsert for all of them."""
    if not notes:
        return
    now = time.time()
    unique = {(n.kind, n.subject): n for n in notes}  # one row per subject in a statement
    rows = [
        {
            "shop": shop_id,
            "kind": n.kind,
            "subject": n.subject,
            "label": n.label,
            "reason": n.reason,
            "mapping_key": n.mapping_key,
            "seen": 1,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for n in unique.values()
    ]
    with store.atomic():
        for start in range(0, len(rows), 100):
            StockSkip.insert_many(rows[start : start + 100]).on_conflict(
                conflict_target=[StockSkip.shop, StockSkip.kind, StockSkip.subject],
                preserve=[
                    StockSkip.label,
                    StockSkip.reason,
                    StockSkip.mapping_key,
                    StockSkip.last_seen_at,
                ],
                update={StockSkip.seen: StockSkip.seen + 1},
            ).execute(store.db)


def clear_skips(store: Store, shop_id: int, kind: str, subjects: Sequence[str]) -> int:
    """Forget skips that no longer hold (the variant synced, the item is tracked again)."""
    gone = 0
    for part in _chunks(sorted(set(subjects))):
        gone += (
            StockSkip.delete()
            .where(
                (StockSkip.shop == shop_id)
                & (StockSkip.kind == kind)
                & StockSkip.subject.in_(list(part))
            )
            .execute(store.db)
        )
    return gone


def list_skips(
    store: Store, shop_id: int | None = None, kinds: Sequence[str] = (), *, limit: int = 500
) -> list[SkipRow]:
    """What the stock flow leaves alone, newest first; a location mapped since is left out."""
    mapped = Mapping.select(SQL("1")).where(
        (Mapping.shop == StockSkip.shop)
        & (Mapping.kind == "location")
        & (Mapping.source_key == StockSkip.subject)
    )
    where = ~((StockSkip.kind == "location") & fn.EXISTS(mapped))
    if shop_id is not None:
        where &= StockSkip.shop == shop_id
    if kinds:
        where &= StockSkip.kind.in_(list(kinds))
    query = (
        StockSkip.select(
            StockSkip.shop,
            StockSkip.kind,
            StockSkip.subject,
            StockSkip.label,
            StockSkip.reason,
            StockSkip.mapping_key,
            StockSkip.seen,
            StockSkip.last_seen_at,
        )
        .where(where)
        .order_by(StockSkip.last_seen_at.desc(), StockSkip.id.desc())
        .limit(limit)
    )
    return [SkipRow(*row) for row in query.tuples().execute(store.db)]


# -- resyncs --------------------------------------------------------------------------------

WAITING = (State.QUEUED, State.RETRYING, State.RUNNING)
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
        return self.state in RESYNC_ACTIVE


_RESYNC = (
    StockResync.id,
    StockResync.shop,
    StockResync.state,
    StockResync.version,
    StockResync.after,
    StockResync.total,
    StockResync.variants,
    StockResync.jobs,
    StockResync.skipped,
    StockResync.started_at,
    StockResync.listed_at,
    StockResync.finished_at,
)


def _resync(store: Store, where: Any) -> ResyncRow | None:
    query = StockResync.select(*_RESYNC).where(where).order_by(StockResync.id.desc()).limit(1)
    rows = list(query.tuples().execute(store.db))
    return ResyncRow(*rows[0]) if rows else None


def _is_active() -> Any:
    return StockResync.state.in_(list(RESYNC_ACTIVE))


def start_resync(store: Store, shop_id: int, version: str) -> tuple[ResyncRow, bool]:
    """Start a resync of the shop, or adopt the one already running (after a kill, or from
    another console): one insert that the one-running-resync index turns into nothing.
    Returns the row and whether it is new."""
    now = time.time()
    with store.atomic():
        StockResync.insert(
            shop=shop_id, state="listing", version=version, started_at=now, updated_at=now
        ).on_conflict_ignore().execute(store.db)
        row = active_resync(store, shop_id)
    assert row is not None
    return row, row.version == version


def active_resync(store: Store, shop_id: int) -> ResyncRow | None:
    return _resync(store, (StockResync.shop == shop_id) & _is_active())


def last_resync(store: Store, shop_id: int) -> ResyncRow | None:
    """The latest resync of the shop (the running one, if any: there is at most one)."""
    return _resync(store, StockResync.shop == shop_id)


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
    StockResync.update(
        after=after,
        total=fn.COALESCE(total, StockResync.total),
        variants=StockResync.variants + variants,
        jobs=StockResync.jobs + jobs,
        skipped=StockResync.skipped + skipped,
        updated_at=time.time(),
    ).where((StockResync.id == resync_id) & (StockResync.state == "listing")).execute(store.db)


def listing_done(store: Store, resync_id: int) -> None:
    now = time.time()
    StockResync.update(state="working", listed_at=now, updated_at=now).where(
        (StockResync.id == resync_id) & (StockResync.state == "listing")
    ).execute(store.db)


def end_resync(store: Store, resync_id: int, state: str = "done") -> bool:
    """Mark a resync done (or cancelled); False if it was no longer running."""
    if state not in ("done", "cancelled"):
        raise ValueError(f"a resync ends done or cancelled, not {state!r}")
    now = time.time()
    changed = (
        StockResync.update(state=state, finished_at=now, updated_at=now)
        .where((StockResync.id == resync_id) & _is_active())
        .execute(store.db)
    )
    return bool(changed == 1)


def finish_resyncs(store: Store, shop_id: int, running: Sequence[int] = ()) -> int:
    """Mark done the shop's listed resyncs none of whose jobs waits any more (``running``:
    jobs of the caller's batch, about to finish). One statement."""
    now = time.time()
    waiting = Job.select(SQL("1")).where(
        (Job.shop == StockResync.shop)
        & (Job.flow == "stock")
        & (Job.source_version == StockResync.version)
        & in_states(Job.state, WAITING)
        & Job.id.not_in(list(running))
    )
    changed = (
        StockResync.update(state="done", finished_at=now, updated_at=now)
        .where(
            (StockResync.shop == shop_id) & (StockResync.state == "working") & ~fn.EXISTS(waiting)
        )
        .execute(store.db)
    )
    return int(changed or 0)


def _jobs_of(shop_id: int, version: str) -> Any:
    return (Job.shop == shop_id) & (Job.flow == "stock") & (Job.source_version == version)


def job_states(store: Store, shop_id: int, version: str) -> dict[str, int]:
    """Stock jobs carrying ``version`` (a resync's), counted by state."""
    query = (
        Job.select(Job.state, fn.COUNT(Job.id))
        .where(_jobs_of(shop_id, version))
        .group_by(Job.state)
    )
    return {str(state): int(n) for state, n in query.tuples().execute(store.db)}


def queued_job_ids(store: Store, shop_id: int, version: str) -> list[int]:
    """A resync's jobs not started yet (what cancelling it cancels)."""
    query = Job.select(Job.id).where(
        _jobs_of(shop_id, version) & in_states(Job.state, (State.QUEUED, State.RETRYING))
    )
    return [int(row[0]) for row in query.tuples().execute(store.db)]


def finished_times(store: Store, shop_id: int, version: str, limit: int = 300) -> list[float]:
    """When the latest jobs of a resync finished, newest first (its pace, for the ETA)."""
    query = (
        Job.select(Job.updated_at)
        .where(_jobs_of(shop_id, version) & Job.state.not_in([s.value for s in WAITING]))
        .order_by(Job.updated_at.desc())
        .limit(limit)
    )
    return [float(row[0]) for row in query.tuples().execute(store.db)]


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
    waiting = sum(states.get(s.value, 0) for s in WAITING)
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
