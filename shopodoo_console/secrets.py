"""Credentials in the OS keyring, and nowhere else (DESIGN §8).

Secrets are stored under the service ``shopodoo-console``. When no secure backend exists
(headless Linux without Secret Service) we say so and explain the options; we never fall back
to a plaintext file. A backend the user chose explicitly (``PYTHON_KEYRING_BACKEND`` or a
keyringrc) is their decision and is honoured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.backend
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from shopodoo_console.redact import register_secret

SERVICE = "shopodoo-console"

NO_BACKEND_HELP = (
    "No secure credential store (OS keyring) is available, so the console will not store "
    "secrets. Options: (1) on a Linux desktop, start a Secret Service provider such as "
    "GNOME Keyring or KWallet (on a headless server: `dbus-run-session -- sh -c "
    "'echo -n PASSWORD | gnome-keyring-daemon --unlock; shopodoo ...'`); (2) choose a backend "
    "explicitly with PYTHON_KEYRING_BACKEND=<module.Class> or a keyringrc file (see "
    "https://pypi.org/project/keyring/ 'Configuring'). Plaintext storage is never used "
    "silently."
)

# Backends that store secrets readably on disk: refused unless the user chose them.
_INSECURE_MODULES = ("keyrings.alt",)


class SecretStoreUnavailable(Exception):
    """No usable secure backend; the message explains what the operator can do."""


@dataclass(frozen=True)
class BackendStatus:
    usable: bool
    name: str
    explicit: bool
    explanation: str


def _explicit_choice() -> bool:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        from keyring.util import platform_

        rc = Path(platform_.config_root()) / "keyringrc.cfg"
        return rc.is_file() and "default-keyring" in rc.read_text(encoding="utf-8")
    except (OSError, ImportError):
        return False


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_status() -> BackendStatus:
    """Tell whether secrets can be stored, and if not, why and what to do."""
    backend = keyring.get_keyring()
    name = _backend_name(backend)
    explicit = _explicit_choice()
    if name.startswith("keyring.backends.fail"):
        return BackendStatus(False, name, explicit, NO_BACKEND_HELP)
    if name.startswith("keyring.backends.chainer") and not getattr(backend, "backends", None):
        return BackendStatus(False, name, explicit, NO_BACKEND_HELP)
    if name.startswith(_INSECURE_MODULES) and not explicit:
        return BackendStatus(
            False,
            name,
            explicit,
            f"The default keyring backend ({name}) keeps secrets readable on disk; the console "
            "will not use it unless you choose it explicitly with PYTHON_KEYRING_BACKEND. "
            + NO_BACKEND_HELP,
        )
    return BackendStatus(True, name, explicit, f"secrets are stored with {name}")


def _require_backend() -> None:
    status = backend_status()
    if not status.usable:
        raise SecretStoreUnavailable(status.explanation)


def set_secret(name: str, value: str) -> None:
    """Store ``value`` under ``name`` (e.g. ``shopify:acme.myshopify.com``)."""
    if not value or not value.strip():
        raise ValueError("an empty secret was given; nothing was stored")
    register_secret(value)
    _require_backend()
    try:
        keyring.set_password(SERVICE, name, value.strip())
    except NoKeyringError:
        raise SecretStoreUnavailable(NO_BACKEND_HELP) from None
    except KeyringError as exc:
        raise SecretStoreUnavailable(
            f"The keyring refused to store the secret ({exc.__class__.__name__}). "
            + NO_BACKEND_HELP
        ) from None


def get_secret(name: str) -> str | None:
    """The stored secret, or None when there is none; registered for redaction on read."""
    _require_backend()
    try:
        value = keyring.get_password(SERVICE, name)
    except NoKeyringError:
        raise SecretStoreUnavailable(NO_BACKEND_HELP) from None
    except KeyringError as exc:
        raise SecretStoreUnavailable(
            f"The keyring could not be read ({exc.__class__.__name__}). " + NO_BACKEND_HELP
        ) from None
    register_secret(value)
    return value


def delete_secret(name: str) -> bool:
    _require_backend()
    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        return False
    except KeyringError as exc:
        raise SecretStoreUnavailable(
            f"The keyring could not delete the secret ({exc.__class__.__name__})."
        ) from None
    return True
