"""Every command against bad input: one `shopodoo:` line on stderr, never a traceback.

The table is the contract. Each row names the command line, a setup (what the home looks
like: a seeded database, a broken config, no keyring, a keyring backend that cannot load)
and a fragment the one line must contain. Rows for database faults (read-only, locked, full,
corrupt files) belong to the store's error handling and are added to ``ROWS`` with their own
setup in ``SETUPS``.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from support import SHOP, changes

from shopodoo_console.cli import main
from shopodoo_console.config import Paths
from shopodoo_console.engine.queue import Queue
from shopodoo_console.store.db import Store

HUGE = str(2**70)
SQL = "1; DROP TABLE job; --"
SQL_TEXT = "x' OR '1'='1"
CONFIG = f"""[odoo]
url = "https://erp.example.com"
database = "prod"
login = "sync@example.com"

[[shops]]
domain = "{SHOP}"
[shops.flows]
orders = "review"
"""


def _seeded(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = Paths.discover()
    paths.ensure()
    paths.config_file.write_text(CONFIG)
    store = Store(paths.database_file)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    Queue(store).enqueue(shop_id, SHOP, "orders", changes(2))
    store.close()


def _config_with(line: str, table: str = "[odoo]") -> Callable[..., None]:
    def setup(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        _seeded(home, monkeypatch)
        path = Paths.discover().config_file
        path.write_text(path.read_text().replace(table, f"{table}\n{line}", 1))

    return setup


def _no_keyring(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _seeded(home, monkeypatch)
    keyring.set_keyring(fail.Keyring())


def _broken_backend(error: Exception) -> Callable[..., None]:
    def setup(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        _seeded(home, monkeypatch)

        def broken() -> Any:
            raise error

        monkeypatch.setattr(keyring, "get_keyring", broken)
        monkeypatch.setattr(keyring, "get_password", lambda *a: broken())
        monkeypatch.setattr(keyring, "set_password", lambda *a: broken())

    return setup


SETUPS: dict[str, Callable[[Path, pytest.MonkeyPatch], None]] = {
    "seeded": _seeded,
    "nan timeout": _config_with("timeout = nan"),
    "infinite timeout": _config_with("timeout = inf"),
    "huge company id": _config_with(f"odoo_company_id = {2**64}", f'domain = "{SHOP}"'),
    "zero poll": _config_with(
        "[shops.poll_seconds]\norders = 0", '[shops.flows]\norders = "review"'
    ),
    "negative option": _config_with(
        "[shops.options]\nguest_partner_id = -1", '[shops.flows]\norders = "review"'
    ),
    "no keyring": _no_keyring,
    "backend module missing": _broken_backend(ModuleNotFoundError("No module named 'keyrings'")),
    "no d-bus": _broken_backend(RuntimeError("Unable to initialize SecretService: no D-Bus")),
}

# (command line, setup, fragment of the one `shopodoo:` line)
ROWS: list[tuple[list[str], str, str]] = [
    (["jobs", "show", HUGE], "seeded", "is not a job id"),
    (["jobs", "show", "-1"], "seeded", "is not a job id"),
    (["jobs", "show", "٣"], "seeded", "is not a job id"),  # a digit, but not ASCII
    (["jobs", "show", SQL], "seeded", "is not a job id"),
    (["jobs", "show", "99999"], "seeded", "no job 99999"),
    (["jobs", "retry", HUGE], "seeded", "is not a job id"),
    (["jobs", "retry", "99999"], "seeded", "no job 99999"),
    (["jobs", "retry", "--cause", SQL_TEXT], "seeded", "is not a cause code"),
    (["jobs", "retry", "--cause", "x.y", "--shop", SQL_TEXT], "seeded", "no shop"),
    (["jobs", "cancel", "1", "--reason", " "], "seeded", "a reason is required"),
    (["jobs", "resolve", SQL, "--reason", "r"], "seeded", "is not a job id"),
    (["jobs", "approve", HUGE], "seeded", "is not a job id"),
    (["jobs", "ls", "--limit", HUGE], "seeded", "expected 1 to 10000"),
    (["jobs", "ls", "--limit", "-1"], "seeded", "expected 1 to 10000"),
    (["jobs", "ls", "--state", SQL_TEXT], "seeded", "unknown state"),
    (["jobs", "ls", "--cause", SQL_TEXT], "seeded", "is not a cause code"),
    (["jobs", "ls", "--flow", SQL_TEXT], "seeded", "is not a flow name"),
    (["jobs", "ls", "--shop", SQL_TEXT], "seeded", "no shop"),
    (["cursors", "rewind", SHOP, "orders", "--to", "0001-01-01T00:00:00Z"], "seeded", "2006"),
    (["cursors", "rewind", SHOP, "orders", "--to", "2026-13-45"], "seeded", "is not a time"),
    (["cursors", "rewind", SHOP, "orders", "--to", HUGE], "seeded", "is not a time"),
    (["cursors", "rewind", SHOP, "orders", "--to", "9999-01-01"], "seeded", "in the future"),
    (["cursors", "rewind", SHOP, "nope", "--to", "2026-01-01"], "seeded", "unknown stream"),
    (["cursors", "rewind", SQL_TEXT, "orders", "--to", "2026-01-01"], "seeded", "no shop"),
    (["mappings", "set", SHOP, "product", "SKU", HUGE], "seeded", "expected 1 to 2147483647"),
    (["mappings", "set", SHOP, "product", "SKU", "0"], "seeded", "expected 1 to 2147483647"),
    (["mappings", "set", SHOP, SQL_TEXT, "SKU", "1"], "seeded", "unknown kind"),
    (["mappings", "set", SQL_TEXT, "product", "SKU", "1"], "seeded", "no shop"),
    (["mappings", "rm", SHOP, "product", SQL_TEXT], "seeded", "no product mapping"),
    (["mappings", "ls", "--shop", SQL_TEXT], "seeded", "no shop"),
    (["mappings", "ls", "--kind", "bogus"], "seeded", "unknown"),
    (["links", "ls", "--limit", HUGE], "seeded", "expected 1 to 10000"),
    (["links", "ls", "--shop", SQL_TEXT], "seeded", "no shop"),
    (["links", "forget", SHOP, "order", SQL_TEXT], "seeded", "no order link"),
    (["links", "forget", SQL_TEXT, "order", "gid"], "seeded", "no shop"),
    (["demo", "--headless", "--orders", HUGE], "seeded", "expected 1 to 5000"),
    (["demo", "--headless", "--seed", "-5"], "seeded", "expected 0 to"),
    (["sync"], "seeded", "needs --once"),
    (["connect", "shopify", SQL_TEXT, "--stdin"], "seeded", "expected a shop domain"),
    (["connect", "odoo", "--url", "javascript:x", "--stdin"], "seeded", "http(s) URL"),
    (["connect", "shopify", "new.myshopify.com", "--stdin"], "no keyring", "No secure"),
    (["connect", "shopify", "n.myshopify.com", "--stdin"], "backend module missing", "keyrings"),
    (["connect", "odoo", "--stdin"], "no d-bus", "D-Bus"),
    (["sync", "--once"], "nan timeout", "odoo.timeout: expected 0.1 to 3600 seconds, got nan"),
    (["sync", "--once"], "infinite timeout", "odoo.timeout"),
    (["run"], "huge company id", "shops[0].odoo_company_id: expected 1 to 2147483647"),
    (["sync", "--once"], "zero poll", "shops[0].poll_seconds.orders: expected 5 to 86400"),
    (["sync", "--once"], "negative option", "shops[0].options.guest_partner_id"),
    (["mappings", "suggest"], "negative option", "shops[0].options.guest_partner_id"),
    (["cursors", "rewind", SHOP, "orders", "--to", "2026-01-01"], "zero poll", "poll_seconds"),
]


CONNECT = ["connect", "shopify", "a.myshopify.com", "--stdin"]


def _id(row: tuple[list[str], str, str]) -> str:
    argv, setup, _ = row
    return f"{' '.join(argv)[:50]} [{setup}]"


@pytest.mark.parametrize(("argv", "setup", "fragment"), ROWS, ids=[_id(r) for r in ROWS])
def test_bad_input_is_one_line_never_a_traceback(
    argv: list[str],
    setup: str,
    fragment: str,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    SETUPS[setup](isolated_home, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO("shpat_" + "0" * 32))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own exit, through our parser's error()
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("shopodoo:")]
    assert "Traceback" not in out + err
    assert len(lines) == 1, err
    assert fragment in lines[0], lines[0]
    assert code == 2, (code, err)


@pytest.mark.parametrize(
    ("backend", "fragment"),
    [
        ("keyrings.not_installed.file.Keyring", "is not installed"),
        ("keyring.backends.SecretService.Keyring", "cannot be used"),
    ],
)
def test_a_broken_backend_from_the_environment_is_one_line(
    isolated_home: Path, backend: str, fragment: str
) -> None:
    """As a user hits it: PYTHON_KEYRING_BACKEND names a module that is missing, or Secret
    Service on a box without D-Bus — a fresh process, no test keyring."""
    result = subprocess.run(
        [sys.executable, "-m", "shopodoo_console", *CONNECT],
        input="shpat_x",
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(isolated_home),
            "SHOPODOO_HOME": str(isolated_home),
            "PYTHON_KEYRING_BACKEND": backend,
        },
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shopodoo: ") and fragment in lines[0]
