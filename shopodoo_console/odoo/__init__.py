"""Odoo connector: JSON-2 (19+) / JSON-RPC (16-18) client, errors as causes, stamps."""

from .client import LOGICAL_FIELDS, OdooClient, ServerInfo
from .errors import Operation, classify
from .stamps import STAMP_MODULE, check_stamp, xmlid
from .stats import LatencyStats
from .stock import Address, Location, Picking, ShippedMove, StockLayout, StockQuantity, Warehouse

__all__ = [
    "LOGICAL_FIELDS",
    "STAMP_MODULE",
    "Address",
    "LatencyStats",
    "Location",
    "OdooClient",
    "Operation",
    "Picking",
    "ServerInfo",
    "ShippedMove",
    "StockLayout",
    "StockQuantity",
    "Warehouse",
    "check_stamp",
    "classify",
    "xmlid",
]
