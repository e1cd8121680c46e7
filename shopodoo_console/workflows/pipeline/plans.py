"""Plans: per record, the actions to run, or a skip with its reason, or every blocker.

A plan is made by a pure function of the fetched source record and what the match stage found,
so it can be shown in review mode, approved in bulk, and compared with a fresh plan before it
runs ("changed since approval").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shopodoo_console.causes import Cause
from shopodoo_console.workflows.pipeline.actions import Action, approval_digest


@dataclass(frozen=True)
class Skip:
    """Not a failure: "unchanged since last sync", "cancelled before it was synced".

    Without a cause the record is in step with its source (nothing to do); with one (a
    conflict explained, e.g. ``conflict.edited_in_odoo``) it is not, and the operator sees why.
    """

    reason: str
    cause: Cause | None = None

    @property
    def in_step(self) -> bool:
        return self.cause is None


@dataclass(frozen=True)
class Blocked:
    """What stops the record, every piece at once (mappings, contacts, permissions)."""

    causes: tuple[Cause, ...]

    def cause(self) -> Cause:
        return Cause.every(self.causes)


@dataclass(frozen=True)
class Plan:
    record: str  # the record in the merchant's words: "Shopify order #1042"
    actions: tuple[Action, ...] = ()
    summary: str = ""
    details: tuple[str, ...] = ()
    skip: Skip | None = None
    blocked: Blocked | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # flow-specific facts for later stages

    @classmethod
    def to_do(
        cls,
        record: str,
        actions: Sequence[Action],
        summary: str,
        details: Sequence[str] = (),
        **extra: Any,
    ) -> Plan:
        return cls(record, tuple(actions), summary, tuple(details), extra=extra)

    @classmethod
    def skipped(cls, record: str, reason: str, cause: Cause | None = None, **extra: Any) -> Plan:
        return cls(record, summary=reason, skip=Skip(reason, cause), extra=extra)

    @classmethod
    def stopped(cls, record: str, causes: Sequence[Cause], **extra: Any) -> Plan:
        return cls(record, summary=causes[0].missing, blocked=Blocked(tuple(causes)), extra=extra)

    def kinds(self) -> list[str]:
        return [a.kind for a in self.actions]

    def has(self, kind: str) -> bool:
        return any(a.kind == kind for a in self.actions)

    def action(self, kind: str) -> Action | None:
        return next((a for a in self.actions if a.kind == kind), None)

    @property
    def needs_review(self) -> bool:
        return any(a.reviewed for a in self.actions)

    def to_review(self) -> dict[str, Any]:
        """The plan as review mode stores and shows it; ``approval`` is what an approval covers."""
        return {
            "record": self.record,
            "summary": self.summary,
            "details": list(self.details),
            "actions": [a.to_dict() for a in self.actions],
            "approval": approval_digest(self.actions),
        }
