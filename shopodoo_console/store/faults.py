"""Database trouble explained: SQLite's own error classes turned into causes (DESIGN §6).

A locked, full, read-only or damaged database is something the operator can fix, so it gets
the four answers like any other failure — which file, what is wrong (who holds the lock, how
much space is needed, which path cannot be written), whether anything was lost, and the exact
command that fixes it — and the command line prints it as one line (exit code 2), never a
traceback. A read-only database is never to be "moved aside": it holds the links and
mappings; its permissions are what needs fixing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shopodoo_console.causes import Cause
from shopodoo_console.store.sqlite import BUSY_TIMEOUT_MS, Fault, error_name, fault_of

MB = 1024 * 1024
MIN_FREE = 64 * MB  # the write-ahead log may grow to 64 MB between checkpoints


class DatabaseFault(Exception):
    """A database operation failed for a reason the operator can act on."""

    def __init__(self, fault: Fault, cause: Cause, error: BaseException | None = None) -> None:
        super().__init__(cause.missing)
        self.fault = fault
        self.cause = cause
        self.error = error

    def one_line(self) -> str:
        return one_line(self.cause)


def one_line(cause: Cause) -> str:
    """The cause as the one line the command line prints."""
    parts = [f"{cause.title}: {cause.missing}."]
    if cause.retry_note:
        parts.append(cause.retry_note[0].upper() + cause.retry_note[1:] + ".")
    if cause.fix:
        parts.append(cause.fix)
    return " ".join(p.replace("\n", " ") for p in parts)


@dataclass(frozen=True)
class _Context:
    path: Path
    doing: str
    holder: Callable[[], str | None] | None


def explain(
    exc: BaseException,
    path: Path,
    *,
    doing: str = "write",
    holder: Callable[[], str | None] | None = None,
) -> DatabaseFault:
    """The :class:`DatabaseFault` for ``exc`` raised while using the database at ``path``.

    ``holder`` names the process holding the scheduler lease, when the caller can read it
    (the usual other writer); locks held by other programs are looked up in /proc/locks.
    """
    fault = fault_of(exc) or Fault.OTHER
    context = _Context(Path(path), doing, holder)
    build = {
        Fault.BUSY: _busy,
        Fault.FULL: _full,
        Fault.READONLY: _readonly,
        Fault.CORRUPT: _corrupt,
    }.get(fault, _other)
    return DatabaseFault(fault, build(context, exc), exc)


def _record(path: Path) -> str:
    return f"the console's database {path}"


def _busy(ctx: _Context, exc: BaseException) -> Cause:
    seconds = BUSY_TIMEOUT_MS // 1000
    who = _lock_holders(ctx.path) or (ctx.holder() if ctx.holder else None)
    if who:
        missing = f"{who} kept the database locked for more than {seconds} s"
        fix = "Wait for it to finish, or stop it, then run the command again."
    else:
        missing = (
            f"another process kept the database locked for more than {seconds} s (which one "
            "could not be told: look for a second console, `shopodoo run`, or an open "
            "`sqlite3` shell on this file)"
        )
        fix = "Close the other program, then run the command again."
    return Cause(
        code="database.busy",
        record=_record(ctx.path),
        missing=missing,
        retry_note="nothing was written; running the command again is safe",
        fix=fix,
        detail=str(exc),
    )


def _full(ctx: _Context, exc: BaseException) -> Cause:
    folder = ctx.path.parent
    free = _free(folder)
    need = _needed(ctx.path)
    have = f"{_size(free)} free" if free is not None else "free space unknown"
    return Cause(
        code="database.full",
        record=_record(ctx.path),
        missing=f"the disk holding {folder} is full ({have}; the database needs at least "
        f"{_size(need)} to write its log)",
        retry_note="nothing was lost: what could not be written was rolled back, and the jobs "
        "in progress return to the queue (at the latest when the console next starts)",
        fix=f"Free at least {_size(need)} on that disk (`df -h {folder}` shows it), then run "
        "the command again.",
        detail=str(exc),
    )


def _readonly(ctx: _Context, exc: BaseException) -> Cause:
    blocked = unwritable(ctx.path)
    what = blocked or f"{ctx.path} (or its -wal/-shm files, or their folder)"
    return Cause(
        code="database.readonly",
        record=_record(ctx.path),
        missing=f"{what} cannot be written by this user ({_user()})",
        retry_note="nothing was changed; the database and its links and mappings are intact "
        "— do not move it aside",
        fix=permission_fix(ctx.path, blocked),
        detail=str(exc),
    )


def _corrupt(ctx: _Context, exc: BaseException) -> Cause:
    path = ctx.path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = f"{path}.damaged-{stamp}"
    return Cause(
        code="database.corrupt",
        record=_record(path),
        missing=f"{path} is damaged or is not a shopodoo database ({error_name(exc) or exc})",
        retry_safe=True,
        retry_note="it was not modified. Moving it aside loses the job history, the mappings "
        "(re-enter them) and the links (found again through the stamps in Odoo and Shopify: "
        "no duplicates); cursors restart from the configured initial window",
        fix=f"Restore a backup (`cp BACKUP {path}`), or move it aside to start fresh: "
        f"`mv {path} {aside}` (and its -wal and -shm files). To salvage what is readable: "
        f"`sqlite3 {aside} .recover | sqlite3 {path}`.",
        detail=str(exc),
    )


def _other(ctx: _Context, exc: BaseException) -> Cause:
    return Cause(
        code="database.error",
        record=_record(ctx.path),
        missing=f"the database refused to {ctx.doing}: {exc}",
        retry_note="the transaction was rolled back",
        fix="Run `shopodoo doctor` for a check of the database, then try again.",
        detail=str(exc),
    )


# ---------------------------------------------------------------- facts for the answers


def _size(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= MB else f"{n / 1024:,.0f} KB"


def _free(folder: Path) -> int | None:
    with contextlib.suppress(OSError):
        return shutil.disk_usage(folder).free
    return None


def _needed(path: Path) -> int:
    """Room for the write-ahead log to grow to its checkpoint size, or a tenth of the
    database and its log if that is more."""
    size = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            size += Path(f"{path}{suffix}").stat().st_size
    return max(MIN_FREE, size // 10)


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid()) if hasattr(os, "getuid") else "this user"


def unwritable(path: Path) -> str | None:
    """The first of folder, file, -wal, -shm this process may not write."""
    folder = path.parent
    if folder.exists() and not _writable(folder):
        return f"the folder {folder}"
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and not _writable(candidate):
            return f"the file {candidate} ({_mode(candidate)})"
    return None


def _writable(path: Path) -> bool:
    if not os.access(path, os.W_OK):
        return False
    return not _immutable(path)


def _immutable(path: Path) -> bool:
    flags = getattr(os.stat(path), "st_flags", 0)
    immutable_bits = getattr(stat, "UF_IMMUTABLE", 0) | getattr(stat, "SF_IMMUTABLE", 0)
    return bool(flags & immutable_bits)


def _mode(path: Path) -> str:
    info = path.stat()
    owner = str(info.st_uid)
    with contextlib.suppress(ImportError, KeyError):
        import pwd

        owner = pwd.getpwuid(info.st_uid).pw_name
    return f"mode {stat.S_IMODE(info.st_mode):o}, owner {owner}"


def permission_fix(path: Path, blocked: str | None) -> str:
    target = path.parent if blocked and blocked.startswith("the folder") else path
    files = f"{path} {path}-wal {path}-shm" if target == path else str(target)
    return (
        f"Give this user write access (`chmod u+rw {files}`; if another user owns it, "
        f"`sudo chown {_user()} {files}`), or check that the disk is not mounted read-only "
        "(`mount`). Then run the command again."
    )


def _lock_holders(path: Path) -> str | None:
    """Which processes hold a POSIX lock on the database or its WAL index (Linux only)."""
    inodes = set()
    for candidate in (path, Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            inodes.add(candidate.stat().st_ino)
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    pids = []
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] != "POSIX":
            continue
        with contextlib.suppress(ValueError, IndexError):
            pid = int(fields[4])
            inode = int(fields[5].split(":")[2])
            if inode in inodes and pid != os.getpid() and pid not in pids:
                pids.append(pid)
    if not pids:
        return None
    return ", ".join(f"process {pid} ({_command(pid)})" for pid in pids[:3])


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "command unknown"
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    text = " ".join(words)
    return text[:80] if text else "command unknown"
