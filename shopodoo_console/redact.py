"""Keep secrets out of everything a person or a file can see.

Every component that handles a secret (a Shopify token, a client secret, an Odoo API key)
registers it here the moment it holds it. Log records, exception texts, cause details and
`--json` output pass through :func:`redact`, which masks every registered value. This is a
net under the rule "never put a secret in a message", not a replacement for it.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()
# Shapes that are secrets whoever produced them (Shopify tokens and app secrets).
_PATTERNS = re.compile(r"\b(shpat|shpss|shpca|shppa|shpua)_[0-9A-Za-z]{8,}\b")


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret to mask (values shorter than 4 chars are ignored)."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and token-shaped string masked."""
    if not text:
        return text
    with _lock:
        values = sorted(_secrets, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return _PATTERNS.sub(MASK, text)


def _scrub(record: logging.LogRecord) -> None:
    message = record.getMessage()
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))


_factory_installed = False


def install_record_factory() -> None:
    """Scrub every log record at creation, so no handler (ours or a library's) sees a secret."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the final message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
