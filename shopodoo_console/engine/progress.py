"""How far a long read has got, and when it will end: one value for the CLI's bar and the
console's (an audit or a backfill reports one after every page)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Progress:
    kind: str  # audit | backfill
    phase: str  # what it is doing now, in words ("Shopify orders", "bulk export running")
    done: int
    total: int | None
    found: int  # findings (audit) or new jobs (backfill)
    elapsed: float
    eta: float | None  # seconds left, None while unknown
    budget: float | None = None  # share of the Shopify budget used so far (0..1)
    first_finding: float | None = None  # seconds from the start to the first finding
    run_id: int | None = None
    final: bool = False  # the run has ended (its last report)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class Pace:
    """Rate and ETA over a run: units done since the start, against the wall clock."""

    def __init__(self, kind: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.kind = kind
        self.clock = clock
        self.started = clock()
        self.first_finding: float | None = None
        self._resumed_at = 0  # units done before this process took the run over

    def resumed(self, done: int) -> None:
        """The run already had ``done`` units: the rate counts only this process's."""
        self._resumed_at = done

    def saw_finding(self) -> None:
        if self.first_finding is None:
            self.first_finding = self.clock() - self.started

    def rate(self, done: int) -> float | None:
        """Units per second (None before the first unit)."""
        elapsed = self.clock() - self.started
        mine = done - self._resumed_at
        return mine / elapsed if mine > 0 and elapsed > 0 else None

    def progress(
        self,
        phase: str,
        done: int,
        total: int | None,
        found: int,
        *,
        budget: float | None = None,
        run_id: int | None = None,
    ) -> Progress:
        rate = self.rate(done)
        eta = None
        if total is not None and rate:
            eta = max(0.0, (total - done) / rate)
        return Progress(
            kind=self.kind,
            phase=phase,
            done=done,
            total=total,
            found=found,
            elapsed=self.clock() - self.started,
            eta=eta,
            budget=budget,
            first_finding=self.first_finding,
            run_id=run_id,
        )


def finished(progress: Progress, phase: str = "finished") -> Progress:
    return replace(progress, phase=phase, eta=0.0, final=True)


def duration(seconds: float | None) -> str:
    """``2h05m``, ``3m20s``, ``12s``; ``?`` while unknown."""
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def bar_line(progress: Progress, width: int = 28) -> str:
    """One line of text: ``audit [#####.....] 1,250/50,000 2% · 3 findings · ETA 3m20s``."""
    fraction = progress.fraction
    if fraction is None:
        bar = "[" + "?" * width + "]"
        count = f"{progress.done:,}"
    else:
        filled = round(fraction * width)
        bar = "[" + "#" * filled + "." * (width - filled) + "]"
        count = f"{progress.done:,}/{progress.total:,} {fraction:4.0%}"
    found = "finding" if progress.kind == "audit" else "new job"
    parts = [
        f"{progress.kind} {bar} {count}",
        f"{progress.found:,} {found}{'' if progress.found == 1 else 's'}",
        f"ETA {duration(progress.eta)}",
    ]
    if progress.budget is not None:
        parts.append(f"Shopify budget {progress.budget:.0%}")
    parts.append(progress.phase)
    return " · ".join(parts)
