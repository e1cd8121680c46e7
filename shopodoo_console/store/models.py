"""The peewee models: the one source of the schema (DESIGN §4).

Tables, columns, defaults, unique constraints and partial indexes are declared here; a new
database is created from these classes and the numbered migrations (:mod:`migrations`)
bring older ones to the same shape, using these same field and index declarations.
Statements are built from them with peewee (:mod:`jobs`, :mod:`views`, ...), so a second
database could later be plugged in through peewee; what only SQLite can say lives in
:mod:`sqlite`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from peewee import (
    SQL,
    AutoField,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    ModelIndex,
    Node,
    TextField,
    ValueLiterals,
)

from shopodoo_console.store.states import RUNNABLE, State

database = DatabaseProxy()


def default(literal: str) -> list[Node]:
    """A column default the database itself applies (for rows not written through peewee)."""
    return [SQL(f"DEFAULT {literal}")]


INDEXES: dict[str, ModelIndex] = {}


def index(
    model: type[Model],
    name: str,
    fields: tuple[Any, ...],
    *,
    unique: bool = False,
    where: Any = None,
) -> ModelIndex:
    """Declare a named index on ``model`` (partial when ``where`` is given); migrations
    create it by this name."""
    declared = ModelIndex(model, fields, unique=unique, where=where, name=name)
    INDEXES[name] = declared
    model.add_index(declared)
    return declared


class JSONField(TextField):
    """A text column holding JSON (SQLite has no JSON column type)."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Shop(BaseModel):
    id = AutoField()
    domain = TextField(unique=True)
    api_version = TextField()
    odoo_company_id = IntegerField(null=True)
    odoo_warehouse_id = IntegerField(null=True)
    odoo_pricelist_id = IntegerField(null=True)
    settings = JSONField(default=dict, constraints=default("'{}'"))
    created_at = FloatField()
    updated_at = FloatField()


def in_states(field: Any, states: Iterable[State]) -> Any:
    """``field IN ('a', 'b')`` (or ``= 'a'``) with the states written out, not bound: a partial
    index over those states is usable only by a query that says them literally."""
    values = [s.value for s in states]
    return ValueLiterals(field == values[0] if len(values) == 1 else field.in_(values))


class Job(BaseModel):
    """One unit of work. ``key`` is unique and starts with the record's identity
    (``shop:flow:source id:``), so its index also finds every version of one record."""

    id = AutoField()
    key = TextField(unique=True)
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    flow = TextField()
    source_id = TextField()
    source_version = TextField()
    label = TextField(default="", constraints=default("''"))
    payload = JSONField(default=dict, constraints=default("'{}'"))
    state = TextField()
    priority = IntegerField(default=0, constraints=default("0"))
    attempts = IntegerField(default=0, constraints=default("0"))  # also the claim's token
    retries = IntegerField(default=0, constraints=default("0"))
    retry_counts = JSONField(null=True)  # retries spent per budget: {"throttle": 3, ...}
    retrying_since = FloatField(null=True)  # first failure of the current run of retries
    seen_count = IntegerField(default=1, constraints=default("1"))
    next_run_at = FloatField()
    lease_owner = TextField(null=True)
    lease_expires_at = FloatField(null=True)
    started_at = FloatField(null=True)
    cause_code = TextField(null=True)
    cause = JSONField(null=True)
    blocked_on = TextField(null=True)
    intent = JSONField(null=True)
    plan = JSONField(null=True)
    approved_at = FloatField(null=True)
    result = TextField(null=True)
    superseded_by = ForeignKeyField(
        "self", column_name="superseded_by", null=True, on_delete="SET NULL", index=False
    )
    created_at = FloatField()
    last_seen_at = FloatField()
    updated_at = FloatField()
    finished_at = FloatField(null=True)


# The claim walks this small index in claim order: runnable jobs only, no sort.
index(
    Job,
    "job_runnable",
    (Job.priority.desc(), Job.next_run_at, Job.id),
    where=in_states(Job.state, RUNNABLE),
)
# At most one running job per record (DESIGN §3.2), enforced by the database itself.
index(
    Job,
    "job_one_running",
    (Job.shop, Job.flow, Job.source_id),
    unique=True,
    where=in_states(Job.state, (State.RUNNING,)),
)
index(Job, "job_cause", (Job.cause_code,), where=Job.cause_code.is_null(False))
index(Job, "job_finished", (Job.finished_at,), where=Job.finished_at.is_null(False))
# Deleting (pruning) a job checks who points at it through superseded_by.
index(Job, "job_superseded_by", (Job.superseded_by,), where=Job.superseded_by.is_null(False))
# Counts per shop, flow and state (dashboard, problem counts) read this index only.
index(Job, "job_shop_flow_state", (Job.shop, Job.flow, Job.state))


class Attempt(BaseModel):
    id = AutoField()
    job = ForeignKeyField(
        Job, column_name="job_id", on_delete="CASCADE", backref="attempt_rows", index=False
    )
    number = IntegerField()
    worker = TextField(default="", constraints=default("''"))
    started_at = FloatField()
    ended_at = FloatField(null=True)
    outcome = TextField()
    cause_code = TextField(null=True)
    message = TextField(default="", constraints=default("''"))
    summary = TextField(default="", constraints=default("''"))


index(Attempt, "attempt_job", (Attempt.job, Attempt.number))


class Link(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    kind = TextField()
    shopify_id = TextField()
    odoo_model = TextField()
    odoo_id = IntegerField()
    label = TextField(default="", constraints=default("''"))
    last_version = TextField(null=True)
    digest = TextField(null=True)
    created_at = FloatField()
    updated_at = FloatField()

    class Meta:
        indexes = (
            (("shop", "kind", "shopify_id"), True),
            (("kind", "odoo_model", "odoo_id", "shop"), True),
        )


class Mapping(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    kind = TextField()
    source_key = TextField()
    odoo_model = TextField()
    odoo_id = IntegerField()
    label = TextField(default="", constraints=default("''"))
    note = TextField(default="", constraints=default("''"))
    created_at = FloatField()
    updated_at = FloatField()

    class Meta:
        indexes = ((("shop", "kind", "source_key"), True),)


class Cursor(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    stream = TextField()
    position = TextField(null=True)
    overlap_seconds = IntegerField(default=600, constraints=default("600"))
    last_poll_at = FloatField(null=True)
    last_poll_ok = IntegerField(null=True)
    last_poll_message = TextField(default="", constraints=default("''"))
    updated_at = FloatField()

    class Meta:
        indexes = ((("shop", "stream"), True),)


class Audit(BaseModel):
    id = AutoField()
    at = FloatField()
    job = ForeignKeyField(Job, column_name="job_id", null=True, on_delete="CASCADE", index=False)
    shop = ForeignKeyField(Shop, column_name="shop_id", null=True, on_delete="CASCADE", index=False)
    system = TextField()
    event = TextField()
    message = TextField()
    data = JSONField(default=dict, constraints=default("'{}'"))


index(Audit, "audit_at", (Audit.at,))
index(Audit, "audit_job", (Audit.job, Audit.at))


class Lease(BaseModel):
    """Who may poll this database (one scheduler per database, DESIGN §2)."""

    name = TextField(primary_key=True)
    owner = TextField()
    pid = IntegerField()
    host = TextField()
    acquired_at = FloatField()
    expires_at = FloatField()


class StockSend(BaseModel):
    """A stock batch's ``inventorySetQuantities`` as sent, by its idempotency key: a job's
    retry after a crash resends exactly these quantities with this key (its intent names it),
    so Shopify replays the first result instead of applying it twice."""

    key = TextField(primary_key=True)
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    targets = JSONField()
    created_at = FloatField()


index(StockSend, "stock_send_created", (StockSend.created_at,))


class StockSkip(BaseModel):
    """What the stock flow leaves alone and why (the Mappings screen lists them): a location
    not mapped, a variant without an Odoo product, an untracked item, an archived product."""

    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    kind = TextField()  # location | variant | level
    subject = TextField()
    label = TextField(default="", constraints=default("''"))
    reason = TextField()
    mapping_key = TextField(null=True)  # the mapping that would fix it (SKU or GID), if one can
    seen = IntegerField(default=1, constraints=default("1"))
    first_seen_at = FloatField()
    last_seen_at = FloatField()

    class Meta:
        indexes = ((("shop", "kind", "subject"), True),)


RESYNC_ACTIVE = ("listing", "working")


class StockResync(BaseModel):
    """A full stock resync: how far the listing of Shopify's variants got (resumable after a
    kill) and the version its jobs carry (their progress is counted from the job table)."""

    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    state = TextField()  # listing | working | done | cancelled
    version = TextField()
    after = TextField(null=True)
    total = IntegerField(null=True)  # variants in the shop when the listing began
    variants = IntegerField(default=0, constraints=default("0"))
    jobs = IntegerField(default=0, constraints=default("0"))
    skipped = IntegerField(default=0, constraints=default("0"))
    started_at = FloatField()
    listed_at = FloatField(null=True)
    finished_at = FloatField(null=True)
    updated_at = FloatField()


# At most one resync runs per shop: starting another adopts it.
index(
    StockResync,
    "stock_resync_active",
    (StockResync.shop,),
    unique=True,
    where=ValueLiterals(StockResync.state.in_(list(RESYNC_ACTIVE))),
)


class ReconcileRun(BaseModel):
    """One audit or backfill run; ``position`` is where a backfill resumes after a kill."""

    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE", index=False)
    kind = TextField()
    since = TextField()
    until = TextField(null=True)
    state = TextField()
    owner = TextField(default="", constraints=default("''"))
    method = TextField(default="", constraints=default("''"))
    position = JSONField(default=dict, constraints=default("'{}'"))
    total = IntegerField(null=True)
    done = IntegerField(default=0, constraints=default("0"))
    found = IntegerField(default=0, constraints=default("0"))
    message = TextField(default="", constraints=default("''"))
    started_at = FloatField()
    updated_at = FloatField()
    finished_at = FloatField(null=True)

    class Meta:
        table_name = "reconcile_run"


index(
    ReconcileRun,
    "reconcile_run_shop",
    (ReconcileRun.shop, ReconcileRun.kind, ReconcileRun.started_at),
)


class Finding(BaseModel):
    """What an audit found about one Shopify order (or one Odoo order)."""

    id = AutoField()
    run = ForeignKeyField(ReconcileRun, column_name="run_id", on_delete="CASCADE", index=False)
    kind = TextField()
    shopify_id = TextField(null=True)
    shopify_name = TextField(default="", constraints=default("''"))
    odoo_ids = JSONField(default=list, constraints=default("'[]'"))
    job = ForeignKeyField(Job, column_name="job_id", null=True, on_delete="SET NULL", index=False)
    summary = TextField()
    detail = JSONField(default=dict, constraints=default("'{}'"))
    created_at = FloatField()


index(Finding, "finding_run", (Finding.run, Finding.kind, Finding.id))
index(Finding, "finding_job", (Finding.job,), where=Finding.job.is_null(False))
# The review reads attempts by when they ended, and operator events by kind.
index(Attempt, "attempt_ended", (Attempt.ended_at,), where=Attempt.ended_at.is_null(False))
index(Audit, "audit_event", (Audit.event, Audit.at))


ALL_MODELS: tuple[type[BaseModel], ...] = (
    Shop,
    Job,
    Attempt,
    Link,
    Mapping,
    Cursor,
    Audit,
    Lease,
    StockSend,
    StockSkip,
    StockResync,
    ReconcileRun,
    Finding,
)
