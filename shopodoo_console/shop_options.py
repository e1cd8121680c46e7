"""The per-shop options (``[shops.options]``): one catalog for the config loader, the flows and
the Settings screen.

Each option has a kind, a safe default and a one-line help. The config loader validates a shop's
options against this list, so a typo or a wrong type stops the start naming the key, instead of
failing jobs one by one; the flows read the validated values; Settings and the fix dialogs list
them from here. This module imports nothing from the product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # "choice", "record" (an Odoo id), "count" (0 or more), "flag"
    default: Any
    help: str
    choices: tuple[str, ...] = ()


SHOP_OPTIONS: tuple[Option, ...] = (
    Option(
        "confirm", "choice", "paid", "when to confirm the sale order", ("paid", "always", "never")
    ),
    Option(
        "guest_partner_id",
        "record",
        None,
        "the Odoo contact for guest checkouts (res.partner id); unset: they wait for you",
    ),
    Option(
        "taxes",
        "choice",
        "odoo",
        "odoo: the products' taxes and fiscal positions; mapped: Shopify's tax lines",
        ("odoo", "mapped"),
    ),
    Option(
        "shipping_product_id",
        "record",
        None,
        "the delivery line's product when a shipping method has no carrier mapping",
    ),
    Option(
        "custom_line_product_id",
        "record",
        None,
        "one Odoo product (product.product id) for custom line items (no variant, no SKU: gift "
        "wrapping, a service); the line keeps its title, price and quantity",
    ),
    Option("overlap_minutes", "count", 10, "how far each poll looks back over the last one"),
    Option("initial_days", "count", 7, "how far back the first poll looks"),
    Option("write_back", "flag", True, "write the Odoo reference on the Shopify order"),
    Option("skip_test_orders", "flag", True, "orders from Shopify's test gateway stay out"),
    Option(
        "register_payments",
        "flag",
        False,
        "each captured payment as a customer payment in the journal mapped to its gateway",
    ),
    Option(
        "create_cancelled_orders",
        "flag",
        False,
        "an order already cancelled in Shopify when first seen: false skips it; true creates "
        "it in Odoo and cancels it in the same job",
    ),
    Option(
        "stock_quantity",
        "choice",
        "free",
        "what Shopify's available shows: Odoo's free quantity (on hand minus reserved) of the "
        "mapped locations, or their on hand",
        ("free", "on_hand"),
    ),
    Option(
        "stock_buffer",
        "count",
        0,
        "units held back from every published level (a safety buffer; never below 0)",
    ),
    Option(
        "stock_activate",
        "flag",
        False,
        "an item Shopify does not stock at a mapped location: true stocks it there "
        "(inventoryActivate); false leaves it and lists it as skipped",
    ),
)
BY_NAME: dict[str, Option] = {o.name: o for o in SHOP_OPTIONS}


class OptionError(ValueError):
    """A bad option: ``key`` names it, the message says what is expected."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The shop's options validated against the catalog (unset ones take their default)."""
    for key in options:
        if key not in BY_NAME:
            raise OptionError(
                key, f"unknown option (expected one of: {', '.join(sorted(BY_NAME))})"
            )
    values = {option.name: option.default for option in SHOP_OPTIONS}
    for key, value in options.items():
        values[key] = _check(BY_NAME[key], value)
    return values


def _check(option: Option, value: Any) -> Any:
    if option.kind == "choice":
        if not isinstance(value, str) or value not in option.choices:
            raise OptionError(
                option.name, f"expected one of {', '.join(option.choices)}, got {value!r}"
            )
    elif option.kind == "flag":
        if not isinstance(value, bool):
            raise OptionError(option.name, f"expected true or false, got {value!r}")
    elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OptionError(option.name, f"expected a positive whole number, got {value!r}")
    elif option.kind == "record" and value == 0:
        raise OptionError(option.name, "expected an Odoo record id (1 or more), got 0")
    return value
