"""Logging to a private file, with every secret masked.

The TUI owns the terminal, so by default everything (our loggers, APScheduler's skipped-run
warnings, httpx) goes to ``shopodoo.log`` only; headless commands may add stderr.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from shopodoo_console.config import Paths
from shopodoo_console.redact import RedactingFilter, install_record_factory
from shopodoo_console.store.db import create_private_file

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
_installed: list[logging.Handler] = []


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file, including ones made at rotation, is 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        create_private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(
    paths: Paths, *, stderr_level: int | None = None, file_level: int = logging.INFO
) -> None:
    """Install the file handler (created 0600) and optionally a stderr one; idempotent."""
    install_record_factory()
    # A log file that cannot be written (a full disk) must not print tracebacks over the
    # one-line error the command line gives (Python's advice for production use).
    logging.raiseExceptions = False
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    create_private_file(paths.log_file)
    file_handler = PrivateRotatingFileHandler(
        paths.log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setLevel(file_level)
    file_handler.setFormatter(logging.Formatter(FORMAT))
    file_handler.addFilter(RedactingFilter())
    _installed.append(file_handler)
    if stderr_level is not None:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(stderr_level)
        console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        console.addFilter(RedactingFilter())
        _installed.append(console)
    for handler in _installed:
        root.addHandler(handler)
    root.setLevel(min(h.level for h in _installed))
    # Chatty libraries: keep their warnings, drop their per-request noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
