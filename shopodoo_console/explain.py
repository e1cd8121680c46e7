"""Causes said where there is no job: `doctor`, "test connection", a failing poll.

A cause's own text is written for a job ("the job is retried automatically") and may name
the API call that failed; outside a job both mislead, so they are taken out here. Pure.
"""

from __future__ import annotations

import re

from shopodoo_console.causes import Cause, Kind

_OPERATION = re.compile(r"\s+[A-Z][a-z]+(?:[A-Z][a-z]*)+(?=[\s.,;:]|$)")  # AccessScopes
_JOB_TALK = re.compile(r"[;,]?\s*(?:the|a|this) (?:job|retry)[^.;]*[.;]?", re.I)


def outside_a_job(cause: Cause) -> str:
    """A cause as one sentence where there is no job (doctor, "test connection"): no API
    operation names, no "the job is retried", no doubled full stops."""
    missing = _OPERATION.sub("", cause.missing).strip().rstrip(".")
    fix = plain_fix(cause)
    if cause.kind == Kind.TEMPORARY:
        fix = fix or "Check that it is up and reachable from this machine"
        fix += ", then run the check again"
    return f"{missing}. {fix}." if fix else f"{missing}."


def for_a_poll(cause: Cause) -> str:
    """A cause as one sentence on a failing poll's stream: no API operation names, no job
    talk (a poll is not a job), and what happens next."""
    missing = _OPERATION.sub("", cause.missing).strip().rstrip(".")
    fix = plain_fix(cause)
    if cause.kind == Kind.TEMPORARY:
        fix = (fix + "; " if fix else "") + "the poll is tried again on its own"
    return f"{missing}. {fix[:1].upper() + fix[1:]}." if fix else f"{missing}."


def plain_fix(cause: Cause) -> str:
    """The cause's "what to do" without job talk, and without its closing full stop."""
    return _JOB_TALK.sub("", cause.fix).strip().rstrip(".;, ")
