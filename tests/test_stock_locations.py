"""Location mappings: Shopify locations ↔ Odoo stock locations, suggested by address.

The demo world names them differently on purpose ("Main Warehouse" is Odoo's "Berlin DC" at
the same address); the suggestion must find it by address, over real HTTP, and the CLI must
list every location with its mapping or its suggestions and the command that maps it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shopodoo_console import demo, secrets
from shopodoo_console.cli import main
from shopodoo_console.config import OdooConfig, Paths, ShopConfig
from shopodoo_console.odoo.stock import Address
from shopodoo_console.sim.world import THIRD_PARTY, World, build_scenarios
from shopodoo_console.workflows.stock.locations import (
    ShopLocation,
    address_score,
    name_score,
    suggest_locations,
)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    shopify, odoo = build_scenarios(orders=0, customers=2, products=2)
    with World(shopify, odoo, odoo_version=17) as w:
        yield w


def _configured(world: World) -> dict:
    facts = world.facts()
    demo.write_config(Paths.discover(), facts, flows={"stock": "auto"})
    secrets.set_secret(ShopConfig(domain=facts["shop_domain"]).secret_name, facts["shop_token"])
    secrets.set_secret(
        OdooConfig(facts["odoo_url"], facts["odoo_database"], facts["odoo_login"]).secret_name,
        facts["odoo_api_key"],
    )
    return facts


def test_every_location_is_listed_unmapped_ones_with_suggestions_by_address(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = _configured(world)
    assert main(["stock", "locations", "--json"]) == 1  # locations wait for a mapping
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["locations"]}
    assert set(rows) == {"Main Warehouse", "Outlet Store", THIRD_PARTY, "Old Depot"}
    main_wh, outlet = rows["Main Warehouse"], rows["Outlet Store"]
    assert main_wh["mapped"] is None
    best = main_wh["suggestions"][0]
    main_gid = world.shopify.store.location("Main Warehouse")["id"]
    assert best["odoo_location_id"] == facts["stock_locations"][main_gid]
    assert best["label"] == "Berlin DC — BER/Stock"
    assert best["why"].startswith("same address: Friedrichstraße 12, 10115 Berlin, DE")
    assert outlet["suggestions"][0]["label"] == "Lyon Store — LYO/Stock"
    assert rows[THIRD_PARTY]["fulfillment_service"] is True
    assert not rows[THIRD_PARTY]["suggestions"]  # nothing in Odoo at a 3PL's address
    assert rows["Old Depot"]["active"] is False
    # The suggestion is one command away, checked in Odoo; then the location is mapped.
    shop = facts["shop_domain"]
    assert main(["mappings", "set", shop, "location", main_gid, str(best["odoo_location_id"])]) == 0
    capsys.readouterr()
    main(["stock", "locations"])
    text = capsys.readouterr().out
    assert "mapped → Odoo BER/Stock" in text
    assert f"→ shopodoo mappings set {shop} location " in text  # for the Outlet Store


def test_the_mapping_editor_suggester_offers_the_same_by_address(world: World) -> None:
    from shopodoo_console.config import load_config
    from shopodoo_console.workflows.checks import suggest
    from shopodoo_console.workflows.connections import Connections

    facts = _configured(world)
    connections = Connections(load_config(Paths.discover().config_file))
    try:
        outlet = world.shopify.store.location("Outlet Store")["id"]
        found = suggest(connections, facts["shop_domain"], "location", outlet)
    finally:
        connections.close()
    assert found and found[0][0] == facts["stock_locations"][outlet]
    assert "same address" in found[0][2]


def test_address_beats_name_and_street_spelling_does_not_matter() -> None:
    shop = ShopLocation(
        "gid://shopify/Location/1",
        "Lyon Boutique",
        True,
        False,
        {
            "address1": "12 rue de la Republique",
            "zip": "69002",
            "city": "LYON",
            "countryCode": "fr",
        },
    )
    same = Address("Rue de la République 12", None, "Lyon", "69002", "FR", "France")
    other_number = Address("Rue de la République 14", None, "Lyon", "69002", "FR", "France")
    elsewhere = Address("Rue de la République 12", None, "Paris", "75002", "FR", "France")
    assert address_score(shop, same)[0] == 100
    assert address_score(shop, other_number)[0] == 60  # same postcode and city only
    assert address_score(shop, elsewhere)[0] == 0
    assert name_score("Main Warehouse", "Berlin DC") == 0
    assert name_score("Lyon Boutique", "Lyon Store") > 0


def test_suggestions_skip_other_companies_and_rank_best_first() -> None:
    from shopodoo_console.odoo.stock import Location, StockLayout, Warehouse

    here = Address("Friedrichstraße 12", None, "Berlin", "10115", "DE", "Germany")
    layout = StockLayout(
        warehouses=(
            Warehouse(1, "Berlin DC", "BER", 1, 10, 9, here),
            Warehouse(2, "Berlin DC (other company)", "BE2", 2, 20, 19, here),
            Warehouse(3, "Main Warehouse Hamburg", "HAM", 1, 30, 29, None),
        ),
        locations={
            10: Location(10, "Stock", "BER/Stock", 9, 1, 1, "internal", (9, 10)),
            20: Location(20, "Stock", "BE2/Stock", 19, 2, 2, "internal", (19, 20)),
            30: Location(30, "Stock", "HAM/Stock", 29, 3, 1, "internal", (29, 30)),
        },
    )
    shop = ShopLocation(
        "gid://shopify/Location/1",
        "Main Warehouse",
        True,
        False,
        {"address1": "Friedrichstraße 12", "zip": "10115", "city": "Berlin", "countryCode": "DE"},
    )
    ranked = suggest_locations(shop, layout, company_id=1)
    assert [s.odoo_location_id for s in ranked] == [10, 30]  # address first, then the name
    assert ranked[0].why.startswith("same address")


def test_stock_resync_says_what_to_do_when_the_flow_is_off_or_the_shop_unknown(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = world.facts()
    demo.write_config(Paths.discover(), facts, flows={"orders": "auto"})
    assert main(["stock", "resync"]) == 2
    err = capsys.readouterr().err
    assert "the stock flow is off for shopodoo-demo.myshopify.com" in err
    assert 'stock = "on"' in err
    assert main(["stock", "resync", "--shop", "nope.myshopify.com"]) == 2
    assert "no shop 'nope.myshopify.com'" in capsys.readouterr().err


def test_the_stock_flow_reads_on_as_auto_in_the_config(tmp_path) -> None:
    from shopodoo_console.config import load_config

    path = tmp_path / "config.toml"
    path.write_text(
        '[[shops]]\ndomain = "acme.myshopify.com"\n[shops.flows]\nstock = "on"\n'
        'orders = "review"\n[shops.options]\nstock_buffer = 2\n',
        encoding="utf-8",
    )
    shop = load_config(path).shops[0]
    assert shop.mode("stock") == "auto" and shop.mode("orders") == "review"
    path.write_text(
        '[[shops]]\ndomain = "acme.myshopify.com"\n[shops.options]\nstock_quantity = "all"\n',
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="stock_quantity"):
        load_config(path)
