"""Messages the console's parts send each other (Posting style: one module, typed)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from shopodoo_console.ui.fixes import Fix


@dataclass
class SchedulerChanged(Message):
    """The engine's scheduler moved (running, paused, stopped, read-only); posted from an
    engine thread with ``post_message``, which is thread-safe and does not wait."""

    state: str
    holder: str | None


@dataclass
class DataChanged(Message):
    """Something in the store changed (an engine event or an operator action)."""


@dataclass
class OpenJob(Message):
    job_id: int


@dataclass
class OpenFix(Message):
    """Jump to where a cause is fixed (mapping editor, Settings, or the job)."""

    fix: Fix
