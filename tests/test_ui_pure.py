"""The console's Textual-free parts: where a fix goes, config write-back, formatting."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopodoo_console.causes import Cause
from shopodoo_console.config import ConfigError
from shopodoo_console.ui.checks import MappingProposal, accept_positive_ids, no_connection_test
from shopodoo_console.ui.config_file import update_flow
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
    ],
)
def test_credential_and_permission_causes_fix_in_settings(code, where, connection) -> None:
    fix = fix_for(Cause(code, missing="x"), shop=SHOP, job_id=1)
    assert (fix.where, fix.connection) == (where, connection)


def test_update_flow_refuses_an_invalid_result_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = f'# mine\n[[shops]]\ndomain = "{SHOP}"\nflows = {{ orders = "auto" }}\n'
    path.write_text(original)
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="at least 5 seconds"):
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
