"""Per-shop rules of the orders flow, read from ``[shops.options]`` in the config.

The options and their checks live in :mod:`shopodoo_console.shop_options` (the config loader
validates them when the file is read); this is the orders flow's typed view of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopodoo_console.config import ConfigError, ShopConfig
from shopodoo_console.shop_options import OptionError, check_options


@dataclass(frozen=True)
class OrdersSettings:
    confirm: str = "paid"  # when to confirm the sale order: once paid, always, never
    guest_partner_id: int | None = None  # orders without a customer; None: needs attention
    taxes: str = "odoo"  # odoo: products' taxes / fiscal positions; mapped: Shopify tax lines
    shipping_product_id: int | None = None  # delivery line product when no carrier mapping
    custom_line_product_id: int | None = None  # the product of custom line items (no variant)
    overlap_minutes: int = 10  # poll overlap (DESIGN §7.3)
    initial_days: int = 7  # how far back the first poll looks
    write_back: bool = True  # write the Odoo reference to the Shopify order (metafield)
    skip_test_orders: bool = True  # orders placed with Shopify's test gateway stay out of Odoo
    register_payments: bool = False  # each captured payment → a customer payment in the
    # Odoo journal mapped to its gateway (kind "gateway"); an unmapped gateway blocks the order
    create_cancelled_orders: bool = False  # cancelled before first seen: create + cancel

    @classmethod
    def from_shop(cls, shop: ShopConfig, where: str = "shops") -> OrdersSettings:
        try:
            values = check_options(shop.options)
        except OptionError as exc:
            raise ConfigError(f"{where}.options.{exc.key}: {exc}") from None
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})
