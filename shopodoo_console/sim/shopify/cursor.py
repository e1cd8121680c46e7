"""Opaque pagination cursors shaped like Shopify's.

Real cursors are base64 of ``{"last_id": <id>, "last_value": <sort value>}`` (shopify.md §6,
capture ``2026-04/orders/order-catalog-count-read.json``). Clients must not parse them; the
simulator does, to resume after the last row it returned.
"""

from __future__ import annotations

import base64
import json
from typing import Any


class CursorError(ValueError):
    """A cursor that this simulator did not issue."""


def encode(last_id: int, last_value: Any) -> str:
    raw = json.dumps({"last_id": last_id, "last_value": last_value}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode(cursor: str) -> tuple[int, Any]:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(data["last_id"]), data["last_value"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CursorError(f"Invalid cursor: {cursor!r}") from exc
