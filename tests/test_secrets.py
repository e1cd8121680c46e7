"""Credentials live in the keyring only; without a secure backend we explain and stop."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from support import SHOP, changes

from shopodoo_console import secrets
from shopodoo_console.causes import Cause
from shopodoo_console.cli import main
from shopodoo_console.config import Paths
from shopodoo_console.engine.queue import Queue
from shopodoo_console.logs import setup_logging
from shopodoo_console.store.db import Store

TOKEN = "shpat_" + "7f3a9c" * 6
ODOO_KEY = "odoo-api-key-5c2b8e1d9f"


def run_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_connect_shopify_stores_token_in_keyring_only(
    monkeypatch, memory_keyring, capsys, isolated_home: Path
) -> None:
    code = run_cli(
        monkeypatch, ["connect", "shopify", "acme.myshopify.com", "--stdin"], TOKEN + "\n"
    )
    assert code == 0
    assert memory_keyring.store[(secrets.SERVICE, "shopify:acme.myshopify.com")] == TOKEN
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    config_text = Paths.discover().config_file.read_text()
    assert 'domain = "acme.myshopify.com"' in config_text and TOKEN not in config_text


def test_connect_with_client_id_sets_client_credentials(
    monkeypatch, memory_keyring, capsys
) -> None:
    code = run_cli(
        monkeypatch,
        ["connect", "shopify", "acme.myshopify.com", "--client-id", "cid-123", "--stdin"],
        "shpss_" + "ab" * 16,
    )
    assert code == 0
    text = Paths.discover().config_file.read_text()
    assert 'auth = "client_credentials"' in text and 'client_id = "cid-123"' in text
    assert "client secret" in capsys.readouterr().out


def test_connect_odoo_needs_the_connection_details_first(monkeypatch, capsys) -> None:
    assert run_cli(monkeypatch, ["connect", "odoo", "--stdin"], ODOO_KEY) == 2
    assert "give --url --database --login" in capsys.readouterr().err
    code = run_cli(
        monkeypatch,
        [
            "connect",
            "odoo",
            "--url",
            "https://erp.example.com",
            "--database",
            "prod",
            "--login",
            "sync@example.com",
            "--stdin",
        ],
        ODOO_KEY,
    )
    assert code == 0
    assert secrets.get_secret("odoo:sync@example.com@https://erp.example.com/prod") == ODOO_KEY


def test_empty_secret_stores_nothing(monkeypatch, memory_keyring, capsys) -> None:
    assert run_cli(monkeypatch, ["connect", "shopify", "acme.myshopify.com", "--stdin"], "\n") == 2
    assert memory_keyring.store == {}
    assert not Paths.discover().config_file.exists()


def test_no_keyring_backend_explains_and_stops(monkeypatch, capsys) -> None:
    keyring.set_keyring(fail.Keyring())
    code = run_cli(monkeypatch, ["connect", "shopify", "acme.myshopify.com", "--stdin"], TOKEN)
    assert code == 2
    err = capsys.readouterr().err
    assert "No secure credential store" in err and "Secret Service" in err
    assert "PYTHON_KEYRING_BACKEND" in err
    assert not Paths.discover().config_file.exists()  # nothing half-written
    with pytest.raises(secrets.SecretStoreUnavailable):
        secrets.get_secret("shopify:acme.myshopify.com")


def test_plaintext_backend_refused_unless_chosen(monkeypatch) -> None:
    class PlaintextKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def get_password(self, s, u):
            return None

        def set_password(self, s, u, p):
            raise AssertionError("must not be called")

        def delete_password(self, s, u):
            pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    keyring.set_keyring(PlaintextKeyring())
    assert not secrets.backend_status().usable
    with pytest.raises(secrets.SecretStoreUnavailable, match="readable on disk"):
        secrets.set_secret("x", "value")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    assert secrets.backend_status().usable  # the user's explicit choice is honoured


def test_no_secret_reaches_db_logs_errors_or_json(monkeypatch, capsys, isolated_home: Path) -> None:
    run_cli(monkeypatch, ["connect", "shopify", SHOP, "--stdin"], TOKEN)
    run_cli(
        monkeypatch,
        [
            "connect",
            "odoo",
            "--url",
            "https://erp.example.com",
            "--database",
            "prod",
            "--login",
            "sync@example.com",
            "--stdin",
        ],
        ODOO_KEY,
    )
    paths = Paths.discover()
    setup_logging(paths)
    log = logging.getLogger("shopodoo.test")
    # A careless component logs and fails with the secrets in hand: all must be masked.
    log.info("calling Shopify with %s and Odoo with %s", TOKEN, ODOO_KEY)
    try:
        raise RuntimeError(f"boom {ODOO_KEY}")
    except RuntimeError:
        log.exception("failed")
    store = Store(paths.database_file)
    queue = Queue(store)
    shop_id = store.sync_shop(SHOP, api_version="2026-07")
    queue.enqueue(shop_id, SHOP, "orders", changes(1))
    job = queue.claim("w", 30)
    assert job is not None
    queue.finish_failed(
        job.claim,
        Cause(
            code="odoo.access_denied",
            missing=f"key {ODOO_KEY} rejected",
            detail=f"Authorization: Bearer {TOKEN}",
        ),
    )
    store.audit(system="odoo", event="x", message=f"note {TOKEN}", job_id=job.id)
    store.close()
    capsys.readouterr()
    for argv in (
        ["jobs", "ls", "--json"],
        ["jobs", "show", str(job.id), "--json"],
        ["jobs", "show", str(job.id)],
        ["doctor", "--json"],
        ["cursors", "ls"],
    ):
        run_cli(monkeypatch, argv)
    out = capsys.readouterr()
    for handler in logging.getLogger().handlers:
        handler.flush()
    blobs = {"stdout": out.out.encode(), "stderr": out.err.encode()}
    for path in isolated_home.rglob("*"):
        if path.is_file():
            blobs[str(path)] = path.read_bytes()
    assert any(b"rejected" in blob for blob in blobs.values())  # the failure is stored
    for name, blob in blobs.items():
        for secret in (TOKEN, ODOO_KEY):
            assert secret.encode() not in blob, f"{secret[:6]}... leaked into {name}"
