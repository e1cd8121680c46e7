"""What each screen shows, read from the store in one go (pure: no Textual).

Screens call these from thread workers, never on the event loop: each function does a few
indexed queries and returns plain dataclasses the screen renders. Lists are pages, never
whole tables, so a million-job database reads the same few rows as a small one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from shopodoo_console import secrets
from shopodoo_console.causes import Cause, spec_for
from shopodoo_console.config import Config
from shopodoo_console.engine import queries
from shopodoo_console.engine.mappings import KINDS, list_mappings, missing_mappings
from shopodoo_console.engine.metrics import ODOO_LATENCY, SHOPIFY_BUDGET
from shopodoo_console.engine.poller import stream_of
from shopodoo_console.engine.queries import JobFilter, JobRow
from shopodoo_console.explain import plain_fix
from shopodoo_console.shop_options import SHOP_OPTIONS, OptionSpec
from shopodoo_console.store import views
from shopodoo_console.store.activity import AuditEntry, job_labels, recent_audit
from shopodoo_console.store.db import Store
from shopodoo_console.store.fulfillments import links_of_odoo_record
from shopodoo_console.store.history import failed_per_minute, finished_per_minute
from shopodoo_console.store.links import LinkRow, links_for_record
from shopodoo_console.store.stock import stock_links
from shopodoo_console.ui.fixes import Fix, fix_for
from shopodoo_console.ui.format import parse_position
from shopodoo_console.ui.live import Activity, LiveState, PollProblem

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
    failing: PollFailure | None = None


@dataclass(frozen=True)
class PollFailure:
    """Why a stream's polls fail: the reason, how many in a row, when the next one runs."""

    shop: str
    stream: str
    cause_code: str
    title: str
    message: str
    tries: int
    next_at: float | None
    since: float | None

    @property
    def reason(self) -> str:
        return f"{self.title}: {self.message}" if self.message else self.title

    def summary(self, now: float) -> str:
        """ "Shopify is not answering: connection refused · 4 tries · next in 60 s"."""
        parts = [self.reason.rstrip(". ")]
        if self.tries:
            parts.append(f"{self.tries} tr{'y' if self.tries == 1 else 'ies'}")
        if self.next_at is not None:
            parts.append(f"next in {max(0, round(self.next_at - now))} s")
        return " · ".join(parts)


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
    feed: list[Activity] = field(default_factory=list)
    done_per_minute: list[int] = field(default_factory=list)  # the last hour, oldest first
    failed_per_minute: list[int] = field(default_factory=list)
    budget_history: dict[str, list[float]] = field(default_factory=dict)
    latency_history: list[float] = field(default_factory=list)
    resyncs: list[Any] = field(default_factory=list)  # ui.stock.ResyncStatus, running or recent

    @property
    def failing(self) -> list[PollFailure]:
        return [s.failing for s in self.streams if s.failing is not None]


def read_dashboard(
    engine: Engine, store: Store, now: float, live: LiveState | None = None
) -> DashboardData:
    """The Dashboard: the old figures, plus (with ``live``) failing polls, the activity
    feed, the hour's charts and the history of the live figures."""
    data = _read_dashboard(engine, store, now)
    if live is None:
        return data
    live.sample(engine.metrics.snapshot())
    failing = read_poll_failures(engine, store, live)
    streams = [
        replace(s, failing=failing.get((s.shop, s.stream))) if (s.shop, s.stream) in failing else s
        for s in data.streams
    ]
    return replace(
        data,
        streams=streams,
        feed=read_feed(store, live),
        done_per_minute=finished_per_minute(store, now),
        failed_per_minute=failed_per_minute(store, now),
        budget_history=live.budget_history(),
        latency_history=live.latency_history(),
    )


def read_poll_failures(
    engine: Engine, store: Store, live: LiveState
) -> dict[tuple[str, str], PollFailure]:
    """Every stream whose last poll failed: from the cursor rows (also after a restart),
    with the engine's count and schedule and the cause code of the last failure event."""
    problems: dict[tuple[str, str], PollProblem] = live.poll_problems()
    health = engine.poll_health()
    configured = {(ref.domain) for ref in engine.shops.values()}
    out: dict[tuple[str, str], PollFailure] = {}
    for cursor in queries.cursors(store):
        key = (cursor.shop, cursor.stream)
        if cursor.last_poll_ok is not False or cursor.shop not in configured:
            continue
        problem = problems.get(key)
        code = problem.cause_code if problem else "poll.failed"
        tries, next_at = health.get(key, (0, None))
        message = cursor.last_poll_message
        fix = spec_for(code).fix
        if problem and fix and message.endswith(fix):  # the poller keeps "missing. fix"
            message = message[: -len(fix)].strip().rstrip(".")
        out[key] = PollFailure(
            cursor.shop,
            cursor.stream,
            code,
            spec_for(code).title if problem else "Poll failed",
            message,
            tries,
            next_at,
            problem.since if problem else cursor.last_poll_at,
        )
    return out


FEED_STYLES = {
    "created": "good",
    "confirmed": "good",
    "adopted": "good",
    "payment": "good",
    "contact_created": "good",
    "mapping_saved": "good",
    "blocked": "error",
    "failed": "error",
    "conflict": "warning",
    "planned": "warning",
    "requeue": "",
}
GROUPED_EVENTS = ("requeue", "retry", "resolve", "cancel", "released")
QUIET_EVENTS = ("fetched", "linked", "metafield_written")  # every order has them: noise here


def read_feed(store: Store, live: LiveState, limit: int = 80) -> list[Activity]:
    """The newest events across shops, newest first: the timeline (what each job did,
    operator actions) and the engine's own news (polls, throttling, jobs that stopped)."""
    entries = [e for e in recent_audit(store, limit=limit * 3) if e.event not in QUIET_EVENTS]
    lines = [_feed_line(entry) for entry in _grouped(entries)]
    stopped = live.job_events()
    labels = job_labels(store, sorted({job_id for _, job_id, _, _ in stopped if job_id}))
    for at, job_id, state, code in stopped:
        shop, label = labels.get(job_id, ("", f"job {job_id}"))
        if state == "lease_expired":
            text, style = f"{label}: worker stopped mid-job, queued again", "warning"
        else:
            what = {"retrying": "will retry", "failed": "failed for good"}.get(
                state, "needs attention"
            )
            text = f"{label}: {what} — {spec_for(code).title if code else state}"
            style = "warning" if state == "retrying" else "error"
        lines.append(Activity(at, shop, text, style, job_id or None))
    lines += live.activities()
    lines.sort(key=lambda a: a.at, reverse=True)
    return lines[:limit]


def _grouped(entries: list[AuditEntry]) -> list[tuple[AuditEntry, int]]:
    """Operator moves of many jobs at once ("14 jobs queued again") are one line."""
    out: list[tuple[AuditEntry, int]] = []
    for entry in entries:
        if out and entry.event in GROUPED_EVENTS:
            last, n = out[-1]
            if (last.event, last.shop, int(last.at)) == (entry.event, entry.shop, int(entry.at)):
                out[-1] = (last, n + 1)
                continue
        out.append((entry, 1))
    return out


def _feed_line(grouped: tuple[AuditEntry, int]) -> Activity:
    entry, n = grouped
    text = entry.message
    if n > 1:
        what = {"requeue": "queued again", "retry": "queued again"}.get(entry.event, entry.event)
        text = f"{n} jobs {what}: {entry.message.split(';')[0]}"
        return Activity(entry.at, entry.shop, text, "", None)
    label = entry.label.removeprefix("Shopify order ")
    if label and label not in text:
        text = f"{label}: {text}"
    return Activity(entry.at, entry.shop, text, FEED_STYLES.get(entry.event, ""), entry.job_id)


def _read_dashboard(engine: Engine, store: Store, now: float) -> DashboardData:
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
    polls: list[PollFailure] = field(default_factory=list)  # the poll group's streams


POLL_GROUP = "poll.failed"


def poll_cause(failure: PollFailure) -> Cause:
    """A failing poll in the four answers (there is no job: the poll itself fails)."""
    fix = plain_fix(Cause(failure.cause_code, missing=""))
    return Cause(
        failure.cause_code,
        record=f"the {failure.stream} stream of {failure.shop} (a poll, not a job)",
        missing=failure.message or "the poll failed",
        retry_safe=True,
        retry_note="nothing was queued and the cursor did not move: the next poll starts "
        "where the last good one ended",
        fix=(f"{fix}. " if fix else "") + "The next poll runs by itself; R polls every stream now.",
    )


def poll_group(failures: list[PollFailure]) -> FailureGroup | None:
    """Failing polls as one group at the top of Failures."""
    if not failures:
        return None
    first = failures[0]
    return FailureGroup(
        POLL_GROUP, "Polling failing", len(failures), poll_cause(first), first.shop, [], failures
    )


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


def _links_of(store: Store, shop_id: int, source_id: str) -> list[LinkRow]:
    """The job's record's links: by its Shopify id, or — for a flow that starts from Odoo
    (``stock.picking/57``, a stock job's ``product/12``) — by the Odoo record."""
    model, _, odoo_id = source_id.rpartition("/")
    if model == "product" and odoo_id.isdigit():  # a stock job: the Odoo product's link
        return list(stock_links(store, shop_id, [int(odoo_id)]).values())
    if model and "." in model and odoo_id.isdigit():
        return links_of_odoo_record(store, shop_id, model, int(odoo_id))
    return links_for_record(store, shop_id, source_id)


def read_job_detail(store: Store, job_id: int) -> JobDetail | None:
    job = queries.get_job(store, job_id)
    if job is None:
        return None
    shop_id = store.shop_id(job.shop)
    links = _links_of(store, shop_id, job.source_id) if shop_id is not None else []
    return JobDetail(job, queries.attempts(store, job_id), queries.timeline(store, job_id), links)


# ---------------------------------------------------------------- mappings


@dataclass(frozen=True)
class MappingEntry:
    """A mapping, or a missing one (``odoo_id is None``) with the jobs waiting on it.

    ``status`` (the stock flow's rows): "unmapped" / "inactive" for a Shopify location not
    mapped, "skipped" for a variant a product mapping would bring in, "left alone" for one
    no mapping can (untracked, archived); ``shown`` is what the Shopify column shows instead
    of the key (a location's name), ``note`` the reason in words.
    """

    shop: str
    kind: str
    source_key: str
    odoo_model: str
    odoo_id: int | None
    label: str
    waiting: int
    status: str = ""
    shown: str = ""
    note: str = ""

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
class OptionSetting:
    """A shop option as Settings lists it (``value`` None: not set, the default applies)."""

    shop: str
    spec: OptionSpec
    value: Any

    @property
    def key(self) -> str:
        return f"{self.shop}|{self.spec.key}"


@dataclass(frozen=True)
class JournalSetting:
    """A payment gateway of a shop and the Odoo journal its payments go to (a mapping of
    kind ``gateway``), or none yet, with the jobs waiting for it."""

    shop: str
    gateway: str
    journal_id: int | None
    label: str
    waiting: int

    @property
    def key(self) -> str:
        return f"{self.shop}|gateway:{self.gateway}"


def read_journals(engine: Engine) -> list[JournalSetting]:
    out = []
    for shop_id, ref in sorted(engine.shops.items(), key=lambda kv: kv[1].domain):
        mapped = {m.source_key: m for m in list_mappings(engine.store, shop_id, "gateway")}
        for kind, source, jobs in missing_mappings(engine.store, shop_id):
            if kind == "gateway" and source not in mapped:
                out.append(JournalSetting(ref.domain, source, None, "", jobs))
        for key, m in sorted(mapped.items()):
            out.append(JournalSetting(ref.domain, key, m.odoo_id, m.label, 0))
    return out


@dataclass(frozen=True)
class SettingsData:
    keyring: secrets.BackendStatus
    config_path: str
    config_exists: bool
    connections: list[ConnectionStatus]
    flows: list[FlowSetting]
    scheduler: str
    holder: str | None
    options: list[OptionSetting] = field(default_factory=list)
    journals: list[JournalSetting] = field(default_factory=list)


def secret_stored(secret_name: str, status: secrets.BackendStatus | None = None) -> bool | None:
    """Whether the keyring holds ``secret_name``; None when it cannot be asked."""
    if not (status or secrets.backend_status()).usable:
        return None
    try:
        return secrets.get_secret(secret_name) is not None  # the value is dropped here
    except secrets.SecretStoreUnavailable:
        return None


def read_settings(engine: Engine, config: Config, *, ask_keyring: bool = True) -> SettingsData:
    """``ask_keyring`` False (the demo: its credentials are in memory) leaves the keyring
    alone entirely."""
    status = (
        secrets.backend_status()
        if ask_keyring
        else secrets.BackendStatus(True, "memory", False, "credentials held in memory")
    )

    def stored(secret_name: str) -> bool | None:
        return secret_stored(secret_name, status) if ask_keyring else True

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
    options = [
        OptionSetting(shop.domain, spec, shop.options.get(spec.key))
        for shop in config.shops
        for spec in SHOP_OPTIONS
    ]
    return SettingsData(
        keyring=status,
        config_path=str(config.path),
        config_exists=config.path.exists(),
        connections=connections,
        flows=flows,
        scheduler=engine.state,
        holder=engine.holder.describe() if engine.holder else None,
        options=options,
        journals=read_journals(engine),
    )
