"""`shopodoo doctor`: check what can be checked without touching any record.

Each check answers in one line what is wrong and what to do. Reachability, Shopify scopes
and Odoo rights are added by the connectors (``extra`` checks); config, keyring and the
database are checked here.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass

from shopodoo_console import secrets
from shopodoo_console.config import Config, ConfigError, Paths, load_config
from shopodoo_console.store import faults, sqlite
from shopodoo_console.store.db import DatabaseError, Store

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "message": self.message}


def check_config(paths: Paths) -> tuple[list[Check], Config | None]:
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        return [Check("config", FAIL, str(exc))], None
    checks = [
        Check(
            "config",
            OK,
            f"{paths.config_file}: {len(config.shops)} shop(s)"
            + (", Odoo configured" if config.odoo else ""),
        )
    ]
    if config.odoo is None:
        checks.append(
            Check(
                "config.odoo",
                WARN,
                "no [odoo] section: nothing can be synced until `shopodoo connect odoo` is run",
            )
        )
    if not config.shops:
        checks.append(
            Check(
                "config.shops", WARN, "no [[shops]]: add one with `shopodoo connect shopify DOMAIN`"
            )
        )
    return checks, config


def check_keyring(config: Config | None) -> list[Check]:
    status = secrets.backend_status()
    if not status.usable:
        return [Check("keyring", FAIL, status.explanation)]
    checks = [Check("keyring", WARN if status.plaintext else OK, status.explanation)]
    if config is None:
        return checks
    wanted = [
        (f"credentials {s.domain}", s.secret_name, f"`shopodoo connect shopify {s.domain}`")
        for s in config.shops
    ]
    if config.odoo is not None:
        wanted.append(("credentials odoo", config.odoo.secret_name, "`shopodoo connect odoo`"))
    for name, secret_name, command in wanted:
        try:
            present = secrets.get_secret(secret_name) is not None
        except secrets.SecretStoreUnavailable as exc:
            checks.append(Check(name, FAIL, str(exc)))
            continue
        checks.append(
            Check(name, OK, "stored in the keyring")
            if present
            else Check(name, FAIL, f"no secret stored; run {command}")
        )
    return checks


def check_database(paths: Paths) -> list[Check]:
    """Read-only: the check never writes to the database (and works on a read-only file)."""
    path = paths.database_file
    if not path.exists():
        return [Check("database", OK, f"{path}: not created yet (the first sync creates it)")]
    try:
        store = Store(path, readonly=True)
    except DatabaseError as exc:
        return [Check("database", FAIL, str(exc))]
    try:
        checks = []
        mode = stat.S_IMODE(path.stat().st_mode)
        journal = sqlite.journal_mode(store.db)
        integrity = sqlite.quick_check(store.db)
        checks.append(
            Check(
                "database",
                OK if integrity == "ok" else FAIL,
                f"{path}: schema {store.schema_version()}, journal {journal}, "
                f"integrity {integrity}",
            )
        )
        blocked = faults.unwritable(path)
        if blocked:
            checks.append(
                Check(
                    "database.writable",
                    FAIL,
                    f"{blocked} cannot be written: the console can read it but not sync. "
                    f"{faults.permission_fix(path, blocked)}",
                )
            )
        if mode & 0o077:
            checks.append(
                Check(
                    "database.permissions",
                    WARN,
                    f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`",
                )
            )
        return checks
    finally:
        store.close()


def run_checks(
    paths: Paths, extra: list[Callable[[Config], list[Check]]] | None = None
) -> list[Check]:
    checks, config = check_config(paths)
    checks += check_keyring(config)
    checks += check_database(paths)
    if config is not None:
        for more in extra or []:
            checks += more(config)
    return checks
