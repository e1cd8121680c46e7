"""Who may do what: credentials, groups and model rights, companies and record rules.

Messages follow odoo.md §3.4: the ACL text naming the groups that allow an operation, the
record-rule text (16-18 "Uh-oh!…", 19 "Due to security restrictions…"), and
"Access to unauthorized or invalid companies." (§7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import AccessError

if TYPE_CHECKING:
    from .orm import Env, Model
    from .store import Row

OPERATIONS = ("read", "write", "create", "unlink")
VERB = {"read": "access", "write": "modify", "create": "create", "unlink": "delete"}


@dataclass(frozen=True)
class Group:
    xmlid: str
    full_name: str
    implied: tuple[str, ...] = ()


GROUPS: dict[str, Group] = {
    g.xmlid: g
    for g in [
        Group("base.group_user", "User types / Internal User"),
        Group("base.group_partner_manager", "Extra Rights / Contact Creation"),
        Group("base.group_erp_manager", "Administration / Access Rights", ("base.group_user",)),
        Group("base.group_system", "Administration / Settings", ("base.group_erp_manager",)),
        Group(
            "sales_team.group_sale_salesman",
            "Sales / User: Own Documents Only",
            ("base.group_user",),
        ),
        Group(
            "sales_team.group_sale_salesman_all_leads",
            "Sales / User: All Documents",
            ("sales_team.group_sale_salesman",),
        ),
        Group(
            "sales_team.group_sale_manager",
            "Sales / Administrator",
            ("sales_team.group_sale_salesman_all_leads",),
        ),
        Group("stock.group_stock_user", "Inventory / User", ("base.group_user",)),
        Group(
            "stock.group_stock_manager", "Inventory / Administrator", ("stock.group_stock_user",)
        ),
        Group("account.group_account_invoice", "Invoicing / Billing", ("base.group_user",)),
        Group(
            "account.group_account_manager",
            "Invoicing / Administrator",
            ("account.group_account_invoice",),
        ),
    ]
}

# model -> [(group, "rwcu" letters)], after each module's ir.model.access.csv (simplified).
_U, _PM, _SM = "base.group_user", "base.group_partner_manager", "sales_team.group_sale_salesman"
_SA, _STU, _STM = (
    "sales_team.group_sale_manager",
    "stock.group_stock_user",
    "stock.group_stock_manager",
)
_AI, _ERP = "account.group_account_invoice", "base.group_erp_manager"
ACL: dict[str, list[tuple[str, str]]] = {
    "res.partner": [(_U, "r"), (_PM, "rwcu")],
    "res.country": [(_U, "r"), (_ERP, "rwcu")],
    "res.country.state": [(_U, "r"), (_ERP, "rwcu")],
    "res.company": [(_U, "r"), (_ERP, "rwcu")],
    "res.users": [(_U, "r"), (_ERP, "rwcu")],
    "res.groups": [(_U, "r"), (_ERP, "rwcu")],
    "res.currency": [(_U, "r"), (_ERP, "rwcu")],
    "uom.uom": [(_U, "r"), (_STM, "rwcu")],
    "product.template": [(_U, "r"), (_SA, "rwcu"), (_STM, "rwcu")],
    "product.product": [(_U, "r"), (_SA, "rwcu"), (_STM, "rwcu")],
    "sale.order": [(_SM, "rwcu"), (_STU, "r"), (_AI, "r")],
    "sale.order.line": [(_SM, "rwcu"), (_STU, "r"), (_AI, "r")],
    "stock.warehouse": [(_U, "r"), (_STM, "rwcu")],
    "stock.location": [(_U, "r"), (_STM, "rwcu")],
    "stock.picking.type": [(_U, "r"), (_STM, "rwcu")],
    "stock.quant": [(_STU, "rwc"), (_SM, "r"), (_STM, "rwcu")],
    "stock.picking": [(_STU, "rwcu"), (_SM, "r")],
    "stock.move": [(_STU, "rwcu"), (_SM, "r")],
    "stock.immediate.transfer": [(_STU, "rwcu")],
    "stock.backorder.confirmation": [(_STU, "rwcu")],
    "stock.return.picking": [(_STU, "rwcu")],
    "stock.return.picking.line": [(_STU, "rwcu")],
    "delivery.carrier": [(_U, "r"), (_SA, "rwcu")],
    "account.tax": [(_U, "r"), ("account.group_account_manager", "rwcu")],
    "account.journal": [(_U, "r"), ("account.group_account_manager", "rwcu")],
    "account.move": [(_AI, "rwcu"), (_SM, "r")],
    "account.payment": [(_AI, "rwcu"), (_SM, "r")],
    "account.move.line": [(_AI, "rwcu"), (_SM, "r")],
    "ir.model.data": [(_U, "rc"), (_ERP, "rwcu")],
}
_LETTER = {"read": "r", "write": "w", "create": "c", "unlink": "u"}


def implied_closure(groups: list[str]) -> set[str]:
    """A user's groups with everything they imply."""
    out: set[str] = set()
    todo = list(groups)
    while todo:
        g = todo.pop()
        if g in out:
            continue
        out.add(g)
        todo.extend(GROUPS[g].implied if g in GROUPS else ())
    return out


@dataclass
class Credentials:
    uid: int
    login: str
    password: str
    api_keys: set[str] = field(default_factory=set)
    expired_keys: set[str] = field(default_factory=set)


class Security:
    """Credentials and access decisions; the simulator's single source of "who may"."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.credentials: dict[str, Credentials] = {}
        # per-user overrides: (uid, model) -> operations refused even if a group allows them
        self.revoked: dict[tuple[int, str], set[str]] = {}

    # -- credentials ------------------------------------------------------------------------

    def add_login(self, uid: int, login: str, password: str, api_key: str | None) -> None:
        cred = Credentials(uid, login, password)
        if api_key:
            cred.api_keys.add(api_key)
        self.credentials[login] = cred

    def authenticate(self, login: str, secret: str) -> int | None:
        """JSON-RPC: the password or an API key in its place (odoo.md §2.6)."""
        cred = self.credentials.get(login)
        if cred is None or not secret:
            return None
        if secret == cred.password or (secret in cred.api_keys and secret not in cred.expired_keys):
            return cred.uid
        return None

    def check_uid(self, uid: Any, secret: str) -> bool:
        """``execute_kw`` re-checks the credentials on every call (odoo.md §2.1)."""
        for cred in self.credentials.values():
            if cred.uid == uid:
                return self.authenticate(cred.login, secret) == uid
        return False

    def uid_for_key(self, key: str) -> int | None:
        """JSON-2: bearer API key only."""
        for cred in self.credentials.values():
            if key in cred.api_keys and key not in cred.expired_keys:
                return cred.uid
        return None

    # -- model rights ---------------------------------------------------------------------

    def user_groups(self, env: Env) -> set[str]:
        groups = env.store.tables["res.groups"]
        return implied_closure(
            [groups[g]["xmlid"] for g in env.user.get("groups_id") or [] if g in groups]
        )

    def granting_groups(self, model: str, operation: str) -> list[str]:
        letter = _LETTER[operation]
        return [g for g, perms in ACL.get(model, []) if letter in perms]

    def check_access(self, model: Model, operation: str) -> None:
        env = model.env
        if env.su:
            return
        allowed = set(self.granting_groups(model.name, operation))
        revoked = operation in self.revoked.get((env.uid, model.name), set())
        if not revoked and allowed & self.user_groups(env):
            return
        header = (
            f"You are not allowed to {VERB[operation]} '{model.d.description}' "
            f"({model.name}) records."
        )
        if allowed:
            names = sorted(GROUPS[g].full_name for g in allowed if g in GROUPS)
            groups = "This operation is allowed for the following groups:\n" + "\n".join(
                f"\t- {n}" for n in names
            )
        else:
            groups = "No group currently allows this operation."
        raise AccessError(
            f"{header}\n\n{groups}\n\nContact your administrator to request access if necessary."
        )

    # -- companies ----------------------------------------------------------------------------

    def companies_for(self, env: Env) -> tuple[int, list[int]]:
        """``env.company`` and ``env.companies`` from ``allowed_company_ids`` (odoo.md §7)."""
        user_companies = list(env.user.get("company_ids") or [])
        requested = env.context.get("allowed_company_ids")
        if requested:
            if not isinstance(requested, list) or not all(isinstance(c, int) for c in requested):
                raise AccessError("Access to unauthorized or invalid companies.")
            existing = env.store.tables["res.company"]
            if any(c not in existing for c in requested) or (
                not env.su and any(c not in user_companies for c in requested)
            ):
                raise AccessError("Access to unauthorized or invalid companies.")
            return requested[0], list(requested)
        if env.su and not user_companies:
            every = sorted(env.store.tables["res.company"])
            return (every[0] if every else 1), every
        return int(env.user.get("company_id") or 1), user_companies

    def rule_allows(self, model: Model, row: Row) -> bool:
        """The multi-company record rule: shared records or the current companies only."""
        if not model.d.has_company:
            return True
        company = row.get("company_id")
        return not company or company in model.env.company_ids

    def check_rules(self, model: Model, rows: list[Row], operation: str) -> None:
        if model.env.su:
            return
        hidden = [r for r in rows if not self.rule_allows(model, r)]
        if not hidden:
            return
        env, desc = model.env, model.d.description
        user = f"{env.user.get('name', 'user')} (id={env.uid})"
        names = [f"{model.display_name(r['id'])} (id={r['id']})" for r in hidden]
        if self.version >= 19:
            raise AccessError(
                f"Due to security restrictions, you are not allowed to {VERB[operation]} "
                f"'{desc}' ({model.name}) records.\n\nRecords: {', '.join(names)}\n"
                f"User: {user}\n\nThis restriction is due to the following rules:\n"
                f"- {desc} multi-company\n\nNote: this might be a multi-company issue. "
                "Switching company may help - in Odoo, not in real life!\n\n"
                "Contact your administrator to request access if necessary."
            )
        lines = "\n".join(
            f"- {desc}, {model.display_name(r['id'])} ({model.name}: {r['id']})" for r in hidden
        )
        raise AccessError(
            "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n"
            f"Sorry, {user} doesn't have '{operation}' access to:\n{lines}\n\n"
            "Blame the following rules:\n"
            f"- {desc} multi-company\n\nNote: this might be a multi-company issue. "
            "Switching company may help - in Odoo, not in real life!\n\n"
            "If you really, really need access, perhaps you can win over your friendly "
            "administrator with a batch of freshly baked cookies."
        )
