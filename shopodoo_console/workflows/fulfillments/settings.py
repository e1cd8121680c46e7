"""Per-shop rules of the fulfillments flow, read from ``[shops.options]`` in the config.

The options live in :mod:`shopodoo_console.shop_options` (validated when the config is read);
the poll shares ``overlap_minutes`` and ``initial_days`` with the orders flow ("the same
cursor rules"), and ``notify_customer`` decides whether Shopify e-mails the customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopodoo_console.config import ConfigError, ShopConfig
from shopodoo_console.shop_options import OptionError, check_options


@dataclass(frozen=True)
class FulfillmentsSettings:
    notify_customer: bool = True  # Shopify's shipping confirmation e-mail, with tracking
    overlap_minutes: int = 10  # each poll looks back this far over the last one
    initial_days: int = 7  # how far back the first poll looks

    @classmethod
    def from_shop(cls, shop: ShopConfig, where: str = "shops") -> FulfillmentsSettings:
        try:
            values = check_options(shop.options)
        except OptionError as exc:
            raise ConfigError(f"{where}.options.{exc.key}: {exc}") from None
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})
