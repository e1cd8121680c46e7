"""The apply stage of the orders flow: run the plans' actions, batch by batch, and record effects.

Actions run by kind across the batch, in the order a sale order needs them — create (contacts
first), update the lines, confirm, cancel, register payments, write the reference back — so
each kind costs one call for the whole batch where Odoo or Shopify allow it. A job whose action
failed runs none of its later ones; its effects say what took effect and what did not, and the
link stage marks it synced only when all did. Links are written by the link stage as soon as a
sale order is created or its lines rewritten, never here.
"""

from __future__ import annotations

from typing import Any

from shopodoo_console.causes import Cause, CauseError, Kind
from shopodoo_console.engine.crashpoints import crashpoint
from shopodoo_console.odoo import OdooClient
from shopodoo_console.shopify.client import ShopifyClient
from shopodoo_console.workflows.orders.contacts import NewContact
from shopodoo_console.workflows.orders.jobs import OrderJob
from shopodoo_console.workflows.orders.link import OrderLinks
from shopodoo_console.workflows.orders.order import watched
from shopodoo_console.workflows.orders.plan import METAFIELD_KEY, not_cancelled
from shopodoo_console.workflows.pipeline import Action, Effect, StampedCreator

OPEN_STATES = ("draft", "sent")


class Apply:
    def __init__(
        self,
        odoo: OdooClient,
        shopify: ShopifyClient,
        links: OrderLinks,
        company_id: int | None,
        confirm_reason: str,
    ) -> None:
        self.odoo = odoo
        self.shopify = shopify
        self.links = links
        self.company_id = company_id
        self.confirm_reason = confirm_reason
        self.context = {"allowed_company_ids": [company_id]} if company_id else None
        self.stamped = StampedCreator(odoo, self.context)

    def run(self, jobs: list[OrderJob]) -> None:
        self.create(jobs)
        self.update_lines(jobs)
        self.confirm(jobs)
        self.cancel(jobs)
        self.register_payments(jobs)
        self.write_back(jobs)

    # ---------------------------------------------------------------- create

    def create(self, jobs: list[OrderJob]) -> None:
        todo = [(job, action) for job in jobs if (action := job.wants("create"))]
        if not todo:
            return
        for job, action in todo:
            job.ctx.record_intent(
                {
                    "create": "sale.order",
                    "stamp": action.key,
                    "contacts": [c["stamp"] for c in action.data["contacts"]],
                }
            )
        contacts = self._contacts(todo)
        items: dict[str, tuple[OrderJob, Action, dict[str, Any]]] = {}
        for job, action in todo:
            values = _order_values(action, contacts, self._tax_field())
            if job.going and values is not None:
                job.customer_id = _partner(action.data["customer"], contacts)
                items[action.key] = (job, action, values)
        made = self.stamped.create(
            "sale.order",
            [(stamp, values) for stamp, (_, _, values) in items.items()],
            lambda stamp, cause: self._failed(items[stamp][0], items[stamp][1], cause),
            ", ".join(job.label for job, _, _ in list(items.values())[:3]),
        )
        crashpoint("orders.after_odoo_create")
        states = self._states(sorted(set(made.ids.values())))
        for stamp, (job, action, _) in items.items():
            if stamp in made.ids:
                self._created(job, action, made.ids[stamp], states, stamp in made.adopted)
        crashpoint("orders.after_link")

    def _created(
        self,
        job: OrderJob,
        action: Action,
        odoo_id: int,
        states: dict[int, dict[str, Any]],
        race: bool,
    ) -> None:
        job.odoo_id = odoo_id
        job.odoo_name = str(states.get(odoo_id, {}).get("name") or f"sale order {odoo_id}")
        how = "found it created by another worker a moment earlier (adopted)" if race else ""
        job.audit(
            "odoo",
            "created",
            f"Created {job.name} for {job.order_label} ({len(action.data['lines'])} line(s)) "
            f"with stamp shopodoo.{action.key}" + (f"; {how}" if how else ""),
            odoo_id=odoo_id,
        )
        self.links.created(job, action.data["lines"])
        job.record(Effect.done(action, f"created {job.name}", state=states.get(odoo_id, {})))

    def _contacts(self, todo: list[tuple[OrderJob, Action]]) -> dict[str, int]:
        """Customers first, then their addresses (which need the parent's id)."""
        owners: dict[str, list[tuple[OrderJob, Action]]] = {}
        wanted: dict[str, NewContact] = {}
        for job, action in todo:
            for data in action.data["contacts"]:
                contact = NewContact.from_dict(data)
                wanted.setdefault(contact.stamp, contact)
                owners.setdefault(contact.stamp, []).append((job, action))
        ids: dict[str, int] = {}
        for parents in (True, False):
            items = []
            for stamp, contact in wanted.items():
                if (contact.parent is None) != parents:
                    continue
                if not any(job.going for job, _ in owners[stamp]):
                    continue
                values = dict(contact.values)
                if contact.parent is not None:
                    if contact.parent not in ids:
                        continue
                    values["parent_id"] = ids[contact.parent]
                elif contact.parent_id is not None:
                    values["parent_id"] = contact.parent_id
                items.append((stamp, values))

            def fail(stamp: str, cause: Cause) -> None:
                for job, action in owners[stamp]:
                    self._failed(job, action, cause)

            made = self.stamped.create("res.partner", items, fail, "contacts")
            for stamp, pid in made.ids.items():
                ids[stamp] = pid
                contact = wanted[stamp]
                for job, _ in owners[stamp]:
                    job.audit(
                        "odoo",
                        "contact_created",
                        f"Contact for {contact.label or contact.values.get('name')} ready in "
                        f"Odoo (id {pid}, stamp shopodoo.{stamp})",
                        odoo_id=pid,
                    )
        return ids

    def _states(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = self.odoo.read("sale.order", ids, ["name", "state"], context=self.context)
        return {int(r["id"]): r for r in rows}

    def _tax_field(self) -> str:
        return self.odoo.field_name("sale.order.line", "taxes") or "tax_id"

    # ---------------------------------------------------------------- update lines

    def update_lines(self, jobs: list[OrderJob]) -> None:
        for job in jobs:
            action = job.wants("update_lines")
            if action is None or job.odoo_id is None:
                continue
            job.ctx.record_intent(
                {"update": "sale.order", "odoo_id": job.odoo_id, "lines_digest": action.key}
            )
            new = _line_commands(action.data["lines"], self._tax_field())
            try:
                self.odoo.write(
                    "sale.order",
                    [job.odoo_id],
                    {"order_line": [(2, i, 0) for i in action.data["remove"]] + new},
                    context=self.context,
                    record=job.order_label,
                )
            except CauseError as exc:
                self._failed(job, action, exc.cause)
                continue
            self.links.lines_written(job, action.data["lines"])
            job.audit("odoo", "updated", f"{action.summary} (from {job.order_label})")
            job.record(Effect.done(action, "lines updated"))

    # ---------------------------------------------------------------- confirm

    def confirm(self, jobs: list[OrderJob]) -> None:
        todo = []
        for job in jobs:
            action = job.wants("confirm")
            if action is None or job.odoo_id is None:
                continue
            created = job.effect("create")
            state = created.data.get("state", {}).get("state") if created else None
            if state is not None and state not in OPEN_STATES:
                job.record(Effect.done(action, "already confirmed"))
                continue
            todo.append((job, action))
        if not todo:
            return
        try:
            self._confirm_ids([job for job, _ in todo])
        except CauseError as exc:
            if len(todo) == 1 or exc.cause.kind is Kind.TEMPORARY:
                for job, action in todo:
                    self._confirm_failed(job, action, exc.cause)
                return
            for job, action in todo:
                try:
                    self._confirm_ids([job])
                except CauseError as one:
                    self._confirm_failed(job, action, one.cause)
                else:
                    self._confirmed(job, action)
            return
        for job, action in todo:
            self._confirmed(job, action)

    def _confirm_ids(self, jobs: list[OrderJob]) -> None:
        self.odoo.call(
            "sale.order",
            "action_confirm",
            [job.odoo_id for job in jobs if job.odoo_id],
            context=self.context,
            record=", ".join(job.label for job in jobs[:3]),
        )

    def _confirmed(self, job: OrderJob, action: Action) -> None:
        job.audit("odoo", "confirmed", f"Confirmed {job.name} ({self.confirm_reason})")
        job.record(Effect.done(action, "confirmed"))

    def _confirm_failed(self, job: OrderJob, action: Action, cause: Cause) -> None:
        note = f"{job.name} exists and is linked; the retry only confirms it"
        self._failed(job, action, Cause.from_dict({**cause.to_dict(), "retry_note": note}))

    # ---------------------------------------------------------------- cancel

    def cancel(self, jobs: list[OrderJob]) -> None:
        for job in jobs:
            action = job.wants("cancel")
            if action is None or job.odoo_id is None or job.order is None:
                continue
            try:
                # Without disable_cancel_warning Odoo 17+ answers a confirmed order with the
                # "cancel and e-mail the customer" wizard and cancels nothing.
                answer = self.odoo.call(
                    "sale.order",
                    "action_cancel",
                    [job.odoo_id],
                    context={**(self.context or {}), "disable_cancel_warning": True},
                    record=job.order_label,
                )
                after = self.odoo.read("sale.order", [job.odoo_id], ["state"], context=self.context)
            except CauseError as exc:
                self._failed(job, action, exc.cause)
                continue
            if isinstance(answer, dict) or not after or after[0].get("state") != "cancel":
                skip = not_cancelled(
                    job.order, job.name, "Odoo asked for a person to confirm the cancellation"
                )
                assert skip.cause is not None
                self._failed(job, action, skip.cause)
                continue
            job.audit("odoo", "cancelled", f"Cancelled {job.name} ({action.summary})")
            job.record(Effect.done(action, "cancelled"))

    # ---------------------------------------------------------------- payments

    def register_payments(self, jobs: list[OrderJob]) -> None:
        """Each captured Shopify payment as a posted customer payment, stamped per transaction:
        a retry, a crash or a lost answer finds it already there. Reconciling it with the
        invoice is left to Odoo's accounting (it matches by partner and amount)."""
        memo = self.odoo.field_name("account.payment", "memo") or "ref"
        owners: dict[str, tuple[OrderJob, Action]] = {}
        items = []
        for job in jobs:
            partner = self._payer(job)
            actions = (
                [a for a in job.plan.actions if a.kind == "register_payment"] if job.plan else []
            )
            if not actions or not job.open or not job.going or partner is None:
                continue
            for action in actions:
                values = {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner,
                    "amount": action.data["amount"],
                    "journal_id": action.data["journal_id"],
                    "date": action.data["date"],
                    memo: action.data["memo"],
                }
                if self.company_id:
                    values["company_id"] = self.company_id
                owners[action.key] = (job, action)
                items.append((action.key, values))
        if not items:
            return
        made = self.stamped.create(
            "account.payment",
            items,
            lambda stamp, cause: self._failed(*owners[stamp], cause),
            "customer payments",
        )
        if made.ids and self._post(made.ids, owners):
            for stamp, pid in made.ids.items():
                job, action = owners[stamp]
                job.audit(
                    "odoo",
                    "payment",
                    f"Payment of {action.data['amount']:.2f} ({action.data['memo']}) registered "
                    f"and posted (id {pid})",
                    odoo_id=pid,
                )
                job.record(Effect.done(action, "payment recorded", payment_id=pid))

    def _payer(self, job: OrderJob) -> int | None:
        if job.customer_id is not None:
            return job.customer_id
        if job.match is not None and job.match.odoo is not None:
            return job.match.odoo.partner_id
        return None

    def _post(self, ids: dict[str, int], owners: dict[str, tuple[OrderJob, Action]]) -> bool:
        try:
            rows = self.odoo.read(
                "account.payment", sorted(set(ids.values())), ["state"], context=self.context
            )
            drafts = [int(r["id"]) for r in rows if r.get("state") == "draft"]
            if drafts:
                self.odoo.call(
                    "account.payment",
                    "action_post",
                    drafts,
                    context=self.context,
                    record="customer payments",
                )
        except CauseError as exc:
            for stamp in ids:
                self._failed(*owners[stamp], exc.cause)
            return False
        return True

    # ---------------------------------------------------------------- write-back

    def write_back(self, jobs: list[OrderJob]) -> None:
        """The Odoo id on the Shopify order (an idempotent upsert), 25 orders per call; the
        order's new ``updatedAt`` comes back with it and becomes our own version."""
        todo = [(j, a) for j in jobs if (a := j.wants("write_back")) and j.odoo_id and j.order]
        for start in range(0, len(todo), 25):
            self._metafields(todo[start : start + 25])

    def _metafields(self, part: list[tuple[OrderJob, Action]], *, again: bool = True) -> None:
        """One metafieldsSet, all or nothing: when Shopify blames some orders (by index), those
        fail and the others are sent again, once."""
        metafields = [
            {
                "ownerId": job.order.id,
                "namespace": "shopodoo",
                "key": METAFIELD_KEY,
                "type": "single_line_text_field",
                "value": str(job.odoo_id),
            }
            for job, _ in part
            if job.order is not None
        ]
        try:
            result = self.shopify.metafields_set(metafields)
        except CauseError as exc:
            for job, action in part:
                self._write_back_failed(job, action, exc.cause)
            return
        if not result.ok:
            rest = self._refused(part, result)
            if rest and again:
                self._metafields(rest, again=False)
            return
        self._written(part, result.metafields or [])

    def _refused(
        self, part: list[tuple[OrderJob, Action]], result: Any
    ) -> list[tuple[OrderJob, Action]]:
        """Fail the orders Shopify blamed (all when it blamed none by index); the rest."""
        blamed = _blamed(result, len(part))
        for i, (job, action) in enumerate(part):
            if not blamed or i in blamed:
                message = "; ".join(blamed.get(i, [])) or result.messages
                cause = Cause(
                    code="shopify.user_error", missing=message, operation="Shopify metafieldsSet"
                )
                self._write_back_failed(job, action, cause)
        return [item for i, item in enumerate(part) if blamed and i not in blamed]

    def _written(self, part: list[tuple[OrderJob, Action]], metafields: list[Any]) -> None:
        owners = {str((m.get("owner") or {}).get("id")): m.get("owner") or {} for m in metafields}
        for job, action in part:
            assert job.order is not None
            owner = owners.get(job.order.id, {})
            # Our own version only if nothing else changed since our fetch: the fields a
            # change would show are read back with the write and compared.
            own = owner.get("updatedAt") if watched(owner) == job.order.watch else None
            job.audit(
                "shopify",
                "metafield_written",
                f"Wrote shopodoo.{METAFIELD_KEY} = {job.odoo_id} ({job.name}) on {job.label}",
            )
            job.record(Effect.done(action, "reference written back", own_version=own))

    def _write_back_failed(self, job: OrderJob, action: Action, cause: Cause) -> None:
        note = (
            f"{job.name} exists in Odoo and is linked; the retry only writes the reference back "
            "to Shopify"
        )
        self._failed(
            job, action, Cause.from_dict({**cause.to_dict(), "retry_note": note}), "shopify"
        )

    # ---------------------------------------------------------------- failures

    @staticmethod
    def _failed(job: OrderJob, action: Action, cause: Cause, system: str = "odoo") -> None:
        if not job.going:
            return  # an earlier action already failed; its cause is the job's
        cause = cause.with_record(job.label)
        job.audit(system, "failed", f"{cause.operation or action.kind}: {cause.missing}")
        job.record(Effect.failed(action, cause))


def _blamed(result: Any, size: int) -> dict[int, list[str]]:
    blamed: dict[int, list[str]] = {}
    for error in result.user_errors:
        index = next((int(f) for f in error.field or () if str(f).isdigit()), None)
        if index is None or index >= size:
            return {}
        blamed.setdefault(index, []).append(error.message)
    return blamed


def _partner(ref: dict[str, Any], contacts: dict[str, int]) -> int | None:
    return ref["id"] if "id" in ref else contacts.get(ref["stamp"])


def _line_commands(lines: list[dict[str, Any]], tax_field: str) -> list[Any]:
    commands = []
    for line in lines:
        values = {k: v for k, v in line.items() if k not in ("tax_ids", "id")}
        if "tax_ids" in line:
            values[tax_field] = [(6, 0, line["tax_ids"])]
        commands.append((0, 0, values))
    return commands


def _order_values(
    action: Action, contacts: dict[str, int], tax_field: str
) -> dict[str, Any] | None:
    """The sale order's values; ``None`` when one of its contacts could not be created (that
    failure is already the job's cause)."""
    data = action.data
    customer = _partner(data["customer"], contacts)
    invoice = _partner(data["invoice"], contacts)
    delivery = _partner(data["delivery"], contacts)
    if customer is None or invoice is None or delivery is None:
        return None
    return {
        **data["header"],
        "partner_id": customer,
        "partner_invoice_id": invoice,
        "partner_shipping_id": delivery,
        "order_line": _line_commands(data["lines"], tax_field),
    }
