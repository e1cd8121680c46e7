"""Settings and paths (DESIGN §9).

Paths come from platformdirs, or all live under ``SHOPODOO_HOME`` when it is set (tests,
scripts, the demo). The config is TOML, edited by hand or from the settings screen, and
validated strictly: a typo is an error naming the file and the key, never a silent default
and never a traceback.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from shopodoo_console.shop_options import ODOO_MAX_ID, OptionError, check_options

APP_NAME = "shopodoo"
DEFAULT_API_VERSION = "2026-07"
FLOW_MODES = ("off", "review", "auto")
MODE_ALIASES = {"on": "auto"}  # the issues' `"off" | "review" | "on"`: "on" runs unattended
KNOWN_FLOWS = ("orders", "products", "stock", "fulfillments", "payments")
ODOO_PROTOCOLS = ("auto", "json2", "jsonrpc")
SHOP_AUTH = ("token", "client_credentials")
MIN_POLL_SECONDS, MAX_POLL_SECONDS = 5, 86400
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

    def number(self, name: str, default: float, *, low: float, high: float, unit: str) -> float:
        """A finite number of ``unit`` within [low, high] (NaN, infinity and the like are
        named, never taken: a NaN timeout would wait forever)."""
        value = float(self.get(name, (int, float), default))
        if not math.isfinite(value) or not low <= value <= high:
            shown = self.data.get(name, value)
            self.fail(self.key(name), f"expected {low:g} to {high:g} {unit}, got {shown}")
        return value

    def whole(self, name: str, default: int | None, *, low: int, high: int, unit: str) -> Any:
        """A whole number within [low, high] (a number SQLite, Odoo and the scheduler hold)."""
        value = self.get(name, int, default)
        if value is not None and not low <= value <= high:
            self.fail(self.key(name), f"expected {low} to {high} {unit}, got {value}")
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


def url_problem(url: str) -> str:
    """Why ``url`` cannot be a server address here, or "" (the loader and `connect` agree)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return f"expected an http(s) URL, got {url!r}"
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        return f"expected an http(s) URL, got {url!r}"
    if parts.scheme == "http" and not is_loopback(host):
        return (
            "plain http is only allowed for a loopback host (127.0.0.1, localhost); "
            f"use https for {host}"
        )
    return ""


def shop_domain_problem(domain: str) -> str:
    """Why ``domain`` is not a shop's ``*.myshopify.com`` domain, or ""."""
    if _DOMAIN_RE.match(domain):
        return ""
    return f"expected a shop domain like 'acme.myshopify.com', got {domain!r}"


def _check_url(section: _Section, name: str, url: str) -> str:
    problem = url_problem(url)
    if problem:
        section.fail(section.key(name), problem)
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
    timeout = s.number("timeout", 30.0, low=0.1, high=3600, unit="seconds")
    s.done()
    return OdooConfig(url=url, database=database, login=login, protocol=protocol, timeout=timeout)


def _parse_shop(s: _Section) -> ShopConfig:
    domain = s.get("domain", str).strip().lower()
    if shop_domain_problem(domain):
        s.fail(s.key("domain"), shop_domain_problem(domain))
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
        ids[name] = s.whole(name, None, low=1, high=ODOO_MAX_ID, unit="(an Odoo record id)")
    flows = {
        flow: MODE_ALIASES.get(mode, mode)
        for flow, mode in _parse_flow_table(s, "flows", str).items()
    }
    for flow, mode in flows.items():
        if mode not in FLOW_MODES:
            options = " or ".join(f'"{m}"' for m in (*FLOW_MODES, *MODE_ALIASES))
            s.fail(f"{s.key('flows')}.{flow}", f"expected {options}, got {mode!r}")
    poll = _parse_flow_table(s, "poll_seconds", int)
    for flow, seconds in poll.items():
        if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
            s.fail(
                f"{s.key('poll_seconds')}.{flow}",
                f"expected {MIN_POLL_SECONDS} to {MAX_POLL_SECONDS} seconds, got {seconds}",
            )
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
    workers = s.whole("workers", 4, low=1, high=32, unit="worker threads")
    lease = s.whole("lease_seconds", 120, low=10, high=86400, unit="seconds")
    retention = s.whole("retention_days", 30, low=1, high=36500, unit="days")
    shutdown = s.number("shutdown_timeout", 20.0, low=0, high=3600, unit="seconds")
    s.done()
    return EngineConfig(
        workers=workers, lease_seconds=lease, retention_days=retention, shutdown_timeout=shutdown
    )
