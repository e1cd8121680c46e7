"""Shopify GraphQL Admin client: auth, pacing, pagination, errors → causes.

May import only :mod:`shopodoo_console.causes`, :mod:`shopodoo_console.redact` and
third-party libraries.
"""

from .auth import ClientCredentials, StaticToken
from .budget import Budget
from .client import ShopifyClient, search_time
from .errors import QueryCost, Reply, ThrottleStatus, read_reply
from .models import (
    REQUIRED_SCOPES,
    AccessInfo,
    FulfillmentResult,
    FulfillOutcome,
    InventoryResult,
    MetafieldsResult,
    OrderStamp,
    QuantityTarget,
    TagsResult,
    Tracking,
    UserError,
    nodes,
)

__all__ = [
    "REQUIRED_SCOPES",
    "AccessInfo",
    "Budget",
    "ClientCredentials",
    "FulfillOutcome",
    "FulfillmentResult",
    "InventoryResult",
    "MetafieldsResult",
    "OrderStamp",
    "QuantityTarget",
    "QueryCost",
    "Reply",
    "ShopifyClient",
    "StaticToken",
    "TagsResult",
    "ThrottleStatus",
    "Tracking",
    "UserError",
    "nodes",
    "read_reply",
    "search_time",
]
