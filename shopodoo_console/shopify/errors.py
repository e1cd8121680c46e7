"""Turn a Shopify HTTP response into data or a :class:`~shopodoo_console.causes.Cause`.

Pure functions over (status, headers, body), so the captures in ``../shared`` can be run
through exactly the code the client uses. The classification follows shopify.md §3-§5:
GraphQL errors come with HTTP 200; THROTTLED and 429 are throttling; 401/402/403/423/430 and
ACCESS_DENIED/SHOP_INACTIVE are configuration or permission problems explained in a sentence.
Signals the client recovers from by itself (throttling, a query too expensive, a busy server,
a token to renew) are :class:`CauseError` subclasses so that, if they escape, they still say
what happened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..causes import Cause, CauseError
from ..redact import redact


@dataclass(frozen=True)
class ThrottleStatus:
    """``extensions.cost.throttleStatus``: the bucket as Shopify saw it (numbers may be floats)."""

    maximum: float
    available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    requested: int | None
    actual: int | None
    throttle: ThrottleStatus | None


@dataclass(frozen=True)
class Reply:
    """An executed response: ``data`` plus what it cost and any non-fatal errors."""

    data: dict[str, Any]
    cost: QueryCost | None = None
    errors: tuple[dict[str, Any], ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)


class Throttled(CauseError):
    """THROTTLED (HTTP 200) or HTTP 429: wait and send the same request again."""

    def __init__(
        self, cause: Cause, *, requested: int | None = None, status: ThrottleStatus | None = None
    ) -> None:
        super().__init__(cause)
        self.requested = requested
        self.status = status


class CostTooHigh(CauseError):
    """MAX_COST_EXCEEDED: never retry as is; ask for fewer records (shopify.md §3)."""

    def __init__(self, cause: Cause, *, cost: int | None, max_cost: int | None) -> None:
        super().__init__(cause)
        self.cost = cost
        self.max_cost = max_cost


class ServerBusy(CauseError):
    """5xx or INTERNAL_SERVER_ERROR: retry reads with backoff; a write's outcome is unknown."""

    def __init__(self, cause: Cause, *, status: int) -> None:
        super().__init__(cause)
        self.status = status


class CredentialsRejected(CauseError):
    """HTTP 401: renew a client-credentials token once, then give up."""


def _cause(code: str, missing: str, operation: str, detail: str = "", **extra: Any) -> Cause:
    return Cause(code=code, missing=missing, operation=operation, detail=redact(detail), **extra)


def _detail(body: Any) -> str:
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, str):
            return errors
        if isinstance(errors, list):
            return "; ".join(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors
            )
        if isinstance(errors, Mapping):
            return json.dumps(errors)
        if "error" in body:
            return str(body.get("error_description") or body["error"])
    return str(body)[:500] if body else ""


def _decode(content: bytes | str | Any) -> Any:
    if isinstance(content, bytes | str):
        try:
            return json.loads(content) if content else None
        except ValueError:
            return content if isinstance(content, str) else content.decode("utf-8", "replace")
    return content


def throttle_status(body: Any) -> QueryCost | None:
    """``extensions.cost`` when present and well-formed."""
    try:
        cost = body["extensions"]["cost"]
        raw = cost.get("throttleStatus")
        status = (
            ThrottleStatus(
                float(raw["maximumAvailable"]),
                float(raw["currentlyAvailable"]),
                float(raw["restoreRate"]),
            )
            if raw
            else None
        )
        requested, actual = cost.get("requestedQueryCost"), cost.get("actualQueryCost")
        return QueryCost(
            int(requested) if requested is not None else None,
            int(actual) if actual is not None else None,
            status,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def read_reply(
    status: int,
    headers: Mapping[str, str],
    content: bytes | str | Any,
    *,
    operation: str,
    shop: str = "the shop",
) -> Reply:
    """Data of a successful response, or raise the :class:`CauseError` that explains it."""
    body = _decode(content)
    detail = _detail(body)
    call = f"Shopify {operation}"
    if status == 401:
        raise CredentialsRejected(
            _cause(
                "shopify.unauthorized",
                f"Shopify rejected the access token for {shop}: it is wrong or expired, was "
                "revoked, or the app was uninstalled.",
                call,
                detail,
            )
        )
    if status == 402:
        raise CauseError(
            _cause(
                "shopify.shop_frozen",
                f"{shop} is frozen: the shop owner must log in to the Shopify admin and pay the "
                "outstanding balance.",
                call,
                detail,
            )
        )
    if status == 403:
        raise CauseError(
            _cause(
                "shopify.scope_missing",
                f"The Shopify app is not allowed to do this on {shop} (HTTP 403): an access scope "
                "is missing or not approved.",
                call,
                detail,
            )
        )
    if status == 423:
        raise CauseError(
            _cause(
                "shopify.shop_frozen",
                f"{shop} is locked by Shopify (repeatedly over the API limits, or an account "
                "problem such as suspected fraud).",
                call,
                detail,
            )
        )
    if status == 429:
        wait = _retry_after(headers)
        raise Throttled(
            _cause(
                "shopify.throttled",
                "Shopify asked the console to slow down (HTTP 429).",
                call,
                detail,
                retry_after=wait if wait is not None else 1.0,
            )
        )
    if status == 430:
        raise CauseError(
            _cause(
                "shopify.unauthorized",
                "Shopify's security checks rejected the request (HTTP 430 Security Rejection); "
                "check the app and the network the console calls from.",
                call,
                detail,
            )
        )
    if status >= 500 and status != 501:
        raise ServerBusy(
            _cause(
                "shopify.unavailable",
                f"Shopify answered HTTP {status}"
                + (" (the request took too long; smaller pages may help)" if status == 504 else "")
                + ".",
                call,
                detail,
            ),
            status=status,
        )
    if status != 200:
        missing = (
            f"No Admin API answers at this address (HTTP 404): check the shop domain {shop} and "
            "the API version."
            if status == 404
            else f"Shopify refused the request with HTTP {status}."
        )
        raise CauseError(_cause("shopify.query_rejected", missing, call, detail))
    if not isinstance(body, Mapping):
        raise CauseError(
            _cause(
                "data.invalid_payload",
                "Shopify's answer was not a JSON object.",
                call,
                detail,
            )
        )
    cost = throttle_status(body)
    errors = body.get("errors")
    if errors is not None and not isinstance(errors, list):
        raise CauseError(
            _cause("shopify.query_rejected", "Shopify refused the request.", call, detail)
        )
    fatal: list[Mapping[str, Any]] = []
    for error in errors or []:
        if not isinstance(error, Mapping):
            continue
        extensions = error.get("extensions") or {}
        code = extensions.get("code")
        message = str(error.get("message", ""))
        if code == "THROTTLED":
            wait = None
            if cost and cost.throttle and cost.requested is not None and cost.throttle.restore_rate:
                wait = max(
                    0.0, (cost.requested - cost.throttle.available) / cost.throttle.restore_rate
                )
            raise Throttled(
                _cause(
                    "shopify.throttled",
                    "Shopify's rate limit bucket is empty for now.",
                    call,
                    message,
                    retry_after=wait,
                ),
                requested=cost.requested if cost else None,
                status=cost.throttle if cost else None,
            )
        if code == "MAX_COST_EXCEEDED":
            raise CostTooHigh(
                _cause(
                    "shopify.query_rejected",
                    f"The request would cost {extensions.get('cost')} points, more than Shopify's "
                    f"single-query limit of {extensions.get('maxCost', 1000)}.",
                    call,
                    message,
                ),
                cost=_int(extensions.get("cost")),
                max_cost=_int(extensions.get("maxCost")),
            )
        if code == "ACCESS_DENIED":
            required = extensions.get("requiredAccess") or ""
            what = f"the {required.strip('.')}" if required else "an access scope"
            raise CauseError(
                _cause(
                    "shopify.scope_missing",
                    f"The Shopify app lacks {what}"
                    + (f" needed for {error['path'][0]}" if error.get("path") else "")
                    + "; add it to the app and reinstall it.",
                    call,
                    message,
                )
            )
        if code == "SHOP_INACTIVE":
            raise CauseError(
                _cause(
                    "shopify.shop_frozen",
                    f"{shop} is not active (closed, paused or not paid).",
                    call,
                    message,
                )
            )
        if code in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
            raise ServerBusy(
                _cause("shopify.unavailable", "Shopify had an internal error.", call, message),
                status=500,
            )
        if code in ("RESOURCE_NOT_FOUND", "NOT_FOUND"):
            raise CauseError(
                _cause(
                    "shopify.not_found",
                    "Shopify does not know the record the console asked for.",
                    call,
                    message,
                )
            )
        fatal.append(error)
    if fatal:
        codes = sorted({str((e.get("extensions") or {}).get("code", "error")) for e in fatal})
        raise CauseError(
            _cause(
                "shopify.query_rejected",
                f"Shopify rejected the console's GraphQL request ({', '.join(codes)}).",
                call,
                "; ".join(str(e.get("message", "")) for e in fatal),
            )
        )
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise CauseError(
            _cause("data.invalid_payload", "Shopify's answer had no data.", call, detail)
        )
    raw_extensions = body.get("extensions")
    top: Mapping[str, Any] = raw_extensions if isinstance(raw_extensions, Mapping) else {}
    for search in top.get("search") or []:
        warnings = search.get("warnings") if isinstance(search, Mapping) else None
        if warnings:
            raise CauseError(
                _cause(
                    "shopify.query_rejected",
                    f"Shopify ignored part of the search {search.get('query')!r}, so the "
                    "result would be wider than asked (shopify.md §5.3).",
                    call,
                    "; ".join(f"{w.get('field')}: {w.get('message')}" for w in warnings),
                )
            )
    return Reply(data=dict(data), cost=cost, errors=tuple(errors or ()), extensions=dict(top))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def invalid_payload(operation: str, problem: str) -> CauseError:
    """A response that parsed but lacks what the operation needs."""
    return CauseError(
        Cause(
            code="data.invalid_payload",
            missing=f"Shopify's answer to {operation} was not shaped as expected: {problem}.",
            operation=f"Shopify {operation}",
        )
    )
