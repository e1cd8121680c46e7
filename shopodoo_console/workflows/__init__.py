"""The flows the product runs (one module per flow; DESIGN §7)."""

from __future__ import annotations

from shopodoo_console.config import Config
from shopodoo_console.engine.flows import FlowRegistry
from shopodoo_console.store.db import Store


def build_flows(config: Config, store: Store) -> FlowRegistry:
    """Every flow this version of the console can run, wired to the configured systems."""
    return FlowRegistry()
