"""Fault injection: make the simulator fail the way Shopify and networks fail.

A :class:`FaultRule` matches requests by endpoint (``graphql`` or ``token``), operation name,
root field (``fulfillmentCreate``) and/or "mutations only"; it lets ``skip`` matching requests
through, then fires on the next ``times`` ones (``None``: forever). Actions:

``latency``           sleep ``delay`` seconds, then carry on (combine with a client timeout)
``status``            answer HTTP ``status`` (401, 402, 403, 423, 429 + ``retry_after``, 430,
                      500, 502, 503, 504...) with Shopify's body for it, before executing
``reset``             close the connection before executing (TCP reset)
``throttle``          answer 200 + THROTTLED whatever the bucket holds
``drop_after_apply``  execute (the change is committed), then close the connection without
                      answering: the client's "outcome unknown" (shopify.md §11.10)
``sale``              just before the request runs, a customer buys ``quantity`` units of
                      ``item`` at ``location`` (GID, SKU / name; default: the first quantity of
                      the mutation's ``input.quantities``): the level changes under a write that
                      was computed from an earlier read (``CHANGE_FROM_QUANTITY_STALE``)
``fail_keyed``        the mutation fails inside Shopify (``INTERNAL_SERVER_ERROR``) after taking
                      its ``@idempotent`` key: nothing applied, and the key is spent
                      (``IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED`` on reuse)

Rules can be added from Python (``sim.faults.add(action="status", status=503)``) or over HTTP
(``POST /_sim/faults`` with the same fields as JSON).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ACTIONS = ("latency", "status", "reset", "throttle", "drop_after_apply", "sale", "fail_keyed")
STATUS_BODIES: dict[int, Any] = {
    400: {"errors": "Bad Request"},
    401: {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
    402: {"errors": "Unavailable Shop"},
    403: {"errors": "[API] This action requires merchant approval for the requested scope."},
    404: {"errors": "Not Found"},
    423: {"errors": "Locked"},
    429: {
        "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
        "uninterrupted service."
    },
    430: {"errors": "Security Rejection"},
    500: {"errors": "Internal Server Error"},
    502: {"errors": "Bad Gateway"},
    503: {"errors": "Service Unavailable"},
    504: {
        "errors": "The request could not complete in time. Try breaking it down in multiple "
        "smaller requests."
    },
}


@dataclass
class FaultRule:
    action: str
    endpoint: str = "graphql"
    operation: str | None = None
    field: str | None = None
    mutations_only: bool = False
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    body: Any = None
    item: str | None = None
    location: str | None = None
    quantity: int = 1
    times: int | None = 1
    skip: int = 0
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {ACTIONS}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        names = {f.name for f in fields(cls)} - {"seen", "fired"}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(
        self, endpoint: str, operation: str | None, roots: list[str], mutation: bool
    ) -> bool:
        if endpoint != self.endpoint:
            return False
        if self.operation is not None and operation != self.operation:
            return False
        if self.field is not None and self.field not in roots:
            return False
        return not (self.mutations_only and not mutation)


@dataclass
class Faults:
    """The active rules; thread-safe; every firing is counted on its rule."""

    rules: list[FaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, rule: FaultRule | dict[str, Any] | None = None, **kwargs: Any) -> FaultRule:
        if rule is None:
            rule = FaultRule(**kwargs)
        elif isinstance(rule, dict):
            rule = FaultRule.from_dict(rule)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def take(
        self,
        endpoint: str,
        phase: str,
        operation: str | None = None,
        roots: list[str] | None = None,
        mutation: bool = False,
    ) -> list[FaultRule]:
        """The rules that fire now for this request ("before" or "after" execution)."""
        fired = []
        with self._lock:
            for rule in self.rules:
                if (rule.action == "drop_after_apply") != (phase == "after"):
                    continue
                if not rule.matches(endpoint, operation, roots or [], mutation):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                rule.fired += 1
                fired.append(rule)
        return fired
