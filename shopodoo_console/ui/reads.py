"""What each screen shows, read from the store in one go (pure: no Textual).

Screens call these from thread workers, never on the event loop: each function does a few
indexed queries and returns plain dataclasses the screen renders. Lists are pages, never
whole tables, so a million-job database reads the same few rows as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shopodoo_console import secrets
from shopodoo_console.causes import Cause, spec_for
from shopodoo_console.config import Config
from shopodoo_console.engine import queries
from shopodoo_console.engine.mappings import KINDS, list_mappings, missing_mappings
from shopodoo_console.engine.metrics import ODOO_LATENCY, SHOPIFY_BUDGET
from shopodoo_console.engine.poller import stream_of
from shopodoo_console.engine.queries import JobFilter, JobRow
from shopodoo_console.store import views
from shopodoo_console.store.db import Store
from shopodoo_console.store.links import LinkRow, links_for_record
from shopodoo_console.ui.fixes import Fix, fix_for
from shopodoo_console.ui.format import parse_position

if TYPE_CHECKING:
    from shopodoo_console.engine.core import Engine

PROBLEM_STATES = ("needs_attention", "failed")
THROUGHPUT_BUCKETS = 30
THROUGHPUT_BUCKET_SECONDS = 10


# ---------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class StreamStatus:
    shop: str
    flow: str
    stream: str
    mode: str
    poll_seconds: int
    last_poll_at: float | None
    last_poll_ok: bool | None
    last_poll_message: str
    position: str | None
    lag_seconds: float | None
    counts: dict[str, int]


@dataclass(frozen=True)
class CauseCount:
    code: str
    title: str
    kind: str
    count: int


@dataclass(frozen=True)
class DashboardData:
    now: float
    scheduler: str
    holder: str | None
    streams: list[StreamStatus]
    totals: dict[str, int]
    throughput: list[int]
    causes: list[CauseCount]
    budgets: dict[str, dict[str, Any]]
    odoo_latency: dict[str, Any] | None
    shops: int = 0  # configured shops
    polled: int = 0  # streams the scheduler polls (a flow this console runs, not off)


def read_dashboard(engine: Engine, store: Store, now: float) -> DashboardData:
    domains = {shop_id: ref.domain for shop_id, ref in engine.shops.items()}
    counts: dict[tuple[str, str], dict[str, int]] = {}
    totals: dict[str, int] = {}
    for shop_id, flow, state, n in views.counts_by_stream(store):
        key = (domains.get(shop_id, str(shop_id)), flow)
        counts.setdefault(key, {})[state] = n
        totals[state] = totals.get(state, 0) + n
    positions = {(c.shop, c.stream): c for c in queries.cursors(store)}
    streams: list[StreamStatus] = []
    for ref in engine.shops.values():
        flow_names = {f.name: stream_of(f) for f in engine.flows}
        if ref.config is not None:
            for name in ref.config.flows:
                flow_names.setdefault(name, name)
        for name, stream in sorted(flow_names.items()):
            cursor = positions.get((ref.domain, stream))
            position = cursor.position if cursor else None
            moment = parse_position(position)
            streams.append(
                StreamStatus(
                    shop=ref.domain,
                    flow=name,
                    stream=stream,
                    mode=ref.config.mode(name) if ref.config else "auto",
                    poll_seconds=ref.config.poll_interval(name) if ref.config else 60,
                    last_poll_at=cursor.last_poll_at if cursor else None,
                    last_poll_ok=cursor.last_poll_ok if cursor else None,
                    last_poll_message=cursor.last_poll_message if cursor else "",
                    position=position,
                    lag_seconds=None if moment is None else max(0.0, now - moment),
                    counts=counts.get((ref.domain, name), {}),
                )
            )
    return DashboardData(
        now=now,
        scheduler=engine.state,
        holder=engine.holder.describe() if engine.holder else None,
        streams=streams,
        totals=totals,
        throughput=read_throughput(store, now),
        causes=read_cause_counts(store),
        budgets=engine.metrics.get(SHOPIFY_BUDGET),
        odoo_latency=engine.metrics.get(ODOO_LATENCY).get("odoo"),
        shops=len(engine.shops),
        polled=len(engine.streams()),
    )


def read_throughput(store: Store, now: float) -> list[int]:
    """Jobs finished per 10 s over the last 5 minutes, oldest first (the sparkline)."""
    since = now - THROUGHPUT_BUCKETS * THROUGHPUT_BUCKET_SECONDS
    buckets = [0] * THROUGHPUT_BUCKETS
    for bucket, n in views.finished_per_bucket(store, since, THROUGHPUT_BUCKET_SECONDS):
        if 0 <= bucket < THROUGHPUT_BUCKETS:
            buckets[bucket] += n
    return buckets


def read_cause_counts(store: Store) -> list[CauseCount]:
    out = []
    for code, n in queries.cause_groups(store):
        spec = spec_for(code)
        out.append(CauseCount(code, spec.title, spec.kind.label, n))
    return out


# ---------------------------------------------------------------- failures


@dataclass(frozen=True)
class FailureGroup:
    """One cause and what all its jobs share: the four answers of its newest job."""

    code: str
    title: str
    count: int
    sample: Cause | None
    sample_shop: str
    missing_keys: list[tuple[str, int]] = field(default_factory=list)  # (source key, jobs)


def read_failure_groups(store: Store) -> list[FailureGroup]:
    groups = []
    missing = missing_mappings(store)
    for code, n in queries.cause_groups(store):
        sample, shop = views.newest_of_cause(store, code) or (None, "")
        kind = code.split(".", 1)[1].removesuffix("_missing") if code.startswith("mapping.") else ""
        keys = [(source, jobs) for k, source, jobs in missing if k == kind]
        groups.append(FailureGroup(code, spec_for(code).title, n, sample, shop, keys))
    return groups


def read_group_jobs(
    store: Store, code: str, *, limit: int = 200, before_id: int | None = None
) -> list[JobRow]:
    return queries.list_jobs(
        store, JobFilter(states=PROBLEM_STATES, cause=code), limit=limit, before_id=before_id
    )


def group_job_ids(store: Store, code: str) -> list[int]:
    """Every problem job of a cause (for "resolve/cancel this group")."""
    return views.attention_ids(store, code)


def fix_for_job(job: JobRow) -> Fix:
    return fix_for(job.cause, shop=job.shop, job_id=job.id)


# ---------------------------------------------------------------- job detail


@dataclass(frozen=True)
class JobDetail:
    job: JobRow
    attempts: list[queries.AttemptRow]
    timeline: list[queries.TimelineEntry]
    links: list[LinkRow]


def read_job_detail(store: Store, job_id: int) -> JobDetail | None:
    job = queries.get_job(store, job_id)
    if job is None:
        return None
    shop_id = store.shop_id(job.shop)
    links = links_for_record(store, shop_id, job.source_id) if shop_id is not None else []
    return JobDetail(job, queries.attempts(store, job_id), queries.timeline(store, job_id), links)


# ---------------------------------------------------------------- mappings


@dataclass(frozen=True)
class MappingEntry:
    """A mapping, or a missing one (``odoo_id is None``) with the jobs waiting on it."""

    shop: str
    kind: str
    source_key: str
    odoo_model: str
    odoo_id: int | None
    label: str
    waiting: int

    @property
    def missing(self) -> bool:
        return self.odoo_id is None


@dataclass(frozen=True)
class MappingsData:
    kind: str
    entries: list[MappingEntry]
    missing_by_kind: dict[str, int]


def read_mappings(engine: Engine, store: Store, kind: str, *, limit: int = 500) -> MappingsData:
    missing_by_kind = dict.fromkeys(KINDS, 0)
    entries: list[MappingEntry] = []
    for shop_id, ref in sorted(engine.shops.items(), key=lambda kv: kv[1].domain):
        existing = {m.source_key: m for m in list_mappings(store, shop_id, kind, limit=limit)}
        for k, source, jobs in missing_mappings(store, shop_id):
            if k in missing_by_kind:
                missing_by_kind[k] += 1
            if k == kind and source not in existing:
                entries.append(MappingEntry(ref.domain, k, source, KINDS[k], None, "", jobs))
        for m in existing.values():
            entries.append(
                MappingEntry(ref.domain, kind, m.source_key, m.odoo_model, m.odoo_id, m.label, 0)
            )
    entries.sort(key=lambda e: (not e.missing, -e.waiting, e.shop, e.source_key))
    return MappingsData(kind, entries, missing_by_kind)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class ConnectionStatus:
    """A connection the console holds a credential for (``name`` is what the tester gets)."""

    name: str
    title: str
    details: str
    secret_name: str
    stored: bool | None  # None: the keyring cannot be asked


@dataclass(frozen=True)
class FlowSetting:
    shop: str
    flow: str
    mode: str
    poll_seconds: int


@dataclass(frozen=True)
class SettingsData:
    keyring: secrets.BackendStatus
    config_path: str
    config_exists: bool
    connections: list[ConnectionStatus]
    flows: list[FlowSetting]
    scheduler: str
    holder: str | None


def secret_stored(secret_name: str, status: secrets.BackendStatus | None = None) -> bool | None:
    """Whether the keyring holds ``secret_name``; None when it cannot be asked."""
    if not (status or secrets.backend_status()).usable:
        return None
    try:
        return secrets.get_secret(secret_name) is not None  # the value is dropped here
    except secrets.SecretStoreUnavailable:
        return None


def read_settings(engine: Engine, config: Config) -> SettingsData:
    status = secrets.backend_status()

    def stored(secret_name: str) -> bool | None:
        return secret_stored(secret_name, status)

    connections = []
    if config.odoo is not None:
        o = config.odoo
        connections.append(
            ConnectionStatus(
                "odoo",
                "Odoo",
                f"{o.url} · database {o.database} · login {o.login} · {o.protocol}",
                o.secret_name,
                stored(o.secret_name),
            )
        )
    flows = []
    flow_names = [f.name for f in engine.flows]
    for shop in config.shops:
        where = shop.base_url or f"https://{shop.domain}"
        connections.append(
            ConnectionStatus(
                f"shopify:{shop.domain}",
                f"Shopify {shop.domain}",
                f"{where} · API {shop.api_version} · auth {shop.auth}",
                shop.secret_name,
                stored(shop.secret_name),
            )
        )
        for name in sorted(set(flow_names) | set(shop.flows)):
            flows.append(FlowSetting(shop.domain, name, shop.mode(name), shop.poll_interval(name)))
    return SettingsData(
        keyring=status,
        config_path=str(config.path),
        config_exists=config.path.exists(),
        connections=connections,
        flows=flows,
        scheduler=engine.state,
        holder=engine.holder.describe() if engine.holder else None,
    )
