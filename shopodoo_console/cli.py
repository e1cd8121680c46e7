"""`shopodoo`: the console by default, sub-commands for headless use (DESIGN §10).

Exit codes: 0 ok, 1 finished but something needs attention, 2 usage or config error. Every
expected problem (bad config, unknown id, no keyring) is one clear line on stderr, never a
traceback. ``--json`` shapes are stable and documented in docs/cli.md.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from shopodoo_console import __version__, doctor, secrets
from shopodoo_console.config import (
    Config,
    ConfigError,
    Paths,
    ShopConfig,
    load_config,
    shop_domain_problem,
    url_problem,
)
from shopodoo_console.engine import queries
from shopodoo_console.engine.core import Engine, LeaseHeld
from shopodoo_console.engine.poller import Poller
from shopodoo_console.engine.queue import Queue
from shopodoo_console.engine.states import OPERATOR_RETRYABLE, State
from shopodoo_console.logs import setup_logging
from shopodoo_console.redact import redact
from shopodoo_console.shop_options import ODOO_MAX_ID
from shopodoo_console.store.db import DatabaseError, Store
from shopodoo_console.store.faults import explain
from shopodoo_console.store.sqlite import fault_of

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("shopodoo")


class UsageError(Exception):
    """A mistake the operator can fix from the message alone (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"shopodoo: {message}\n")


# ---------------------------------------------------------------- helpers


class _RedactingStream:
    """stdout/stderr wrapper: whatever a command prints passes through :func:`redact`."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _emit_json(data: Any) -> None:
    print(redact(json.dumps(data, indent=2, sort_keys=True)))


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _open_store(paths: Paths, *, readonly: bool = False) -> Store:
    """The database; commands that only read open it read-only (they work on a file the
    operator cannot write, and can never change it)."""
    if readonly:
        return Store(paths.database_file, readonly=True)
    paths.ensure()
    return Store(paths.database_file)


def _config(paths: Paths, required: bool = True) -> Config:
    return load_config(paths.config_file, required=required)


MAX_ID = 2**63 - 1  # what SQLite holds
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CAUSE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")


def _job_ids(values: Sequence[str]) -> list[int]:
    ids = []
    for value in values:
        if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
            raise UsageError(
                f"{value!r} is not a job id (job ids are numbers; see `shopodoo jobs ls`)"
            )
        ids.append(int(value))
    return ids


def _scheduler_holder(paths: Paths) -> str | None:
    """Who holds the scheduler lease (the usual other writer), read without writing."""
    from shopodoo_console.engine.lease import SchedulerLease

    try:
        store = Store(paths.database_file, readonly=True, busy_timeout_ms=1000)
        try:
            holder = SchedulerLease(store, "cli").holder()
        finally:
            store.close()
    except Exception:
        return None
    return f"shopodoo {holder.describe()}" if holder is not None else None


def _bounded(low: int, high: int) -> Any:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {text}")
        return value

    return parse


def _shaped(pattern: re.Pattern[str], what: str) -> Any:
    """An argparse type: a name of the expected shape (a cause code, a flow, a kind)."""

    def parse(text: str) -> str:
        if not pattern.match(text):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return text

    return parse


def _reason(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a reason is required (it is kept in the timeline)")
    return text.strip()


def _known_shop(store: Store, domain: str | None) -> None:
    if domain is not None and store.shop_id(domain) is None:
        raise UsageError(f"no shop {domain!r} in the database (see `shopodoo cursors ls`)")


# ---------------------------------------------------------------- jobs


def cmd_jobs_ls(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths, readonly=True)
    states = args.state or []
    for state in states:
        if state not in State.__members__.values():
            raise UsageError(
                f"unknown state {state!r} (expected one of: {', '.join(s.value for s in State)})"
            )
    _known_shop(store, args.shop)
    rows = queries.list_jobs(
        store,
        queries.JobFilter(states=states, cause=args.cause, shop=args.shop, flow=args.flow),
        limit=args.limit,
    )
    if args.json:
        _emit_json({"version": queries.JSON_SCHEMA_VERSION, "jobs": [r.to_json() for r in rows]})
    elif not rows:
        print("No jobs match.")
    else:
        print(
            f"{'ID':>7}  {'STATE':<17} {'FLOW':<8} {'SEEN':>4} {'TRIES':>5}  {'RECORD':<30} CAUSE"
        )
        for r in rows:
            print(
                f"{r.id:>7}  {r.state:<17} {r.flow:<8} {r.seen_count:>4} {r.attempts:>5}  "
                f"{(r.label or r.source_id)[:30]:<30} {r.cause.code if r.cause else ''}"
            )
    return (
        EXIT_ATTENTION if any(r.state in ("needs_attention", "failed") for r in rows) else EXIT_OK
    )


def cmd_jobs_show(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths, readonly=True)
    (job_id,) = _job_ids([args.id])
    job = queries.get_job(store, job_id)
    if job is None:
        raise UsageError(f"no job {job_id} (see `shopodoo jobs ls`)")
    tries = queries.attempts(store, job_id)
    events = queries.timeline(store, job_id)
    if args.json:
        data = job.to_json()
        data.update(
            version=queries.JSON_SCHEMA_VERSION,
            payload=job.payload,
            intent=job.intent,
            plan=job.plan,
            attempts_history=[a.to_json() for a in tries],
            timeline=[e.to_json() for e in events],
        )
        _emit_json(data)
        return EXIT_OK
    print(f"Job {job.id}  {job.label or job.source_id}  [{job.state}]")
    print(f"  key       {job.key}")
    print(f"  shop      {job.shop}   flow {job.flow}")
    print(f"  record    {job.source_id} at version {job.source_version}")
    print(f"  seen      {job.seen_count} time(s); {job.attempts} attempt(s)")
    if job.state in ("queued", "retrying"):
        print(f"  next run  {_when(job.next_run_at)}")
    if job.superseded_by:
        print(f"  superseded by job {job.superseded_by} (a newer version of the record)")
    if job.result:
        print(f"  result    {job.result}")
    if job.cause:
        print(f"\nCause: {job.cause.code} — {job.cause.title}")
        for line in job.cause.explain().splitlines():
            print(f"  {line}")
    if tries:
        print("\nAttempts:")
        for a in tries:
            cause = f" ({a.cause_code})" if a.cause_code else ""
            print(f"  #{a.number} {_when(a.started_at)} {a.outcome}{cause} {a.message}")
    if events:
        print("\nTimeline:")
        for e in events:
            print(f"  {_when(e.at)} [{e.system}] {e.message}")
    return EXIT_OK


def _check_exist(store: Store, ids: list[int]) -> None:
    for job_id in ids:
        if queries.get_job(store, job_id) is None:
            raise UsageError(f"no job {job_id} (see `shopodoo jobs ls`)")


def _report_moved(
    store: Store, ids: list[int], moved: list[int], verb: str, allowed: Sequence[str]
) -> int:
    for job_id in ids:
        if job_id not in moved:
            job = queries.get_job(store, job_id)
            state = job.state if job else "unknown"
            print(
                f"job {job_id} is {state}: only {', '.join(allowed)} jobs can be {verb}",
                file=sys.stderr,
            )
    print(f"{len(moved)} job(s) {verb}" + (f": {', '.join(map(str, moved))}" if moved else ""))
    return EXIT_OK if len(moved) == len(ids) else EXIT_ATTENTION


def cmd_jobs_retry(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths)
    queue = Queue(store)
    if args.ids and args.cause:
        raise UsageError("give job ids or --cause, not both")
    if args.cause:
        shop_id = None
        if args.shop:
            shop_id = store.shop_id(args.shop)
            if shop_id is None:
                raise UsageError(f"no shop {args.shop!r} in the database")
        moved = queue.retry_where(cause_code=args.cause, shop_id=shop_id)
        print(f"{len(moved)} job(s) with cause {args.cause} queued again")
        return EXIT_OK
    if not args.ids:
        raise UsageError("give the job ids to retry, or --cause CODE to retry a whole group")
    ids = _job_ids(args.ids)
    _check_exist(store, ids)
    moved = queue.retry(ids, reason=args.reason or "")
    return _report_moved(store, ids, moved, "queued again", [s.value for s in OPERATOR_RETRYABLE])


def cmd_jobs_cancel(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths)
    ids = _job_ids(args.ids)
    _check_exist(store, ids)
    moved = Queue(store).cancel(ids, reason=args.reason)
    allowed = [
        s.value
        for s in (
            State.QUEUED,
            State.RETRYING,
            State.NEEDS_ATTENTION,
            State.AWAITING_APPROVAL,
            State.FAILED,
        )
    ]
    return _report_moved(store, ids, moved, "cancelled", allowed)


def cmd_jobs_resolve(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths)
    ids = _job_ids(args.ids)
    _check_exist(store, ids)
    moved = Queue(store).resolve(ids, reason=args.reason)
    allowed = [
        s.value
        for s in (State.RETRYING, State.NEEDS_ATTENTION, State.AWAITING_APPROVAL, State.FAILED)
    ]
    return _report_moved(store, ids, moved, "resolved", allowed)


def cmd_jobs_approve(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths)
    if args.ids and (args.flow or args.shop):
        raise UsageError("give job ids, or --flow (and --shop) to approve a whole flow, not both")
    if not args.ids:
        if not args.flow:
            raise UsageError("give the job ids to approve, or --flow FLOW to approve all its plans")
        return _approve_all(store, args.flow, args.shop)
    ids = _job_ids(args.ids)
    _check_exist(store, ids)
    moved = Queue(store).approve(ids)
    return _report_moved(store, ids, moved, "approved", ["awaiting_approval"])


def _approve_all(store: Store, flow: str, shop: str | None) -> int:
    """Review mode in bulk: every plan of a flow (of a shop) waiting for approval."""
    filters = queries.JobFilter(states=("awaiting_approval",), flow=flow, shop=shop)
    ids: list[int] = []
    page = queries.list_jobs(store, filters, limit=500)
    while page:
        ids += [job.id for job in page]
        page = queries.list_jobs(store, filters, limit=500, before_id=page[-1].id)
    moved = Queue(store).approve(ids) if ids else []
    where = f" of {shop}" if shop else ""
    print(
        f"{len(moved)} {flow} plan(s){where} approved" + (f": {_ids_text(moved)}" if moved else "")
    )
    return EXIT_OK


def _ids_text(ids: Sequence[int]) -> str:
    shown = ", ".join(map(str, ids[:20]))
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


# ---------------------------------------------------------------- cursors


def cmd_cursors_ls(args: argparse.Namespace, paths: Paths) -> int:
    store = _open_store(paths, readonly=True)
    rows = queries.cursors(store)
    if args.json:
        _emit_json({"version": queries.JSON_SCHEMA_VERSION, "cursors": [r.to_json() for r in rows]})
        return EXIT_OK
    if not rows:
        print("No streams polled yet.")
        return EXIT_OK
    print(f"{'SHOP':<28} {'STREAM':<12} {'POSITION':<26} {'LAST POLL':<20} RESULT")
    for r in rows:
        result = "-" if r.last_poll_ok is None else ("ok" if r.last_poll_ok else "FAILED")
        print(
            f"{r.shop:<28} {r.stream:<12} {(r.position or '-'):<26} "
            f"{_when(r.last_poll_at):<20} {result} {r.last_poll_message}"
        )
    return EXIT_OK


EARLIEST_POSITION = datetime(2006, 1, 1, tzinfo=UTC)  # before any Shopify store existed


def _rewind_target(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--to {text!r} is not a time; use ISO 8601, e.g. 2026-11-01T00:00:00Z"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if when < EARLIEST_POSITION:
        raise UsageError(
            f"--to {text!r} is before 2006, which Shopify's search cannot take; give a time "
            "since the shop's first order"
        )
    return when


def _stream_names(config: Config, store: Store) -> list[str]:
    from shopodoo_console.engine.poller import stream_of
    from shopodoo_console.workflows import build_flows

    return sorted({stream_of(flow) for flow in build_flows(config, store)})


def cmd_cursors_rewind(args: argparse.Namespace, paths: Paths) -> int:
    """Move a stream's cursor back. Safe: versions seen again are counted, not re-done.
    Moving it forward (or past now) skips changes for good, so it needs --force."""
    config = _config(paths, required=False)
    domain = args.shop.strip().lower()
    configured = next((s for s in config.shops if s.domain == domain), None)
    when = _rewind_target(args.to)
    store = _open_store(paths)
    streams = _stream_names(config, store)
    if args.stream not in streams:
        raise UsageError(f"unknown stream {args.stream!r} (streams: {', '.join(streams)})")
    shop_id = store.shop_id(domain)
    if shop_id is None and configured is not None:  # configured, never synced yet
        shop_id = store.sync_shop(configured.domain, api_version=configured.api_version)
    if shop_id is None:
        known = ", ".join(s.domain for s in config.shops) or "none"
        raise UsageError(
            f"no shop {args.shop!r} in the config or the database (configured: {known})"
        )
    position = when.isoformat().replace("+00:00", "Z")
    poller = Poller(Queue(store))
    old = poller.position(shop_id, args.stream)
    _check_rewind(when, old, args.force)
    with store.atomic():
        poller.set_position(shop_id, args.stream, position)
        store.audit(
            system="operator",
            event="cursor_rewind",
            shop_id=shop_id,
            message=f"Cursor {args.stream} moved from {old or 'start'} to {position}",
        )
    print(
        f"{domain} {args.stream}: cursor moved from {old or 'start'} to {position}. "
        + (
            "Changes before it are not polled again."
            if _after(when, old)
            else "Re-sighted versions are counted, not re-done."
        )
    )
    return EXIT_OK


def _after(when: datetime, old: str | None) -> bool:
    from shopodoo_console.ui.format import parse_position

    current = parse_position(old)
    return current is not None and when.timestamp() > current


def _check_rewind(when: datetime, old: str | None, force: bool) -> None:
    if force:
        return
    if when > datetime.now(UTC):
        raise UsageError(
            f"{when:%Y-%m-%dT%H:%M:%SZ} is in the future: the stream would skip every change "
            "until then. Add --force if that is what you want."
        )
    if _after(when, old):
        raise UsageError(
            f"{when:%Y-%m-%dT%H:%M:%SZ} is after the current position {old}: changes in "
            "between would never be synced. Rewinding goes back; add --force to skip ahead."
        )


# ---------------------------------------------------------------- running


def _engine(paths: Paths) -> tuple[Engine, Store]:
    from shopodoo_console.launch import build_engine

    engine, store, _ = build_engine(paths, _config(paths))
    return engine, store


FINISHED_OUTCOMES = ("done", "skipped")


def cmd_sync(args: argparse.Namespace, paths: Paths) -> int:
    """One pass. Exit 0 only when every job it worked ended done or skipped, no poll failed
    and nothing waits for the operator; SIGINT and SIGTERM stop it cleanly (in-flight jobs
    finish, the rest go back to the queue, the scheduler lease is released)."""
    if not args.once:
        raise UsageError("`shopodoo sync` needs --once (to keep syncing, use `shopodoo run`)")
    setup_logging(paths, stderr_level=logging.WARNING)
    engine, _ = _engine(paths)
    if not engine.streams():
        print(
            "Nothing to poll: no shop has a flow switched on (set [shops.flows] in the "
            f"config at {paths.config_file}).",
            file=sys.stderr,
        )
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        """SIGTERM and Ctrl-C: claim nothing more, let the jobs in flight finish; a second
        signal stops at once (what is still running is released below)."""
        if stopping:
            raise KeyboardInterrupt
        stopping.append(signum)
        engine.runner.finish_in_flight()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = engine.sync_once()
    except LeaseHeld as exc:
        print(f"shopodoo: {exc}", file=sys.stderr)
        return EXIT_ATTENTION
    except KeyboardInterrupt:
        summary = None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.close_flows()
    if stopping:
        released = engine.queue.release(engine.queue.held())
        engine.lease.release()
        print(
            f"shopodoo: stopped by {signal.Signals(stopping[0]).name}; jobs in flight "
            f"{'were stopped' if summary is None else 'finished'}, {released} job(s) still "
            "running were returned to the queue, the rest wait for the next run",
            file=sys.stderr,
        )
        return EXIT_ATTENTION
    assert summary is not None
    return _sync_report(summary)


def _sync_report(summary: Any) -> int:
    for poll in summary.polls:
        state = "ok" if poll.ok else f"FAILED ({poll.cause_code}): {poll.message}"
        print(f"poll {poll.shop} {poll.stream}: {poll.new} new, {poll.seen} seen again — {state}")
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(summary.drain.outcomes.items()))
    print(f"worked {summary.drain.claimed} job(s)" + (f": {outcomes}" if outcomes else ""))
    unfinished = sum(n for k, n in summary.drain.outcomes.items() if k not in FINISHED_OUTCOMES)
    if unfinished:
        print(
            f"{unfinished} of them did not finish (retrying later, awaiting approval or "
            "needing attention): `shopodoo jobs ls --state retrying --state needs_attention "
            "--state awaiting_approval --state failed`"
        )
    if summary.problems:
        print(
            f"{summary.problems} job(s) need attention: "
            "`shopodoo jobs ls --state needs_attention --state failed`"
        )
    failed_polls = any(not p.ok for p in summary.polls)
    return EXIT_ATTENTION if summary.problems or failed_polls or unfinished else EXIT_OK


def cmd_run(args: argparse.Namespace, paths: Paths) -> int:
    setup_logging(paths, stderr_level=logging.INFO)
    engine, _ = _engine(paths)
    if not engine.streams():
        log.warning("no shop has a flow switched on; the queue is worked but nothing is polled")
    holder = engine.start()
    if holder is not None:
        print(
            f"shopodoo: another process is polling this database: {holder.describe()}. "
            "Not starting.",
            file=sys.stderr,
        )
        return EXIT_ATTENTION
    stop = threading.Event()

    def _handle(signum: int, _frame: Any) -> None:
        log.info(
            "signal %s: stopping (in-flight jobs get %ss)",
            signum,
            engine.config.engine.shutdown_timeout,
        )
        stop.set()

    signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)
    log.info(
        "running: %d stream(s), %d worker(s); Ctrl-C to stop",
        len(engine.streams()),
        engine.config.engine.workers,
    )
    while not stop.wait(1.0):
        if engine.state == "read_only":
            log.error(
                "lost the scheduler lease to %s; exiting",
                engine.holder.describe() if engine.holder else "another process",
            )
            engine.stop()
            return EXIT_ATTENTION
    released = engine.stop()
    log.info("stopped; %d unfinished job(s) returned to the queue", released)
    return EXIT_OK


# ---------------------------------------------------------------- connect


def _read_secret(args: argparse.Namespace, prompt: str) -> str:
    if args.stdin:
        value = sys.stdin.read().strip()
    else:
        if not sys.stdin.isatty():
            raise UsageError(
                "no terminal to prompt on; pass the secret on standard input with --stdin"
            )
        value = getpass.getpass(prompt).strip()
    if not value:
        raise UsageError("an empty secret was given; nothing was stored")
    return value


def cmd_connect_shopify(args: argparse.Namespace, paths: Paths) -> int:
    """Check the shop and the config change, then the secret, then store it, then write the
    config: a refused value never leaves a secret or a half-written file behind."""
    from shopodoo_console import config_file

    config = _config(paths, required=False)
    domain = args.domain.strip().lower()
    problem = shop_domain_problem(domain)
    if problem:
        raise UsageError(problem)
    client_id = (args.client_id or "").strip()
    if args.client_id is not None and not client_id:
        raise UsageError("--client-id is empty; give the Dev Dashboard app's client id")
    existing = next((s for s in config.shops if s.domain == domain), None)
    auth = "client_credentials" if client_id else (existing.auth if existing else "token")
    path = paths.config_file

    def change(write: bool) -> Config:
        if existing is None:
            return config_file.add_shop(
                path, domain=domain, auth=auth, client_id=client_id, write=write
            )
        if not client_id or client_id == existing.client_id:
            return config  # nothing to change in the file
        return config_file.update_shop(
            path,
            domain,
            base_url=existing.base_url or "",
            auth=auth,
            client_id=client_id,
            api_version=existing.api_version,
            odoo_company_id=existing.odoo_company_id,
            odoo_warehouse_id=existing.odoo_warehouse_id,
            write=write,
        )

    change(False)
    _check_backend()
    secret = _read_secret(args, _shopify_prompt(auth, domain))
    secrets.set_secret(ShopConfig(domain=domain).secret_name, secret)
    change(True)
    what = "client secret" if auth == "client_credentials" else "access token"
    print(
        f"Stored the {what} for {domain} in the keyring "
        f"({secrets.backend_status().name}); config: {path}.{_requeued(paths, f'shopify:{domain}')}"
    )
    return EXIT_OK


def _requeued(paths: Paths, connection: str) -> str:
    """Re-queue what waited on this credential (when there is a database yet)."""
    from shopodoo_console.engine.requeue import requeue_for_credential

    if not paths.database_file.exists():
        return ""
    store = _open_store(paths)
    try:
        moved = requeue_for_credential(Queue(store), connection)
    finally:
        store.close()
    return f" {len(moved)} job(s) waiting on this credential queued again." if moved else ""


def _shopify_prompt(auth: str, domain: str) -> str:
    if auth == "client_credentials":
        return f"Client secret of the Dev Dashboard app for {domain}: "
    return f"Admin API access token for {domain} (shpat_...): "


def _check_backend() -> None:
    status = secrets.backend_status()
    if not status.usable:
        raise secrets.SecretStoreUnavailable(status.explanation)


def cmd_connect_odoo(args: argparse.Namespace, paths: Paths) -> int:
    """Like ``connect shopify``: URL and config change checked before the keyring is asked;
    given values replace those in ``[odoo]`` (comments kept)."""
    from shopodoo_console import config_file

    config = _config(paths, required=False)
    odoo = config.odoo
    given = {k: getattr(args, k).strip() for k in ("url", "database", "login") if getattr(args, k)}
    if "url" in given:
        problem = url_problem(given["url"])
        if problem:
            raise UsageError(f"--url: {problem}")
    if odoo is None:
        missing = [k for k in ("url", "database", "login") if k not in given]
        if missing:
            raise UsageError(
                f"no [odoo] section in {paths.config_file} yet; give "
                + " ".join(f"--{k}" for k in missing)
            )
    fields = {
        "url": given.get("url", odoo.url if odoo else ""),
        "database": given.get("database", odoo.database if odoo else ""),
        "login": given.get("login", odoo.login if odoo else ""),
        "protocol": args.protocol or (odoo.protocol if odoo else "auto"),
    }
    planned = config_file.update_odoo(paths.config_file, **fields, write=False).odoo
    assert planned is not None
    _check_backend()
    secret = _read_secret(args, f"Odoo API key for {planned.login}: ")
    secrets.set_secret(planned.secret_name, secret)
    config_file.update_odoo(paths.config_file, **fields, write=True)
    print(
        f"Stored the Odoo API key for {planned.login} at {planned.url} in the keyring "
        f"({secrets.backend_status().name}); config: {paths.config_file}."
        + _requeued(paths, "odoo")
    )
    return EXIT_OK


# ---------------------------------------------------------------- doctor


def cmd_doctor(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.workflows.checks import doctor_checks
    from shopodoo_console.workflows.connections import Connections

    def remote(config: Config) -> list[doctor.Check]:
        connections = Connections(config)
        try:
            return doctor_checks(connections)(config)
        finally:
            connections.close()

    checks = doctor.run_checks(paths, extra=[remote])
    if args.json:
        _emit_json(
            {"version": queries.JSON_SCHEMA_VERSION, "checks": [c.to_json() for c in checks]}
        )
    else:
        marks = {doctor.OK: "ok  ", doctor.WARN: "warn", doctor.FAIL: "FAIL"}
        for c in checks:
            print(f"[{marks[c.status]}] {c.name}: {c.message}")
    return EXIT_ATTENTION if any(c.status == doctor.FAIL for c in checks) else EXIT_OK


# ---------------------------------------------------------------- console, demo, sims


def cmd_console(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.launch import open_console

    return open_console(paths)  # with no config yet, it opens on the first-run screen


def cmd_demo(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.launch import run_demo

    return run_demo(
        headless=args.headless,
        orders=args.orders,
        seed=args.seed,
        odoo_version=args.odoo_version,
        home=args.home,
    )


def cmd_sim(args: argparse.Namespace, paths: Paths) -> int:
    if args.system == "shopify":
        from shopodoo_console.sim.shopify import main as shopify_main

        return int(shopify_main(args.sim_args) or 0)
    from shopodoo_console.sim.odoo import main as odoo_main

    return int(odoo_main(list(args.sim_args)) or 0)


# ---------------------------------------------------------------- links and mappings


def cmd_links_ls(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.store import links

    store = _open_store(paths, readonly=True)
    _known_shop(store, args.shop)
    rows = links.list_links(store, shop=args.shop, kind=args.kind, limit=args.limit)
    if args.json:
        keys = ("shop", "kind", "shopify_id", "odoo_model", "odoo_id", "label")
        _emit_json(
            {
                "version": queries.JSON_SCHEMA_VERSION,
                "links": [dict(zip(keys, r, strict=True)) for r in rows],
            }
        )
        return EXIT_OK
    for shop, kind, shopify_id, model, odoo_id, label in rows:
        print(f"{shop}  {kind:<9} {shopify_id}  ↔  {model} {odoo_id} {label}")
    if not rows:
        print("No links.")
    return EXIT_OK


def cmd_links_forget(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.store import links

    store = _open_store(paths)
    shop_id = store.shop_id(args.shop)
    if shop_id is None:
        raise UsageError(f"no shop {args.shop!r} in the database")
    link = links.find_link(store, shop_id, args.kind, args.shopify_id)
    if link is None:
        raise UsageError(f"no {args.kind} link for {args.shopify_id} (see `shopodoo links ls`)")
    with store.atomic():
        links.delete_link(store, shop_id, args.kind, args.shopify_id)
        store.audit(
            system="operator",
            event="link_forgotten",
            shop_id=shop_id,
            message=f"Forgot the link {args.shopify_id} ↔ {link.odoo_model} "
            f"{link.odoo_id} {link.label}".strip(),
        )
    print(
        f"Forgot the link {args.shopify_id} ↔ {link.odoo_model} {link.odoo_id}. A retry of "
        "its job now looks for the stamp in Odoo, then creates the record if there is none."
    )
    return EXIT_OK


def cmd_mappings_ls(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.engine import mappings

    store = _open_store(paths, readonly=True)
    shop_id = _shop_id(store, args.shop)
    rows = mappings.list_mappings(store, shop_id, args.kind)
    missing = mappings.missing_mappings(store, shop_id)
    if args.json:
        _emit_json(
            {
                "version": queries.JSON_SCHEMA_VERSION,
                "mappings": [m.to_json() for m in rows],
                "missing": [
                    {"kind": k, "source_key": s, "jobs": n}
                    for k, s, n in missing
                    if not args.kind or k == args.kind
                ],
            }
        )
        return EXIT_OK
    for kind, source, count in missing:
        if not args.kind or kind == args.kind:
            print(f"MISSING {kind:<9} {source!r}: {count} job(s) waiting")
    for m in rows:
        print(f"{m.kind:<9} {m.source_key!r} → {m.odoo_model} {m.odoo_id} {m.label}")
    if not rows and not missing:
        print("No mappings.")
    return EXIT_ATTENTION if missing else EXIT_OK


def _shop_id(store: Store, domain: str | None) -> int | None:
    if domain is None:
        return None
    shop_id = store.shop_id(domain)
    if shop_id is None:
        raise UsageError(f"no shop {domain!r} in the database")
    return shop_id


def cmd_mappings_set(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.engine import mappings
    from shopodoo_console.launch import build_engine
    from shopodoo_console.workflows.checks import validate_mapping

    config = _config(paths)
    shop = config.shop(args.shop)
    if args.kind not in mappings.KINDS:
        raise UsageError(
            f"unknown kind {args.kind!r} (expected one of: {', '.join(mappings.KINDS)})"
        )
    engine, store, connections = build_engine(paths, config)
    label = ""
    if not args.no_check:
        ok, message, label = validate_mapping(
            connections, shop.domain, args.kind, mappings.KINDS[args.kind], args.odoo_id
        )
        if not ok:
            print(f"shopodoo: {message}", file=sys.stderr)
            return EXIT_ATTENTION
    shop_id = store.shop_id(shop.domain)
    assert shop_id is not None
    _, requeued = mappings.save_mapping(
        engine.queue, shop_id, args.kind, args.source_key, args.odoo_id, label=label
    )
    print(
        f"Saved {args.kind} {args.source_key!r} → {mappings.KINDS[args.kind]} {args.odoo_id}"
        f" {label}; {len(requeued)} waiting job(s) queued again."
    )
    return EXIT_OK


def cmd_mappings_suggest(args: argparse.Namespace, paths: Paths) -> int:
    """For every mapping waiting jobs miss, what Odoo holds that could be it."""
    from shopodoo_console.engine import mappings
    from shopodoo_console.launch import build_engine
    from shopodoo_console.workflows.checks import suggest

    config = _config(paths)
    _, store, connections = build_engine(paths, config)
    try:
        shops = [s for s in config.shops if not args.shop or s.domain == args.shop]
        found: list[dict[str, Any]] = []
        for shop in shops:
            for kind, key, count in mappings.missing_mappings(store, store.shop_id(shop.domain)):
                if args.kind and kind != args.kind:
                    continue
                candidates = suggest(connections, shop.domain, kind, key)
                found.append(
                    {
                        "shop": shop.domain,
                        "kind": kind,
                        "source_key": key,
                        "jobs": count,
                        "suggestions": [
                            {"odoo_id": i, "label": label, "why": why}
                            for i, label, why in candidates
                        ],
                    }
                )
    finally:
        connections.close()
    if args.json:
        _emit_json({"version": queries.JSON_SCHEMA_VERSION, "missing": found})
        return EXIT_OK
    if not found:
        print("Nothing is waiting for a mapping.")
    for item in found:
        print(f"{item['kind']} {item['source_key']!r} ({item['jobs']} job(s) waiting):")
        for s in item["suggestions"] or [{"odoo_id": "-", "label": "no candidate", "why": ""}]:
            why = f"  ({s['why']})" if s["why"] else ""
            print(f"    {s['odoo_id']}  {s['label']}{why}")
        if item["suggestions"]:
            first = item["suggestions"][0]["odoo_id"]
            print(
                f"    → shopodoo mappings set {item['shop']} {item['kind']} "
                f"{item['source_key']} {first}"
            )
    return EXIT_OK


def cmd_mappings_rm(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.engine import mappings

    store = _open_store(paths)
    shop_id = _shop_id(store, args.shop)
    assert shop_id is not None
    if not mappings.delete_mapping(Queue(store), shop_id, args.kind, args.source_key):
        raise UsageError(f"no {args.kind} mapping for {args.source_key!r}")
    print(f"Removed the {args.kind} mapping for {args.source_key!r}.")
    return EXIT_OK


def _stock_resync(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.stock_cli import cmd_stock_resync

    setup_logging(paths, stderr_level=logging.WARNING)
    return cmd_stock_resync(args, paths)


def _stock_locations(args: argparse.Namespace, paths: Paths) -> int:
    from shopodoo_console.stock_cli import cmd_stock_locations

    setup_logging(paths, stderr_level=logging.WARNING)
    return cmd_stock_locations(args, paths)


# ---------------------------------------------------------------- parser


CAUSE_CODE = _shaped(_CAUSE_RE, "a cause code (like mapping.product_missing)")
FLOW_NAME = _shaped(_NAME_RE, "a flow name (like orders)")
KIND_NAME = _shaped(_NAME_RE, "a kind (like product)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="shopodoo", description="Keep Shopify and Odoo in sync, exactly once.")
    p.add_argument("--version", action="version", version=f"shopodoo-console {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="poll and sync headless until stopped")
    run.set_defaults(func=cmd_run)
    sync = sub.add_parser("sync", help="poll every stream once and work the queue")
    sync.add_argument("--once", action="store_true", help="one pass, then exit")
    sync.set_defaults(func=cmd_sync)

    jobs = sub.add_parser("jobs", help="list, inspect and act on jobs")
    jsub = jobs.add_subparsers(
        dest="jobs_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    ls = jsub.add_parser("ls", help="list jobs, newest first")
    ls.add_argument("--state", action="append", help="filter by state (repeatable)")
    ls.add_argument(
        "--cause", type=CAUSE_CODE, help="filter by cause code, e.g. mapping.product_missing"
    )
    ls.add_argument("--shop", help="filter by shop domain")
    ls.add_argument("--flow", type=FLOW_NAME, help="filter by flow")
    ls.add_argument("--limit", type=_bounded(1, 10_000), default=50)
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=cmd_jobs_ls)
    show = jsub.add_parser("show", help="one job: cause, attempts, timeline")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_jobs_show)
    retry = jsub.add_parser("retry", help="queue jobs again (by id, or all with a cause)")
    retry.add_argument("ids", nargs="*")
    retry.add_argument(
        "--cause", type=CAUSE_CODE, help="retry every failed/waiting job with this cause"
    )
    retry.add_argument("--shop", help="with --cause: only this shop")
    retry.add_argument("--reason", type=_reason, help="note for the timeline")
    retry.set_defaults(func=cmd_jobs_retry)
    for name, func, helptext in (
        ("cancel", cmd_jobs_cancel, "stop jobs for good"),
        ("resolve", cmd_jobs_resolve, "mark jobs handled by hand"),
    ):
        action = jsub.add_parser(name, help=helptext)
        action.add_argument("ids", nargs="+")
        action.add_argument(
            "--reason", type=_reason, required=True, help="why (kept in the timeline)"
        )
        action.set_defaults(func=func)
    approve = jsub.add_parser("approve", help="run the plan of jobs awaiting approval")
    approve.add_argument("ids", nargs="*")
    approve.add_argument("--flow", help="approve every plan of this flow waiting for approval")
    approve.add_argument("--shop", help="with --flow: only this shop")
    approve.set_defaults(func=cmd_jobs_approve)

    cursors = sub.add_parser("cursors", help="poll positions per shop and stream")
    csub = cursors.add_subparsers(
        dest="cursors_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    cls = csub.add_parser("ls", help="list cursors")
    cls.add_argument("--json", action="store_true")
    cls.set_defaults(func=cmd_cursors_ls)
    rewind = csub.add_parser("rewind", help="move a cursor back (re-reads, never re-does)")
    rewind.add_argument("shop")
    rewind.add_argument("stream")
    rewind.add_argument("--to", required=True, help="ISO time, e.g. 2026-11-01T00:00:00Z")
    rewind.add_argument(
        "--force", action="store_true", help="allow a time after the current position or now"
    )
    rewind.set_defaults(func=cmd_cursors_rewind)

    stock = sub.add_parser("stock", help="the stock flow (Odoo → Shopify levels)")
    ssub = stock.add_subparsers(
        dest="stock_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    resync = ssub.add_parser(
        "resync", help="bring every level in step (paced, resumable, progress bar and ETA)"
    )
    resync.add_argument("--shop", help="only this shop (default: every shop)")
    resync.add_argument("--cancel", action="store_true", help="stop the running resync")
    resync.set_defaults(func=_stock_resync)
    locs = ssub.add_parser(
        "locations", help="Shopify locations: mapped, or suggested Odoo locations (by address)"
    )
    locs.add_argument("--shop", help="only this shop (default: every shop)")
    locs.add_argument("--json", action="store_true")
    locs.set_defaults(func=_stock_locations)

    connect = sub.add_parser("connect", help="store credentials in the OS keyring")
    consub = connect.add_subparsers(
        dest="connect_command", metavar="SYSTEM", parser_class=_Parser, required=True
    )
    cshop = consub.add_parser("shopify", help="a shop's token or client secret")
    cshop.add_argument("domain", help="e.g. acme.myshopify.com")
    cshop.add_argument("--client-id", help="Dev Dashboard app: client id (secret is prompted)")
    cshop.add_argument("--stdin", action="store_true", help="read the secret from stdin")
    cshop.set_defaults(func=cmd_connect_shopify)
    codoo = consub.add_parser("odoo", help="the Odoo user's API key")
    codoo.add_argument("--url")
    codoo.add_argument("--database")
    codoo.add_argument("--login")
    codoo.add_argument("--protocol", choices=("auto", "json2", "jsonrpc"))
    codoo.add_argument("--stdin", action="store_true", help="read the API key from stdin")
    codoo.set_defaults(func=cmd_connect_odoo)

    dem = sub.add_parser("demo", help="the console against built-in Shopify and Odoo simulators")
    dem.add_argument("--headless", action="store_true", help="no TUI: sync, print a summary")
    dem.add_argument(
        "--orders", type=_bounded(1, 5000), default=60, help="orders in the simulated shop"
    )
    dem.add_argument("--seed", type=_bounded(0, MAX_ID), default=7)
    dem.add_argument("--odoo-version", type=int, choices=(16, 17, 18, 19), default=19)
    dem.add_argument(
        "--home", type=Path, help="keep the demo's files here (default: a temp folder)"
    )
    dem.set_defaults(func=cmd_demo)

    sim = sub.add_parser("sim", help="run a simulator alone (for scripts and debugging)")
    sim.add_argument("system", choices=("shopify", "odoo"))
    sim.add_argument("sim_args", nargs=argparse.REMAINDER, help="its own options (--help)")
    sim.set_defaults(func=cmd_sim)

    lnk = sub.add_parser("links", help="which Odoo record each Shopify record is")
    lsub = lnk.add_subparsers(
        dest="links_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    lls = lsub.add_parser("ls", help="list links, newest first")
    lls.add_argument("--shop")
    lls.add_argument("--kind", type=KIND_NAME, help="order, customer, ...")
    lls.add_argument("--limit", type=_bounded(1, 10_000), default=50)
    lls.add_argument("--json", action="store_true")
    lls.set_defaults(func=cmd_links_ls)
    forget = lsub.add_parser("forget", help="drop a stale link (its record was deleted)")
    forget.add_argument("shop")
    forget.add_argument("kind")
    forget.add_argument("shopify_id")
    forget.set_defaults(func=cmd_links_forget)

    maps = sub.add_parser("mappings", help="SKU, location, gateway, carrier, tax mappings")
    msub = maps.add_subparsers(
        dest="mappings_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    mls = msub.add_parser("ls", help="mappings, and what waiting jobs miss")
    mls.add_argument("--shop")
    mls.add_argument("--kind", type=KIND_NAME)
    mls.add_argument("--json", action="store_true")
    mls.set_defaults(func=cmd_mappings_ls)
    mset = msub.add_parser("set", help="map a Shopify key to an Odoo record id")
    mset.add_argument("shop")
    mset.add_argument("kind")
    mset.add_argument("source_key", help="the SKU, shipping code, gateway, ...")
    mset.add_argument("odoo_id", type=_bounded(1, ODOO_MAX_ID))
    mset.add_argument("--no-check", action="store_true", help="do not check it in Odoo")
    mset.set_defaults(func=cmd_mappings_set)
    msug = msub.add_parser("suggest", help="Odoo candidates for what waiting jobs miss")
    msug.add_argument("--shop")
    msug.add_argument("--kind", type=KIND_NAME)
    msug.add_argument("--json", action="store_true")
    msug.set_defaults(func=cmd_mappings_suggest)
    mrm = msub.add_parser("rm", help="remove a mapping")
    mrm.add_argument("shop")
    mrm.add_argument("kind")
    mrm.add_argument("source_key")
    mrm.set_defaults(func=cmd_mappings_rm)

    from shopodoo_console import cli_reconcile

    cli_reconcile.add_commands(sub)

    doc = sub.add_parser("doctor", help="check config, keyring, database, and both systems")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args.func = cmd_console
    paths = Paths.discover()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _RedactingStream(out), _RedactingStream(err)
    try:
        return args.func(args, paths)
    except (
        UsageError,
        ConfigError,
        DatabaseError,
        secrets.SecretStoreUnavailable,
        ValueError,
    ) as exc:
        print(f"shopodoo: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if fault_of(exc) is None:
            raise
        # The database refused mid-command (locked, full, read-only, damaged): one line.
        fault = explain(exc, paths.database_file, holder=lambda: _scheduler_holder(paths))
        print(f"shopodoo: {redact(fault.one_line())}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("shopodoo: interrupted", file=sys.stderr)
        return EXIT_ATTENTION
    except BrokenPipeError:
        # `shopodoo jobs ls | head`: the reader left; stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        return EXIT_OK
    finally:
        sys.stdout, sys.stderr = out, err


if __name__ == "__main__":
    sys.exit(main())
