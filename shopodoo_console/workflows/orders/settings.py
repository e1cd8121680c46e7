"""Per-shop rules of the orders flow, read from ``[shops.options]`` in the config.

Each rule has a safe default; an invalid value is a config error naming the key, found when
the flow is built, not halfway through a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopodoo_console.config import ConfigError, ShopConfig

CONFIRM_RULES = ("paid", "always", "never")
TAX_RULES = ("odoo", "mapped")


@dataclass(frozen=True)
class OrdersSettings:
    confirm: str = "paid"  # when to confirm the sale order: once paid, always, never
    guest_partner_id: int | None = None  # orders without a customer; None: needs attention
    taxes: str = "odoo"  # odoo: products' taxes / fiscal positions; mapped: Shopify tax lines
    shipping_product_id: int | None = None  # delivery line product when no carrier mapping
    overlap_minutes: int = 10  # poll overlap (DESIGN §7.3)
    initial_days: int = 7  # how far back the first poll looks
    write_back: bool = True  # write the Odoo reference to the Shopify order (metafield)
    skip_test_orders: bool = True  # orders placed with Shopify's test gateway stay out of Odoo
    register_payments: bool = False  # each captured payment → a customer payment in the
    # Odoo journal mapped to its gateway (kind "gateway"); an unmapped gateway blocks the order

    @classmethod
    def from_shop(cls, shop: ShopConfig, where: str = "shops") -> OrdersSettings:
        options: dict[str, Any] = dict(shop.options)
        known = {f for f in cls.__dataclass_fields__}
        for key in options:
            if key not in known:
                raise ConfigError(
                    f"{where}.options.{key}: unknown option for shop "
                    f"{shop.domain} (expected one of: {', '.join(sorted(known))})"
                )
        values: dict[str, Any] = {}
        for key, kind, choices in (("confirm", str, CONFIRM_RULES), ("taxes", str, TAX_RULES)):
            if key in options:
                value = options[key]
                if not isinstance(value, kind) or value not in choices:
                    raise ConfigError(
                        f"{where}.options.{key}: expected one of "
                        f"{', '.join(choices)}, got {value!r}"
                    )
                values[key] = value
        for key in ("guest_partner_id", "shipping_product_id", "overlap_minutes", "initial_days"):
            if key in options:
                value = options[key]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ConfigError(
                        f"{where}.options.{key}: expected a positive whole number, got {value!r}"
                    )
                values[key] = value
        for key in ("write_back", "skip_test_orders", "register_payments"):
            if key in options:
                if not isinstance(options[key], bool):
                    raise ConfigError(f"{where}.options.{key}: expected true or false")
                values[key] = options[key]
        return cls(**values)
