"""The four plain answers for a failure, as the Failures screen and job detail show them."""

from __future__ import annotations

from rich.text import Text

from shopodoo_console.causes import Cause


def cause_text(cause: Cause | None, *, heading: str = "") -> Text:
    text = Text()
    if heading:
        text.append(heading + "\n", style="bold")
    if cause is None:
        text.append("No failure recorded.", style="dim")
        return text
    assert cause.kind is not None
    rows = [
        ("Which record", cause.record or "not tied to one record"),
        ("What is missing", cause.missing),
        ("Temporary or configuration", cause.kind.label),
        (
            "Retry safe after the fix",
            ("yes" if cause.retry_safe else "no")
            + (f" — {cause.retry_note}" if cause.retry_note else ""),
        ),
    ]
    if cause.fix:
        rows.append(("What to do", cause.fix))
    if cause.operation:
        rows.append(("Failed call", cause.operation))
    if cause.detail:
        rows.append(("Message", cause.detail))
    for other in cause.also:  # every other blocker of the record, found by the same plan
        rows.append((f"Also missing ({other.code})", other.missing))
    for label, value in rows:
        text.append(f"{label}: ", style="bold")
        text.append(f"{value}\n")
    text.append(f"cause {cause.code}", style="dim")
    return text
