"""Database trouble is explained, never a traceback (issue 9, item 6).

A locked, full, read-only or damaged database gets a cause with the four answers and one
line from the command line (exit 2); read-only commands work on a read-only file; a
transaction that cannot commit leaves no job behind in ``running``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import SHOP, changes

from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.config import Paths
from shopodoo_console.engine.queue import Queue
from shopodoo_console.store import sqlite
from shopodoo_console.store.db import DatabaseError, Store

HERE = Path(__file__).parent
READ_COMMANDS = [
    ["jobs", "ls"],
    ["jobs", "ls", "--json"],
    ["jobs", "show", "1"],
    ["cursors", "ls"],
    ["links", "ls"],
    ["mappings", "ls"],
]


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def seed(paths: Paths) -> None:
    paths.ensure()
    store = Store(paths.database_file)
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    queue.enqueue(shop_id, SHOP, "orders", changes(2))
    job = queue.claim("w", 30)
    assert job is not None
    queue.finish_failed(job.claim, Cause("mapping.product_missing", missing="SKU X"))
    store.close()


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files and folders unwritable — for root too (chattr +i), else by mode bits."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a file read-only")
        done: list[Path] = []
        try:
            for path in paths:
                if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
                    pytest.skip(f"this filesystem does not support chattr +i ({path})")
                done.append(path)
            yield
        finally:
            for path in reversed(done):
                subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        modes = {path: path.stat().st_mode for path in paths}
        try:
            for path in paths:
                path.chmod(0o555 if path.is_dir() else 0o444)
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ---------------------------------------------------------------- read-only


def test_read_commands_work_on_a_read_only_database_and_change_nothing(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths.discover()
    seed(paths)
    folder = paths.database_file.parent
    before = digest(folder)
    files = [p for p in folder.iterdir() if p.is_file()]
    with read_only(*files, folder):
        for argv in READ_COMMANDS:
            code, out, err = cli(argv, capsys)
            assert code in (0, 1), (argv, err)
            assert err == "", (argv, err)
        code, out, _ = cli(["doctor"], capsys)
        assert "database.writable" in out and "cannot be written" in out
    assert digest(folder) == before


def test_a_read_command_on_no_database_creates_nothing(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths.discover()
    assert cli(["jobs", "ls"], capsys)[:2] == (0, "No jobs match.\n")
    assert not paths.database_file.exists()


def test_a_write_on_a_read_only_database_says_fix_the_permissions(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths.discover()
    seed(paths)
    folder = paths.database_file.parent
    files = [p for p in folder.iterdir() if p.is_file()]
    with read_only(*files, folder):
        code, _, err = cli(["jobs", "retry", "1"], capsys)
    line = one_line(err)
    assert code == 2
    assert line.startswith("shopodoo: Database cannot be written: ")
    assert "chmod u+rw" in line and "do not move it aside" in line
    assert "mv " not in line


# ---------------------------------------------------------------- locked


def test_a_locked_database_names_the_process_holding_it(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths.discover()
    seed(paths)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sqlite3, sys
                conn = sqlite3.connect({str(paths.database_file)!r}, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                print("locked", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 300)
        code, _, err = cli(["jobs", "retry", "1"], capsys)
    finally:
        holder.communicate("", timeout=10)
    line = one_line(err)
    assert code == 2
    assert line.startswith("shopodoo: Database locked by another process: ")
    assert f"process {holder.pid} (" in line  # which process, with its command
    assert "Nothing was written" in line


# ---------------------------------------------------------------- damaged


def test_a_damaged_database_gives_the_command_and_what_is_lost(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths.discover()
    seed(paths)
    path = paths.database_file
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xde\xad\xbe\xef" * 1024  # page 2: a table's pages
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    code, _, err = cli(["jobs", "ls"], capsys)
    line = one_line(err)
    assert code == 2
    assert line.startswith("shopodoo: Database damaged: ")
    assert f"`mv {path} {path}.damaged-" in line
    assert "mappings" in line and "links" in line and "job history" in line
    assert ".recover" in line
    assert path.read_bytes() == before


def test_garbage_in_place_of_the_database_is_refused_untouched(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths.discover()
    paths.ensure()
    paths.database_file.write_bytes(b"not a database at all " * 200)
    for argv in (["jobs", "ls"], ["jobs", "retry", "1"]):
        code, _, err = cli(argv, capsys)
        assert code == 2
        assert one_line(err).startswith("shopodoo: Database damaged: ")
    with pytest.raises(DatabaseError):
        Store(paths.database_file)


# ---------------------------------------------------------------- full


def test_sqlite_already_rolled_back_is_not_reported_as_cannot_rollback(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    store.db.rollback()  # no transaction: peewee alone would raise "cannot rollback"
    store.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs: a disk that really fills up (needs mount rights: root)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_leaves_no_job_running(
    small_disk: Path, tmp_path: Path
) -> None:
    """`shopodoo sync --once` in its own process; the disk fills while the first batch runs,
    so its outcomes cannot be committed. Then the disk is freed and the next run finishes
    every job (once each)."""
    home = small_disk / "home"
    env = {
        **os.environ,
        "SHOPODOO_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)]),
        "FILL_DISK": str(small_disk / "filler"),
    }
    run = [sys.executable, str(HERE / "cli_with_test_flow.py"), "sync", "--once"]
    first = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 2, first.stdout + first.stderr
    line = one_line(first.stderr)
    assert line.startswith("shopodoo: Disk full: the disk holding ")
    assert "cannot rollback" not in line
    assert "Nothing was lost" in line and "df -h" in line
    (small_disk / "filler").unlink()
    store = Store(home / "data" / "shopodoo.db")
    try:
        running = store.execute("SELECT count(*) FROM job WHERE state = 'running'").fetchone()
        queued = store.execute("SELECT count(*) FROM job").fetchone()[0]
    finally:
        store.close()
    assert queued == 40
    assert running == (0,)  # given back with the space the console kept for this
    env.pop("FILL_DISK")
    second = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    store = Store(home / "data" / "shopodoo.db")
    try:
        states = dict(store.execute("SELECT state, count(*) FROM job GROUP BY state").fetchall())
        done_twice = store.execute(
            "SELECT count(*) FROM attempt WHERE outcome = 'done' GROUP BY job_id "
            "HAVING count(*) > 1"
        ).fetchall()
    finally:
        store.close()
    assert states == {"done": 40}, (running, states)  # none was left running
    assert done_twice == []
