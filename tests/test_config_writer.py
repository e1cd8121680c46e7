"""The one config writer, driven through `shopodoo connect` as the README's order has it:
`connect odoo`, then two `connect shopify` — on an empty home and on the README's example
config. The result loads, keeps every comment, and lists shops as ``[[shops]]`` tables."""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopodoo_console import config_file, secrets
from shopodoo_console.cli import main
from shopodoo_console.config import ConfigError, Paths, ShopConfig, load_config
from shopodoo_console.shop_options import SHOP_OPTIONS
from shopodoo_console.workflows.orders.settings import OrdersSettings

README = Path(__file__).resolve().parents[1] / "README.md"
TOKEN = "shpat_" + "a1" * 16
API_KEY = "odoo-key-" + "b2" * 12


def readme_config() -> str:
    """The example config.toml of the README, as a user would copy it."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.S)
    assert block, "the README has a ```toml example"
    return "".join(line[3:] + "\n" for line in block.group(1).splitlines())


def cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def connect_all(monkeypatch: pytest.MonkeyPatch) -> Path:
    odoo = ["--url", "https://erp.example.com", "--database", "prod"]
    odoo += ["--login", "shopify-sync@example.com"]
    assert cli(monkeypatch, ["connect", "odoo", *odoo, "--stdin"], API_KEY) == 0
    assert cli(monkeypatch, ["connect", "shopify", "one.myshopify.com", "--stdin"], TOKEN) == 0
    two = ["connect", "shopify", "two.myshopify.com", "--client-id", "cid-2", "--stdin"]
    assert cli(monkeypatch, two, "secret-2") == 0
    return Paths.discover().config_file


def test_connect_on_an_empty_home_writes_tables_that_load(monkeypatch, memory_keyring) -> None:
    path = connect_all(monkeypatch)
    config = load_config(path)
    assert [s.domain for s in config.shops] == ["one.myshopify.com", "two.myshopify.com"]
    assert config.shop("two.myshopify.com").client_id == "cid-2"
    assert config.odoo is not None and config.odoo.url == "https://erp.example.com"
    text = path.read_text()
    assert text.count("[[shops]]") == 2 and "shops = [" not in text
    assert TOKEN not in text and API_KEY not in text
    assert memory_keyring.store[(secrets.SERVICE, "shopify:one.myshopify.com")] == TOKEN
    assert path.stat().st_mode & 0o077 == 0
    assert not list(path.parent.glob(".config-*"))  # the temporary file is gone


def test_connect_after_the_readme_config_keeps_comments_and_settings(
    monkeypatch, memory_keyring
) -> None:
    paths = Paths.discover()
    paths.ensure()
    original = readme_config()
    paths.config_file.write_text(original, encoding="utf-8")
    path = connect_all(monkeypatch)
    text = path.read_text()
    for line in original.splitlines():
        if "#" in line:
            assert line in text, f"lost: {line}"
    config = load_config(path)
    acme = config.shop("acme.myshopify.com")
    assert acme.options["guest_partner_id"] == 42 and acme.mode("orders") == "review"
    assert [s.domain for s in config.shops][1:] == ["one.myshopify.com", "two.myshopify.com"]
    # the new shops did not land inside [shops.options] of the last table
    assert "one.myshopify.com" not in str(acme.options)
    assert tomllib.loads(text)["odoo"]["login"] == "shopify-sync@example.com"


def test_connect_changes_the_existing_odoo_and_client_id_in_place(
    monkeypatch, memory_keyring
) -> None:
    path = connect_all(monkeypatch)
    with path.open("a") as handle:
        handle.write("# my own note\n")
    args = ["connect", "shopify", "two.myshopify.com", "--client-id", "cid-3", "--stdin"]
    assert cli(monkeypatch, args, "secret-3") == 0
    args = ["connect", "odoo", "--database", "prod2", "--stdin"]
    assert cli(monkeypatch, args, API_KEY) == 0
    config = load_config(path)
    assert config.shop("two.myshopify.com").client_id == "cid-3"
    assert config.odoo is not None and config.odoo.database == "prod2"
    assert "# my own note" in path.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["shopify", "acme"], "expected a shop domain like 'acme.myshopify.com'"),
        (["shopify", "ACME.myshopify.com; rm -rf"], "expected a shop domain"),
        (["odoo", "--url", "http://erp.example.com", "--database", "d", "--login", "l"], "http"),
        (["odoo", "--url", "ftp://x", "--database", "d", "--login", "l"], "http(s) URL"),
        (["odoo", "--url", "https://x:99999999", "--database", "d", "--login", "l"], "URL"),
    ],
)
def test_bad_input_is_refused_before_the_keyring_is_touched(
    monkeypatch, memory_keyring, capsys, argv: list[str], message: str
) -> None:
    assert cli(monkeypatch, ["connect", *argv, "--stdin"], TOKEN) == 2
    err = capsys.readouterr().err
    assert err.startswith("shopodoo: ") and message in err and err.count("\n") == 1
    assert memory_keyring.store == {}
    assert not Paths.discover().config_file.exists()


@pytest.mark.parametrize("secret", ["shpat_abc\u00e9def", "shpat_\u201cabc\u201d", "tok\x00en"])
def test_a_secret_headers_cannot_carry_is_refused_at_connect(
    monkeypatch, memory_keyring, capsys, secret: str
) -> None:
    assert cli(monkeypatch, ["connect", "shopify", "a.myshopify.com", "--stdin"], secret) == 2
    err = capsys.readouterr().err
    assert "HTTP header cannot carry" in err and "nothing was stored" in err
    assert secret not in err
    assert memory_keyring.store == {}
    assert not Paths.discover().config_file.exists()


def test_a_refused_change_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(readme_config())
    before = path.read_text()
    with pytest.raises(ConfigError, match=r"options\.guest_partner_id"):
        config_file.update_options(path, "acme.myshopify.com", {"guest_partner_id": 0})
    with pytest.raises(ConfigError, match="already configured"):
        config_file.add_shop(path, domain="acme.myshopify.com")
    assert path.read_text() == before
    assert not list(tmp_path.glob(".config-*"))


def test_dry_run_validates_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    config = config_file.add_shop(path, domain="dry.myshopify.com", write=False)
    assert config.shops[0].domain == "dry.myshopify.com" and config.path == path
    assert not path.exists()


def test_options_are_written_into_the_shops_own_table(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(readme_config())
    config_file.add_shop(path, domain="beta.myshopify.com")
    config = config_file.update_options(
        path, "beta.myshopify.com", {"guest_partner_id": 7, "register_payments": True}
    )
    assert config.shop("beta.myshopify.com").options == {
        "guest_partner_id": 7,
        "register_payments": True,
    }
    assert config.shop("acme.myshopify.com").options["guest_partner_id"] == 42
    config = config_file.update_options(path, "acme.myshopify.com", {"guest_partner_id": None})
    assert "guest_partner_id" not in config.shop("acme.myshopify.com").options
    assert "# the Odoo contact for guest checkouts" not in path.read_text()  # its own comment
    assert "# paid | always | never" in path.read_text()


VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["paid", "always", "never", "odoo", "mapped"]),
)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from([o.key for o in SHOP_OPTIONS]), value=VALUES)
def test_the_loader_refuses_every_option_value_the_flow_refuses(key: str, value: object) -> None:
    """`sync` builds the flow after loading: whatever the flow would refuse, the loader (and
    so the writer, doctor and the console) refuses first, naming the key."""
    shop = ShopConfig(domain="p.myshopify.com", options={key: value})
    try:
        OrdersSettings.from_shop(shop)
        flow_ok = True
    except (ConfigError, OverflowError, ValueError):
        flow_ok = False
    from shopodoo_console.config import _parse

    try:
        _parse(Path("c.toml"), {"shops": [{"domain": shop.domain, "options": {key: value}}]})
        loader_ok = True
    except ConfigError as exc:
        loader_ok = False
        assert f"shops[0].options.{key}" in str(exc)
    assert flow_ok or not loader_ok
