"""Config: strict validation, one clear line naming file and key, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopodoo_console.config import ConfigError, Paths, load_config

GOOD = """
[odoo]
url = "https://erp.example.com"
database = "prod"
login = "sync@example.com"
protocol = "json2"

[[shops]]
domain = "acme.myshopify.com"
odoo_company_id = 1
odoo_warehouse_id = 2
[shops.flows]
orders = "review"
[shops.poll_seconds]
orders = 30

[[shops]]
domain = "local.myshopify.com"
base_url = "http://127.0.0.1:8123"
auth = "client_credentials"
client_id = "abc"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.odoo is not None and config.odoo.protocol == "json2"
    acme, local = config.shops
    assert acme.api_version == "2026-07"
    assert acme.mode("orders") == "review" and acme.mode("stock") == "off"
    assert acme.poll_interval("orders") == 30
    assert local.base_url == "http://127.0.0.1:8123"
    assert local.auth == "client_credentials"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[odoo\nurl = 1", "not valid TOML: "),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\nauth = 'tokn'",
            'shops[0].auth: expected "token" or "client_credentials", got \'tokn\'',
        ),
        ("[[shops]]\ndomain = 'acme.com'", "shops[0].domain: expected a shop domain"),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\nbase_url = 'http://shop.example.com'",
            "shops[0].base_url: plain http is only allowed for a loopback host",
        ),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\nauth = 'client_credentials'",
            'shops[0].client_id: missing (required when auth = "client_credentials")',
        ),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\n[shops.flows]\norders = 'yes'",
            'shops[0].flows.orders: expected "off" or "review" or "auto" or "on", got \'yes\'',
        ),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\n[shops.flows]\nordres = 'auto'",
            "shops[0].flows.ordres: unknown flow",
        ),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\nodoo_company_id = 'one'",
            "shops[0].odoo_company_id: expected an integer, got a string",
        ),
        ("[odoo]\nurl = 'https://x'\ndatabase = 'd'", "odoo.login: missing (expected a string)"),
        (
            "[odoo]\nurl = 'https://x'\ndatabase = 'd'\nlogin = 'l'\nprotcol = 'json2'",
            "odoo.protcol: unknown key",
        ),
        ("shop = 1", "shop: unknown key"),
        (
            "[[shops]]\ndomain = 'a.myshopify.com'\n[[shops]]\ndomain = 'a.myshopify.com'",
            "shops[1].domain: 'a.myshopify.com' is listed twice",
        ),
        ("[engine]\nworkers = 0", "engine.workers: expected 1 to 32 worker threads, got 0"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message.strip() or "TOML" in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 3"):
        load_config(write(tmp_path, "[odoo]\nurl = 'x'\nlogin = = 'y'\n"))


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config file"):
        load_config(tmp_path / "nope.toml")
    assert load_config(tmp_path / "nope.toml", required=False).shops == ()


def test_shopodoo_home_puts_everything_under_one_folder(isolated_home: Path) -> None:
    paths = Paths.discover()
    for folder in (paths.config_dir, paths.data_dir, paths.state_dir, paths.log_dir):
        assert folder.is_relative_to(isolated_home)


OPTIONS = '[[shops]]\ndomain = "acme.myshopify.com"\n[shops.options]\n'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("custom_line_product_id = 0", "shops[0].options.custom_line_product_id: expected an Odoo"),
        ('custom_line_product_id = "gift"', "options.custom_line_product_id: expected a positive"),
        ('create_cancelled_orders = "yes"', "options.create_cancelled_orders: expected true or"),
        ("gift_wrap_product = 3", "shops[0].options.gift_wrap_product: unknown option"),
        ('confirm = "sometimes"', "shops[0].options.confirm: expected one of paid, always"),
    ],
)
def test_shop_options_are_checked_when_the_file_is_read(
    tmp_path: Path, line: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, OPTIONS + line + "\n"))


def test_the_new_orders_options_are_read(tmp_path: Path) -> None:
    from shopodoo_console.workflows.orders.settings import OrdersSettings

    config = load_config(
        write(tmp_path, OPTIONS + "custom_line_product_id = 57\ncreate_cancelled_orders = true\n")
    )
    settings = OrdersSettings.from_shop(config.shops[0])
    assert (settings.custom_line_product_id, settings.create_cancelled_orders) == (57, True)
    plain = load_config(write(tmp_path, OPTIONS)).shops[0]
    assert OrdersSettings.from_shop(plain).create_cancelled_orders is False


def test_the_fulfillments_mode_and_options_are_read(tmp_path: Path) -> None:
    """`fulfillments = "on"` (the issues' word) runs the flow unattended; `notify_customer`
    reaches the flow, and a wrong value names the key."""
    from shopodoo_console.workflows.fulfillments.settings import FulfillmentsSettings

    text = (
        "[[shops]]\ndomain = 'a.myshopify.com'\n[shops.flows]\nfulfillments = 'on'\n"
        "orders = 'review'\n[shops.options]\nnotify_customer = false\n"
    )
    shop = load_config(write(tmp_path, text)).shops[0]
    assert (shop.mode("fulfillments"), shop.mode("orders")) == ("auto", "review")
    assert FulfillmentsSettings.from_shop(shop).notify_customer is False
    plain = load_config(write(tmp_path, "[[shops]]\ndomain = 'a.myshopify.com'\n")).shops[0]
    assert plain.mode("fulfillments") == "off"
    assert FulfillmentsSettings.from_shop(plain).notify_customer is True
    with pytest.raises(ConfigError, match=re.escape("options.notify_customer: expected true")):
        load_config(write(tmp_path, text.replace("= false", "= 'no'")))
