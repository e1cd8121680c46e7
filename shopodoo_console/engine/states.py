"""The only transitions allowed between job states (DESIGN §5).

Every state change is one statement guarded by ``WHERE state IN (sources)``, using this
table, so an illegal transition cannot happen even when two processes race. The states
themselves are the schema's vocabulary (:mod:`store.states`), re-exported here.
"""

from __future__ import annotations

from shopodoo_console.store.states import (
    ATTENTION,
    OPERATOR_RETRYABLE,
    PROBLEM,
    PRUNABLE,
    RUNNABLE,
    TERMINAL,
    WAITING,
    State,
)

__all__ = [
    "ATTENTION",
    "OPERATOR_RETRYABLE",
    "PROBLEM",
    "PRUNABLE",
    "RUNNABLE",
    "TERMINAL",
    "TRANSITIONS",
    "WAITING",
    "State",
    "allowed",
    "sources_of",
]


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
