"""Connections follow a saved config: changed connections are rebuilt, the rest kept; the
console hands a config saved in Settings to both the engine and its connections."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopodoo_console.config import Config, OdooConfig, Paths, ShopConfig
from shopodoo_console.launch import build_engine, ui_hooks
from shopodoo_console.sim.odoo import OdooSimulator
from shopodoo_console.workflows.connections import Connections

A = ShopConfig(domain="a.myshopify.com", base_url="http://127.0.0.1:9")
B = ShopConfig(domain="b.myshopify.com", base_url="http://127.0.0.1:9")


@pytest.fixture(scope="module")
def sim() -> Iterator[OdooSimulator]:
    with OdooSimulator(19) as sim:
        yield sim


def make(sim: OdooSimulator, shops: tuple[ShopConfig, ...], protocol: str = "json2") -> Config:
    odoo = OdooConfig(sim.url, sim.database, sim.login, protocol=protocol)
    return Config(path=Path("config.toml"), odoo=odoo, shops=shops)


def test_reconfigure_drops_only_the_clients_whose_connection_changed(sim) -> None:
    secrets = {"odoo_key": sim.api_key}
    connections = Connections(make(sim, (A, B)), secret_source=lambda _: secrets["odoo_key"])
    shop_a, shop_b, odoo = connections.shopify(A), connections.shopify(B), connections.odoo()
    assert connections.shopify(A) is shop_a and connections.odoo() is odoo  # cached

    # Only flow modes change (the settings screen's m): every client stays.
    calm = dataclasses.replace(A, flows={"orders": "auto"})
    connections.reconfigure(make(sim, (calm, B)))
    assert connections.shopify(calm) is shop_a and connections.shopify(B) is shop_b
    assert connections.odoo() is odoo

    # A's base URL and Odoo's protocol change: those two are rebuilt from the new config.
    moved = dataclasses.replace(calm, base_url="http://127.0.0.1:10")
    connections.reconfigure(make(sim, (moved, B), protocol="jsonrpc"))
    new_a = connections.shopify(moved)
    assert new_a is not shop_a and new_a.base_url == "http://127.0.0.1:10"
    assert connections.shopify(B) is shop_b
    new_odoo = connections.odoo()
    assert new_odoo is not odoo and new_odoo.protocol == "jsonrpc"
    assert connections.config.odoo is not None and connections.config.odoo.protocol == "jsonrpc"

    # reset drops everything; the retired clients are closed with the connections.
    connections.reset()
    assert connections.shopify(B) is not shop_b and connections.odoo() is not new_odoo
    connections.close()
    assert shop_a._http.is_closed and odoo._http.is_closed and new_odoo._http.is_closed


def test_a_removed_shop_loses_its_client(sim) -> None:
    connections = Connections(make(sim, (A, B)), secret_source=lambda _: "shpat_x")
    shop_b = connections.shopify(B)
    connections.reconfigure(make(sim, (A,)))
    assert connections.shopify(B) is not shop_b
    connections.close()


def test_the_console_applies_a_saved_config_to_the_engine_and_its_connections(sim) -> None:
    """launch.ui_hooks: what Settings calls after saving (connections first, then polls)."""
    paths = Paths.discover()
    config = dataclasses.replace(make(sim, (A,)), path=paths.config_file)
    engine, store, connections = build_engine(paths, config, secret_source=lambda _: "shpat_x")
    try:
        client = connections.shopify(A)
        moved = dataclasses.replace(A, api_version="2026-10", flows={"orders": "auto"})
        saved = dataclasses.replace(config, shops=(moved, B))
        ui_hooks(engine, connections)["on_config_saved"](saved)
        assert engine.config is saved and connections.config is saved
        assert {ref.domain for ref in engine.shops.values()} == {A.domain, B.domain}
        assert connections.shopify(moved) is not client
    finally:
        connections.close()
        store.close()


def test_a_replaced_credential_rebuilds_its_client_on_reconfigure() -> None:
    from shopodoo_console import demo
    from shopodoo_console.sim.world import World, build_scenarios
    from shopodoo_console.workflows.connections import Connections

    with World(*build_scenarios(orders=0, customers=1, products=1)) as world:
        facts = world.facts()
        source = demo.secret_source(facts)
        current = {"shop": facts["shop_token"]}

        def secrets_now(name: str) -> str | None:
            if name.startswith("shopify:"):
                return current["shop"]
            return source(name)

        from shopodoo_console.config import Paths

        config = demo.write_config(Paths.discover(), facts)
        connections = Connections(config, secret_source=secrets_now)
        first = connections.shopify(config.shops[0])
        odoo = connections.odoo()
        connections.reconfigure(config)
        assert connections.shopify(config.shops[0]) is first  # nothing changed: kept
        current["shop"] = "shpat_" + "0" * 32  # the operator stored a new token
        connections.reconfigure(config)
        assert connections.shopify(config.shops[0]) is not first
        assert connections.odoo() is odoo  # its key did not change
        connections.close()
