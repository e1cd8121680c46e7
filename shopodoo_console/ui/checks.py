"""Hooks the console calls for what only the connectors can answer (pure: no Textual).

The console is built before the Shopify and Odoo clients, so checking a mapping against Odoo
and testing a connection are injected callables. Both run in a worker thread (they may do
network I/O) and answer with a :class:`Verdict` the screen can show as is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """``ok`` or not, a sentence for the operator, and an optional label found remotely
    (the Odoo product's name, so the mapping list reads "MUG-RED → [MUG] Red mug")."""

    ok: bool
    message: str = ""
    label: str = ""


@dataclass(frozen=True)
class MappingProposal:
    """What the operator is about to save."""

    shop: str  # shop domain
    kind: str  # a key of engine.mappings.KINDS
    source_key: str  # SKU, location GID, gateway name, ...
    odoo_model: str  # e.g. product.product
    odoo_id: int


MappingValidator = Callable[[MappingProposal], Verdict]
"""Checks a mapping against Odoo (the record exists, is active, is in the shop's company)."""


@dataclass(frozen=True)
class Suggestion:
    """An Odoo record that may be what a Shopify value means, and why it was suggested."""

    odoo_id: int
    label: str
    why: str = ""


MappingSuggester = Callable[[str, str, str], list[Suggestion]]
"""``(shop, kind, source key)`` → candidates from Odoo (by barcode, reference, name)."""


def no_suggestions(shop: str, kind: str, source_key: str) -> list[Suggestion]:
    return []


ConnectionTester = Callable[[str], Verdict]
"""Tests one connection: ``"odoo"`` or ``"shopify:<domain>"`` (the names Settings lists)."""


def accept_positive_ids(proposal: MappingProposal) -> Verdict:
    """Default until the Odoo client exists: any positive id is accepted, and we say so."""
    if proposal.odoo_id <= 0:
        return Verdict(False, f"{proposal.odoo_id} is not an Odoo record id (a positive number)")
    return Verdict(True, "not checked against Odoo (no Odoo client in this build)")


def no_connection_test(target: str) -> Verdict:
    """Default until the clients exist: say plainly that nothing was tested."""
    return Verdict(
        False, f"Testing {target} is not available in this build; run `shopodoo doctor` later."
    )


RecordSearcher = Callable[[str, str, str], list[Suggestion]]
"""``(shop, Odoo model, text)`` → Odoo records whose name or reference contains the text
(the option editor's picker); an empty text lists the first few."""


def no_record_search(shop: str, model: str, text: str) -> list[Suggestion]:
    return []
