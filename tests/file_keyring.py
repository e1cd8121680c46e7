"""A keyring backend for tests that run the real CLI in another process.

The in-memory keyring of ``conftest.py`` cannot cross a process boundary; this one keeps the
secrets in a JSON file named by ``SHOPODOO_TEST_KEYRING``. It is chosen explicitly with
``PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring``, which the console honours as the user's
own choice. Tests only: it stores secrets readably on disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["SHOPODOO_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self.path.write_text(json.dumps(data))
