"""The link stage of the orders flow: the only code that writes its links.

* ``adopted`` / ``created``: right after the match stage found our stamp, or right after the
  create — linked, "not synced", with what Odoo holds as the lines we last wrote;
* ``lines_written``: right after a line update — still not synced, with the new lines' digest
  (a failure after this point must not read as a person's edit);
* ``settle``: "synced" at the order's version — our own version when the write-back read it
  back — only when every action of the plan took effect, or the plan found nothing to do.

Customer links say only who is who; a contact already linked to another Shopify customer stays
with the first (the order still uses it).
"""

from __future__ import annotations

from shopodoo_console.engine.flows import ShopRef
from shopodoo_console.workflows.orders.jobs import OrderJob
from shopodoo_console.workflows.orders.lines import lines_digest
from shopodoo_console.workflows.pipeline import Linked, LinkTarget, LinkWriter, Synced


class OrderLinks:
    def __init__(self, writer: LinkWriter, shop: ShopRef, include_taxes: bool) -> None:
        self.writer = writer
        self.shop = shop
        self.include_taxes = include_taxes

    def _target(self, job: OrderJob) -> LinkTarget:
        assert job.order is not None and job.odoo_id is not None
        return LinkTarget(
            self.shop.id, "order", job.order.id, "sale.order", job.odoo_id, job.odoo_name
        )

    def adopted(self, job: OrderJob) -> None:
        """Found by its stamp: ours, linked now, brought in step by the rest of the plan."""
        assert job.match is not None and job.match.odoo is not None
        digest = lines_digest(job.match.odoo.lines, self.include_taxes)
        self._take(job, self.writer.unsynced(self._target(job), digest=digest))
        job.audit("console", "linked", f"Linked {job.order_label} ↔ Odoo {job.name} (adopted)")

    def created(self, job: OrderJob, lines: list[dict]) -> None:
        digest = lines_digest(lines, self.include_taxes)
        self._take(job, self.writer.unsynced(self._target(job), digest=digest))
        job.audit("console", "linked", f"Linked {job.order_label} ↔ Odoo {job.name}")
        self.customer(job)

    def lines_written(self, job: OrderJob, lines: list[dict]) -> None:
        digest = lines_digest(lines, self.include_taxes)
        self._take(job, self.writer.unsynced(self._target(job), digest=digest))

    def settle(self, job: OrderJob, own_version: str | None) -> None:
        """In step with Shopify: the version read back after our write-back (our own), else
        the version fetched, with the digest of what the flow read. Odoo's lines are the plan's
        now (written, or found already there after a lost answer): they are what we wrote."""
        assert job.order is not None and job.plan is not None
        state = Synced(own_version or job.order.updated_at, job.order.digest())
        lines = job.plan.extra.get("lines")
        digest = lines_digest(lines, self.include_taxes) if lines is not None else None
        self._take(job, self.writer.synced(self._target(job), state, digest=digest))

    def customer(self, job: OrderJob) -> None:
        order = job.order
        if order is None or order.customer is None or job.customer_id is None:
            return
        target = LinkTarget(
            self.shop.id,
            "customer",
            order.customer.id,
            "res.partner",
            job.customer_id,
            order.customer.name,
        )
        linked = self.writer.identity(target)
        if linked.row is None:
            # Two Shopify customers matched one contact (a shared phone, an e-mail moved to a
            # new account): the first keeps the link; this order still uses the contact.
            other = linked.taken_by.shopify_id if linked.taken_by else "another customer"
            job.audit(
                "console",
                "customer_shared",
                f"Odoo contact {job.customer_id} is already linked to another Shopify customer "
                f"({other}); not linking {order.customer.id}",
            )

    @staticmethod
    def _take(job: OrderJob, linked: Linked) -> None:
        """Someone linked this order to another sale order first: carry on with theirs."""
        if linked.row is not None and not linked.ours:
            job.audit(
                "console",
                "link_adopted",
                f"{job.order_label} was linked to Odoo sale order {linked.row.odoo_id} by "
                f"another worker first; carrying on with that one (not {job.odoo_id})",
            )
            job.odoo_id = linked.row.odoo_id
            job.odoo_name = linked.row.label or f"sale order {linked.row.odoo_id}"
