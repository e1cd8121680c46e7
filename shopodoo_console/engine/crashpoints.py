"""Named points where the crash tests kill the process (DESIGN §13).

``SHOPODOO_CRASH_AT=orders.after_odoo_create`` makes the process SIGKILL itself when it
reaches that point — exactly a ``kill -9`` at the worst moment, reproducible. Unset (always,
outside the tests), a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "SHOPODOO_CRASH_AT"


def crashpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
