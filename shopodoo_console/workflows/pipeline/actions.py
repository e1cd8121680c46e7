"""Actions and effects: what a plan says to do, and what doing it did (DESIGN §7).

A plan is a list of :class:`Action` per record, made without touching the network. Each action
says how running it again stays safe (:class:`Guard`), so a retry after a crash or a lost
answer never doubles it. Applying an action gives an :class:`Effect`: done (with what it read
back) or failed (with its cause). A job is done only when every action of its plan has a done
effect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shopodoo_console.causes import Cause


class Guard(StrEnum):
    """What makes running an action again safe (DESIGN §3.4-3.6)."""

    STAMP = "stamp"  # created with its stamp (an Odoo external id): a retry finds it, adopts it
    IDEMPOTENCY_KEY = "idempotency_key"  # the remote replays the first result for the same key
    READ_BACK = "read_back"  # no native key: the remote state is read back before any retry
    NATURAL = "natural"  # setting a state or a value: doing it twice changes nothing


@dataclass(frozen=True)
class Action:
    """One thing to do for one record.

    ``kind`` is the verb ("create", "update_lines", "confirm", "cancel", "register_payment",
    "write_back"; the stock flow's "set_quantity", the fulfillment flow's "fulfill"); ``key`` is
    what the guard checks (the stamp, the idempotency key, the marker read back); ``data`` the
    values, JSON-able, so the plan can be shown, approved and compared. ``reviewed``: whether
    review mode waits for approval before running it (a write-back of our own reference does
    not change the target system, so it does not).
    """

    kind: str
    summary: str
    guard: Guard = Guard.NATURAL
    key: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    reviewed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "summary": self.summary,
            "guard": str(self.guard),
            "key": self.key,
            "data": json.loads(json.dumps(dict(self.data), default=str)),
        }

    def identity(self) -> list[Any]:
        """What an approval covers: the verb, the key and the values (not the wording)."""
        return [self.kind, self.key, json.loads(json.dumps(dict(self.data), default=str))]


def approval_digest(actions: tuple[Action, ...]) -> str:
    blob = json.dumps([a.identity() for a in actions], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Effect:
    """What applying one action did. ``data`` holds what was learnt (the new record's id, the
    version read back after a write); ``cause`` why it did not take effect."""

    action: Action
    ok: bool
    note: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    cause: Cause | None = None

    @classmethod
    def done(cls, action: Action, note: str = "", **data: Any) -> Effect:
        return cls(action, True, note, data)

    @classmethod
    def failed(cls, action: Action, cause: Cause) -> Effect:
        return cls(action, False, cause.missing, {}, cause)
