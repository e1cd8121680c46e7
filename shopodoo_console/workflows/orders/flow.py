"""The orders flow: every Shopify order becomes exactly one Odoo sale order (DESIGN §3, §7).

poll → one job per (shop, order, ``updatedAt``); handle a batch of jobs →
fetch the orders fresh → find what already exists (local link, then the stamp in Odoo) →
plan what is missing (pure) → apply it (stamped creates, so a lost answer is found again) →
link, confirm, write the Odoo reference back to Shopify. Every step leaves an audit entry, so
a job's timeline tells what happened in each system and why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shopodoo_console.causes import Cause, CauseError, Kind
from shopodoo_console.config import ShopConfig
from shopodoo_console.engine.crashpoints import crashpoint
from shopodoo_console.engine.flows import (
    AwaitApproval,
    Change,
    Done,
    Failed,
    JobContext,
    Outcome,
    Page,
    ShopRef,
    Skipped,
)
from shopodoo_console.odoo import OdooClient
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.store import links
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.connections import Connections
from shopodoo_console.workflows.orders.matching import (
    CountryCache,
    Lookups,
    Matcher,
    ProductCache,
    address_stamp,
    customer_stamp,
    order_stamp,
)
from shopodoo_console.workflows.orders.order import ShopifyOrder, parse_order
from shopodoo_console.workflows.orders.plan import NewContact, OrderPlan, Planner, lines_digest
from shopodoo_console.workflows.orders.settings import OrdersSettings

log = logging.getLogger(__name__)

NAME = "orders"
OPEN_STATES = ("draft", "sent")
METAFIELD_KEY = "odoo_id"

Result = Outcome | Cause


@dataclass
class Work:
    """One job of the batch as it goes through the steps."""

    ctx: JobContext
    order: ShopifyOrder | None = None
    plan: OrderPlan | None = None
    odoo_id: int | None = None
    odoo_name: str = ""
    how: str = ""  # "created", "adopted", ...
    result: Result | None = None

    @property
    def open(self) -> bool:
        return self.result is None


class OrdersFlow:
    name = NAME
    stream = NAME
    batch_size = 25  # one nodes() fetch, one stamp lookup, one metafieldsSet per batch

    def __init__(self, store: Store, connections: Connections) -> None:
        self.store = store
        self.connections = connections
        self.products = ProductCache()
        self.countries = CountryCache()

    def close(self) -> None:
        self.connections.close()

    # ================================================================ poll

    def poll(self, shop: ShopRef, since: str | None) -> Iterable[Page]:
        config = self._config(shop)
        settings = OrdersSettings.from_shop(config)
        client = self.connections.shopify(config)
        start = (
            datetime.fromisoformat(since.replace("Z", "+00:00"))
            if since
            else datetime.now(UTC) - timedelta(days=settings.initial_days)
        )
        return self._pages(client, start, timedelta(minutes=settings.overlap_minutes))

    @staticmethod
    def _pages(client: ShopifyClient, start: datetime, overlap: timedelta) -> Iterator[Page]:
        for stamps in client.orders_updated_since(start, overlap):
            if not stamps:
                continue
            changes = [
                Change(
                    source_id=s.gid,
                    version=_iso(s.updated_at),
                    label=f"Shopify order {s.name}",
                    payload={"order_id": s.gid, "name": s.name},
                )
                for s in stamps
            ]
            newest = max(s.updated_at for s in stamps)
            yield Page(changes=changes, cursor=_iso(newest))

    # ================================================================ handle

    def handle_batch(self, contexts: list[JobContext]) -> list[Outcome]:
        """One outcome per job; a failure is ``Failed(cause)``, never an exception."""
        try:
            results = self._handle_batch(contexts)
        except CauseError as exc:  # the whole batch failed (a client, the shop's config)
            return [Failed(exc.cause.with_record(c.job.label)) for c in contexts]
        return [Failed(r) if isinstance(r, Cause) else r for r in results]

    def _handle_batch(self, contexts: list[JobContext]) -> list[Result]:
        shop = contexts[0].shop
        config = self._config(shop)
        settings = OrdersSettings.from_shop(config)
        shopify = self.connections.shopify(config)
        odoo = self.connections.odoo()
        works = [Work(ctx) for ctx in contexts]
        self._fetch(shopify, works)
        batch = _Batch(self, shop, config, settings, odoo, shopify, works)
        batch.run()
        return [
            w.result
            if w.result is not None
            else Cause(
                code="engine.handler_crashed",
                record=w.ctx.job.label,
                missing="the orders flow finished without an outcome for this order",
            )
            for w in works
        ]

    def _fetch(self, shopify: ShopifyClient, works: list[Work]) -> None:
        """Fresh data for every job in one ``nodes(ids:)`` request (DESIGN §3.3, §8)."""
        ids = [w.ctx.job.payload.get("order_id") or w.ctx.job.source_id for w in works]
        fetched = shopify.orders_by_ids(ids, document="OrdersForSync")
        for work, gid in zip(works, ids, strict=True):
            raw = fetched.get(gid)
            if raw is None:
                work.result = Cause(
                    code="shopify.not_found",
                    record=work.ctx.job.label,
                    missing=f"Shopify no longer returns {gid}: it was deleted, or it is older "
                    "than 60 days and the app lacks the read_all_orders scope",
                    retry_note="nothing was written",
                    fix="Resolve the job if the order was "
                    "deleted on purpose; otherwise grant read_all_orders and retry.",
                )
                continue
            try:
                order = parse_order(raw, work.ctx.job.label)
            except CauseError as exc:
                work.result = exc.cause
                continue
            work.order = order
            work.ctx.audit(
                "shopify",
                "fetched",
                f"Fetched {order.label}: {len(order.lines)} line(s), "
                f"{(order.financial_status or 'no payment').lower()}"
                + (", cancelled" if order.cancelled else "")
                + f", updated {order.updated_at}",
            )

    @staticmethod
    def _config(shop: ShopRef) -> ShopConfig:
        if shop.config is None:
            raise CauseError(
                Cause(
                    code="engine.flow_unknown",
                    record=shop.domain,
                    missing=f"the shop {shop.domain} is not in the config",
                )
            )
        return shop.config


class _Batch:
    """One batch of order jobs of one shop, step by step."""

    def __init__(
        self,
        flow: OrdersFlow,
        shop: ShopRef,
        config: ShopConfig,
        settings: OrdersSettings,
        odoo: OdooClient,
        shopify: ShopifyClient,
        works: list[Work],
    ) -> None:
        self.flow = flow
        self.store = flow.store
        self.shop = shop
        self.config = config
        self.settings = settings
        self.odoo = odoo
        self.shopify = shopify
        self.works = works
        self.company_id = config.odoo_company_id
        self.matcher = Matcher(
            self.store, odoo, shop, self.company_id, flow.products, flow.countries
        )
        self.planner = Planner(
            shop, settings, self.company_id, config.odoo_warehouse_id, config.odoo_pricelist_id
        )
        self.include_taxes = settings.taxes == "mapped"
        self.contact_ids: dict[str, int] = {}

    def context(self) -> dict[str, Any] | None:
        return {"allowed_company_ids": [self.company_id]} if self.company_id else None

    def live(self) -> list[Work]:
        return [w for w in self.works if w.open and w.order is not None]

    # ---------------------------------------------------------------- the story

    def run(self) -> None:
        live = self.live()
        if not live:
            return
        lookups = self.matcher.known([w.order for w in live if w.order], self._stamp_names)
        existing, new = [], []
        for work in live:
            assert work.order is not None
            link = lookups.order_links.get(work.order.id)
            stamp = lookups.stamps.get(order_stamp(self.shop, work.order))
            if link is not None:
                work.odoo_id, work.how = link.odoo_id, "linked"
                existing.append(work)
            elif stamp is not None:
                work.odoo_id, work.how = stamp[1], "adopted"
                existing.append(work)
            else:
                new.append(work)
        if self.settings.skip_test_orders:
            for work in [w for w in new if w.order and w.order.test]:
                work.result = Skipped(
                    "A test order (Shopify's test gateway): not synced. Set "
                    "options.skip_test_orders = false to sync test orders."
                )
                new.remove(work)
        unchanged = [w for w in existing if self._unchanged(w, lookups)]
        for work in unchanged:
            work.result = Skipped(f"Unchanged since last sync ({work.odoo_name})")
        existing = [w for w in existing if w not in unchanged]
        self.matcher.journals([w.order for w in new + existing if w.order], lookups)
        self.matcher.resolve(
            [w.order for w in new + existing if w.order and w.how != "adopted"], lookups
        )
        self._plan(new, lookups)
        self._create(new)
        self._existing(existing, lookups)
        self._write_back([w for w in self.works if w.odoo_id and w.order is not None])

    def _unchanged(self, work: Work, lookups: Lookups) -> bool:
        """Linked, and nothing the flow uses changed: typically our own write-back coming
        back as a new ``updatedAt``. Ends here, without a single Odoo call."""
        assert work.order is not None
        link = lookups.order_links.get(work.order.id)
        if link is None or link.last_version != work.order.digest():
            return False
        work.odoo_name = link.label or f"sale order {link.odoo_id}"
        return True

    def _stamp_names(self, orders: list[ShopifyOrder]) -> list[str]:
        names = []
        for order in orders:
            names.append(order_stamp(self.shop, order))
            owner = order.customer.legacy_id if order.customer else "guest"
            if order.customer:
                names.append(customer_stamp(self.shop, order.customer.legacy_id))
            for role, address in (("invoice", order.billing), ("delivery", order.shipping_address)):
                if address is not None:
                    names.append(address_stamp(self.shop, owner, role, address))
        return names

    # ---------------------------------------------------------------- plan (new orders)

    def _plan(self, works: list[Work], lookups: Lookups) -> None:
        for work in works:
            assert work.order is not None
            plan = self.planner.plan(work.order, lookups)
            if isinstance(plan, Cause):
                work.result = plan
                work.ctx.audit("console", "blocked", plan.missing)
                continue
            if self.config.mode(NAME) == "review":
                approved = work.ctx.job.plan if work.ctx.job.approved else None
                if approved is None:
                    work.result = AwaitApproval(plan.to_dict(), plan.summary)
                    work.ctx.audit("console", "planned", f"Waiting for approval: {plan.summary}")
                    continue
                if _comparable(approved) != plan.comparable():
                    work.result = AwaitApproval(
                        plan.to_dict(), "Changed since approval: " + plan.summary
                    )
                    work.ctx.audit(
                        "console",
                        "replanned",
                        "The order changed after approval; new plan: " + plan.summary,
                    )
                    continue
            work.plan = plan

    # ---------------------------------------------------------------- create (new orders)

    def _create(self, works: list[Work]) -> None:
        ready = [w for w in works if w.open and w.plan is not None]
        if not ready:
            return
        for work in ready:
            assert work.plan is not None
            work.ctx.record_intent(
                {
                    "create": "sale.order",
                    "stamp": work.plan.stamp,
                    "contacts": [c.stamp for c in work.plan.contacts],
                }
            )
        contact_ids = self.contact_ids = self._create_contacts(ready)
        items: list[tuple[str, dict[str, Any], Work]] = []
        for work in ready:
            if not work.open:
                continue
            assert work.plan is not None
            values = self._order_values(work.plan, contact_ids)
            if values is None:
                continue
            items.append((work.plan.stamp, values, work))
        created = self._stamped_create("sale.order", items)
        crashpoint("orders.after_odoo_create")
        made = [(stamp, work) for stamp, _, work in items if stamp in created]
        names = self._names([created[stamp] for stamp, _ in made])
        for stamp, work in made:
            assert work.plan is not None and work.order is not None
            work.odoo_id, work.how = created[stamp], "created"
            work.odoo_name = names.get(work.odoo_id, {}).get("name", f"sale order {work.odoo_id}")
            work.ctx.audit(
                "odoo",
                "created",
                f"Created {work.odoo_name} for {work.order.name} "
                f"({len(work.plan.lines)} line(s)) with stamp shopodoo.{stamp}",
                odoo_id=work.odoo_id,
            )
        self._confirm([w for _, w in made if w.plan and w.plan.confirm], names)
        self._register_payments(
            [
                (w, self._customer_id(w), w.plan.payments)
                for _, w in made
                if w.open and w.plan and w.plan.payments
            ]
        )
        for _, work in made:
            # Linked after the confirmation, so a crash before this point is resumed through
            # the stamp (adopt, then confirm); a failed confirmation leaves the link marked
            # "not synced" so the retry does not mistake the order for unchanged.
            assert work.plan is not None
            self._link(work, work.plan.lines, synced=work.open)
        crashpoint("orders.after_link")
        for _, work in made:
            if work.open:
                assert work.plan is not None
                confirmed = " and confirmed it" if work.plan.confirm else ""
                work.result = Done(
                    f"Created {work.odoo_name}{confirmed}: {work.plan.summary}",
                    {"odoo_id": work.odoo_id, "odoo_name": work.odoo_name},
                )

    def _create_contacts(self, works: list[Work]) -> dict[str, int]:
        """Customers first, then their addresses (which need the parent's id)."""
        wanted: dict[str, tuple[NewContact, list[Work]]] = {}
        for work in works:
            assert work.plan is not None
            for contact in work.plan.contacts:
                wanted.setdefault(contact.stamp, (contact, []))[1].append(work)
        ids: dict[str, int] = {}
        for parents in (True, False):
            items: list[tuple[str, dict[str, Any], Work]] = []
            for stamp, (contact, owners) in wanted.items():
                if (contact.parent is None) != parents:
                    continue
                if not any(w.open for w in owners):
                    continue
                values = dict(contact.values)
                if contact.parent is not None:
                    if contact.parent not in ids:
                        continue
                    values["parent_id"] = ids[contact.parent]
                elif contact.parent_id is not None:
                    values["parent_id"] = contact.parent_id
                items.extend((stamp, values, owner) for owner in owners[:1])
            made = self._stamped_create("res.partner", items, also=wanted)
            for stamp, pid in made.items():
                ids[stamp] = pid
                contact, owners = wanted[stamp]
                for owner in owners:
                    owner.ctx.audit(
                        "odoo",
                        "contact_created",
                        f"Contact for {contact.label or contact.values.get('name')} "
                        f"ready in Odoo (id {pid}, stamp shopodoo.{stamp})",
                        odoo_id=pid,
                    )
        return ids

    def _stamped_create(
        self,
        model: str,
        items: list[tuple[str, dict[str, Any], Work]],
        also: dict[str, tuple[NewContact, list[Work]]] | None = None,
    ) -> dict[str, int]:
        """Stamped creates in one call; on a data error, one by one to find the culprit.

        A temporary error (Odoo down, answer lost) fails every job of the batch: their retry
        looks the stamps up first, so whatever Odoo did commit is adopted, not repeated.
        """
        if not items:
            return {}

        def fail(stamp: str, work: Work, cause: Cause) -> None:
            owners = also[stamp][1] if also and stamp in also else [work]
            for owner in owners:
                if owner.open:
                    owner.result = cause.with_record(owner.ctx.job.label)
                    owner.ctx.audit(
                        "odoo", "failed", f"{cause.operation or model}: {cause.missing}"
                    )

        unique = list({stamp: (stamp, values, work) for stamp, values, work in items}.values())
        try:
            return self.odoo.create_stamped_many(
                model,
                [(s, v) for s, v, _ in unique],
                context=self.context(),
                record=", ".join(w.ctx.job.label for _, _, w in unique[:3]),
            )
        except CauseError as exc:
            if exc.cause.kind is Kind.TEMPORARY or len(unique) == 1:
                for stamp, _, work in unique:
                    fail(stamp, work, exc.cause)
                return {}
        created: dict[str, int] = {}
        for stamp, values, work in unique:
            try:
                created.update(
                    self.odoo.create_stamped_many(
                        model, [(stamp, values)], context=self.context(), record=work.ctx.job.label
                    )
                )
            except CauseError as exc:
                fail(stamp, work, exc.cause)
        return created

    def _order_values(
        self, plan: OrderPlan, contacts: dict[str, int], *, lines_only: bool = False
    ) -> dict[str, Any] | None:
        """The sale order's values; ``lines_only`` for an update, which never touches the
        partners (a changed address is not worth a second contact on a live order)."""
        tax_field = self.odoo.field_name("sale.order.line", "taxes") or "tax_id"
        lines = []
        for line in plan.lines:
            values = {k: v for k, v in line.items() if k != "tax_ids"}
            if "tax_ids" in line:
                values[tax_field] = [(6, 0, line["tax_ids"])]
            lines.append((0, 0, values))
        if lines_only:
            return {"order_line": lines}

        def partner(ref: dict[str, Any]) -> int | None:
            return ref["id"] if "id" in ref else contacts.get(ref["stamp"])

        customer, invoice, delivery = (
            partner(plan.customer),
            partner(plan.invoice),
            partner(plan.delivery),
        )
        if customer is None or invoice is None or delivery is None:
            return None  # the contact's creation failed; its cause is already recorded
        return {
            **plan.header,
            "partner_id": customer,
            "partner_invoice_id": invoice,
            "partner_shipping_id": delivery,
            "order_line": lines,
        }

    def _names(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = self.odoo.read("sale.order", ids, ["name", "state"], context=self.context())
        return {int(r["id"]): r for r in rows}

    def _link(self, work: Work, lines: list[dict[str, Any]], *, synced: bool = True) -> None:
        assert work.order is not None and work.odoo_id is not None
        self._save(work, lines, work.order.digest() if synced else "")
        if work.order.customer and work.plan is not None:
            ref = work.plan.customer
            customer_id = ref.get("id") or self.contact_ids.get(ref.get("stamp", ""))
            taken = customer_id and links.find_link_by_odoo(
                self.store, self.shop.id, "customer", "res.partner", int(customer_id)
            )
            if taken and taken.shopify_id != work.order.customer.id:
                # Two Shopify customers matched one contact (a shared phone, an e-mail moved
                # to a new account): keep the first link; this order still uses the contact.
                work.ctx.audit(
                    "console",
                    "customer_shared",
                    f"Odoo contact {customer_id} is already linked to another Shopify "
                    f"customer ({taken.shopify_id}); not linking {work.order.customer.id}",
                )
            elif customer_id:
                links.save_link(
                    self.store,
                    self.shop.id,
                    "customer",
                    work.order.customer.id,
                    "res.partner",
                    int(customer_id),
                    label=work.order.customer.name,
                )
        work.ctx.audit(
            "console",
            "linked",
            f"Linked {work.order.label} ↔ Odoo {work.odoo_name or work.odoo_id}",
        )

    def _confirm(self, works: list[Work], names: dict[int, dict[str, Any]]) -> None:
        todo = [
            w for w in works if names.get(w.odoo_id or 0, {}).get("state", "draft") in OPEN_STATES
        ]
        if not todo:
            return
        ids = [w.odoo_id for w in todo if w.odoo_id]
        try:
            self.odoo.call(
                "sale.order",
                "action_confirm",
                ids,
                context=self.context(),
                record=", ".join(w.ctx.job.label for w in todo[:3]),
            )
        except CauseError as exc:
            if len(todo) == 1 or exc.cause.kind is Kind.TEMPORARY:
                for work in todo:
                    self._confirm_failed(work, exc.cause)
                return
            for work in todo:
                try:
                    self._confirm_one(work)
                except CauseError as one:
                    self._confirm_failed(work, one.cause)
            return
        for work in todo:
            self._confirmed(work)

    def _customer_id(self, work: Work) -> int | None:
        assert work.plan is not None
        ref = work.plan.customer
        return ref.get("id") or self.contact_ids.get(ref.get("stamp", ""))

    def _register_payments(
        self, items: list[tuple[Work, int | None, list[dict[str, Any]]]]
    ) -> None:
        """Each captured Shopify payment as a posted customer payment in its gateway's
        journal. Stamped per transaction: a retry, a crash or a lost answer finds the payment
        already there, so money is never recorded twice. Reconciling it with the invoice is
        left to Odoo's accounting (it matches by partner and amount)."""
        memo = self.odoo.field_name("account.payment", "memo") or "ref"
        batch: list[tuple[str, dict[str, Any], Work]] = []
        for work, partner, payments in items:
            if partner is None:
                continue
            for payment in payments:
                values = {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner,
                    "amount": payment["amount"],
                    "journal_id": payment["journal_id"],
                    "date": payment["date"],
                    memo: payment["memo"],
                }
                if self.company_id:
                    values["company_id"] = self.company_id
                batch.append((payment["stamp"], values, work))
        if not batch:
            return
        made = self._stamped_create("account.payment", batch)
        if not made:
            return
        rows = self.odoo.read(
            "account.payment", sorted(set(made.values())), ["state"], context=self.context()
        )
        drafts = [int(r["id"]) for r in rows if r.get("state") == "draft"]
        if drafts:
            try:
                self.odoo.call(
                    "account.payment",
                    "action_post",
                    drafts,
                    context=self.context(),
                    record="customer payments",
                )
            except CauseError as exc:
                for _, _, work in batch:
                    if work.open:
                        work.result = exc.cause.with_record(work.ctx.job.label)
                return
        for stamp, values, work in batch:
            if stamp in made and work.open:
                work.ctx.audit(
                    "odoo",
                    "payment",
                    f"Payment of {values['amount']:.2f} "
                    f"({values[memo]}) registered and posted (id {made[stamp]})",
                    odoo_id=made[stamp],
                )

    def _confirm_one(self, work: Work) -> None:
        assert work.odoo_id is not None
        self.odoo.call(
            "sale.order",
            "action_confirm",
            [work.odoo_id],
            context=self.context(),
            record=work.ctx.job.label,
        )
        self._confirmed(work)

    def _confirmed(self, work: Work) -> None:
        reason = "paid in Shopify" if self.settings.confirm == "paid" else "shop rule"
        work.ctx.audit("odoo", "confirmed", f"Confirmed {work.odoo_name} ({reason})")

    def _confirm_failed(self, work: Work, cause: Cause) -> None:
        work.result = Cause.from_dict(
            {
                **cause.with_record(work.ctx.job.label).to_dict(),
                "retry_note": f"{work.odoo_name} exists and is linked; the retry only confirms it",
            }
        )
        work.ctx.audit("odoo", "failed", f"Could not confirm {work.odoo_name}: {cause.missing}")

    # ---------------------------------------------------------------- existing orders

    def _existing(self, works: list[Work], lookups: Lookups) -> None:
        if not works:
            return
        ids = sorted({w.odoo_id for w in works if w.odoo_id})
        fields = ["name", "state", "order_line", "picking_ids", "partner_id"]
        locked = self.odoo.field_name("sale.order", "locked")
        if locked:
            fields.append(locked)
        # search_read, not read: a deleted order must come back as absent, not as an error
        # that would fail the whole batch.
        rows = {
            int(r["id"]): r
            for r in self.odoo.search_read(
                "sale.order",
                [("id", "in", ids)],
                fields,
                context={**(self.context() or {}), "active_test": False},
            )
        }
        for work in works:
            assert work.order is not None and work.odoo_id is not None
            row = rows.get(work.odoo_id)
            if row is None:
                work.result = self._deleted(work)
                work.odoo_id = None
                continue
            work.odoo_name = str(row.get("name") or f"sale order {work.odoo_id}")
            try:
                self._update(work, row, lookups)
            except CauseError as exc:
                work.result = exc.cause.with_record(work.ctx.job.label)
                work.ctx.audit("odoo", "failed", exc.cause.missing)

    def _deleted(self, work: Work) -> Cause:
        assert work.order is not None
        where = "linked" if work.how == "linked" else "stamped"
        work.ctx.audit(
            "odoo",
            "missing",
            f"Odoo sale order {work.odoo_id}, {where} to {work.order.name}, no longer exists",
        )
        return Cause(
            code="odoo.record_deleted",
            record=f"{work.order.label} ↔ Odoo sale order {work.odoo_id}",
            missing=f"the Odoo sale order {work.odoo_id} that this Shopify order is {where} to "
            "no longer exists (deleted in Odoo)",
            fix=f"If it was deleted on purpose, resolve the job. To create it again, forget the "
            f"link (`shopodoo links forget {self.shop.domain} order {work.order.id}`) and "
            "retry.",
            retry_note="retrying as it is would fail again: the console never re-creates a "
            "record a person deleted without being told to",
        )

    def _is_locked(self, row: dict[str, Any]) -> bool:
        locked = self.odoo.field_name("sale.order", "locked")
        return bool(locked and row.get(locked))

    def _gate(self, work: Work, action: dict[str, Any], summary: str) -> bool:
        """Review mode: a change to an existing order waits for approval like a create, and
        runs only if what was approved still holds against fresh data."""
        if self.config.mode(NAME) != "review":
            return True
        approved = work.ctx.job.plan if work.ctx.job.approved else None
        if approved is not None and _comparable(approved) == _comparable(action):
            return True
        prefix = "Changed since approval: " if approved is not None else ""
        work.result = AwaitApproval({**action, "summary": summary}, prefix + summary)
        work.ctx.audit("console", "planned", f"Waiting for approval: {summary}")
        return False

    def _update(self, work: Work, row: dict[str, Any], lookups: Lookups) -> None:
        """A new version of a linked order: apply what the console owns, if it still may."""
        order = work.order
        assert order is not None and work.odoo_id is not None
        state = str(row.get("state") or "draft")
        if work.how == "adopted":
            self._adopt(work, row, state, lookups)
            return
        link = lookups.order_links.get(order.id)
        assert link is not None
        if order.cancelled:
            self._cancel(work, state, row)
            return
        plan = self.planner.plan(order, lookups)
        if isinstance(plan, Cause):
            work.result = plan
            return
        editable = state in OPEN_STATES and not self._is_locked(row)
        wanted = plan.lines_digest(self.include_taxes)
        current = self._odoo_lines(row) if wanted != link.digest else None
        update = False
        if current is not None:
            now = lines_digest(current, self.include_taxes)
            if now == wanted:
                # Our own earlier write landed (its answer was lost, or we stopped before
                # saving the link): nothing to write, and nobody else edited anything.
                self._save(work, plan.lines, link.last_version or "")
            elif now != link.digest:
                work.result = self._edited_in_odoo(work, plan)
                return
            elif not editable:
                work.result = self._locked(work, plan, state)
                return
            else:
                update = True
        confirm = plan.confirm and editable
        pay = bool(plan.payments) and state != "cancel"
        if not update and not confirm and not pay:
            self._save(work, None, order.digest())
            work.result = Skipped(f"Nothing the sync uses changed ({work.odoo_name})")
            return
        what = ", ".join(
            w
            for w, on in (
                ("update the lines", update),
                ("confirm", confirm),
                ("register payments", pay),
            )
            if on
        )
        summary = f"{work.odoo_name} for {order.name}: {what}" + (
            ": " + "; ".join(plan.details[:5]) if update else ""
        )
        action = {
            "action": "update",
            "odoo_id": work.odoo_id,
            "lines": plan.lines if update else None,
            "confirm": confirm,
            "payments": [p["stamp"] for p in plan.payments] if pay else [],
        }
        if not self._gate(work, action, summary):
            return
        notes = []
        if update:
            assert current is not None
            work.ctx.record_intent(
                {"update": "sale.order", "odoo_id": work.odoo_id, "lines_digest": wanted}
            )
            self.odoo.write(
                "sale.order",
                [work.odoo_id],
                {"order_line": self._replace_lines(plan, current)},
                context=self.context(),
                record=order.label,
            )
            # Saved at once: a failure after this point must not read as a person's edit.
            self._save(work, plan.lines, link.last_version or "")
            work.ctx.audit(
                "odoo",
                "updated",
                f"Updated the lines of {work.odoo_name} from "
                f"{order.name}: " + "; ".join(plan.details[:5]),
            )
            notes.append("lines updated")
        if confirm:
            self._confirm_one(work)
            notes.append("confirmed")
        if pay:
            self._register_payments([(work, _m2o_id(row.get("partner_id")), plan.payments)])
            if not work.open:
                return  # its cause is recorded; the link stays "not synced" for the retry
            notes.append("payments recorded")
        self._save(work, None, order.digest())
        work.result = Done(
            f"{work.odoo_name}: " + ", ".join(notes),
            {"odoo_id": work.odoo_id, "odoo_name": work.odoo_name},
        )

    def _replace_lines(self, plan: OrderPlan, current: list[dict[str, Any]]) -> list[Any]:
        """Remove the product lines the console wrote and add the new ones; section and note
        lines a person added stay where they are."""
        values = self._order_values(plan, {}, lines_only=True)
        assert values is not None
        return [(2, line["id"], 0) for line in current] + values["order_line"]

    def _edited_in_odoo(self, work: Work, plan: OrderPlan) -> Skipped:
        order = work.order
        assert order is not None
        work.ctx.audit(
            "console", "conflict", f"{work.odoo_name} edited in Odoo; Shopify change not applied"
        )
        return Skipped(
            f"Not applied: {work.odoo_name} was edited in Odoo",
            Cause(
                code="conflict.edited_in_odoo",
                record=f"{order.label} ↔ Odoo {work.odoo_name}",
                missing=f"the lines of {work.odoo_name} were changed in Odoo since the console "
                f"last wrote them, and {order.name} changed in Shopify too; the Shopify change "
                "was not written: " + "; ".join(plan.details[:5]),
                retry_note="nothing was overwritten",
            ),
        )

    def _locked(self, work: Work, plan: OrderPlan, state: str) -> Skipped:
        order = work.order
        assert order is not None
        work.ctx.audit(
            "console", "conflict", f"{work.odoo_name} is {state}: Shopify change not applied"
        )
        return Skipped(
            f"Not applied: {work.odoo_name} is already confirmed",
            Cause(
                code="conflict.order_locked",
                record=f"{order.label} ↔ Odoo {work.odoo_name}",
                missing=f"{order.name} changed in Shopify after {work.odoo_name} was confirmed "
                f"in Odoo (state {state}); the change was not written. Shopify now has: "
                + "; ".join(plan.details[:5]),
                fix=f"Apply the change to {work.odoo_name} by hand in Odoo if it matters "
                "(e.g. cancel and re-create, or add the lines).",
                retry_note="nothing was written to Odoo",
            ),
        )

    def _adopt(self, work: Work, row: dict[str, Any], state: str, lookups: Lookups) -> None:
        """The stamp says we created this order (the answer was lost, or the process died
        before linking): link it as it is in Odoo now, and finish what was left (confirm)."""
        order = work.order
        assert order is not None and work.odoo_id is not None
        work.ctx.audit(
            "odoo",
            "adopted",
            f"Found {work.odoo_name} already in Odoo (stamp "
            f"shopodoo.{order_stamp(self.shop, order)}); adopted it instead of "
            "creating another",
        )
        self._save(work, self._odoo_lines(row), order.digest())
        work.ctx.audit("console", "linked", f"Linked {order.label} ↔ Odoo {work.odoo_name}")
        if order.cancelled:
            self._cancel(work, state, row)
            return
        notes = []
        confirm = (
            self.planner.should_confirm(order) and state in OPEN_STATES and not self._is_locked(row)
        )
        if confirm:
            action = {"action": "confirm", "odoo_id": work.odoo_id}
            if not self._gate(work, action, f"Confirm {work.odoo_name} for {order.name}"):
                return
            self._confirm_one(work)
            notes.append("confirmed")
        payments = self.planner.payments(order, lookups)
        if isinstance(payments, Cause):
            work.result = payments
            return
        if payments and state != "cancel":
            self._register_payments([(work, _m2o_id(row.get("partner_id")), payments)])
            if not work.open:
                return
            notes.append("payments recorded")
        work.result = Done(
            f"Adopted {work.odoo_name} (already in Odoo)"
            + (f"; {', '.join(notes)}" if notes else ""),
            {"odoo_id": work.odoo_id, "odoo_name": work.odoo_name},
        )

    def _save(self, work: Work, lines: list[dict[str, Any]] | None, version: str) -> None:
        assert work.order is not None and work.odoo_id is not None
        links.save_link(
            self.store,
            self.shop.id,
            "order",
            work.order.id,
            "sale.order",
            work.odoo_id,
            label=work.odoo_name,
            version=version,
            digest=lines_digest(lines, self.include_taxes) if lines is not None else None,
        )

    def _odoo_lines(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """The product lines of an Odoo order, in the plan's shape (sections/notes left out:
        the console neither writes nor removes them)."""
        ids = [int(i) for i in row.get("order_line") or []]
        if not ids:
            return []
        tax_field = self.odoo.field_name("sale.order.line", "taxes") or "tax_id"
        fields = ["product_id", "name", "product_uom_qty", "price_unit", "discount", "display_type"]
        if self.include_taxes:
            fields.append(tax_field)
        out = []
        for line in self.odoo.read("sale.order.line", ids, fields, context=self.context()):
            if line.get("display_type"):
                continue
            product = line.get("product_id")
            out.append(
                {
                    "id": int(line["id"]),
                    "product_id": product[0] if isinstance(product, list) else product,
                    "name": line.get("name") or "",
                    "product_uom_qty": line.get("product_uom_qty") or 0,
                    "price_unit": line.get("price_unit") or 0,
                    "discount": line.get("discount") or 0,
                    "tax_ids": line.get(tax_field) or [],
                }
            )
        return out

    def _cancel(self, work: Work, state: str, row: dict[str, Any]) -> None:
        order = work.order
        assert order is not None and work.odoo_id is not None
        if state == "cancel":
            self._save(work, None, order.digest())
            work.result = Skipped(f"{work.odoo_name} is already cancelled in Odoo")
            return
        delivered = False
        picking_ids = [int(i) for i in row.get("picking_ids") or []]
        if picking_ids and state not in OPEN_STATES:
            pickings = self.odoo.read(
                "stock.picking", picking_ids, ["state"], context=self.context()
            )
            delivered = any(p.get("state") == "done" for p in pickings)
        why = ""
        if delivered:
            why = "goods were already delivered"
        elif self._is_locked(row):
            why = "it is locked in Odoo"
        elif state not in (*OPEN_STATES, "sale"):
            why = f"it is {state}"
        if why:
            work.result = self._not_cancelled(work, why)
            return
        action = {"action": "cancel", "odoo_id": work.odoo_id}
        if not self._gate(
            work, action, f"Cancel {work.odoo_name} ({order.name} was cancelled in Shopify)"
        ):
            return
        # Without disable_cancel_warning Odoo 17+ answers a confirmed order with the
        # "cancel and e-mail the customer" wizard and cancels nothing.
        answer = self.odoo.call(
            "sale.order",
            "action_cancel",
            [work.odoo_id],
            context={**(self.context() or {}), "disable_cancel_warning": True},
            record=order.label,
        )
        after = self.odoo.read("sale.order", [work.odoo_id], ["state"], context=self.context())
        if isinstance(answer, dict) or not after or after[0].get("state") != "cancel":
            work.result = self._not_cancelled(
                work, "Odoo asked for a person to confirm the cancellation"
            )
            return
        self._save(work, None, order.digest())
        work.ctx.audit(
            "odoo",
            "cancelled",
            f"Cancelled {work.odoo_name} ({order.name} was cancelled in Shopify)",
        )
        work.result = Done(
            f"Cancelled {work.odoo_name}", {"odoo_id": work.odoo_id, "odoo_name": work.odoo_name}
        )

    def _not_cancelled(self, work: Work, why: str) -> Skipped:
        order = work.order
        assert order is not None
        work.ctx.audit("console", "conflict", f"Cancelled in Shopify; {work.odoo_name}: {why}")
        return Skipped(
            f"Not cancelled: {work.odoo_name} ({why})",
            Cause(
                code="conflict.order_locked",
                record=f"{order.label} ↔ Odoo {work.odoo_name}",
                missing=f"{order.name} was cancelled in Shopify but {work.odoo_name} cannot be "
                f"cancelled automatically: {why}",
                fix=f"Handle the return or cancellation of {work.odoo_name} in Odoo.",
                retry_note="nothing was written to Odoo",
            ),
        )

    # ---------------------------------------------------------------- write-back

    def _write_back(self, works: list[Work]) -> None:
        """Put the Odoo id on the Shopify order (an idempotent upsert), only where it is not
        there yet: re-seeing our own write must end in "unchanged" (DESIGN §3.7)."""
        if not self.settings.write_back:
            return
        todo = [
            w
            for w in works
            if w.order is not None
            and w.odoo_id is not None
            and w.order.metafields.get(METAFIELD_KEY) != str(w.odoo_id)
            and not isinstance(w.result, Cause)
            and not isinstance(w.result, AwaitApproval)
        ]
        for start in range(0, len(todo), 25):
            self._write_metafields(todo[start : start + 25])

    def _write_metafields(self, part: list[Work], *, again: bool = True) -> None:
        """One metafieldsSet for up to 25 orders. It is all or nothing: when Shopify blames
        some of them (by index), those fail and the others are sent again, once."""
        metafields = [
            {
                "ownerId": w.order.id,
                "namespace": "shopodoo",
                "key": METAFIELD_KEY,
                "type": "single_line_text_field",
                "value": str(w.odoo_id),
            }
            for w in part
            if w.order is not None
        ]
        try:
            result = self.shopify.metafields_set(metafields)
        except CauseError as exc:
            for work in part:
                self._write_back_failed(work, exc.cause)
            return
        if not result.ok:
            blamed: dict[int, list[str]] = {}
            for error in result.user_errors:
                index = next((int(f) for f in error.field or () if str(f).isdigit()), None)
                if index is None or index >= len(part):
                    blamed = {}
                    break
                blamed.setdefault(index, []).append(error.message)
            for i, work in enumerate(part):
                if not blamed or i in blamed:
                    message = "; ".join(blamed.get(i, [])) or result.messages
                    self._write_back_failed(
                        work,
                        Cause(
                            code="shopify.user_error",
                            missing=message,
                            operation="Shopify metafieldsSet",
                        ),
                    )
            rest = [w for i, w in enumerate(part) if blamed and i not in blamed]
            if rest and again:
                self._write_metafields(rest, again=False)
            return
        for work in part:
            work.ctx.audit(
                "shopify",
                "metafield_written",
                f"Wrote shopodoo.{METAFIELD_KEY} = {work.odoo_id} "
                f"({work.odoo_name}) on {work.ctx.job.label}",
            )
            if isinstance(work.result, Skipped) and work.result.cause is None:
                work.result = Done(
                    f"Wrote the Odoo reference {work.odoo_name} back to Shopify",
                    {"odoo_id": work.odoo_id},
                )

    def _write_back_failed(self, work: Work, cause: Cause) -> None:
        work.result = Cause.from_dict(
            {
                **cause.with_record(work.ctx.job.label).to_dict(),
                "retry_note": f"{work.odoo_name} exists in Odoo and is linked; the retry only "
                "writes the reference back to Shopify",
            }
        )
        work.ctx.audit(
            "shopify", "failed", f"Could not write the Odoo reference back: {cause.missing}"
        )


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _m2o_id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _comparable(plan: dict[str, Any]) -> dict[str, Any]:
    data = dict(plan)
    data.pop("summary", None)
    data.pop("details", None)
    return data
