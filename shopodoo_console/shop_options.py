"""The per-shop options of ``[shops.options]``: one table, read by the loader and Settings.

Each option is one :class:`OptionSpec` entry: its type and bounds (what ``load_config``
checks, so ``sync``, ``doctor``, the console and the config writer refuse exactly the same
values), the sentence Settings shows, the Odoo model its picker searches for a record id, and
the cause codes it fixes (``f`` on such a cause opens the option editor on it). Adding an
option is one entry here plus its field where the flow reads it. Pure: imports nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ODOO_MAX_ID = 2**31 - 1  # Odoo ids are PostgreSQL integers
SQLITE_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class OptionSpec:
    """One shop option. ``kind`` is ``choice``, ``bool``, ``int`` or ``record`` (an Odoo
    record id of ``model``)."""

    key: str
    label: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    model: str = ""
    minimum: int = 0
    maximum: int = SQLITE_MAX_INT
    causes: tuple[str, ...] = ()

    def describe(self, value: Any) -> str:
        """The value as Settings lists it."""
        if value is None:
            return "not set"
        if self.kind == "bool":
            return "yes" if value else "no"
        return str(value)


SHOP_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "confirm",
        "Confirm sale orders",
        "choice",
        "paid",
        "when a sale order is confirmed: once the Shopify order is paid, always, or never",
        choices=("paid", "always", "never"),
    ),
    OptionSpec(
        "guest_partner_id",
        "Guest contact",
        "record",
        None,
        "the Odoo contact used for orders without a customer (guest checkouts)",
        model="res.partner",
        minimum=1,
        maximum=ODOO_MAX_ID,
        causes=("mapping.customer_missing",),
    ),
    OptionSpec(
        "shipping_product_id",
        "Shipping product",
        "record",
        None,
        "the Odoo product for shipping lines whose method has no carrier mapping",
        model="product.product",
        minimum=1,
        maximum=ODOO_MAX_ID,
        causes=("mapping.carrier_missing",),
    ),
    OptionSpec(
        "taxes",
        "Taxes",
        "choice",
        "odoo",
        "odoo: the products' taxes and fiscal positions; mapped: Shopify's tax lines, mapped",
        choices=("odoo", "mapped"),
    ),
    OptionSpec(
        "register_payments",
        "Register payments",
        "bool",
        False,
        "each captured payment becomes a customer payment in the journal mapped to its "
        "gateway (Mappings → Payment gateways)",
        causes=("mapping.gateway_missing",),
    ),
    OptionSpec(
        "skip_test_orders",
        "Skip test orders",
        "bool",
        True,
        "orders paid with Shopify's test gateway stay out of Odoo",
    ),
    OptionSpec(
        "write_back",
        "Write the Odoo reference back",
        "bool",
        True,
        "the sale order's reference is written to the Shopify order (metafield)",
    ),
    OptionSpec(
        "initial_days",
        "First poll looks back (days)",
        "int",
        7,
        "how far back the first poll of a shop looks for orders",
        minimum=0,
        maximum=3650,
    ),
    OptionSpec(
        "overlap_minutes",
        "Poll overlap (minutes)",
        "int",
        10,
        "each poll re-reads this much before the cursor, for late writes",
        minimum=0,
        maximum=1440,
    ),
)
OPTIONS_BY_KEY = {spec.key: spec for spec in SHOP_OPTIONS}


def option_for_cause(code: str) -> OptionSpec | None:
    """The option whose value fixes ``code``, when one does."""
    return next((spec for spec in SHOP_OPTIONS if code in spec.causes), None)


def check_options(options: dict[str, Any], fail: Callable[[str, str], None], where: str) -> None:
    """Check every option against its entry; ``fail(key path, message)`` raises."""
    for key, value in options.items():
        spec = OPTIONS_BY_KEY.get(key)
        path = f"{where}.{key}"
        if spec is None:
            known = ", ".join(sorted(OPTIONS_BY_KEY))
            fail(path, f"unknown option (expected one of: {known})")
            return
        problem = value_problem(spec, value)
        if problem:
            fail(path, problem)


def value_problem(spec: OptionSpec, value: Any) -> str:
    """Why ``value`` cannot be ``spec``'s value, or ""."""
    if spec.kind == "bool":
        return "" if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if spec.kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return ""
        return f"expected one of {', '.join(spec.choices)}, got {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a whole number, got {value}"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a whole number, got {value!r}"
    if value < spec.minimum or value > spec.maximum:
        what = "an Odoo record id" if spec.kind == "record" else "a whole number"
        return f"expected {what} from {spec.minimum} to {spec.maximum}, got {value}"
    return ""
