"""Writing the operator's choices back to ``config.toml`` without losing their comments.

tomlkit edits the document in place (comments, order and layout survive); the result is
validated with the same parser the console starts with *before* it replaces the file, so a
change made from Settings can never leave a config the next start refuses. Pure: no Textual.
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


def _shop_table(doc: Any, path: Path, domain: str) -> Table | InlineTable:
    shops = doc.get("shops")
    if isinstance(shops, AoT | list):
        for shop in shops:
            if str(shop.get("domain", "")).strip().lower() == domain:
                return shop
    raise ConfigError(f"{path}: no shop {domain!r} in the config")


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


def _replace_validated(path: Path, text: str) -> Config:
    mode = stat.S_IMODE(path.stat().st_mode)
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
