"""Settings and paths (DESIGN §9).

Paths come from platformdirs, or all live under ``SHOPODOO_HOME`` when it is set (tests,
scripts, the demo). The config is TOML, edited by hand or from the settings screen, and
validated strictly: a typo is an error naming the file and the key, never a silent default
and never a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from shopodoo_console.shop_options import OptionError, check_options

APP_NAME = "shopodoo"
DEFAULT_API_VERSION = "2026-07"
FLOW_MODES = ("off", "review", "auto")
MODE_ALIASES = {"on": "auto"}  # `stock = "on"` reads as the issue and the README write it
KNOWN_FLOWS = ("orders", "products", "stock", "fulfillments", "payments")
ODOO_PROTOCOLS = ("auto", "json2", "jsonrpc")
SHOP_AUTH = ("token", "client_credentials")
_DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_API_VERSION_RE = re.compile(r"^\d{4}-(01|04|07|10)$")


class ConfigError(Exception):
    """A config problem explained in one line: file, line or key, and what is expected."""


@dataclass(frozen=True)
class Paths:
    """Where the console keeps its files."""

    config_dir: Path
    data_dir: Path
    state_dir: Path
    log_dir: Path

    @classmethod
    def discover(cls) -> Paths:
        home = os.environ.get("SHOPODOO_HOME")
        if home:
            root = Path(home).expanduser().resolve()
            return cls(root / "config", root / "data", root / "state", root / "logs")
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_state_dir(APP_NAME)),
            Path(platformdirs.user_log_dir(APP_NAME)),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "shopodoo.db"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "shopodoo.log"

    def ensure(self) -> None:
        """Create the folders, private to the user (they hold order data)."""
        for folder in (self.config_dir, self.data_dir, self.state_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)


@dataclass(frozen=True)
class OdooConfig:
    url: str
    database: str
    login: str
    protocol: str = "auto"
    timeout: float = 30.0

    @property
    def secret_name(self) -> str:
        """The keyring entry holding this connection's API key."""
        return f"odoo:{self.login}@{self.url}/{self.database}"


@dataclass(frozen=True)
class ShopConfig:
    domain: str
    api_version: str = DEFAULT_API_VERSION
    base_url: str | None = None
    auth: str = "token"
    client_id: str | None = None
    odoo_company_id: int | None = None
    odoo_warehouse_id: int | None = None
    odoo_pricelist_id: int | None = None
    flows: dict[str, str] = field(default_factory=dict)
    poll_seconds: dict[str, int] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def mode(self, flow: str) -> str:
        return self.flows.get(flow, "off")

    def poll_interval(self, flow: str) -> int:
        return self.poll_seconds.get(flow, 60)

    @property
    def secret_name(self) -> str:
        return f"shopify:{self.domain}"


@dataclass(frozen=True)
class EngineConfig:
    workers: int = 4
    lease_seconds: int = 120
    retention_days: int = 30
    shutdown_timeout: float = 20.0


@dataclass(frozen=True)
class Config:
    path: Path
    odoo: OdooConfig | None
    shops: tuple[ShopConfig, ...]
    engine: EngineConfig = field(default_factory=EngineConfig)

    def shop(self, domain: str) -> ShopConfig:
        for shop in self.shops:
            if shop.domain == domain:
                return shop
        known = ", ".join(s.domain for s in self.shops) or "none"
        raise ConfigError(f"{self.path}: no shop {domain!r} in the config (configured: {known})")


def load_config(path: Path, *, required: bool = True) -> Config:
    """Read and validate ``path``; a missing file is an error only when ``required``."""
    if not path.exists():
        if required:
            raise ConfigError(
                f"{path}: no config file. Create it (see README, 'Connecting a real store') "
                "or run `shopodoo connect shopify DOMAIN` and `shopodoo connect odoo`."
            )
        return Config(path=path, odoo=None, shops=())
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _parse(path, data)


# ---------------------------------------------------------------- validation


class _Section:
    """Reads one table of the config, naming the key path in every error."""

    def __init__(self, path: Path, where: str, data: Any) -> None:
        self.path, self.where = path, where
        if not isinstance(data, dict):
            self.fail(where, f"expected a table, got {_type_name(data)}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> None:
        raise ConfigError(f"{self.path}: {key}: {message}")

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(
        self,
        name: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        *,
        choices: tuple[str, ...] | None = None,
    ) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                self.fail(self.key(name), f"missing (expected {_kind_name(kind)})")
            return default
        value = self.data[name]
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            self.fail(self.key(name), f"expected {_kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            self.fail(self.key(name), f"expected {_kind_name(kind)}, got {_type_name(value)}")
        if choices is not None and value not in choices:
            options = " or ".join(f'"{c}"' for c in choices)
            self.fail(self.key(name), f"expected {options}, got {value!r}")
        return value

    def done(self, *, allowed: tuple[str, ...] = ()) -> None:
        unknown = sorted(set(self.data) - self.used - set(allowed))
        if unknown:
            known = ", ".join(sorted(self.used | set(allowed)))
            self.fail(self.key(unknown[0]), f"unknown key (expected one of: {known})")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        dict: "a table",
        list: "a list",
    }
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        dict: "a table",
        list: "a list",
    }.get(type(value), type(value).__name__)


def _check_url(section: _Section, name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        section.fail(section.key(name), f"expected an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        section.fail(
            section.key(name),
            f"plain http is only allowed for a loopback host (127.0.0.1, localhost); "
            f"use https for {parts.hostname}",
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse(path: Path, data: dict[str, Any]) -> Config:
    top = _Section(path, "", data)
    odoo = None
    if "odoo" in data:
        top.used.add("odoo")
        odoo = _parse_odoo(_Section(path, "odoo", data["odoo"]))
    shops: list[ShopConfig] = []
    raw_shops = top.get("shops", list, [])
    seen: set[str] = set()
    for index, raw in enumerate(raw_shops):
        shop = _parse_shop(_Section(path, f"shops[{index}]", raw))
        if shop.domain in seen:
            raise ConfigError(f"{path}: shops[{index}].domain: {shop.domain!r} is listed twice")
        seen.add(shop.domain)
        shops.append(shop)
    engine = EngineConfig()
    if "engine" in data:
        top.used.add("engine")
        engine = _parse_engine(_Section(path, "engine", data["engine"]))
    top.done()
    return Config(path=path, odoo=odoo, shops=tuple(shops), engine=engine)


def _parse_odoo(s: _Section) -> OdooConfig:
    url = _check_url(s, "url", s.get("url", str))
    database = s.get("database", str)
    login = s.get("login", str)
    protocol = s.get("protocol", str, "auto", choices=ODOO_PROTOCOLS)
    timeout = float(s.get("timeout", (int, float), 30.0))
    if timeout <= 0:
        s.fail(s.key("timeout"), "expected a positive number of seconds")
    s.done()
    return OdooConfig(url=url, database=database, login=login, protocol=protocol, timeout=timeout)


def _parse_shop(s: _Section) -> ShopConfig:
    domain = s.get("domain", str).strip().lower()
    if not _DOMAIN_RE.match(domain):
        s.fail(s.key("domain"), f"expected a shop domain like 'acme.myshopify.com', got {domain!r}")
    api_version = s.get("api_version", str, DEFAULT_API_VERSION)
    if not _API_VERSION_RE.match(api_version):
        s.fail(s.key("api_version"), f"expected a version like '2026-07', got {api_version!r}")
    base_url = s.get("base_url", str, None)
    if base_url is not None:
        base_url = _check_url(s, "base_url", base_url)
    auth = s.get("auth", str, "token", choices=SHOP_AUTH)
    client_id = s.get("client_id", str, None)
    if auth == "client_credentials" and not client_id:
        s.fail(s.key("client_id"), 'missing (required when auth = "client_credentials")')
    ids = {}
    for name in ("odoo_company_id", "odoo_warehouse_id", "odoo_pricelist_id"):
        value = s.get(name, int, None)
        if value is not None and value <= 0:
            s.fail(s.key(name), f"expected a positive Odoo record id, got {value}")
        ids[name] = value
    flows = _parse_flow_table(s, "flows", str)
    for flow, mode in list(flows.items()):
        flows[flow] = mode = MODE_ALIASES.get(mode, mode)
        if mode not in FLOW_MODES:
            options = " or ".join(f'"{m}"' for m in FLOW_MODES)
            s.fail(f"{s.key('flows')}.{flow}", f"expected {options}, got {mode!r}")
    poll = _parse_flow_table(s, "poll_seconds", int)
    for flow, seconds in poll.items():
        if seconds < 5:
            s.fail(f"{s.key('poll_seconds')}.{flow}", f"expected at least 5 seconds, got {seconds}")
    options = s.get("options", dict, {})
    try:
        check_options(options)
    except OptionError as exc:
        s.fail(f"{s.key('options')}.{exc.key}", str(exc))
    s.done()
    return ShopConfig(
        domain=domain,
        api_version=api_version,
        base_url=base_url,
        auth=auth,
        client_id=client_id,
        flows=flows,
        poll_seconds=poll,
        options=options,
        **ids,
    )


def _parse_flow_table(s: _Section, name: str, kind: type) -> dict[str, Any]:
    table = s.get(name, dict, {})
    for flow, value in table.items():
        if flow not in KNOWN_FLOWS:
            s.fail(
                f"{s.key(name)}.{flow}", f"unknown flow (expected one of: {', '.join(KNOWN_FLOWS)})"
            )
        if not isinstance(value, kind) or isinstance(value, bool):
            s.fail(f"{s.key(name)}.{flow}", f"expected {_kind_name(kind)}, got {_type_name(value)}")
    return dict(table)


def _parse_engine(s: _Section) -> EngineConfig:
    workers = s.get("workers", int, 4)
    if not 1 <= workers <= 32:
        s.fail(s.key("workers"), f"expected 1 to 32 worker threads, got {workers}")
    lease = s.get("lease_seconds", int, 120)
    if lease < 10:
        s.fail(s.key("lease_seconds"), f"expected at least 10 seconds, got {lease}")
    retention = s.get("retention_days", int, 30)
    if retention < 1:
        s.fail(s.key("retention_days"), f"expected at least 1 day, got {retention}")
    shutdown = float(s.get("shutdown_timeout", (int, float), 20.0))
    s.done()
    return EngineConfig(
        workers=workers, lease_seconds=lease, retention_days=retention, shutdown_timeout=shutdown
    )
