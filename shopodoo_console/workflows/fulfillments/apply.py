"""The apply stage of the fulfillments flow: run the plans' actions, record their effects.

* **fulfill** — one ``fulfillmentCreate`` per delivery, preceded by the job's intent (the
  order's fulfillments as read, the lines about to be sent): a lost answer is an
  ``outcome_unknown`` effect, and the retry's match stage finds what Shopify made — by the
  tracking number, or by the intent — instead of sending again. The link is written "not
  synced" the moment the fulfillment exists.
* **stamp** — the pickings' stamps in Odoo (``shopodoo.<shop>_fulfillment_<id>``), one call for
  the batch; a stamp already there for the same picking is adopted.
* **mark** — the order's ``shopodoo.fulfillments`` metafield records each picking reference
  with its fulfillment: one ``metafieldsSet`` for the batch, compare-and-set on the digest
  read with the state, so two workers recording two deliveries of one order never lose one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from shopodoo_console.causes import Cause, CauseError, Kind
from shopodoo_console.engine.crashpoints import crashpoint
from shopodoo_console.odoo import OdooClient
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.shopify.models import Tracking
from shopodoo_console.workflows.fulfillments.jobs import ShipmentJob
from shopodoo_console.workflows.fulfillments.link import ShipmentLinks
from shopodoo_console.workflows.fulfillments.match import marker_of, stamp_name
from shopodoo_console.workflows.pipeline import Action, Effect

MARKER_KEY = "fulfillments"
MAX_METAFIELDS = 25


class Apply:
    def __init__(
        self, odoo: OdooClient, shopify: ShopifyClient, links: ShipmentLinks, slug: str
    ) -> None:
        self.odoo = odoo
        self.shopify = shopify
        self.links = links
        self.slug = slug

    def run(self, jobs: Sequence[ShipmentJob]) -> None:
        for job in jobs:
            self.fulfill(job)
            self.track(job)
        self.stamp(jobs)
        self.mark(jobs)

    # ---------------------------------------------------------------- fulfill

    def fulfill(self, job: ShipmentJob) -> None:
        action = job.wants("fulfill")
        if action is None or job.state is None or job.picking is None:
            return
        data = action.data
        job.ctx.record_intent(
            {
                "picking": job.picking.id,
                "order": data["order"],
                "before": [str(f.get("id")) for f in job.state.get("fulfillments") or []],
                "lines": data["lines"],
                "tracking": list((data.get("tracking") or {}).get("numbers") or [])
                or [n for n in [(data.get("tracking") or {}).get("number")] if n],
            }
        )
        tracking = _tracking(data.get("tracking"))
        try:
            result = self.shopify.fulfillment_create(
                data["groups"], tracking=tracking, notify_customer=bool(data["notify"])
            )
        except CauseError as exc:
            self._failed(job, action, _lost(exc.cause), "shopify")
            return
        if not result.ok or result.fulfillment is None:
            self._failed(job, action, _refused(result.messages), "shopify")
            return
        crashpoint("fulfillments.after_create")
        fulfillment = dict(result.fulfillment)
        job.fulfillment = fulfillment
        job.audit(
            "shopify",
            "created",
            f"Created fulfillment {fulfillment.get('name')} ({fulfillment.get('id')}) on "
            + action.summary.removeprefix("Fulfil "),
        )
        self.links.unsynced(job, fulfillment)
        job.record(Effect.done(action, "fulfilled", fulfillment=fulfillment.get("id")))

    # ---------------------------------------------------------------- track

    def track(self, job: ShipmentJob) -> None:
        """Tracking added or changed in Odoo after the fulfillment was made."""
        action = job.wants("track")
        if action is None:
            return
        data = action.data
        tracking = _tracking(data.get("tracking"))
        assert tracking is not None
        try:
            result = self.shopify.fulfillment_tracking_update(
                str(data["fulfillment"]), tracking, notify_customer=bool(data["notify"])
            )
        except CauseError as exc:
            self._failed(job, action, exc.cause, "shopify")
            return
        if not result.ok or result.fulfillment is None:
            cause = Cause(
                code="shopify.user_error",
                missing=f"Shopify refused the new tracking: {result.messages}",
                operation="Shopify fulfillmentTrackingInfoUpdate",
                detail=result.messages,
                retry_note="the fulfillment keeps its tracking; nothing else changed",
            )
            self._failed(job, action, cause, "shopify")
            return
        job.fulfillment = {**(job.fulfillment or {}), **dict(result.fulfillment)}
        job.audit("shopify", "tracking", action.summary)
        job.record(Effect.done(action, "tracking set"))

    # ---------------------------------------------------------------- stamp

    def stamp(self, jobs: Sequence[ShipmentJob]) -> None:
        todo = [
            (job, action, stamp_name(self.slug, str(job.fulfillment["id"])))
            for job in jobs
            if (action := job.wants("stamp")) and job.fulfillment and job.picking
        ]
        if not todo:
            return
        try:
            self._stamp(todo)
        except CauseError as exc:
            if exc.cause.kind is Kind.TEMPORARY or len(todo) == 1:
                for job, action, _ in todo:
                    self._failed(job, action, self._stamp_note(exc.cause, job), "odoo")
                return
            for item in todo:  # a data error: narrow it down to its delivery
                try:
                    self._stamp([item])
                except CauseError as one:
                    self._failed(item[0], item[1], self._stamp_note(one.cause, item[0]), "odoo")

    def _stamp(self, todo: list[tuple[ShipmentJob, Action, str]]) -> None:
        names = {name: job.picking.id for job, _, name in todo if job.picking is not None}
        self.odoo.stamp_records(
            "stock.picking", names, record=", ".join(job.picking_name for job, _, _ in todo[:3])
        )
        crashpoint("fulfillments.after_stamp")
        for job, action, name in todo:
            job.audit("odoo", "stamped", f"Stamped {job.picking_name} shopodoo.{name}")
            job.record(Effect.done(action, "stamped", stamp=name))

    @staticmethod
    def _stamp_note(cause: Cause, job: ShipmentJob) -> Cause:
        name = (job.fulfillment or {}).get("name", "the fulfillment")
        note = f"{name} exists in Shopify and is linked; the retry only stamps the picking"
        return Cause.from_dict({**cause.to_dict(), "retry_note": note})

    # ---------------------------------------------------------------- mark

    def mark(self, jobs: Sequence[ShipmentJob]) -> None:
        by_order: dict[str, list[tuple[ShipmentJob, Action]]] = defaultdict(list)
        for job in jobs:
            action = job.wants("mark")
            if action is not None and job.fulfillment and job.order and job.state is not None:
                by_order[job.order.gid].append((job, action))
        orders = list(by_order.items())
        for start in range(0, len(orders), MAX_METAFIELDS):
            self._metafields(orders[start : start + MAX_METAFIELDS])

    def _metafields(
        self, orders: list[tuple[str, list[tuple[ShipmentJob, Action]]]], *, again: bool = True
    ) -> None:
        inputs = [self._marker_input(gid, part) for gid, part in orders]
        try:
            result = self.shopify.metafields_set(inputs)
        except CauseError as exc:
            for _, part in orders:
                for job, action in part:
                    self._failed(job, action, self._mark_note(exc.cause, job), "shopify")
            return
        if not result.ok:
            blamed = _blamed(result.user_errors, len(orders))
            for i, (_, part) in enumerate(orders):
                if blamed and i not in blamed:
                    continue
                cause = _stale(blamed.get(i) or [result.messages])
                for job, action in part:
                    self._failed(job, action, self._mark_note(cause, job), "shopify")
            rest = [item for i, item in enumerate(orders) if blamed and i not in blamed]
            if rest and again:
                self._metafields(rest, again=False)
            return
        for _, part in orders:
            for job, action in part:
                name = (job.fulfillment or {}).get("name")
                job.audit(
                    "shopify",
                    "marked",
                    f"Recorded {job.picking_name} → {name} on Shopify order "
                    f"{job.order.name if job.order else ''} (metafield shopodoo.{MARKER_KEY})",
                )
                job.record(Effect.done(action, "recorded on the order"))

    @staticmethod
    def _marker_input(gid: str, part: list[tuple[ShipmentJob, Action]]) -> dict[str, Any]:
        current, digest = marker_of(part[0][0].state)
        for job, _ in part:
            assert job.picking is not None and job.fulfillment is not None
            current[str(job.picking.id)] = {
                "picking": job.picking.name,
                "fulfillment": job.fulfillment.get("id"),
                "name": job.fulfillment.get("name"),
                "tracking": job.picking.tracking_numbers,
            }
        return {
            "ownerId": gid,
            "namespace": "shopodoo",
            "key": MARKER_KEY,
            "type": "json",
            "value": json.dumps(current, sort_keys=True),
            "compareDigest": digest,
        }

    @staticmethod
    def _mark_note(cause: Cause, job: ShipmentJob) -> Cause:
        name = (job.fulfillment or {}).get("name", "the fulfillment")
        note = (
            f"{name} exists in Shopify, is linked and stamped; the retry only records the "
            "picking on the order"
        )
        return Cause.from_dict({**cause.to_dict(), "retry_note": note})

    # ---------------------------------------------------------------- failures

    @staticmethod
    def _failed(job: ShipmentJob, action: Action, cause: Cause, system: str) -> None:
        if not job.going:
            return  # an earlier action already failed; its cause is the job's
        cause = cause if cause.record else cause.with_record(job.label)
        job.audit(system, "failed", f"{cause.operation or action.kind}: {cause.missing}")
        job.record(Effect.failed(action, cause))


def _tracking(data: Any) -> Tracking | None:
    if not isinstance(data, dict):
        return None
    numbers = tuple(data.get("numbers") or ())
    return Tracking(
        number=data.get("number") or (numbers[0] if numbers else None),
        company=data.get("company"),
        url=data.get("url"),
        numbers=numbers,
        urls=tuple(data.get("urls") or ()),
    )


def _lost(cause: Cause) -> Cause:
    if cause.code != "shopify.outcome_unknown":
        return Cause.from_dict(
            {**cause.to_dict(), "retry_note": "the retry reads the order's fulfillments first"}
        )
    return Cause.from_dict(
        {
            **cause.to_dict(),
            "retry_note": "Shopify may have made the fulfillment: the retry reads the order "
            "first and adopts it (by its tracking number, or the lines sent) — it never sends "
            "the same delivery twice",
        }
    )


def _refused(messages: str) -> Cause:
    """Shopify refused the call: the order changed since it was read (a person fulfilled or
    held it meanwhile); the retry reads it again."""
    return Cause(
        code="fulfillment.refused",
        missing=f"Shopify refused the fulfillment: {messages}",
        operation="Shopify fulfillmentCreate",
        detail=messages,
        retry_note="nothing was fulfilled by this attempt; the retry reads the order again",
    )


def _stale(messages: list[str]) -> Cause:
    text = "; ".join(messages)
    stale = "updated since it was loaded" in text
    return Cause(
        code="fulfillment.refused" if stale else "shopify.user_error",
        kind=Kind.TEMPORARY if stale else None,
        missing=(
            "another worker recorded a delivery of this order at the same moment"
            if stale
            else f"Shopify refused the order's fulfillments metafield: {text}"
        ),
        operation="Shopify metafieldsSet",
        detail=text,
    )


def _blamed(errors: Any, size: int) -> dict[int, list[str]]:
    """userErrors by the index of the metafield they name (``{}``: none named one)."""
    blamed: dict[int, list[str]] = {}
    for error in errors:
        index = next((int(f) for f in error.field or () if str(f).isdigit()), None)
        if index is None or index >= size:
            return {}
        blamed.setdefault(index, []).append(error.message)
    return blamed
