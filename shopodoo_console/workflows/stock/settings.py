"""Per-shop rules of the stock flow, read from ``[shops.options]`` (catalog: shop_options)."""

from __future__ import annotations

from dataclasses import dataclass

from shopodoo_console.config import ConfigError, ShopConfig
from shopodoo_console.shop_options import OptionError, check_options


@dataclass(frozen=True)
class StockSettings:
    quantity: str = "free"  # free: on hand minus reserved; on_hand: everything counted
    buffer: int = 0  # units held back from every level
    activate: bool = False  # stock an item at a mapped location Shopify does not stock it at
    overlap_minutes: int = 10  # poll overlap, as for every poll
    initial_days: int = 7  # how far back the first poll looks

    @classmethod
    def from_shop(cls, shop: ShopConfig, where: str = "shops") -> StockSettings:
        try:
            values = check_options(shop.options)
        except OptionError as exc:
            raise ConfigError(f"{where}.options.{exc.key}: {exc}") from None
        return cls(
            quantity=values["stock_quantity"],
            buffer=values["stock_buffer"],
            activate=values["stock_activate"],
            overlap_minutes=values["overlap_minutes"],
            initial_days=values["initial_days"],
        )

    def publish(self, free: float, on_hand: float) -> int:
        """The quantity Shopify shows: whole units, the buffer held back, never below 0."""
        basis = on_hand if self.quantity == "on_hand" else free
        return max(0, int(basis // 1) - self.buffer)

    @property
    def basis_label(self) -> str:
        return "on hand" if self.quantity == "on_hand" else "free (on hand − reserved)"
