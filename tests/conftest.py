"""Test hygiene shared by the whole suite.

Every test runs with ``SHOPODOO_HOME`` in a temporary folder and an in-memory keyring, so the
developer's own config, database and credentials can never leak in or be touched.
"""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from shopodoo_console.redact import install_record_factory

install_record_factory()  # test output (captured logs) is scrubbed like the product's logs

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring: what the tests store, they can inspect, and it dies with them."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "shopodoo-home"
    home.mkdir()
    monkeypatch.setenv("SHOPODOO_HOME", str(home))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> MemoryKeyring:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """``../shared/reference`` beside the project; tests that need it skip when it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference material not found at {REFERENCE} (../shared is absent)")
    return REFERENCE
