"""One scheduler per database (DESIGN §2).

A row in ``lease`` names the process allowed to poll and work the queue. It is renewed by
heartbeat; it can be taken over when it expires, or at once when its holder was on this host
and its process is gone (a crash or kill -9 should not block the operator for a minute).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shopodoo_console.engine.owners import pid_alive
from shopodoo_console.store import leases
from shopodoo_console.store.db import Store

SCHEDULER = "scheduler"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Holder:
    owner: str
    pid: int
    host: str
    acquired_at: float
    expires_at: float

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.acquired_at))
        return f"process {self.pid} on {self.host} (since {since})"


class SchedulerLease:
    def __init__(
        self,
        store: Store,
        owner: str,
        *,
        ttl: float = 30.0,
        name: str = SCHEDULER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.owner = owner
        self.ttl = ttl
        self.name = name
        self.clock = clock
        self.pid = os.getpid()
        self.host = socket.gethostname()

    def holder(self) -> Holder | None:
        row = leases.holder(self.store, self.name)
        return Holder(*row) if row else None

    def acquire(self) -> Holder | None:
        """Take the lease; returns None on success, else who holds it."""
        now = self.clock()
        with self.store.atomic():
            current = self.holder()
            if current is not None and current.owner != self.owner:
                stale = current.expires_at < now or (
                    current.host == self.host and not pid_alive(current.pid)
                )
                if not stale:
                    return current
            leases.take(
                self.store,
                self.name,
                owner=self.owner,
                pid=self.pid,
                host=self.host,
                now=now,
                until=now + self.ttl,
            )
        return None

    def renew(self) -> bool:
        """Extend the lease; False means another process took it (we must stop polling)."""
        now = self.clock()
        with self.store.atomic():
            return leases.renew(self.store, self.name, self.owner, now + self.ttl)

    def release(self) -> None:
        with self.store.atomic():
            leases.give_up(self.store, self.name, self.owner)


class LeaseKeeper:
    """Renews a lease from a background thread while one long task runs (``sync --once``):
    a drain may take longer than the lease, and a second console must not take over then."""

    def __init__(self, lease: SchedulerLease) -> None:
        self.lease = lease
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shopodoo-lease", daemon=True)

    def _run(self) -> None:
        with self.lease.store.thread_connection():
            while not self._stop.wait(self.lease.ttl / 3):
                try:
                    if not self.lease.renew():
                        self.lost = True
                        log.error("the scheduler lease was taken by another process")
                        return
                except Exception:  # a locked database: try again at the next tick
                    log.exception("could not renew the scheduler lease")

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
