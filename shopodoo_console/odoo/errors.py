"""Odoo failures → causes (DESIGN §6, odoo.md §3).

Classification uses Odoo's exception class name (JSON-RPC ``error.data.name``; the JSON-2 body
``name``) and the JSON-2 HTTP status, never JSON-RPC's ``error.code`` (§3.2: "ignored …
totally arbitrary"). The message picks between causes that share a class (an ``AccessError``
is a company access, a record rule or a missing group). Transport failures are split by
whether the request may have reached Odoo: a write whose answer is lost is
``odoo.outcome_unknown``, never "failed".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from ..causes import Cause, Kind
from ..redact import redact

# The groups that usually grant an operation when Odoo's message does not list them
# (ACL files of base, sale, stock, account; odoo.md §8, §5.1).
USUAL_GROUPS: dict[str, dict[str, str]] = {
    "res.partner": {"read": "Internal User", "*": "Extra Rights / Contact Creation"},
    "sale.order": {"*": "Sales / User: Own Documents Only"},
    "sale.order.line": {"*": "Sales / User: Own Documents Only"},
    "product.product": {"read": "Internal User", "*": "Inventory / Administrator"},
    "product.template": {"read": "Internal User", "*": "Inventory / Administrator"},
    "stock.picking": {"*": "Inventory / User"},
    "stock.move": {"*": "Inventory / User"},
    "stock.quant": {"read": "Inventory / User", "*": "Inventory / User"},
    "account.move": {"*": "Invoicing / Billing"},
    "ir.model.data": {
        "read": "Internal User",
        "create": "Internal User",
        "*": "Administration / Access Rights",
    },
}
VERBS = {"read": "read", "write": "change", "create": "create", "unlink": "delete"}
_ACL = re.compile(r"You are not allowed to (access|modify|create|delete) '([^']*)' \(([\w.]+)\)")
_ACL_OP = {"access": "read", "modify": "write", "create": "create", "delete": "unlink"}
_GROUP_LINE = re.compile(r"^\s*-\s+(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Operation:
    """What the client was doing: enough to name the record and the operation."""

    model: str
    method: str
    ids: tuple[int, ...] = ()
    write: bool = False
    stamps: tuple[str, ...] = ()  # external ids (module.name) a stamped create was making
    record: str = ""  # caller's own words for the record, if any
    login: str = ""
    database: str = ""
    companies: tuple[int, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return f"Odoo {self.model} {self.method}"

    @property
    def acl_operation(self) -> str:
        if self.method in ("create", "load"):
            return "create"
        if self.method == "unlink":
            return "unlink"
        return "write" if self.write else "read"

    def describe_record(self) -> str:
        if self.record:
            return self.record
        if self.stamps:
            shown = ", ".join(self.stamps[:3]) + (" …" if len(self.stamps) > 3 else "")
            return f"Odoo {self.model} stamped {shown}"
        if self.ids:
            shown = ", ".join(str(i) for i in self.ids[:5]) + (" …" if len(self.ids) > 5 else "")
            return f"Odoo {self.model} {shown}"
        return f"new Odoo {self.model}" if self.method in ("create", "load") else ""


def _cause(code: str, op: Operation, missing: str, detail: str = "", **kw: object) -> Cause:
    return Cause(
        code=code,
        missing=redact(missing),
        record=op.describe_record(),
        operation=op.label,
        detail=redact(detail),
        **kw,  # type: ignore[arg-type]
    )


def _is(name: str, *classes: str) -> bool:
    return any(name.endswith(c) for c in classes)


@dataclass(frozen=True)
class _Said:
    """What Odoo said about one failure: its exception class, its message, the JSON-2 status."""

    name: str
    text: str
    status: int | None

    @property
    def low(self) -> str:
        return self.text.lower()


def _login_refused(said: _Said) -> bool:
    return _is(said.name, "AccessDenied", "Unauthorized", "SessionExpiredException") or (
        said.status == 401
    )


def _access_refused(said: _Said) -> bool:
    return _is(said.name, "AccessError") or (said.status == 403 and not said.name)


def _concurrent(said: _Said) -> bool:
    """A lock or serialization failure, named or only worded (Odoo retries some itself)."""
    low = said.low
    return (
        _is(said.name, *_CONCURRENCY_CLASSES)
        or said.status == 409
        or "could not serialize access" in low
        or "deadlock detected" in low
    )


def _no_such_method(said: _Said) -> bool:
    """The model or method is missing: JSON-2's NotFound, or JSON-RPC's wordings of it."""
    low = said.low
    return (
        _is(said.name, "NotFound")
        or (_is(said.name, "AttributeError") and "does not exist" in low)
        or (
            _is(said.name, "UserError")
            and "doesn't exist" in low
            and said.text.startswith("Object ")
        )
    )


def _refused_by_rule(said: _Said) -> bool:
    return _is(said.name, "ValidationError", "UserError", "RedirectWarning") or said.status == 422


def _login_cause(said: _Said, op: Operation) -> Cause:
    return _cause(
        "odoo.access_denied",
        op,
        f"Odoo refused the login '{op.login}' or its API key on database '{op.database}' "
        "(wrong, revoked or expired key).",
        said.text,
        retry_note="nothing was changed in Odoo",
    )


def _deleted_cause(said: _Said, op: Operation) -> Cause:
    return _cause(
        "odoo.record_deleted",
        op,
        f"{op.describe_record() or op.model} does not exist in Odoo any more "
        "(deleted, or an id from another database).",
        said.text,
        retry_note="re-resolve the link before retrying: the record must be found again "
        "or created anew",
    )


def _concurrency_cause(said: _Said, op: Operation) -> Cause:
    return _cause(
        "odoo.concurrency",
        op,
        f"Odoo was busy with the same {op.model} records and rolled the call back.",
        said.text,
        retry_note="Odoo rolled the call back; nothing was changed",
    )


def _no_method_cause(said: _Said, op: Operation) -> Cause:
    return _cause(
        "odoo.validation",
        op,
        f"Odoo has no {op.model}.{op.method}: the module that provides it is not installed, "
        "or the method is private.",
        said.text,
        kind=Kind.CONFIGURATION,
        retry_note="nothing was changed in Odoo",
    )


def _stamp_taken_cause(said: _Said, op: Operation) -> Cause:
    # A lost race (odoo.md §5.1): another worker committed the same stamp while this call
    # ran. Temporary by nature: looking the stamp up again finds the winner's record.
    return _cause(
        "odoo.stamp_taken",
        op,
        f"Another worker created this {op.model} with the same stamp at the same moment; "
        "Odoo kept theirs and rolled this call back.",
        said.text,
        retry_note="nothing new was created; the stamp is looked up again and the existing "
        "record adopted",
    )


def _companies_cause(said: _Said, op: Operation) -> Cause:
    return _cause(
        "odoo.validation",
        op,
        f"The {op.model} refers to records of another company (partner, product, tax or "
        "warehouse mapped to the wrong company).",
        said.text,
        kind=Kind.CONFIGURATION,
        retry_note="nothing was changed in Odoo",
    )


def _refused_cause(said: _Said, op: Operation) -> Cause:
    return _cause(
        "odoo.validation",
        op,
        f"Odoo refused the {op.model} {op.method}: {_first(said.text)}",
        said.text,
        retry_note="Odoo rolled the call back; nothing was changed",
    )


def _unknown_cause(said: _Said, op: Operation) -> Cause:
    name, status = said.name, said.status
    return _cause(
        "odoo.validation",
        op,
        f"Odoo failed on {op.model} {op.method} with {name or f'HTTP {status}'}: "
        f"{_first(said.text)}",
        said.text,
        retry_note="Odoo answered with an error, so the call was rolled back",
    )


_CONCURRENCY_CLASSES = (
    "LockError",
    "SerializationFailure",
    "ConcurrencyError",
    "DeadlockDetected",
    "LockNotAvailable",
    "TransactionRollbackError",
)
# In order: the first rule that matches names the cause (a message can match several).
_RULES: tuple[tuple[Callable[[_Said], bool], Callable[[_Said, Operation], Cause]], ...] = (
    (_login_refused, _login_cause),
    (_access_refused, lambda said, op: _access_error(said.text, op)),
    (lambda said: _is(said.name, "MissingError"), _deleted_cause),
    (_concurrent, _concurrency_cause),
    (_no_such_method, _no_method_cause),
    (lambda said: "ir_model_data_module_name_uniq_index" in said.text, _stamp_taken_cause),
    (lambda said: "incompatible companies on records" in said.low, _companies_cause),
    (_refused_by_rule, _refused_cause),
)


def classify(name: str | None, message: str, op: Operation, *, status: int | None = None) -> Cause:
    """One Odoo error (class name, message, JSON-2 status) as a cause."""
    said = _Said(name or "", message or "", status)
    for matches, cause in _RULES:
        if matches(said):
            return cause(said, op)
    return _unknown_cause(said, op)


def _first(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else "no message"
    return line[:300]


def _access_error(text: str, op: Operation) -> Cause:
    low = text.lower()
    if "unauthorized or invalid companies" in low:
        wanted = ", ".join(str(c) for c in op.companies) or "the requested company"
        return _cause(
            "odoo.company_access",
            op,
            f"The Odoo user '{op.login}' is not allowed in company {wanted} "
            f"(allowed_company_ids), needed for {op.label}.",
            text,
            retry_note="nothing was changed in Odoo",
        )
    if "top-secret records" in low or "due to security restrictions" in low:
        return _cause(
            "odoo.company_access",
            op,
            f"A record rule hides {op.describe_record() or op.model} from the Odoo user "
            f"'{op.login}' for {op.label} — usually because it belongs to a company the user "
            "may not access.",
            text,
            retry_note="nothing was changed in Odoo",
        )
    match = _ACL.search(text)
    model = match.group(3) if match else op.model
    operation = _ACL_OP[match.group(1)] if match else op.acl_operation
    groups = []
    if "allowed for the following groups" in text:
        tail = text.split("allowed for the following groups:", 1)[1].split("\n\n", 1)[0]
        groups = _GROUP_LINE.findall(tail)
    if not groups:
        usual = USUAL_GROUPS.get(model, {})
        guess = usual.get(operation) or usual.get("*")
        groups = [guess] if guess else []
    granted = " or ".join(groups) if groups else "an administrator must grant the right"
    if "private methods" in low:
        return _cause(
            "odoo.validation", op, f"{op.label} is private in Odoo.", text, kind=Kind.CONFIGURATION
        )
    return _cause(
        "odoo.permission_missing",
        op,
        f"The Odoo user '{op.login}' may not {VERBS.get(operation, operation)} {model} "
        f"records ({op.label}); the group that usually grants it: {granted}.",
        text,
        retry_note="nothing was changed in Odoo",
    )


def transport_cause(exc: Exception, op: Operation, url: str) -> Cause:
    """A network failure: "unreachable" if nothing was sent, else outcome unknown for writes."""
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    what = type(exc).__name__
    if not_sent or not op.write:
        return _cause(
            "odoo.unreachable",
            op,
            f"Odoo at {url} did not answer ({what}).",
            str(exc),
            retry_note="nothing was sent to Odoo" if not_sent else "it was a read",
        )
    return outcome_unknown(
        op, f"the connection failed after the request was sent ({what})", str(exc)
    )


def outcome_unknown(op: Operation, why: str, detail: str = "") -> Cause:
    stamps = ", ".join(op.stamps[:5])
    note = (
        f"look up the stamp ({stamps}) before any retry: the record may exist already"
        if op.stamps
        else "re-read the record in Odoo before any retry: the change may be there already"
    )
    return _cause(
        "odoo.outcome_unknown",
        op,
        f"Odoo may or may not have done {op.label}: {why}.",
        detail,
        retry_note=note,
        retry_safe=bool(op.stamps) or op.method not in ("create",),
    )


def http_status_cause(status: int, body: str, op: Operation, url: str) -> Cause:
    """A non-Odoo answer (a proxy page, an HTML 404): judged by the status alone."""
    if status in (502, 504) and op.write:
        return outcome_unknown(
            op, f"a proxy answered HTTP {status} after the request was sent", _first(_strip(body))
        )
    if status in (502, 503, 504) or status >= 500:
        return _cause(
            "odoo.unreachable",
            op,
            f"Odoo at {url} is unavailable (HTTP {status}).",
            _first(_strip(body)),
            retry_note="the proxy did not reach Odoo" if status == 503 else "it was a read",
        )
    if status == 404:
        return _cause(
            "odoo.unreachable",
            op,
            f"Odoo at {url} has no such API endpoint (HTTP 404): check the URL and the "
            "protocol setting (JSON-2 needs Odoo 19+).",
            _first(_strip(body)),
            kind=Kind.CONFIGURATION,
            retry_note="nothing was sent to Odoo's models",
        )
    return _cause(
        "odoo.unreachable",
        op,
        f"Odoo at {url} answered HTTP {status} without an Odoo error.",
        _first(_strip(body)),
        kind=Kind.CONFIGURATION,
    )


def _strip(body: str) -> str:
    return re.sub(r"<[^>]+>", " ", body or "").strip()
