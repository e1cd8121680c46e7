"""The console's Textual-free parts: where a fix goes, config write-back, formatting."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopodoo_console.causes import Cause
from shopodoo_console.config import DEFAULT_API_VERSION, ConfigError, load_config
from shopodoo_console.config_file import (
    add_shop,
    remove_shop,
    update_flow,
    update_odoo,
    update_shop,
)
from shopodoo_console.ui.checks import MappingProposal, accept_positive_ids, no_connection_test
from shopodoo_console.ui.fixes import fix_for
from shopodoo_console.ui.format import ago, parse_position

SHOP = "acme.myshopify.com"


def test_a_mapping_cause_fixes_in_the_editor_prefilled_from_blocked_on() -> None:
    cause = Cause(
        "mapping.location_missing",
        missing="x",
        blocked_on=("product:SKU-1", "location:gid://shopify/Location/9"),
    )
    fix = fix_for(cause, shop=SHOP, job_id=3)
    assert (fix.where, fix.kind, fix.source_key, fix.shop) == (
        "mapping",
        "location",
        "gid://shopify/Location/9",
        SHOP,
    )


@pytest.mark.parametrize(
    ("code", "where", "connection"),
    [
        ("shopify.unauthorized", "settings", f"shopify:{SHOP}"),
        ("shopify.scope_missing", "settings", f"shopify:{SHOP}"),
        ("odoo.access_denied", "settings", "odoo"),
        ("odoo.company_access", "settings", "odoo"),
        ("odoo.validation", "job", ""),
        ("mapping.custom_line_missing", "option", ""),  # the shop's option editor
    ],
)
def test_credential_and_permission_causes_fix_in_settings(code, where, connection) -> None:
    fix = fix_for(Cause(code, missing="x"), shop=SHOP, job_id=1)
    assert (fix.where, fix.connection) == (where, connection)


def test_the_cause_view_lists_every_blocker() -> None:
    from shopodoo_console.ui.widgets.cause_view import cause_text

    cause = Cause.every(
        [
            Cause("mapping.product_missing", missing="SKU 'A' has no product"),
            Cause("mapping.gateway_missing", missing="no journal for 'paypal'"),
        ]
    )
    text = cause_text(cause).plain
    assert "What is missing: SKU 'A' has no product" in text
    assert "Also missing (mapping.gateway_missing): no journal for 'paypal'" in text


def test_update_flow_refuses_an_invalid_result_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = f'# mine\n[[shops]]\ndomain = "{SHOP}"\nflows = {{ orders = "auto" }}\n'
    path.write_text(original)
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="expected 5 to 86400 seconds"):
        update_flow(path, SHOP, "orders", poll_seconds=2)
    with pytest.raises(ConfigError, match="unknown flow"):
        update_flow(path, SHOP, "teleport", mode="auto")
    with pytest.raises(ConfigError, match="no shop"):
        update_flow(path, "other.myshopify.com", "orders", mode="off")
    assert path.read_text() == original
    assert not list(tmp_path.glob(".config-*"))  # no temp file left behind
    config = update_flow(path, SHOP, "orders", mode="review", poll_seconds=45)
    assert config.shop(SHOP).flows == {"orders": "review"}
    assert path.read_text().startswith("# mine\n")
    assert path.stat().st_mode & 0o777 == 0o600


def test_update_flow_adds_missing_tables(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[[shops]]\ndomain = "{SHOP}"  # the only shop\n')
    config = update_flow(path, SHOP, "stock", mode="review", poll_seconds=120)
    assert config.shop(SHOP).mode("stock") == "review"
    assert config.shop(SHOP).poll_interval("stock") == 120
    assert "# the only shop" in path.read_text()


def test_default_hooks_say_what_they_did_not_check() -> None:
    ok = accept_positive_ids(MappingProposal(SHOP, "product", "SKU", "product.product", 4))
    assert ok.ok and "not checked against Odoo" in ok.message
    assert not accept_positive_ids(MappingProposal(SHOP, "product", "S", "product.product", 0)).ok
    assert not no_connection_test("odoo").ok


def test_cursor_positions_and_ages() -> None:
    assert parse_position("2026-05-28T20:25:10Z") == 1_779_999_910.0
    assert parse_position("2026-05-28T20:25:10Z|digest") == 1_779_999_910.0
    assert parse_position("page-token-abc") is None
    assert [ago(s) for s in (5, 75, 7300, 200000)] == ["5s", "1m", "2h", "2d"]


def test_update_odoo_edits_in_place_and_creates_the_table_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '# mine\n[odoo]\nurl = "https://a.odoo.com"  # prod\ndatabase = \'a\'\nlogin = "me"\n'
        "timeout = 10\n"
    )
    config = update_odoo(path, url="https://b.odoo.com/", database="a", login="me", protocol="auto")
    assert config.odoo is not None and config.odoo.url == "https://b.odoo.com"
    text = path.read_text()
    assert 'url = "https://b.odoo.com"  # prod' in text
    assert "database = 'a'" in text and "timeout = 10" in text and "protocol" not in text

    fresh = tmp_path / "new" / "config.toml"  # no file yet: created private, with the table
    config = update_odoo(fresh, url="https://c.odoo.com", database="c", login="x", protocol="json2")
    assert config.odoo is not None and config.odoo.protocol == "json2"
    assert fresh.stat().st_mode & 0o777 == 0o600

    shops_only = tmp_path / "shops.toml"
    shops_only.write_text(f'# mine\n[[shops]]\ndomain = "{SHOP}"\n')
    update_odoo(shops_only, url="https://c.odoo.com", database="c", login="x", protocol="auto")
    text = shops_only.read_text()
    assert text.startswith(f'# mine\n[[shops]]\ndomain = "{SHOP}"\n\n[odoo]\n')
    assert load_config(shops_only).shops[0].domain == SHOP


def test_update_odoo_refuses_what_the_loader_refuses(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = '[odoo]\nurl = "https://a.odoo.com"\ndatabase = "a"\nlogin = "me"\n'
    path.write_text(original)
    with pytest.raises(ConfigError, match="plain http is only allowed for a loopback host"):
        update_odoo(path, url="http://a.example.com", database="a", login="me", protocol="auto")
    with pytest.raises(ConfigError, match=r"odoo\.login: missing"):
        update_odoo(path, url="https://a.odoo.com", database="a", login=" ", protocol="auto")
    with pytest.raises(ConfigError, match=r"odoo\.protocol: expected"):
        update_odoo(path, url="https://a.odoo.com", database="a", login="me", protocol="xmlrpc")
    assert path.read_text() == original
    update_odoo(path, url="http://127.0.0.1:8069", database="a", login="me", protocol="auto")


def test_add_shop_appends_a_table_and_refuses_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = f'# mine\n[[shops]]\ndomain = "{SHOP}"  # the first\n\n[engine]\nworkers = 2\n'
    path.write_text(original)
    config = add_shop(
        path,
        domain=" Second.myshopify.com",
        auth="client_credentials",
        client_id="abc",
        odoo_company_id=2,
    )
    assert [s.domain for s in config.shops] == [SHOP, "second.myshopify.com"]
    second = config.shops[1]
    assert (second.auth, second.client_id, second.odoo_company_id) == (
        "client_credentials",
        "abc",
        2,
    )
    assert path.read_text() == original.replace(
        "\n[engine]",
        '\n[[shops]]\ndomain = "second.myshopify.com"\nauth = "client_credentials"\n'
        'client_id = "abc"\nodoo_company_id = 2\n\n[engine]',
    )
    before = path.read_text()
    with pytest.raises(ConfigError, match="already configured"):
        add_shop(path, domain=SHOP.upper())
    with pytest.raises(ConfigError, match=r"shops\[2\]\.client_id: missing"):
        add_shop(path, domain="third.myshopify.com", auth="client_credentials")
    with pytest.raises(ConfigError, match=r"shops\[2\]\.domain: expected a shop domain"):
        add_shop(path, domain="third.example.com")
    with pytest.raises(ConfigError, match="plain http"):
        add_shop(path, domain="third.myshopify.com", base_url="http://shop.example.com")
    assert path.read_text() == before

    fresh = tmp_path / "fresh.toml"
    config = add_shop(fresh, domain="third.myshopify.com", base_url="http://127.0.0.1:9")
    assert config.shops[0].base_url == "http://127.0.0.1:9" and config.shops[0].auth == "token"


SHOPS = f"""\
# Two shops.
[odoo]
url = "https://a.odoo.com"  # prod
database = "a"
login = "me"

# Bob's shop: orders only
[[shops]]
domain = "{SHOP}"
api_version = "2025-10"  # pinned until the app is updated
# orders every 30 s
flows = {{ orders = "auto" }}
poll_seconds = {{ orders = 30 }}
odoo_pricelist_id = 7
# end of Bob's

# Anna's shop
[[shops]]
domain = "second.myshopify.com"
flows = {{ orders = "review" }}

[shops.options]
register_payments = true  # journal per gateway

# engine sizing
[engine]
workers = 2
"""


def test_update_shop_edits_its_table_in_place_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SHOPS)
    config = update_shop(
        path,
        SHOP.upper(),
        base_url="http://127.0.0.1:8080/",
        auth="client_credentials",
        client_id="app-1",
        api_version="2025-10",
        odoo_company_id=3,
    )
    shop = config.shop(SHOP)
    assert (shop.base_url, shop.auth, shop.client_id, shop.api_version) == (
        "http://127.0.0.1:8080",
        "client_credentials",
        "app-1",
        "2025-10",
    )
    assert (shop.odoo_company_id, shop.odoo_warehouse_id, shop.odoo_pricelist_id) == (3, None, 7)
    assert (shop.flows, shop.poll_seconds) == ({"orders": "auto"}, {"orders": 30})
    # New keys go after the shop key before them, not after the comments ending the table.
    assert path.read_text() == SHOPS.replace(
        f'domain = "{SHOP}"\napi_version',
        f'domain = "{SHOP}"\nbase_url = "http://127.0.0.1:8080"\nauth = "client_credentials"\n'
        'client_id = "app-1"\napi_version',
    ).replace(
        "# pinned until the app is updated\n",
        "# pinned until the app is updated\nodoo_company_id = 3\n",
    )

    # Back to a token (written: it was) and the default API version: the keys go, the other
    # shop is untouched.
    config = update_shop(path, SHOP, odoo_company_id=3, odoo_warehouse_id=4)
    shop = config.shop(SHOP)
    assert (shop.auth, shop.client_id, shop.base_url, shop.api_version) == (
        "token",
        None,
        None,
        DEFAULT_API_VERSION,
    )
    assert path.read_text() == SHOPS.replace(
        'api_version = "2025-10"  # pinned until the app is updated\n',
        'auth = "token"\nodoo_company_id = 3\nodoo_warehouse_id = 4\n',
    )
    assert config.shop("second.myshopify.com").options == {"register_payments": True}

    # The default stays implicit; a value equal to the one written keeps its text.
    before = path.read_text()
    update_shop(path, SHOP, api_version=DEFAULT_API_VERSION, odoo_company_id=3, odoo_warehouse_id=4)
    assert path.read_text() == before


def test_update_shop_refuses_what_the_loader_refuses_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SHOPS)
    path.chmod(0o600)
    before = path.read_bytes()
    with pytest.raises(
        ConfigError,
        match=r"shops\[0\]\.base_url: plain http is only allowed for a loopback host .*"
        "use https for shop.example.com",
    ):
        update_shop(path, SHOP, base_url="http://shop.example.com")
    with pytest.raises(ConfigError, match=r"shops\[0\]\.client_id: missing"):
        update_shop(path, SHOP, auth="client_credentials")
    with pytest.raises(ConfigError, match=r"shops\[1\]\.api_version: expected a version"):
        update_shop(path, "second.myshopify.com", api_version="latest")
    with pytest.raises(ConfigError, match=r"no shop 'third\.myshopify\.com'"):
        update_shop(path, "third.myshopify.com")
    with pytest.raises(ConfigError, match="no config file"):
        update_shop(tmp_path / "missing.toml", SHOP)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".config-*"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_remove_shop_takes_out_its_table_and_its_own_comments_only(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(SHOPS)
    config = remove_shop(path, SHOP)
    assert [s.domain for s in config.shops] == ["second.myshopify.com"]
    assert config.odoo is not None and config.engine.workers == 2
    # Its header, keys, the comment above its header and the one after its last key go.
    assert path.read_text() == SHOPS.replace(
        SHOPS[SHOPS.index("# Bob's shop") : SHOPS.index("# Anna's shop")], ""
    )

    path.write_text(SHOPS)
    config = remove_shop(path, "second.myshopify.com")  # with its sub-table
    assert [s.domain for s in config.shops] == [SHOP]
    assert path.read_text() == SHOPS.replace(
        SHOPS[SHOPS.index("# Anna's shop") : SHOPS.index("# engine sizing")], ""
    )

    config = remove_shop(path, SHOP)  # the last one: allowed, nothing left to poll
    assert config.shops == ()
    assert path.read_text() == SHOPS[: SHOPS.index("# Bob's shop")] + "# engine sizing\n" + (
        "[engine]\nworkers = 2\n"
    )
    with pytest.raises(ConfigError, match=f"no shop '{SHOP}'"):
        remove_shop(path, SHOP)


@pytest.mark.parametrize(
    ("layout", "left"),
    [
        # The file's opening comment is about the file, not the shop under it.
        (
            f'# my shops\n[[shops]]\ndomain = "{SHOP}"\n[[shops]]\ndomain = "b.myshopify.com"\n',
            '# my shops\n[[shops]]\ndomain = "b.myshopify.com"\n',
        ),
        # The last table: trailing blank lines go with it.
        (
            f'[[shops]]\ndomain = "b.myshopify.com"\n\n[[shops]]\ndomain = "{SHOP}"\n\n',
            '[[shops]]\ndomain = "b.myshopify.com"\n',
        ),
        # An array of inline tables.
        (
            f'shops = [\n  {{ domain = "{SHOP}" }},\n  {{ domain = "b.myshopify.com" }},\n]\n',
            'shops = [\n  { domain = "b.myshopify.com" },\n]\n',
        ),
        # Tables out of order: tomlkit removes it; the other settings are checked unchanged.
        (
            f'[[shops]]\ndomain = "b.myshopify.com"\n\n[engine]\nworkers = 2\n\n'
            f'[[shops]]\ndomain = "{SHOP}"\n',
            '[[shops]]\ndomain = "b.myshopify.com"\n\n[engine]\nworkers = 2\n',
        ),
    ],
)
def test_remove_shop_layouts(tmp_path: Path, layout: str, left: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(layout)
    config = remove_shop(path, SHOP)
    assert [s.domain for s in config.shops] == ["b.myshopify.com"]
    assert path.read_text() == left
