"""The link stage of the fulfillments flow: the only code that writes its links.

A delivery and its fulfillment are linked one to one (kind ``fulfillment``: the Shopify
fulfillment ↔ the Odoo ``stock.picking``; the link table is unique on both sides):

* ``unsynced`` — the moment the fulfillment exists (created, or found and adopted), before
  anything else can fail;
* ``settle`` — "synced" at the delivery's version, with a digest of what the flow read of it,
  only when every action of the plan took effect (stamped, recorded on the order).

When the fulfillment is already linked to another delivery, or the delivery to another
fulfillment, the first link stands and the job says so.
"""

from __future__ import annotations

from typing import Any

from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.workflows.fulfillments.jobs import ShipmentJob
from shopodoo_console.workflows.fulfillments.plan import picking_digest, version_of
from shopodoo_console.workflows.pipeline import Linked, LinkTarget, LinkWriter, Synced

KIND = "fulfillment"
MODEL = "stock.picking"


class ShipmentLinks:
    def __init__(self, writer: LinkWriter, shop: ShopRef) -> None:
        self.writer = writer
        self.shop = shop

    def _target(self, job: ShipmentJob, fulfillment: dict[str, Any]) -> LinkTarget:
        assert job.picking is not None
        label = f"{job.picking.name} → {fulfillment.get('name') or fulfillment.get('id')}"
        return LinkTarget(self.shop.id, KIND, str(fulfillment["id"]), MODEL, job.picking.id, label)

    def unsynced(self, job: ShipmentJob, fulfillment: dict[str, Any]) -> None:
        linked = self.writer.unsynced(self._target(job, fulfillment))
        self._report(job, fulfillment, linked)

    def settle(self, job: ShipmentJob) -> None:
        if job.picking is None or job.fulfillment is None:
            return
        state = Synced(version_of(job.picking), picking_digest(job.picking))
        self._report(
            job, job.fulfillment, self.writer.synced(self._target(job, job.fulfillment), state)
        )

    @staticmethod
    def _report(job: ShipmentJob, fulfillment: dict[str, Any], linked: Linked) -> None:
        name = fulfillment.get("name") or fulfillment.get("id")
        if linked.row is None:
            other = linked.taken_by.shopify_id if linked.taken_by else "another fulfillment"
            job.audit(
                "console",
                "link_kept",
                f"{job.picking_name} is already linked to {other}; not linking {name}",
            )
        elif not linked.ours:
            job.audit(
                "console",
                "link_kept",
                f"{name} is already linked to Odoo picking {linked.row.odoo_id}; "
                f"not linking {job.picking_name}",
            )
        elif linked.row.last_version is None:
            job.audit("console", "linked", f"Linked {job.picking_name} ↔ {name}")
