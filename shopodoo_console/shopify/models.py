"""Small typed results of the client's operations.

Records themselves (orders, customers, variants, locations, levels) are returned as plain
dicts exactly as Shopify sends them for the selections in ``queries/`` — the real field names,
connections as ``{"pageInfo": …, "nodes": […]}``, money as strings — so a flow can read any
field the documents select without a second naming scheme. What the client computes or
interprets (poll stamps, user errors, mutation outcomes, the budget) gets a dataclass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

REQUIRED_SCOPES: tuple[str, ...] = (
    "read_orders",
    "write_orders",
    "read_customers",
    "read_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
)
"""What the sync flows need (shopify.md §1.2); ``read_all_orders`` is advised, not required."""


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def nodes(connection: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The records of a connection, whether it was selected as ``nodes`` or ``edges.node``."""
    if not connection:
        return []
    if connection.get("nodes") is not None:
        return list(connection["nodes"])
    return [edge["node"] for edge in connection.get("edges") or [] if edge.get("node")]


@dataclass(frozen=True)
class OrderStamp:
    """One row of the cheap poll: enough to build a job key (DESIGN §3.1)."""

    gid: str
    legacy_id: int
    name: str
    updated_at: datetime

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> OrderStamp:
        return cls(
            gid=node["id"],
            legacy_id=int(node["legacyResourceId"]),
            name=node["name"],
            updated_at=parse_time(node["updatedAt"]),
        )


@dataclass(frozen=True)
class UserError:
    """A mutation's userError: generic (no code) or typed (with ``code``), shopify.md §5.2."""

    message: str
    field: tuple[str, ...] | None = None
    code: str | None = None
    element_index: int | None = None

    @classmethod
    def many(cls, raw: Iterable[Mapping[str, Any]] | None) -> tuple[UserError, ...]:
        return tuple(
            cls(
                message=str(e.get("message", "")),
                field=tuple(str(p) for p in e["field"]) if e.get("field") else None,
                code=e.get("code"),
                element_index=e.get("elementIndex"),
            )
            for e in raw or ()
        )


@dataclass(frozen=True)
class MutationResult:
    user_errors: tuple[UserError, ...]

    @property
    def ok(self) -> bool:
        return not self.user_errors

    def has_code(self, code: str) -> bool:
        return any(e.code == code for e in self.user_errors)

    @property
    def messages(self) -> str:
        return "; ".join(e.message for e in self.user_errors)


@dataclass(frozen=True)
class QuantityTarget:
    """One absolute quantity to set; ``change_from`` is what we believe is there now.

    ``change_from`` is always sent (shopify.md §8.4: it must be present); ``None`` turns the
    compare-and-set off, so pass the quantity you read unless you mean to overwrite blindly.
    """

    inventory_item_id: str
    location_id: str
    quantity: int
    change_from: int | None

    def as_input(self) -> dict[str, Any]:
        return {
            "inventoryItemId": self.inventory_item_id,
            "locationId": self.location_id,
            "quantity": self.quantity,
            "changeFromQuantity": self.change_from,
        }


@dataclass(frozen=True)
class InventoryResult(MutationResult):
    """``inventoryAdjustmentGroup`` is ``None`` both on errors and when nothing changed."""

    group: dict[str, Any] | None = None

    @property
    def stale(self) -> bool:
        """Someone changed the level since it was read: re-read, new key, try again."""
        return self.has_code("CHANGE_FROM_QUANTITY_STALE")


@dataclass(frozen=True)
class FulfillmentResult(MutationResult):
    fulfillment: dict[str, Any] | None = None


@dataclass(frozen=True)
class MetafieldsResult(MutationResult):
    metafields: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class TagsResult(MutationResult):
    node_id: str | None = None


@dataclass(frozen=True)
class Tracking:
    """A shipment's tracking: one number (``number``/``url``) or several (``numbers``/``urls``,
    a parcel each; ``number`` is then the first)."""

    number: str | None = None
    company: str | None = None
    url: str | None = None
    numbers: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    def as_input(self) -> dict[str, Any]:
        if len(self.numbers) > 1:
            out: dict[str, Any] = {"numbers": list(self.numbers)}
            if self.urls:
                out["urls"] = list(self.urls)
            if self.company is not None:
                out["company"] = self.company
            return out
        return {
            k: v
            for k, v in (("number", self.number), ("company", self.company), ("url", self.url))
            if v is not None
        }

    @property
    def all_numbers(self) -> tuple[str, ...]:
        return self.numbers or ((self.number,) if self.number else ())


@dataclass(frozen=True)
class FulfillOutcome:
    """What :meth:`ShopifyClient.fulfill` did: created fulfillments, or found them done."""

    created: tuple[dict[str, Any], ...] = ()
    existing: dict[str, Any] | None = None  # a fulfillment already carrying our tracking number
    shortfall: dict[str, int] = field(default_factory=dict)  # line id → units not fulfillable
    blocked: tuple[Any, ...] = ()  # fulfillment.BlockedLine: units not sent, with the reason

    @property
    def already_done(self) -> bool:
        return not self.created


@dataclass(frozen=True)
class AccessInfo:
    """Granted scopes and shop facts, for ``shopodoo doctor``."""

    scopes: frozenset[str]
    shop: dict[str, Any]

    def missing(self, required: Iterable[str] = REQUIRED_SCOPES) -> list[str]:
        return sorted(set(required) - self.scopes)
