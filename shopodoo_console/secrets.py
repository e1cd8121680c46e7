"""Credentials in the OS keyring, and nowhere else (DESIGN §8).

Secrets are stored under the service ``shopodoo-console``. When no secure backend exists
(headless Linux without Secret Service) we say so and give a recipe that works when pasted;
we never fall back to a plaintext file. A backend the user chose explicitly
(``PYTHON_KEYRING_BACKEND`` or a keyringrc) is their decision and is honoured — with a warning
where it keeps secrets in a readable file. A backend that cannot load or answer (module
missing, no D-Bus) is one sentence, never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.backend
from keyring.errors import NoKeyringError, PasswordDeleteError

from shopodoo_console.redact import register_secret

SERVICE = "shopodoo-console"

PLAINTEXT_BACKEND = "keyrings.alt.file.PlaintextKeyring"
HEADLESS_RECIPE = (
    f"pipx inject shopodoo-console keyrings.alt && export PYTHON_KEYRING_BACKEND="
    f"{PLAINTEXT_BACKEND}"
)
NO_BACKEND_HELP = (
    "No secure credential store (OS keyring) is available, so the console stores no secret. On a "
    "desktop, start or unlock a Secret Service provider (GNOME Keyring, KWallet). On a "
    "headless server, choose a file "
    f"backend on purpose: `{HEADLESS_RECIPE}` (in a source checkout: `.venv/bin/pip install "
    "keyrings.alt` instead of pipx inject), then run the command again; secrets are then in "
    "a file only your user can read, and doctor says so. Plaintext is never chosen silently."
)

# Backends that store secrets readably on disk: refused unless the user chose them.
_INSECURE_MODULES = ("keyrings.alt",)
_PLAINTEXT_BACKENDS = (PLAINTEXT_BACKEND,)


class SecretStoreUnavailable(Exception):
    """No usable secure backend; the message explains what the operator can do."""


@dataclass(frozen=True)
class BackendStatus:
    usable: bool
    name: str
    explicit: bool
    explanation: str
    plaintext: str = ""  # a warning when the chosen backend keeps secrets in a readable file


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


def _load_failure(exc: Exception) -> BackendStatus:
    """The backend named by the environment or keyringrc could not even be loaded."""
    chosen = os.environ.get("PYTHON_KEYRING_BACKEND", "")
    reason = _one_line(exc)
    if chosen and isinstance(exc, ImportError):
        explanation = (
            f"PYTHON_KEYRING_BACKEND={chosen} names a keyring backend that is not installed "
            f"({reason}): install it (`pipx inject shopodoo-console keyrings.alt` for "
            f"keyrings.alt) or unset the variable. Nothing was stored."
        )
    else:
        where = f"PYTHON_KEYRING_BACKEND={chosen}" if chosen else "the configured keyring"
        explanation = f"{where} cannot be used ({reason}). " + NO_BACKEND_HELP
    return BackendStatus(False, chosen or "unknown", True, explanation)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {text[:200]}"


def _plaintext_warning(name: str, backend: keyring.backend.KeyringBackend) -> str:
    if name not in _PLAINTEXT_BACKENDS:
        return ""
    where = getattr(backend, "file_path", "") or "a file"
    return (
        f"secrets are kept in plain text in {where} (backend {name}, chosen with "
        "PYTHON_KEYRING_BACKEND): anyone who can read that file as your user can read them"
    )


def backend_status() -> BackendStatus:
    """Tell whether secrets can be stored, and if not, why and what to do."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a backend module missing, no D-Bus at load time, ...
        return _load_failure(exc)
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
    warning = _plaintext_warning(name, backend)
    if warning:
        return BackendStatus(True, name, explicit, warning[0].upper() + warning[1:], warning)
    return BackendStatus(True, name, explicit, f"secrets are stored with {name}")


def _require_backend() -> None:
    status = backend_status()
    if not status.usable:
        raise SecretStoreUnavailable(status.explanation)


def secret_problem(value: str) -> str:
    """Why ``value`` cannot be sent as a credential, or "". Tokens and API keys travel in
    HTTP headers, which carry visible ASCII only: anything else would fail every request
    (and look like a network fault), so it is refused before it is stored."""
    value = value.strip()
    if not value:
        return "an empty secret was given; nothing was stored"
    for position, char in enumerate(value, start=1):
        if not " " <= char <= "~":
            what = (
                "a control character"
                if ord(char) < 32 or ord(char) == 127
                else ("a non-ASCII character")
            )
            return (
                f"the secret has {what} at position {position}, which an HTTP header cannot "
                "carry: copy it again from Shopify or Odoo (watch for smart quotes and "
                "invisible characters); nothing was stored"
            )
    return ""


def set_secret(name: str, value: str) -> None:
    """Store ``value`` under ``name`` (e.g. ``shopify:acme.myshopify.com``)."""
    problem = secret_problem(value or "")
    if problem:
        raise ValueError(problem)
    register_secret(value)
    _require_backend()
    try:
        keyring.set_password(SERVICE, name, value.strip())
    except NoKeyringError:
        raise SecretStoreUnavailable(NO_BACKEND_HELP) from None
    except Exception as exc:  # KeyringError, or a backend's own (D-Bus, locked file)
        raise SecretStoreUnavailable(
            f"The keyring refused to store the secret ({_one_line(exc)}). " + NO_BACKEND_HELP
        ) from None


def get_secret(name: str) -> str | None:
    """The stored secret, or None when there is none; registered for redaction on read."""
    _require_backend()
    try:
        value = keyring.get_password(SERVICE, name)
    except NoKeyringError:
        raise SecretStoreUnavailable(NO_BACKEND_HELP) from None
    except Exception as exc:  # KeyringError, or a backend's own (D-Bus, locked file)
        raise SecretStoreUnavailable(
            f"The keyring could not be read ({_one_line(exc)}). " + NO_BACKEND_HELP
        ) from None
    register_secret(value)
    return value


def delete_secret(name: str) -> bool:
    _require_backend()
    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        return False
    except Exception as exc:  # KeyringError, or a backend's own (D-Bus, locked file)
        raise SecretStoreUnavailable(
            f"The keyring could not delete the secret ({_one_line(exc)})."
        ) from None
    return True
