"""The flows the product runs (one module per flow; DESIGN §7)."""

from __future__ import annotations

from shopodoo_console.config import Config, ConfigError
from shopodoo_console.engine.flows import FlowRegistry
from shopodoo_console.engine.metrics import Metrics
from shopodoo_console.store.db import Store
from shopodoo_console.workflows.connections import Connections, SecretSource
from shopodoo_console.workflows.fulfillments.flow import FulfillmentsFlow
from shopodoo_console.workflows.orders.flow import OrdersFlow
from shopodoo_console.workflows.orders.settings import OrdersSettings
from shopodoo_console.workflows.stock.flow import StockFlow
from shopodoo_console.workflows.stock.settings import StockSettings


def build_flows(
    config: Config,
    store: Store,
    *,
    metrics: Metrics | None = None,
    secret_source: SecretSource | None = None,
    connections: Connections | None = None,
) -> FlowRegistry:
    """Every flow this version of the console runs, wired to the configured systems.

    Per-shop flow options are validated here, so a bad option stops the start with a
    config error instead of failing jobs one by one.
    """
    for index, shop in enumerate(config.shops):
        try:
            OrdersSettings.from_shop(shop, where=f"shops[{index}]")
            StockSettings.from_shop(shop, where=f"shops[{index}]")
        except ConfigError as exc:
            raise ConfigError(f"{config.path}: {exc}") from None
    connections = connections or Connections(config, metrics=metrics, secret_source=secret_source)
    return FlowRegistry(
        [
            OrdersFlow(store, connections),
            StockFlow(store, connections),
            FulfillmentsFlow(store, connections),
        ]
    )
