"""The states a job row can hold (DESIGN §5): the vocabulary of the ``job.state`` column.

They live with the schema because partial indexes and guarded statements name them; which
transitions are allowed between them is the engine's business (:mod:`engine.states`).
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
# Failed for a reason a person must look at (the Failures screen, exit code 1).
ATTENTION = (State.NEEDS_ATTENTION, State.FAILED)
# What the operator may send back to the queue with "retry" (never a running job).
OPERATOR_RETRYABLE = (State.FAILED, State.NEEDS_ATTENTION, State.RETRYING)
# Finished work whose history may be pruned after the retention period.
PRUNABLE = (State.DONE, State.SKIPPED, State.SUPERSEDED)
