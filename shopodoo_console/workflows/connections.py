"""One Shopify client per shop and one Odoo client, built from config and credentials.

Clients are shared by every worker thread (they are thread-safe), made on first use and
closed with the engine. When the settings screen saves a new config, ``reconfigure`` drops
the clients whose connection changed, so the next job builds them from the new settings.
Secrets come from the OS keyring by default; the demo passes its own source so it never
touches the user's keyring. A missing credential is a cause the operator can act on, not a
crash.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any, cast

from shopodoo_console import secrets
from shopodoo_console.causes import Cause, CauseError
from shopodoo_console.config import Config, ShopConfig
from shopodoo_console.engine.metrics import ODOO_LATENCY, SHOPIFY_BUDGET, Metrics
from shopodoo_console.odoo import OdooClient
from shopodoo_console.odoo.client import Protocol
from shopodoo_console.shopify.auth import ClientCredentials, StaticToken
from shopodoo_console.shopify.client import ShopifyClient

SecretSource = Callable[[str], str | None]


class Connections:
    def __init__(
        self,
        config: Config,
        *,
        metrics: Metrics | None = None,
        secret_source: SecretSource | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics or Metrics()
        self._secret = secret_source or secrets.get_secret
        self._lock = threading.Lock()
        self._shopify: dict[str, ShopifyClient] = {}
        self._odoo: OdooClient | None = None
        self._fingerprints: dict[str, str | None] = {}  # sha256 of each secret in use
        self._retired: list[ShopifyClient | OdooClient] = []

    def reconfigure(self, config: Config) -> None:
        """Use ``config`` from now on: clients whose connection settings changed (or whose
        shop is gone) are dropped and rebuilt on next use; the others keep their state
        (Shopify cost budget, Odoo session)."""
        with self._lock:
            old, self.config = self.config, config
            before = {shop.domain: _client_settings(shop) for shop in old.shops}
            after = {shop.domain: _client_settings(shop) for shop in config.shops}
            for domain in list(self._shopify):
                if domain not in after or before.get(domain) != after[domain]:
                    self._retire(self._shopify.pop(domain))
            if self._odoo is not None and old.odoo != config.odoo:
                self._retire(self._odoo)
                self._odoo = None
            # A credential replaced in the keyring (Settings, `shopodoo connect`) counts too.
            for shop in config.shops:
                if shop.domain in self._shopify and self._secret_changed(shop.secret_name):
                    self._retire(self._shopify.pop(shop.domain))
            if (
                self._odoo is not None
                and config.odoo is not None
                and self._secret_changed(config.odoo.secret_name)
            ):
                self._retire(self._odoo)
                self._odoo = None

    def _secret_changed(self, name: str) -> bool:
        try:
            value = self._secret(name)
        except secrets.SecretStoreUnavailable:
            return False
        return _fingerprint(value) != self._fingerprints.get(name)

    def reset(self) -> None:
        """Drop every cached client: the next job connects again (e.g. a new credential)."""
        with self._lock:
            for client in self._shopify.values():
                self._retire(client)
            self._shopify.clear()
            if self._odoo is not None:
                self._retire(self._odoo)
                self._odoo = None

    def _retire(self, client: ShopifyClient | OdooClient) -> None:
        # A job may still be mid-request on it: closed with the engine, not under its feet.
        self._retired.append(client)

    def _read_secret(self, name: str, code: str, command: str, record: str) -> str:
        try:
            value = self._secret(name)
            self._fingerprints[name] = _fingerprint(value)
        except secrets.SecretStoreUnavailable as exc:
            raise CauseError(Cause(code=code, missing=str(exc), record=record)) from None
        if not value:
            raise CauseError(
                Cause(
                    code=code,
                    record=record,
                    missing=f"no credentials are stored for {record}",
                    fix=f"Store them with `{command}`, then retry.",
                    retry_note="nothing was sent to either system",
                )
            )
        return value

    def shopify(self, shop: ShopConfig) -> ShopifyClient:
        with self._lock:
            client = self._shopify.get(shop.domain)
            if client is not None:
                return client
            secret = self._read_secret(
                shop.secret_name,
                "shopify.unauthorized",
                f"shopodoo connect shopify {shop.domain}",
                f"the Shopify store {shop.domain}",
            )
            auth: StaticToken | ClientCredentials
            if shop.auth == "client_credentials":
                auth = ClientCredentials(client_id=shop.client_id or "", client_secret=secret)
            else:
                auth = StaticToken(secret)
            client = ShopifyClient(
                shop.domain,
                auth=auth,
                api_version=shop.api_version,
                base_url=shop.base_url,
                on_event=self._shopify_event(shop.domain),
            )
            self._shopify[shop.domain] = client
            return client

    def _shopify_event(self, domain: str) -> Callable[[str, dict[str, Any]], None]:
        throttles = 0  # how often Shopify throttled this shop: the console's feed counts on it

        def on_event(name: str, data: dict[str, Any]) -> None:
            nonlocal throttles
            if name == "throttled":
                throttles += 1
            client = self._shopify.get(domain)
            budget = client.budget if client is not None else None
            if budget is not None:
                self.metrics.set(
                    SHOPIFY_BUDGET,
                    domain,
                    {
                        "available": budget.available,
                        "maximum": budget.maximum,
                        "restore_rate": budget.restore_rate,
                        "throttled": name == "throttled",
                        "throttles": throttles,
                        "wait": float(data.get("wait") or 0.0) if name == "throttled" else 0.0,
                    },
                )

        return on_event

    def odoo(self) -> OdooClient:
        with self._lock:
            if self._odoo is not None:
                return self._odoo
            odoo = self.config.odoo
            if odoo is None:
                raise CauseError(
                    Cause(
                        code="odoo.access_denied",
                        record="the Odoo connection",
                        missing="no [odoo] section in the config",
                        fix="Run `shopodoo connect odoo --url URL --database DB --login LOGIN`.",
                    )
                )
            key = self._read_secret(
                odoo.secret_name,
                "odoo.access_denied",
                "shopodoo connect odoo",
                f"the Odoo user {odoo.login}",
            )
            client = OdooClient(
                odoo.url,
                database=odoo.database,
                login=odoo.login,
                api_key=key,
                protocol=cast(Protocol, odoo.protocol),  # the config accepts only these
                on_event=self._odoo_event,
            )
            client.connect()
            self._odoo = client
            return client

    def _odoo_event(self, name: str, data: dict[str, Any]) -> None:
        if name != "call" or self._odoo is None:
            return
        stats = self._odoo.latency.snapshot()
        self.metrics.set(
            ODOO_LATENCY,
            "odoo",
            {
                "p50_ms": stats["p50_ms"],
                "p95_ms": stats["p95_ms"],
                "calls": stats["count"],
                "errors": stats["errors"],
            },
        )

    def close(self) -> None:
        with self._lock:
            for retired in self._retired:
                retired.close()
            self._retired.clear()
            for client in self._shopify.values():
                client.close()
            self._shopify.clear()
            if self._odoo is not None:
                self._odoo.close()
                self._odoo = None


def _client_settings(shop: ShopConfig) -> tuple[object, ...]:
    """What a Shopify client is built from (besides the secret)."""
    return (shop.api_version, shop.base_url, shop.auth, shop.client_id)


def _fingerprint(value: str | None) -> str | None:
    """Which secret a client was built with, without keeping the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest() if value else None
