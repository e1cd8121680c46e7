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
    TextField,
    ValueLiterals,
)

from shopodoo_console.store.states import RUNNABLE, State

database = DatabaseProxy()


def default(literal: str) -> list[SQL]:
    """A column default the database itself applies (for rows not written through peewee)."""
    return [SQL(f"DEFAULT {literal}")]


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


JOB_INDEXES = (
    # The claim walks this small index in claim order: runnable jobs only, no sort.
    ModelIndex(Job, (Job.priority.desc(), Job.next_run_at, Job.id), name="job_runnable").where(
        in_states(Job.state, RUNNABLE)
    ),
    # When the next runnable job falls due (the dispatcher's sleep).
    ModelIndex(Job, (Job.next_run_at,), name="job_due").where(in_states(Job.state, RUNNABLE)),
    # At most one running job per record (DESIGN §3.2), enforced by the database itself.
    ModelIndex(Job, (Job.shop, Job.flow, Job.source_id), unique=True, name="job_one_running").where(
        in_states(Job.state, (State.RUNNING,))
    ),
    ModelIndex(Job, (Job.cause_code,), name="job_cause").where(Job.cause_code.is_null(False)),
    ModelIndex(Job, (Job.finished_at,), name="job_finished").where(Job.finished_at.is_null(False)),
    # Deleting (pruning) a job checks who points at it through superseded_by.
    ModelIndex(Job, (Job.superseded_by,), name="job_superseded_by").where(
        Job.superseded_by.is_null(False)
    ),
    # Counts per shop, flow and state (dashboard, problem counts) read this index only.
    ModelIndex(Job, (Job.shop, Job.flow, Job.state), name="job_shop_flow_state"),
)
for _index in JOB_INDEXES:
    Job.add_index(_index)


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


Attempt.add_index(ModelIndex(Attempt, (Attempt.job, Attempt.number), name="attempt_job"))


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


Audit.add_index(ModelIndex(Audit, (Audit.at,), name="audit_at"))
Audit.add_index(ModelIndex(Audit, (Audit.job, Audit.at), name="audit_job"))


class Lease(BaseModel):
    """Who may poll this database (one scheduler per database, DESIGN §2)."""

    name = TextField(primary_key=True)
    owner = TextField()
    pid = IntegerField()
    host = TextField()
    acquired_at = FloatField()
    expires_at = FloatField()


ALL_MODELS: tuple[type[BaseModel], ...] = (Shop, Job, Attempt, Link, Mapping, Cursor, Audit, Lease)
