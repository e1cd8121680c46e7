"""How far this machine's clock is from a server's, learnt from the ``Date`` of its answers.

Shopify's ``updatedAt`` and Odoo's ``write_date`` have whole seconds: a job for version V must
not read its record before V's second is over *on the server's clock* (DESIGN §3.7). Both
clients keep one of these. Imports nothing from the product.
"""

from __future__ import annotations

import email.utils
import threading


class ServerClock:
    """``Date`` has whole seconds, so each answer gives ``local - server`` plus up to a second
    (plus the transit time); the smallest of the recent samples is the best estimate, and it
    errs late, never early — what holding a job back until a version is settled needs.
    """

    SAMPLES = 32

    def __init__(self) -> None:
        self._samples: list[float] = []
        self._lock = threading.Lock()

    def sample(self, date_header: str | None, received: float) -> None:
        if not date_header:
            return
        try:
            server = email.utils.parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        with self._lock:
            self._samples.append(received - server)
            del self._samples[: -self.SAMPLES]

    def offset(self) -> float | None:
        """Local time minus the server's, in seconds (``None`` before the first answer)."""
        with self._lock:
            return min(self._samples) if self._samples else None
