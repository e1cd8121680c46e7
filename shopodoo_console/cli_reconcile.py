"""`shopodoo audit`, `shopodoo backfill` and `shopodoo review` (issue 14; DESIGN §10).

Long runs show a progress bar with an ETA on stderr (a line every few seconds when stderr is
not a terminal), so ``--json`` on stdout stays clean. Ctrl-C stops a run after the page in
hand: an audit keeps what it found, a backfill resumes from there when started again with the
same period. Exit codes: 0 nothing to report, 1 findings / stopped / failed (something needs
attention), 2 usage or config error.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from shopodoo_console.causes import CauseError
from shopodoo_console.cli import EXIT_ATTENTION, EXIT_OK, UsageError, _emit_json
from shopodoo_console.config import Paths, load_config
from shopodoo_console.engine.progress import Progress, bar_line

AUDIT_KINDS = ("missing", "duplicate", "amount", "state", "unlinked")


class ProgressPrinter:
    """The bar on a terminal (redrawn in place, at most 4 times a second); elsewhere a
    plain line every ``every`` seconds and at the end."""

    def __init__(self, stream: TextIO, *, every: float = 5.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = 0.25 if self.tty else every
        self._last = 0.0
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        line = bar_line(progress)
        if self.tty:
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, last: Progress | None = None) -> None:
        if last is not None:
            line = bar_line(last)
            self.stream.write(("\r" + line.ljust(self._width) if self.tty else line) + "\n")
        elif self.tty and self._width:
            self.stream.write("\n")
        self.stream.flush()


@contextmanager
def _stoppable() -> Iterator[threading.Event]:
    """Ctrl-C / SIGTERM set the event (the run stops after its current page)."""
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        print("\nshopodoo: stopping after the current page…", file=sys.stderr)
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _period(args: argparse.Namespace) -> tuple[Any, Any]:
    from shopodoo_console.periods import parse_when

    since = parse_when(args.since)
    until = parse_when(args.until) if getattr(args, "until", None) else None
    if until is not None and until <= since:
        raise UsageError(f"--until ({args.until}) must be after --since ({args.since})")
    return since, until


def _tools(paths: Paths) -> tuple[Any, Any, Callable[[], None]]:
    from shopodoo_console.launch import build_engine
    from shopodoo_console.logs import setup_logging
    from shopodoo_console.workflows.reconcile.service import Reconcile

    config = load_config(paths.config_file)
    setup_logging(paths)
    engine, store, connections = build_engine(paths, config)
    tools = Reconcile(store, config, connections, engine.queue)

    def close() -> None:
        connections.close()
        store.close()

    return tools, store, close


def _check_shop(tools: Any, domain: str) -> None:
    try:
        tools.shop(domain)
    except CauseError as exc:
        raise UsageError(exc.cause.missing) from None


# ---------------------------------------------------------------- audit


def cmd_audit(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.store import reconcile as runs
    from shopodoo_console.workflows.reconcile.report import audit_json, write_csv

    since, until = _period(args)
    tools, store, close = _tools(paths)
    try:
        _check_shop(tools, args.shop)
        printer = ProgressPrinter(sys.stderr)
        last: list[Progress] = []

        def on_progress(p: Progress) -> None:
            last[:] = [p]
            printer(p)

        with _stoppable() as stop:
            result = tools.audit(
                args.shop, since, until, on_progress=on_progress, stop=stop, share=args.share
            )
        printer.close(last[0] if last else None)
        run = runs.get_run(store, result.run_id)
        assert run is not None
        rows = runs.findings(store, result.run_id)
        if args.csv:
            written = write_csv(Path(args.csv), rows, args.shop, tools.odoo_url())
            print(f"{written} finding(s) written to {args.csv}", file=sys.stderr)
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        extra = {
            "orders": result.orders,
            "odoo_orders": result.odoo_orders,
            "seconds": round(result.seconds, 3),
            "orders_per_minute": round(result.orders_per_minute, 1),
            "shopify_budget_share": round(result.budget, 4),
            "first_finding_seconds": result.first_finding,
            "warnings": result.warnings,
        }
        if args.json:
            _emit_json(
                audit_json(run, rows, result.counts, odoo_base=tools.odoo_url(), extra=extra)
            )
        else:
            _print_audit(run, rows, result, tools.odoo_url())
    finally:
        close()
    clean = result.state == runs.DONE and not result.findings
    return EXIT_OK if clean else EXIT_ATTENTION


def _print_audit(run: Any, rows: list[Any], result: Any, odoo_base: str | None) -> None:
    from shopodoo_console.workflows.reconcile.report import odoo_url, shopify_url

    print(
        f"Audit {run.id} of {run.shop}, orders created {run.since} – {run.until or 'now'}: "
        f"{result.orders} Shopify orders, {result.odoo_orders} Odoo sale orders, "
        f"{result.state} ({result.message})"
    )
    counts = ", ".join(f"{result.counts.get(k, 0)} {k}" for k in AUDIT_KINDS)
    print(f"Findings: {counts}")
    for row in rows:
        print(f"[{row.kind}] {row.summary}")
        opens: list[str | None] = []
        if row.job_id:
            opens.append(f"job {row.job_id} (shopodoo jobs show {row.job_id})")
        if row.shopify_id:
            opens.append(shopify_url(run.shop, row.shopify_id))
        opens += [u for i in row.odoo_ids if (u := odoo_url(odoo_base, i))]
        if opens:
            print("    → " + "  ".join(str(o) for o in opens))
    print(
        f"{result.orders_per_minute:,.0f} orders/min, {result.budget:.0%} of the Shopify "
        "budget"
        + (
            f", first finding after {result.first_finding:.1f}s"
            if result.first_finding is not None
            else ""
        )
    )


# ---------------------------------------------------------------- backfill


def cmd_backfill(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.store import reconcile as runs
    from shopodoo_console.workflows.reconcile.backfill import BackfillRunning

    since, until = _period(args)
    tools, _, close = _tools(paths)
    try:
        _check_shop(tools, args.shop)
        printer = ProgressPrinter(sys.stderr)
        last: list[Progress] = []

        def on_progress(p: Progress) -> None:
            last[:] = [p]
            printer(p)

        options: dict[str, Any] = {}
        if args.bulk_threshold is not None:
            options["bulk_threshold"] = args.bulk_threshold
        with _stoppable() as stop:
            try:
                result = tools.backfill(
                    args.shop, since, until, on_progress=on_progress, stop=stop, **options
                )
            except BackfillRunning as exc:
                print(f"shopodoo: {exc}", file=sys.stderr)
                return EXIT_ATTENTION
        printer.close(last[0] if last else None)
    finally:
        close()
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        _emit_json(
            {
                "version": 1,
                "run_id": result.run_id,
                "state": result.state,
                "method": result.method,
                "since": result.since,
                "until": result.until,
                "resumed": result.resumed,
                "orders": result.orders,
                "new_jobs": result.new,
                "already_known": result.seen,
                "seconds": round(result.seconds, 3),
                "message": result.message,
                "warnings": result.warnings,
            }
        )
    else:
        resumed = " (resumed)" if result.resumed else ""
        print(
            f"Backfill {result.run_id}{resumed} of {args.shop}, orders created {result.since} – "
            f"{result.until} via {result.method}: {result.state} — {result.message}"
        )
        if result.new:
            print(
                f"{result.new} job(s) queued below live work; they run with the live sync "
                "(`shopodoo run`, the console, or `shopodoo sync --once`)."
            )
    return EXIT_OK if result.state == runs.DONE else EXIT_ATTENTION


# ---------------------------------------------------------------- review


def cmd_review(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.engine.review import build_review, render_text, review_json
    from shopodoo_console.periods import parse_when
    from shopodoo_console.store.db import Store

    since = parse_when(args.since).timestamp()
    paths.ensure()
    store = Store(paths.database_file)
    try:
        review = build_review(store, since=since, shop=args.shop)
    finally:
        store.close()
    if args.json:
        _emit_json(review_json(review))
    else:
        print(render_text(review, width=args.width, color=sys.stdout.isatty()))
    return EXIT_ATTENTION if review.waiting_now else EXIT_OK


# ---------------------------------------------------------------- parser


def add_commands(sub: Any) -> None:
    audit = sub.add_parser(
        "audit", help="compare Shopify orders with Odoo sale orders over a period"
    )
    audit.add_argument("--shop", required=True, help="the shop's domain")
    audit.add_argument("--since", required=True, help="2026-11-01, an ISO time, or 30d")
    audit.add_argument("--until", help="end of the period (excluded); default now")
    audit.add_argument("--csv", metavar="FILE", help="also write the findings as CSV")
    audit.add_argument("--json", action="store_true", help="machine-readable output")
    audit.add_argument(
        "--share",
        type=float,
        default=0.5,
        help="most of the Shopify budget the audit may use (0 < share ≤ 0.5; default 0.5)",
    )
    audit.set_defaults(func=_checked_share(cmd_audit))

    backfill = sub.add_parser(
        "backfill", help="queue orders older than the poll cursor (same job keys; resumable)"
    )
    backfill.add_argument("--shop", required=True, help="the shop's domain")
    backfill.add_argument("--since", required=True, help="2026-11-01, an ISO time, or 30d")
    backfill.add_argument("--until", help="end of the period (excluded); default the cursor")
    backfill.add_argument(
        "--bulk-threshold",
        type=int,
        help="use a Shopify bulk operation above this many orders (default 1000)",
    )
    backfill.add_argument("--json", action="store_true")
    backfill.set_defaults(func=cmd_backfill)

    review = sub.add_parser("review", help="the first-month review: failures, waits, retries")
    review.add_argument("--since", default="30d", help="start of the period (default 30d)")
    review.add_argument("--shop", help="one shop only")
    review.add_argument("--width", type=int, default=100, help="chart width in columns")
    review.add_argument("--json", action="store_true")
    review.set_defaults(func=cmd_review)


def _checked_share(
    command: Callable[[argparse.Namespace, Paths], int],
) -> Callable[[argparse.Namespace, Paths], int]:
    def run(args: argparse.Namespace, paths: Paths) -> int:
        if not 0 < args.share <= 0.5:
            raise UsageError(
                f"--share {args.share} is out of range: the audit may use at most half of the "
                "Shopify budget (0 < share ≤ 0.5)"
            )
        return command(args, paths)

    return run
