"""The one writer of ``config.toml``, for the CLI (`connect`) and the console (Settings).

tomlkit edits the parsed document in place (comments, order and layout survive); shops are
``[[shops]]`` tables as the README shows them. The result is written to a temporary file
beside the config, validated there by ``load_config`` — exactly the checks ``sync`` starts
with, options included — and only then renamed over the config, so no change can leave a
file the next start refuses, and a crash leaves the old file or the new one, never half.
Every function takes ``write=False`` to validate a change without making it (``connect``
checks the config change before it touches the keyring). Pure: no Textual.

A field left empty is left out of the file, so the loader's own "missing" message explains
it: the rules live in ``config.py`` (and ``shop_options.py``) only.
"""

from __future__ import annotations

import os
import stat
import tempfile
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from shopodoo_console.config import (
    DEFAULT_API_VERSION,
    FLOW_MODES,
    Config,
    ConfigError,
    load_config,
)
from shopodoo_console.shop_options import OPTIONS_BY_KEY

NEW_FILE = "# shopodoo-console settings (see README)\n"
SHOP_KEYS = (
    "domain",
    "base_url",
    "auth",
    "client_id",
    "api_version",
    "odoo_company_id",
    "odoo_warehouse_id",
)
"""The keys the shop dialog writes, in the order a new table lists them."""
_CUT_MARK = "# shopodoo: the table removed"


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
    write: bool = True,
) -> Config:
    """Set a flow's mode and/or poll interval for one shop; returns the config as saved."""
    if mode is not None and mode not in FLOW_MODES:
        raise ConfigError(f"mode must be one of {', '.join(FLOW_MODES)}, not {mode!r}")
    doc = _read_existing(path)
    shop = _shop_table(doc, path, domain)
    if mode is not None:
        _sub_table(shop, "flows")[flow] = mode
    if poll_seconds is not None:
        _sub_table(shop, "poll_seconds")[flow] = poll_seconds
    return _replace_validated(path, tomlkit.dumps(doc), write)


def update_odoo(
    path: Path, *, url: str, database: str, login: str, protocol: str, write: bool = True
) -> Config:
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
    return _replace_validated(path, tomlkit.dumps(doc), write)


def add_shop(
    path: Path,
    *,
    domain: str,
    base_url: str = "",
    auth: str = "token",
    client_id: str = "",
    api_version: str = "",
    odoo_company_id: int | None = None,
    odoo_warehouse_id: int | None = None,
    write: bool = True,
) -> Config:
    """Append a ``[[shops]]`` table (creating the file when missing); a shop already in the
    config is refused, whatever its flows."""
    doc = _read(path)
    domain = domain.strip().lower()
    if domain and _find_shop(doc, domain) is not None:
        raise ConfigError(
            f"{path}: the shop {domain} is already configured; select it in Settings to "
            "edit it (e), set its credential (c) or change its flows (m)"
        )
    values: dict[str, Any] = {
        "domain": domain,
        **_shop_values(base_url, auth, client_id, api_version, odoo_company_id, odoo_warehouse_id),
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
    return _replace_validated(path, tomlkit.dumps(doc), write)


def update_shop(
    path: Path,
    domain: str,
    *,
    base_url: str = "",
    auth: str = "token",
    client_id: str = "",
    api_version: str = "",
    odoo_company_id: int | None = None,
    odoo_warehouse_id: int | None = None,
    write: bool = True,
) -> Config:
    """Change a shop's connection and Odoo ids in its own table. The domain is the shop's
    identity and is not changed; its flows, poll intervals, options and comments stay, and a
    key whose value did not change keeps its exact text. An empty field is removed (the
    loader's default applies); a default left implicit stays implicit."""
    doc = _read_existing(path)
    shop = _shop_table(doc, path, domain.strip().lower())
    values = _shop_values(
        base_url, auth, client_id, api_version, odoo_company_id, odoo_warehouse_id
    )
    implicit = {"auth": "token", "api_version": DEFAULT_API_VERSION}
    for key, value in values.items():
        if value in ("", None):
            if key in shop:
                del shop[key]
        elif key not in shop:
            if value != implicit.get(key):
                _add_shop_key(shop, key, value)
        elif shop[key] != value:
            shop[key] = value  # the comment after the old value stays
    return _replace_validated(path, tomlkit.dumps(doc), write)


def update_options(
    path: Path, domain: str, values: dict[str, Any], *, write: bool = True
) -> Config:
    """Set (or, for ``None``, remove) options in a shop's ``[shops.options]``; other
    options, their comments and the rest of the file stay as written."""
    for key in values:
        if key not in OPTIONS_BY_KEY:
            raise ConfigError(f"{path}: unknown shop option {key!r}")
    doc = _read_existing(path)
    shop = _shop_table(doc, path, domain.strip().lower())
    if "options" not in shop and all(v is None for v in values.values()):
        return _replace_validated(path, tomlkit.dumps(doc), write)
    options = _sub_table(shop, "options")
    for key, value in values.items():
        if value is None:
            if key in options:
                del options[key]
        elif key not in options or options[key] != value or type(options[key]) is not type(value):
            options[key] = value
    return _replace_validated(path, tomlkit.dumps(doc), write)


def remove_shop(path: Path, domain: str) -> Config:
    """Take a shop's table out of the config, with its own comments: those among its keys,
    right after its last key (up to a blank line) and right above its header. Comments right
    above the next header, and the file's opening comment, stay. Nothing is deleted anywhere
    else (its jobs, links and credential are not in this file)."""
    doc = _read_existing(path)
    text = path.read_text(encoding="utf-8")  # as written: tomlkit may lay it out anew
    domain = domain.strip().lower()
    shops = doc.get("shops")
    tables = list(shops) if isinstance(shops, AoT | list) else []
    index = next(
        (i for i, t in enumerate(tables) if str(t.get("domain", "")).strip().lower() == domain),
        None,
    )
    if index is None:
        raise ConfigError(f"{path}: no shop {domain!r} in the config")
    expected = tomllib.loads(text)
    del expected["shops"][index]
    new = _cut_table(text, index) if isinstance(shops, AoT) else None
    if new is None or _without_empty_shops(tomllib.loads(new)) != _without_empty_shops(expected):
        # The layout was not one the line cut understands: let tomlkit remove the table.
        del shops[index]
        if isinstance(shops, AoT) and not len(shops):
            doc.remove("shops")
        new = tomlkit.dumps(doc)
        if not text.endswith("\n\n"):
            new = new.rstrip("\n") + "\n" if new.strip() else ""
        if _without_empty_shops(tomllib.loads(new)) != _without_empty_shops(expected):
            raise ConfigError(
                f"{path}: the shop {domain} could not be removed without changing other "
                "settings; remove its [[shops]] table by hand"
            )
    return _replace_validated(path, new, True)


def _without_empty_shops(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k == "shops" and v == [])}


def _cut_table(text: str, index: int) -> str | None:
    """``text`` without the lines of the ``index``-th ``[[shops]]`` table (see remove_shop),
    or None when its lines cannot be told apart. The caller checks the result parses to the
    same settings minus that shop."""
    found = _table_lines(text, index)
    if found is None:
        return None
    lines, header, end = found
    start, stop = _own_lines(lines, header, end)
    return _joined(lines[:start], lines[stop:])


def _table_lines(text: str, index: int) -> tuple[list[str], int, int] | None:
    """The file's lines, the table's header line and the first line after its body; None
    when tomlkit would lay the file out anew (tables out of order: no line map)."""
    if _CUT_MARK in text:
        return None
    doc = tomlkit.parse(text)
    table = doc["shops"][index]
    body_lines = table.value.as_string().count("\n")
    table.trivia.comment_ws, table.trivia.comment = " ", _CUT_MARK  # find its header line
    marked = tomlkit.dumps(doc).splitlines(keepends=True)
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(marked) if _CUT_MARK in line), None)
    if header is None or len(marked) != len(lines):
        return None
    if any(m != line for i, (m, line) in enumerate(zip(marked, lines, strict=True)) if i != header):
        return None
    return lines, header, min(header + 1 + body_lines, len(lines))


def _blank(line: str) -> bool:
    return not line.strip()


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _own_lines(lines: list[str], header: int, end: int) -> tuple[int, int]:
    """[start, stop) of the table with its own comments: those among its keys, right after
    its last key (up to a blank line) and right above its header (not the file's opening)."""
    stop = end  # back over the blank and comment lines that end it, to its last key
    while stop > header + 1 and (_blank(lines[stop - 1]) or _comment(lines[stop - 1])):
        stop -= 1
    after_keys = stop  # comments right after its last key are its own, up to a blank line
    while after_keys < end and _comment(lines[after_keys]):
        after_keys += 1
    if after_keys == len(lines) or (after_keys < end and _blank(lines[after_keys])):
        stop = after_keys
    start = header  # comments right above its header are its own...
    while start > 0 and _comment(lines[start - 1]):
        start -= 1
    if start == 0:
        start = header  # ...unless they open the file: those are about the file
    return start, stop


def _joined(before: list[str], after: list[str]) -> str:
    """What was around the table, one blank line apart; nothing trailing when it ended the
    file."""
    if not before or _blank(before[-1]):
        while after and _blank(after[0]):
            after.pop(0)
    if not after:
        while before and _blank(before[-1]):
            before.pop()
    return "".join(before + after)


def _shop_values(
    base_url: str,
    auth: str,
    client_id: str,
    api_version: str,
    odoo_company_id: int | None,
    odoo_warehouse_id: int | None,
) -> dict[str, Any]:
    return {
        "base_url": base_url.strip().rstrip("/"),
        "auth": auth,
        "client_id": client_id.strip() if auth == "client_credentials" else "",
        "api_version": api_version.strip(),
        "odoo_company_id": odoo_company_id,
        "odoo_warehouse_id": odoo_warehouse_id,
    }


def _add_shop_key(shop: Table | InlineTable, key: str, value: Any) -> None:
    """A new key goes after the shop key listed before it (the domain at least), not after
    the comments that end the table: those are about what follows."""
    if isinstance(shop, Table):
        body = shop.value
        earlier = SHOP_KEYS[: SHOP_KEYS.index(key)]
        anchor = next((k for k in reversed(earlier) if k in body), None)
        if anchor is not None:
            body._insert_after(anchor, key, value)  # tomlkit has no public "insert after"
            dict.__setitem__(shop, key, body[key])  # the table's own view of its keys
            return
    shop[key] = value


def _read_existing(path: Path) -> Any:
    if not path.exists():
        raise ConfigError(
            f"{path}: no config file to write to; create it first (README, 'Connecting a "
            "real store')"
        )
    return tomlkit.parse(path.read_text(encoding="utf-8"))


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8") if path.exists() else NEW_FILE
    return tomlkit.parse(text)


def _set_apart(before: str, table: Table | InlineTable) -> None:
    """One blank line between ``before`` and the table added after it, as a person would
    write it."""
    if not before:
        return
    if before.endswith("\n\n"):
        table.add(tomlkit.nl())  # the blank line it took stays before what follows
    else:
        table.trivia.indent = "\n" if before.endswith("\n") else "\n\n"


def _replace_validated(path: Path, text: str, write: bool) -> Config:
    """Write ``text`` to a temporary file beside ``path``, load it with the loader, and
    rename it over ``path`` (when ``write``); the temporary file never outlives the call."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    fd, tmp_name = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        try:
            config = load_config(tmp)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(str(tmp), str(path))) from None
        if not write:
            return replace(config, path=path)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return load_config(path)
