"""Read-side queries shared by the CLI and the console (kept for their callers: the read
models and their statements live in :mod:`store.views`)."""

from __future__ import annotations

from shopodoo_console.store.views import (
    JSON_SCHEMA_VERSION,
    AttemptRow,
    CursorRow,
    JobFilter,
    JobRow,
    TimelineEntry,
    attempts,
    cause_groups,
    cursors,
    get_job,
    iso,
    list_jobs,
    timeline,
)

__all__ = [
    "JSON_SCHEMA_VERSION",
    "AttemptRow",
    "CursorRow",
    "JobFilter",
    "JobRow",
    "TimelineEntry",
    "attempts",
    "cause_groups",
    "cursors",
    "get_job",
    "iso",
    "list_jobs",
    "timeline",
]
