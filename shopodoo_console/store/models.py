"""Peewee models over the tables created by :mod:`migrations` (DESIGN §4).

The migrations own the schema; these classes only give typed access for simple reads and
writes. ``tests/test_store.py`` checks that both agree column for column.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import (
    AutoField,
    CharField,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


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
    domain = CharField(unique=True)
    api_version = CharField()
    odoo_company_id = IntegerField(null=True)
    odoo_warehouse_id = IntegerField(null=True)
    odoo_pricelist_id = IntegerField(null=True)
    settings = JSONField(default=dict)
    created_at = FloatField()
    updated_at = FloatField()


class Job(BaseModel):
    id = AutoField()
    key = CharField(unique=True)
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    flow = CharField()
    source_id = CharField()
    source_version = CharField()
    label = CharField(default="")
    payload = JSONField(default=dict)
    state = CharField()
    priority = IntegerField(default=0)
    attempts = IntegerField(default=0)
    retries = IntegerField(default=0)
    seen_count = IntegerField(default=1)
    next_run_at = FloatField()
    lease_owner = CharField(null=True)
    lease_expires_at = FloatField(null=True)
    started_at = FloatField(null=True)
    cause_code = CharField(null=True)
    cause = JSONField(null=True)
    blocked_on = TextField(null=True)
    intent = JSONField(null=True)
    plan = JSONField(null=True)
    approved_at = FloatField(null=True)
    result = TextField(null=True)
    superseded_by = ForeignKeyField(
        "self", column_name="superseded_by", null=True, on_delete="SET NULL"
    )
    created_at = FloatField()
    last_seen_at = FloatField()
    updated_at = FloatField()
    finished_at = FloatField(null=True)


class Attempt(BaseModel):
    id = AutoField()
    job = ForeignKeyField(Job, column_name="job_id", on_delete="CASCADE", backref="attempt_rows")
    number = IntegerField()
    worker = CharField(default="")
    started_at = FloatField()
    ended_at = FloatField(null=True)
    outcome = CharField()
    cause_code = CharField(null=True)
    message = TextField(default="")
    summary = TextField(default="")


class Link(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    kind = CharField()
    shopify_id = CharField()
    odoo_model = CharField()
    odoo_id = IntegerField()
    label = CharField(default="")
    last_version = CharField(null=True)
    digest = CharField(null=True)
    created_at = FloatField()
    updated_at = FloatField()


class Mapping(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    kind = CharField()
    source_key = CharField()
    odoo_model = CharField()
    odoo_id = IntegerField()
    label = CharField(default="")
    note = TextField(default="")
    created_at = FloatField()
    updated_at = FloatField()


class Cursor(BaseModel):
    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    stream = CharField()
    position = CharField(null=True)
    overlap_seconds = IntegerField(default=600)
    last_poll_at = FloatField(null=True)
    last_poll_ok = IntegerField(null=True)
    last_poll_message = TextField(default="")
    updated_at = FloatField()


class Audit(BaseModel):
    id = AutoField()
    at = FloatField()
    job = ForeignKeyField(Job, column_name="job_id", null=True, on_delete="CASCADE")
    shop = ForeignKeyField(Shop, column_name="shop_id", null=True, on_delete="CASCADE")
    system = CharField()
    event = CharField()
    message = TextField()
    data = JSONField(default=dict)


class Lease(BaseModel):
    name = CharField(primary_key=True)
    owner = CharField()
    pid = IntegerField()
    host = CharField()
    acquired_at = FloatField()
    expires_at = FloatField()


class StockSend(BaseModel):
    """A stock batch's ``inventorySetQuantities`` as sent, by its key (replayed on retry)."""

    key = CharField(primary_key=True)
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    targets = JSONField()
    created_at = FloatField()


class StockSkip(BaseModel):
    """Something the stock flow leaves alone, with the reason (listed on the Mappings screen)."""

    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    kind = CharField()  # location | variant | item | product | level
    subject = CharField()
    label = CharField(default="")
    reason = TextField()
    mapping_key = CharField(null=True)  # the mapping that would fix it (SKU or GID), if one can
    seen = IntegerField(default=1)
    first_seen_at = FloatField()
    last_seen_at = FloatField()


class StockResync(BaseModel):
    """A full stock resync: listing progress and the version its jobs carry."""

    id = AutoField()
    shop = ForeignKeyField(Shop, column_name="shop_id", on_delete="CASCADE")
    state = CharField()  # listing | working | done | cancelled
    version = CharField()
    after = CharField(null=True)
    total = IntegerField(null=True)  # variants in the shop when the listing began
    variants = IntegerField(default=0)
    jobs = IntegerField(default=0)
    skipped = IntegerField(default=0)
    started_at = FloatField()
    listed_at = FloatField(null=True)
    finished_at = FloatField(null=True)
    updated_at = FloatField()


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
)
