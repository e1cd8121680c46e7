"""Writing the operator's choices back to ``config.toml`` without losing their comments.

tomlkit edits the document in place (comments, order and layout survive); the result is
validated with the same parser the console starts with *before* it replaces the file, so a
change made from Settings can never leave a config the next start refuses. Pure: no Textual.

A field left empty is left out of the file, so the loader's own "missing" message explains
it: the rules live in ``config.py`` only.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from shopodoo_console.config import FLOW_MODES, Config, ConfigError, load_config

NEW_FILE = "# shopodoo-console settings (see README)\n"


def _find_shop(doc: Any, domain: str) -> Table | InlineTable | None:
    shops = doc.get("shops")
    if isinstance(shops, AoT | list):
        for shop in shops:
            if str(shop.get("domain", "")).strip().lower() == domain:
                return shop
    return None


def _shop_table(doc: Any, path: Path, domain: str) -> Table | InlineTable:
    shop = _find_shop(doc, domain)
    if shop is None:
        raise ConfigError(f"{path}: no shop {domain!r} in the config")
    return shop


def _sub_table(shop: Table | InlineTable, name: str) -> Any:
    if name not in shop:
        shop[name] = tomlkit.inline_table() if isinstance(shop, InlineTable) else tomlkit.table()
    return shop[name]


def update_flow(
    path: Path,
    domain: str,
    flow: str,
    *,
    mode: str | None = None,
    poll_seconds: int | None = None,
) -> Config:
    """Set a flow's mode and/or poll interval for one shop; returns the config as saved."""
    if mode is not None and mode not in FLOW_MODES:
        raise ConfigError(f"mode must be one of {', '.join(FLOW_MODES)}, not {mode!r}")
    if not path.exists():
        raise ConfigError(
            f"{path}: no config file to write to; create it first (README, 'Connecting a "
            "real store')"
        )
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    shop = _shop_table(doc, path, domain)
    if mode is not None:
        _sub_table(shop, "flows")[flow] = mode
    if poll_seconds is not None:
        _sub_table(shop, "poll_seconds")[flow] = poll_seconds
    return _replace_validated(path, tomlkit.dumps(doc))


def update_odoo(path: Path, *, url: str, database: str, login: str, protocol: str) -> Config:
    """Set the Odoo connection, creating ``[odoo]`` (and the file) when missing; keys the
    operator did not change keep their exact text and comments."""
    doc = _read(path)
    wanted = {"url": url.strip().rstrip("/"), "database": database.strip(), "login": login.strip()}
    odoo = doc.get("odoo")
    if odoo is None:
        odoo = tomlkit.table()
        for key, value in wanted.items():
            if value:
                odoo[key] = value
        odoo["protocol"] = protocol
        _set_apart(tomlkit.dumps(doc), odoo)
        doc.append("odoo", odoo)
    elif isinstance(odoo, dict):
        if protocol != "auto" or "protocol" in odoo:
            wanted["protocol"] = protocol
        for key, value in wanted.items():
            if not value:
                odoo.pop(key, None)
            elif odoo.get(key) != value:
                odoo[key] = value
    # Anything else (odoo = "x") is left for the loader to explain.
    return _replace_validated(path, tomlkit.dumps(doc))


def add_shop(
    path: Path,
    *,
    domain: str,
    base_url: str = "",
    auth: str = "token",
    client_id: str = "",
    odoo_company_id: int | None = None,
    odoo_warehouse_id: int | None = None,
) -> Config:
    """Append a ``[[shops]]`` table (creating the file when missing); a shop already in the
    config is refused, whatever its flows."""
    doc = _read(path)
    domain = domain.strip().lower()
    if domain and _find_shop(doc, domain) is not None:
        raise ConfigError(
            f"{path}: the shop {domain} is already configured; select it in Settings to set "
            "its credential or change its flows"
        )
    values: dict[str, Any] = {
        "domain": domain,
        "base_url": base_url.strip(),
        "auth": auth,
        "client_id": client_id.strip() if auth == "client_credentials" else "",
        "odoo_company_id": odoo_company_id,
        "odoo_warehouse_id": odoo_warehouse_id,
    }
    shops = doc.get("shops")
    inline = isinstance(shops, list) and not isinstance(shops, AoT)
    shop = tomlkit.inline_table() if inline else tomlkit.table()
    for key, value in values.items():
        if value not in ("", None):
            shop[key] = value
    if shops is None:
        _set_apart(tomlkit.dumps(doc), shop)
        shops = tomlkit.aot()
        doc.append("shops", shops)
    elif not inline:
        _set_apart(shops[-1].as_string() if len(shops) else tomlkit.dumps(doc), shop)
    shops.append(shop)
    return _replace_validated(path, tomlkit.dumps(doc))


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8") if path.exists() else NEW_FILE
    return tomlkit.parse(text)


def _set_apart(before: str, table: Table) -> None:
    """One blank line between ``before`` and the table added after it, as a person would
    write it."""
    if not before:
        return
    if before.endswith("\n\n"):
        table.add(tomlkit.nl())  # the blank line it took stays before what follows
    else:
        table.trivia.indent = "\n" if before.endswith("\n") else "\n\n"


def _replace_validated(path: Path, text: str) -> Config:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        try:
            load_config(tmp)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(str(tmp), str(path))) from None
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return load_config(path)
