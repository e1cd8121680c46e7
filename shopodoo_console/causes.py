"""Causes: failures people can act on (DESIGN §6).

A cause is an error turned into a value with a stable code and four plain answers:
*which record*, *what is missing*, *temporary or configuration*, *is retry safe after the
fix*. Clients raise :class:`CauseError`; the engine stores the cause on the job and decides
from its kind whether to retry automatically or wait for the operator.

This module imports nothing from the product so that clients, workflows, the engine and the
UI can all share it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What sort of problem this is; decides between automatic retry and the operator."""

    TEMPORARY = "temporary"  # network, throttling, server busy: retried with backoff
    CONFIGURATION = "configuration"  # a mapping, a setting, a credential: operator fixes it
    PERMISSION = "permission"  # a scope, an access right, a company access
    DATA = "data"  # the source record itself is wrong or incomplete
    CONFLICT = "conflict"  # the target was changed by a person or is locked
    EXHAUSTED = "exhausted"  # temporary, but its automatic retries are spent: a person looks

    @property
    def retries_automatically(self) -> bool:
        return self is Kind.TEMPORARY

    @property
    def label(self) -> str:
        """The answer to "temporary or configuration?" in the operator's words."""
        return {
            Kind.TEMPORARY: "temporary — retried automatically",
            Kind.CONFIGURATION: "configuration — needs a fix before retry",
            Kind.PERMISSION: "permission — needs an access right before retry",
            Kind.DATA: "data — the source record needs a correction",
            Kind.CONFLICT: "conflict — a person must decide",
            Kind.EXHAUSTED: "retries spent — waits for you: fix the last cause, then retry",
        }[self]


@dataclass(frozen=True)
class CauseSpec:
    """Catalog entry: the defaults every cause with this code shares."""

    code: str
    kind: Kind
    title: str  # group heading in the Failures screen
    max_retries: int = 0  # automatic retries before `retry.exhausted` (temporary kinds only)
    retry_safe: bool = True  # is retrying safe once the cause is fixed
    fix: str = ""  # default "what to do"


def _spec(code: str, kind: Kind, title: str, **kw: Any) -> tuple[str, CauseSpec]:
    return code, CauseSpec(code=code, kind=kind, title=title, **kw)


CATALOG: dict[str, CauseSpec] = dict(
    [
        # Shopify
        _spec(
            "shopify.throttled",
            Kind.TEMPORARY,
            "Shopify rate limit reached",
            max_retries=10,
            fix="Nothing to do: the job waits for Shopify's bucket to refill.",
        ),
        _spec(
            "shopify.unavailable",
            Kind.TEMPORARY,
            "Shopify is not answering",
            max_retries=8,
            fix="Check the network; the job is retried automatically.",
        ),
        _spec(
            "shopify.unauthorized",
            Kind.CONFIGURATION,
            "Shopify credentials rejected",
            fix="Reconnect the shop: `shopodoo connect shopify DOMAIN`.",
        ),
        _spec(
            "shopify.scope_missing",
            Kind.PERMISSION,
            "Shopify app lacks an access scope",
            fix="Add the missing scope to the app in Shopify, reinstall it, then retry.",
        ),
        _spec(
            "shopify.shop_frozen",
            Kind.CONFIGURATION,
            "Shopify store frozen or locked",
            fix="Settle the store's billing or unlock it in Shopify, then retry.",
        ),
        _spec(
            "shopify.not_found",
            Kind.DATA,
            "Shopify record not found",
            fix="The record was deleted in Shopify; resolve the job.",
        ),
        _spec(
            "shopify.user_error",
            Kind.DATA,
            "Shopify refused the change",
            fix="Read Shopify's message, correct the data, then retry.",
        ),
        _spec(
            "shopify.query_rejected",
            Kind.CONFIGURATION,
            "Shopify rejected the console's request",
            fix="Check the shop domain and the API version in Settings; if they are right, "
            "upgrade the console (the pinned API version may have changed).",
        ),
        _spec(
            "shopify.outcome_unknown",
            Kind.TEMPORARY,
            "Shopify write outcome unknown",
            max_retries=8,
            fix="Nothing to do: the retry re-reads Shopify before writing.",
        ),
        # Shopify inventory writes (shopify.md §8.4)
        _spec(
            "shopify.inventory_busy",
            Kind.TEMPORARY,
            "Stock kept changing in Shopify",
            max_retries=6,
            fix="Nothing to do: each write was refused as stale (a sale came in between); the "
            "job reads the level again and retries.",
        ),
        _spec(
            "shopify.idempotency_conflict",
            Kind.TEMPORARY,
            "Shopify refused the idempotency key",
            max_retries=3,
            fix="Nothing to do: nothing was applied; the retry sends a fresh call with a new key.",
        ),
        # Shopify bulk operations (backfill, audit; shopify.md §8.8)
        _spec(
            "shopify.bulk_busy",
            Kind.TEMPORARY,
            "Shopify bulk operation slots taken",
            max_retries=10,
            fix="Nothing to do: the console waits until this app's other bulk operations end.",
        ),
        _spec(
            "shopify.bulk_running",
            Kind.TEMPORARY,
            "Shopify bulk operation still running",
            max_retries=20,
            fix="Nothing to do: the console picks the operation up again by its id.",
        ),
        _spec(
            "shopify.bulk_failed",
            Kind.TEMPORARY,
            "Shopify bulk operation failed",
            max_retries=3,
            fix="Shopify stopped the export (internal error or timeout); it is started again. "
            "If it keeps failing, use a shorter period.",
        ),
        _spec(
            "shopify.bulk_canceled",
            Kind.CONFIGURATION,
            "Shopify bulk operation cancelled",
            fix="Someone cancelled the export; start it again when wanted.",
        ),
        _spec(
            "shopify.bulk_expired",
            Kind.TEMPORARY,
            "Shopify bulk result expired",
            max_retries=2,
            fix="Nothing to do: the export is run again (results are kept seven days).",
        ),
        # Odoo
        _spec(
            "odoo.unreachable",
            Kind.TEMPORARY,
            "Odoo is not answering",
            max_retries=8,
            fix="Check that Odoo is up and reachable; the job is retried automatically.",
        ),
        _spec(
            "odoo.outcome_unknown",
            Kind.TEMPORARY,
            "Odoo write outcome unknown",
            max_retries=8,
            fix="Nothing to do: the retry looks up the stamped record before creating.",
        ),
        _spec(
            "odoo.stamp_taken",
            Kind.TEMPORARY,
            "Created at the same moment by another worker",
            max_retries=3,
            fix="Nothing to do: the job looks the stamp up again and adopts the record.",
        ),
        _spec(
            "odoo.concurrency",
            Kind.TEMPORARY,
            "Odoo record busy",
            max_retries=8,
            fix="Nothing to do: the job is retried automatically.",
        ),
        _spec(
            "odoo.access_denied",
            Kind.CONFIGURATION,
            "Odoo login or API key rejected",
            fix="Reconnect Odoo: `shopodoo connect odoo`.",
        ),
        _spec(
            "odoo.permission_missing",
            Kind.PERMISSION,
            "Odoo user lacks an access right",
            fix="Give the Odoo user the named access right, then retry.",
        ),
        _spec(
            "odoo.company_access",
            Kind.PERMISSION,
            "Odoo user lacks company access",
            fix="Allow the Odoo user in the shop's company, then retry.",
        ),
        _spec(
            "odoo.record_deleted",
            Kind.DATA,
            "Odoo record deleted",
            fix="Remove the stale link or restore the record in Odoo, then retry.",
        ),
        _spec(
            "odoo.validation",
            Kind.DATA,
            "Odoo refused the data",
            fix="Read Odoo's message, correct the data or the setting, then retry.",
        ),
        # Mappings
        _spec(
            "mapping.product_missing",
            Kind.CONFIGURATION,
            "Product not mapped",
            fix="Map the SKU to an Odoo product in Mappings; waiting jobs re-queue.",
        ),
        _spec(
            "mapping.custom_line_missing",
            Kind.CONFIGURATION,
            "Custom line item without a product",
            fix="Set options.custom_line_product_id for the shop (one Odoo product for every "
            "custom line item: gift wrapping, a service), or map the line's title in Mappings.",
        ),
        _spec(
            "mapping.location_missing",
            Kind.CONFIGURATION,
            "Location not mapped",
            fix="Map the Shopify location to an Odoo warehouse's stock location in Mappings.",
        ),
        _spec(
            "mapping.gateway_missing",
            Kind.CONFIGURATION,
            "Payment gateway not mapped",
            fix="Map the payment gateway to an Odoo journal in Mappings.",
        ),
        _spec(
            "mapping.carrier_missing",
            Kind.CONFIGURATION,
            "Shipping method not mapped",
            fix="Map the shipping method to an Odoo carrier in Mappings.",
        ),
        _spec(
            "mapping.tax_missing",
            Kind.CONFIGURATION,
            "Tax not mapped",
            fix="Map the Shopify tax line to an Odoo tax in Mappings.",
        ),
        _spec(
            "mapping.customer_missing",
            Kind.CONFIGURATION,
            "Order has no customer",
            fix="Set a guest partner for the shop in Settings, then retry.",
        ),
        # Fulfillments (a delivery done in Odoo → a Shopify fulfillment)
        _spec(
            "fulfillment.on_hold",
            Kind.CONFIGURATION,
            "Shopify fulfillment on hold",
            fix="Release the hold in Shopify (the order → Fulfillment on hold → Release), or "
            "resolve the job if the hold stands; then retry: it sends only what is still open.",
        ),
        _spec(
            "fulfillment.service",
            Kind.CONFIGURATION,
            "Fulfilled by a fulfillment service (3PL)",
            fix="If the 3PL ships these units, resolve the job (it reports them to Shopify "
            "itself). If Odoo really shipped them, cancel the fulfillment request in Shopify "
            "(or move the units to your location), then retry.",
        ),
        _spec(
            "fulfillment.other_location",
            Kind.CONFIGURATION,
            "Shipped from another location than Shopify assigned",
            fix="Move the fulfillment order to the location that shipped (Shopify: the order → "
            "Change location), or correct the location mapping; then retry.",
        ),
        _spec(
            "fulfillment.split",
            Kind.CONFIGURATION,
            "Delivery spans several Shopify locations",
            fix="Map each Shopify location to the Odoo warehouse that ships it (Mappings → "
            "Locations), or move the fulfillment orders to one location in Shopify; then retry.",
        ),
        _spec(
            "fulfillment.closed",
            Kind.DATA,
            "Shopify fulfillment order closed",
            retry_safe=True,
            fix="The order was cancelled or closed in Shopify after Odoo shipped: settle it "
            "with the customer, then resolve the job (nothing is sent).",
        ),
        _spec(
            "fulfillment.not_ready",
            Kind.CONFIGURATION,
            "Shopify fulfillment order not ready",
            fix="The fulfillment order is scheduled or incomplete in Shopify; retry once it is "
            "open, or resolve the job.",
        ),
        _spec(
            "fulfillment.lines_unmatched",
            Kind.DATA,
            "Delivery lines not on the Shopify order",
            fix="The delivery shipped sale lines that match no Shopify line item (added or "
            "renamed in Odoo): fulfil them by hand in Shopify if they belong there, then "
            "resolve the job.",
        ),
        _spec(
            "fulfillment.cancelled_in_shopify",
            Kind.CONFLICT,
            "Fulfillment cancelled in Shopify",
            fix="A person cancelled this delivery's fulfillment in Shopify; the console does "
            "not send it again. Fulfil by hand if it was a mistake.",
        ),
        _spec(
            "fulfillment.refused",
            Kind.TEMPORARY,
            "Shopify refused the fulfillment (order changed)",
            max_retries=3,
            fix="Nothing to do: the order changed since it was read; the retry reads it again "
            "and sends only what is still open.",
        ),
        # Data and conflicts
        _spec(
            "data.invalid_payload",
            Kind.DATA,
            "Malformed data received",
            fix="The payload could not be read; check the source record, then retry.",
        ),
        _spec(
            "conflict.edited_in_odoo",
            Kind.CONFLICT,
            "Edited in Odoo by a person",
            fix="Decide in Odoo which value wins; the console will not overwrite it.",
        ),
        _spec(
            "conflict.order_locked",
            Kind.CONFLICT,
            "Odoo order already confirmed",
            fix="Apply the Shopify change by hand in Odoo if it matters.",
        ),
        # The console's own database
        _spec(
            "database.busy",
            Kind.TEMPORARY,
            "Database locked by another process",
            fix="Wait for the other process or stop it, then run the command again.",
        ),
        _spec(
            "database.full",
            Kind.CONFIGURATION,
            "Disk full",
            fix="Free space on the disk holding the database, then run the command again.",
        ),
        _spec(
            "database.readonly",
            Kind.PERMISSION,
            "Database cannot be written",
            fix="Give this user write access to the database and its folder.",
        ),
        _spec(
            "database.corrupt",
            Kind.CONFIGURATION,
            "Database damaged",
            fix="Restore a backup, or move the file aside to start fresh.",
        ),
        _spec(
            "database.error",
            Kind.CONFIGURATION,
            "Database error",
            fix="Run `shopodoo doctor`, then try again.",
        ),
        # Engine
        _spec(
            "retry.exhausted",
            Kind.EXHAUSTED,
            "Retries exhausted",
            fix="Check the last cause, fix it if needed, then retry by hand.",
        ),
        _spec(
            "engine.lease_expired",
            Kind.TEMPORARY,
            "Worker stopped mid-job",
            max_retries=5,
            fix="Nothing to do: the job resumes through its links and stamps.",
        ),
        _spec(
            "engine.handler_crashed",
            Kind.TEMPORARY,
            "Unexpected error in the console",
            max_retries=3,
            fix="Report the message; the job is retried a few times, then waits.",
        ),
        _spec(
            "engine.flow_unknown",
            Kind.CONFIGURATION,
            "No handler for this flow",
            fix="Upgrade the console or cancel the job.",
        ),
    ]
)

UNKNOWN_SPEC = CauseSpec(
    code="unknown",
    kind=Kind.CONFIGURATION,
    title="Unclassified failure",
    fix="Read the message; fix what it names, then retry.",
)


def spec_for(code: str) -> CauseSpec:
    return CATALOG.get(code, UNKNOWN_SPEC)


@dataclass(frozen=True)
class Cause:
    """One classified failure, with the four plain answers (DESIGN §6).

    ``record``    which record: "Shopify order #1042 (gid://shopify/Order/1042)".
    ``missing``   what is missing or went wrong, in a sentence.
    ``kind``      temporary / configuration / permission / data / conflict.
    ``retry_safe`` whether retrying is safe once fixed; ``retry_note`` says why, and what
                  already exists remotely.
    ``operation`` the remote call that failed ("Odoo sale.order create").
    ``detail``    the remote system's own message, verbatim (never a secret).
    ``retry_after`` a server hint in seconds (Retry-After, throttle status).
    ``blocked_on`` mapping keys ("product:SKU-1") whose creation should re-queue the job.
    ``also``      the other causes blocking the same record: a plan names every missing piece
                  at once, so fixing one does not reveal the next only on the retry. The job is
                  grouped under this cause (the first); ``blocked_on`` covers all of them.
    """

    code: str
    missing: str
    record: str = ""
    kind: Kind | None = None
    retry_safe: bool | None = None
    retry_note: str = ""
    fix: str = ""
    operation: str = ""
    detail: str = ""
    retry_after: float | None = None
    blocked_on: tuple[str, ...] = field(default_factory=tuple)
    also: tuple[Cause, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        spec = spec_for(self.code)
        if self.kind is None:
            object.__setattr__(self, "kind", spec.kind)
        else:
            object.__setattr__(self, "kind", Kind(self.kind))
        if self.retry_safe is None:
            object.__setattr__(self, "retry_safe", spec.retry_safe)
        if not self.fix:
            object.__setattr__(self, "fix", spec.fix)
        object.__setattr__(self, "blocked_on", tuple(self.blocked_on))
        object.__setattr__(
            self,
            "also",
            tuple(c if isinstance(c, Cause) else Cause.from_dict(c) for c in self.also),
        )

    @classmethod
    def every(cls, causes: Sequence[Cause]) -> Cause:
        """One cause for a record blocked by several: the first, naming the others, and
        waiting on every mapping any of them waits on (saving one re-queues the job)."""
        first, *others = causes
        blocked = tuple(dict.fromkeys(k for c in causes for k in c.blocked_on))
        flat = [dataclasses.replace(c, also=()) for c in others]
        return dataclasses.replace(first, blocked_on=blocked, also=tuple(flat))

    @property
    def spec(self) -> CauseSpec:
        return spec_for(self.code)

    @property
    def title(self) -> str:
        return self.spec.title

    def with_record(self, record: str) -> Cause:
        """The same cause, naming the record (clients don't know which job they serve)."""
        return dataclasses.replace(self, record=record)

    def explain(self) -> str:
        """The four answers as plain lines, the text operators read."""
        assert self.kind is not None
        safe = "yes" if self.retry_safe else "no"
        lines = [
            f"Which record: {self.record or 'not tied to one record'}",
            f"What is missing: {self.missing}",
            f"Temporary or configuration: {self.kind.label}",
            f"Retry safe after the fix: {safe}"
            + (f" — {self.retry_note}" if self.retry_note else ""),
        ]
        if self.fix:
            lines.append(f"What to do: {self.fix}")
        if self.detail:
            lines.append(f"Message: {self.detail}")
        for other in self.also:
            lines.append(f"Also missing ({other.code}): {other.missing}")
            if other.fix:
                lines.append(f"  What to do: {other.fix}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["kind"] = str(self.kind)
        d["blocked_on"] = list(self.blocked_on)
        d["also"] = [c.to_dict() for c in self.also]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cause:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_json(cls, text: str) -> Cause:
        return cls.from_dict(json.loads(text))


class CauseError(Exception):
    """An exception that carries a :class:`Cause`; what clients and workflows raise."""

    def __init__(self, cause: Cause) -> None:
        super().__init__(f"{cause.code}: {cause.missing}")
        self.cause = cause
