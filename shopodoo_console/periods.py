"""Periods as the operator gives them (``2026-11-01``, ``30d``, ISO times) and as runs store
them (UTC ISO text)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^(\d+)\s*([dhw])$")


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """``2026-11-01`` (midnight UTC), ``2026-11-01T08:00:00Z``, or ``30d`` / ``12h`` / ``2w``
    ago. Raises ``ValueError`` with a sentence the operator can act on."""
    value = text.strip()
    relative = _RELATIVE.match(value.lower())
    if relative:
        amount, unit = int(relative[1]), relative[2]
        span = {"d": timedelta(days=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(weeks=amount)
        )
        return (now or datetime.now(UTC)) - span
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date; use 2026-11-01, 2026-11-01T08:00:00Z or 30d (days ago)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
