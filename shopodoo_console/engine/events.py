"""Engine events: how the console (or a log) learns what the engine is doing.

Subscribers are called on the engine's threads; they must be quick and must not raise (the
TUI hands them to its event loop with ``call_from_thread``). A failing subscriber is logged
and never breaks the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Event kinds
JOB_STATE = "job_state"  # job_id, state, flow, label, cause_code
ENQUEUED = "enqueued"  # shop, flow, new, seen, superseded
POLL_STARTED = "poll_started"
POLL_FINISHED = "poll_finished"  # shop, stream, pages, new, seen, cursor
POLL_FAILED = "poll_failed"  # shop, stream, cause_code, message
THROTTLED = "throttled"  # shop, wait seconds
SCHEDULER = "scheduler"  # state: running | paused | stopped | read_only, holder
LEASE_EXPIRED = "lease_expired"  # job_id, worker


@dataclass(frozen=True)
class Event:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @property
    def listened(self) -> bool:
        """Whether anyone listens (emitters in hot loops skip building events otherwise)."""
        return bool(self._subscribers)

    def emit(self, kind: str, **data: Any) -> None:
        if not self._subscribers:
            return
        event = Event(kind, data)
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a broken subscriber must not stop the engine
                log.exception("event subscriber failed on %s", kind)
