"""Job states and the only transitions allowed between them (DESIGN §5).

Every state change in :mod:`queue` is one SQL statement guarded by ``WHERE state IN
(sources)``, using these tables, so an illegal transition cannot happen even when two
processes race.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    NEEDS_ATTENTION = "needs_attention"
    AWAITING_APPROVAL = "awaiting_approval"
    FAILED = "failed"
    DONE = "done"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"
    RESOLVED = "resolved"


RUNNABLE = (State.QUEUED, State.RETRYING)
# Waiting for something (time, a fix, an approval): a newer version replaces them.
WAITING = (State.QUEUED, State.RETRYING, State.NEEDS_ATTENTION, State.AWAITING_APPROVAL)
TERMINAL = (State.DONE, State.SKIPPED, State.SUPERSEDED, State.CANCELLED, State.RESOLVED)
# Stopped and shown to the operator.
PROBLEM = (State.NEEDS_ATTENTION, State.FAILED, State.AWAITING_APPROVAL)
# What the operator may send back to the queue with "retry" (never a running job).
OPERATOR_RETRYABLE = (State.FAILED, State.NEEDS_ATTENTION, State.RETRYING)

TRANSITIONS: dict[State, frozenset[State]] = {
    State.QUEUED: frozenset({State.RUNNING, State.SUPERSEDED, State.CANCELLED}),
    State.RUNNING: frozenset(
        {
            State.DONE,
            State.SKIPPED,
            State.RETRYING,
            State.NEEDS_ATTENTION,
            State.FAILED,
            State.AWAITING_APPROVAL,
            State.QUEUED,  # queued: lease expired or released at shutdown
        }
    ),
    State.RETRYING: frozenset(
        {
            State.RUNNING,
            State.QUEUED,
            State.SUPERSEDED,
            State.CANCELLED,
            State.RESOLVED,
        }
    ),
    State.NEEDS_ATTENTION: frozenset(
        {
            State.QUEUED,
            State.SUPERSEDED,
            State.CANCELLED,
            State.RESOLVED,
        }
    ),
    State.AWAITING_APPROVAL: frozenset(
        {
            State.QUEUED,
            State.SUPERSEDED,
            State.CANCELLED,
            State.RESOLVED,
        }
    ),
    State.FAILED: frozenset({State.QUEUED, State.CANCELLED, State.RESOLVED}),
    State.DONE: frozenset(),
    State.SKIPPED: frozenset(),
    State.SUPERSEDED: frozenset(),
    State.CANCELLED: frozenset(),
    State.RESOLVED: frozenset(),
}


def sources_of(target: State) -> tuple[State, ...]:
    """Every state from which ``target`` may be entered."""
    return tuple(s for s, targets in TRANSITIONS.items() if target in targets)


def allowed(source: State, target: State) -> bool:
    return target in TRANSITIONS[source]
