"""The per-shop options (``[shops.options]``): one catalog for the config loader, the flows and
the Settings screen.

Each option is one :class:`Option` entry: its kind, a safe default and bounds (what the
config loader checks, so ``sync``, ``doctor``, the console and the config writer refuse
exactly the same values, naming the key), a one-line help and a short label for Settings, the
Odoo model a record id's picker searches, and the cause codes it fixes (``f`` on such a cause
opens that option's editor). The flows read the validated values. Adding an option is one
entry here plus its field where the flow reads it. This module imports nothing from the
product.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ODOO_MAX_ID = 2**31 - 1  # Odoo ids are PostgreSQL integers
SQLITE_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class Option:
    """``kind``: "choice", "record" (an Odoo id of ``model``), "count" (0 or more), "flag"."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    label: str = ""
    model: str = ""
    minimum: int = 0
    maximum: int = SQLITE_MAX_INT
    causes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.name

    def describe(self, value: Any) -> str:
        """The value as Settings lists it."""
        if value is None:
            return "not set"
        if self.kind == "flag":
            return "yes" if value else "no"
        return str(value)


OptionSpec = Option  # the name the console's option editor uses


def _record(name: str, label: str, model: str, help: str, *causes: str) -> Option:
    return Option(name, "record", None, help, (), label, model, 1, ODOO_MAX_ID, tuple(causes))


SHOP_OPTIONS: tuple[Option, ...] = (
    Option(
        "confirm",
        "choice",
        "paid",
        "when to confirm the sale order: once paid, always, or never",
        ("paid", "always", "never"),
        label="Confirm sale orders",
    ),
    _record(
        "guest_partner_id",
        "Guest contact",
        "res.partner",
        "the Odoo contact for guest checkouts (res.partner id); unset: they wait for you",
        "mapping.customer_missing",
    ),
    Option(
        "taxes",
        "choice",
        "odoo",
        "odoo: the products' taxes and fiscal positions; mapped: Shopify's tax lines",
        ("odoo", "mapped"),
        label="Taxes",
    ),
    _record(
        "shipping_product_id",
        "Shipping product",
        "product.product",
        "the delivery line's product when a shipping method has no carrier mapping",
        "mapping.carrier_missing",
    ),
    _record(
        "custom_line_product_id",
        "Custom line product",
        "product.product",
        "one Odoo product (product.product id) for custom line items (no variant, no SKU: gift "
        "wrapping, a service); the line keeps its title, price and quantity",
        "mapping.custom_line_missing",
    ),
    Option(
        "overlap_minutes",
        "count",
        10,
        "how far each poll looks back over the last one",
        label="Poll overlap (minutes)",
        maximum=1440,
    ),
    Option(
        "initial_days",
        "count",
        7,
        "how far back the first poll looks",
        label="First poll looks back (days)",
        maximum=3650,
    ),
    Option(
        "write_back",
        "flag",
        True,
        "write the Odoo reference on the Shopify order",
        label="Write the Odoo reference back",
    ),
    Option(
        "skip_test_orders",
        "flag",
        True,
        "orders from Shopify's test gateway stay out",
        label="Skip test orders",
    ),
    Option(
        "register_payments",
        "flag",
        False,
        "each captured payment as a customer payment in the journal mapped to its gateway",
        label="Register payments",
        causes=("mapping.gateway_missing",),
    ),
    Option(
        "create_cancelled_orders",
        "flag",
        False,
        "an order already cancelled in Shopify when first seen: false skips it; true creates "
        "it in Odoo and cancels it in the same job",
        label="Create cancelled orders",
    ),
    Option(
        "stock_quantity",
        "choice",
        "free",
        "what Shopify's available shows: Odoo's free quantity (on hand minus reserved) of the "
        "mapped locations, or their on hand",
        ("free", "on_hand"),
        label="Stock published",
    ),
    Option(
        "stock_buffer",
        "count",
        0,
        "units held back from every published level (a safety buffer; never below 0)",
        label="Stock safety buffer (units)",
        maximum=1_000_000_000,
    ),
    Option(
        "stock_activate",
        "flag",
        False,
        "an item Shopify does not stock at a mapped location: true stocks it there "
        "(inventoryActivate); false leaves it and lists it as skipped",
        label="Stock items at mapped locations",
    ),
    Option(
        "notify_customer",
        "flag",
        True,
        "fulfillments: Shopify e-mails the customer the shipping confirmation (with the "
        "tracking link) when a delivery done in Odoo is recorded",
        label="Notify customers of shipments",
    ),
)
BY_NAME: dict[str, Option] = {o.name: o for o in SHOP_OPTIONS}
OPTIONS_BY_KEY = BY_NAME


class OptionError(ValueError):
    """A bad option: ``key`` names it, the message says what is expected."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def option_for_cause(code: str) -> Option | None:
    """The option whose value fixes ``code``, when one does."""
    return next((o for o in SHOP_OPTIONS if code in o.causes), None)


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The shop's options validated against the catalog (unset ones take their default)."""
    for key in options:
        if key not in BY_NAME:
            raise OptionError(
                key, f"unknown option (expected one of: {', '.join(sorted(BY_NAME))})"
            )
    values = {option.name: option.default for option in SHOP_OPTIONS}
    for key, value in options.items():
        problem = value_problem(BY_NAME[key], value)
        if problem:
            raise OptionError(key, problem)
        values[key] = value
    return values


def value_problem(option: Option, value: Any) -> str:
    """Why ``value`` cannot be ``option``'s value, or "" (NaN, infinities, negatives, zero
    ids and numbers past what Odoo or SQLite hold included)."""
    if option.kind == "flag":
        return "" if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if option.kind == "choice":
        if isinstance(value, str) and value in option.choices:
            return ""
        return f"expected one of {', '.join(option.choices)}, got {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a positive whole number, got {value}"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a positive whole number, got {value!r}"
    if not option.minimum <= value <= option.maximum:
        what = "an Odoo record id" if option.kind == "record" else "a whole number"
        return f"expected {what} from {option.minimum} to {option.maximum}, got {value}"
    return ""
