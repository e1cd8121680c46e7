"""Shared set-up for the Odoo tests: simulators per version, clients per protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from shopodoo_console.odoo import OdooClient
from shopodoo_console.sim.odoo import OdooSimulator

# (version, protocol): every version on JSON-RPC, 19 on both (odoo.md §2.5).
COMBOS = [(16, "jsonrpc"), (17, "jsonrpc"), (18, "jsonrpc"), (19, "json2"), (19, "jsonrpc")]
COMBO_IDS = [f"{v}-{p}" for v, p in COMBOS]
FAST = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0)


def client_for(sim: OdooSimulator, protocol: str = "auto", **kw: Any) -> OdooClient:
    kw.setdefault("timeout", FAST)
    kw.setdefault("backoff", 0.001)
    return OdooClient(
        sim.url,
        database=sim.database,
        login=sim.login,
        api_key=sim.api_key,
        protocol=protocol,
        **kw,
    )  # type: ignore[arg-type]


def running(version: int, protocol: str) -> Iterator[tuple[OdooSimulator, OdooClient]]:
    """A started simulator and a client for it; the body of each test module's fixture."""
    with OdooSimulator(version) as sim:
        client = client_for(sim, protocol)
        yield sim, client
        client.close()


def order_values(client: OdooClient, partner: int, products: list[int]) -> dict[str, Any]:
    taxes = client.field_name("sale.order.line", "taxes")
    assert taxes
    return {
        "partner_id": partner,
        "client_order_ref": "#1001",
        "order_line": [
            (
                0,
                0,
                {"product_id": p, "product_uom_qty": 2.0, "price_unit": 10.0, taxes: [(6, 0, [1])]},
            )
            for p in products
        ],
    }
