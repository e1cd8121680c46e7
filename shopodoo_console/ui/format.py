"""How times, counts and states read on screen (pure: no Textual, testable alone).

Times are shown in the operator's local time with a short "ago", because "last poll 12 s ago"
answers "is it alive?" faster than a timestamp does.
"""

from __future__ import annotations

from datetime import UTC, datetime

# The order states are listed in everywhere (attention first: that is what the lead acts on).
STATE_ORDER = (
    "needs_attention",
    "failed",
    "awaiting_approval",
    "retrying",
    "running",
    "queued",
    "done",
    "skipped",
    "superseded",
    "cancelled",
    "resolved",
)

STATE_LABELS = {
    "needs_attention": "needs attention",
    "failed": "failed",
    "awaiting_approval": "awaiting approval",
    "retrying": "retrying",
    "running": "running",
    "queued": "queued",
    "done": "done",
    "skipped": "skipped",
    "superseded": "superseded",
    "cancelled": "cancelled",
    "resolved": "resolved",
}

# Rich styles (cells and Text are rendered by Rich, which knows no Textual $variables).
ERROR, WARNING, GOOD, ACTIVE, MUTED = "bold red", "yellow", "green", "cyan", "dim"
STATE_STYLES = {
    "needs_attention": ERROR,
    "failed": ERROR,
    "awaiting_approval": WARNING,
    "retrying": WARNING,
    "running": ACTIVE,
    "queued": "",
    "done": GOOD,
    "skipped": MUTED,
    "superseded": MUTED,
    "cancelled": MUTED,
    "resolved": MUTED,
}


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def ago(seconds: float) -> str:
    """A short duration: ``4s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def clock_time(ts: float | None) -> str:
    """Local wall time; the date only when it is not today is left to :func:`stamp`."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def stamp(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def when(ts: float | None, now: float) -> str:
    """``12:03:04 (5s ago)``; ``never`` when there is no time."""
    if ts is None:
        return "never"
    return f"{clock_time(ts)} ({ago(now - ts)} ago)"


def parse_position(position: str | None) -> float | None:
    """A cursor position as a timestamp, when it is one (``updatedAt`` / ``write_date``)."""
    if not position:
        return None
    text = position.split("|", 1)[0].strip().replace("Z", "+00:00")
    for candidate in (text, text.replace(" ", "T")):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def count(n: int) -> str:
    return f"{n:,}"


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
