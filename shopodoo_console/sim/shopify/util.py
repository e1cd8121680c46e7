"""Small helpers shared by the simulator modules: ids, time, money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def legacy(gid_: str) -> int:
    """The number at the end of a GID (``…/InventoryLevel/1?inventory_item_id=2`` → 1)."""
    return int(gid_.rsplit("/", 1)[-1].split("?", 1)[0])


def kind_of(gid_: str) -> str:
    parts = gid_.split("/")
    return parts[3] if len(parts) > 4 and gid_.startswith("gid://shopify/") else ""


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def dec(value: Any) -> str:
    """Shopify's Decimal: no fixed scale, at least one decimal ("31.9", "10.0")."""
    d = Decimal(str(value)).normalize()
    text = format(d, "f")
    return text if "." in text else text + ".0"


def money(amount: Any, currency: str) -> dict[str, Any]:
    return {"amount": dec(amount), "currencyCode": currency}


def bag(amount: Any, currency: str, presentment: tuple[Any, str] | None = None) -> dict[str, Any]:
    shown = money(*presentment) if presentment else money(amount, currency)
    return {"shopMoney": money(amount, currency), "presentmentMoney": shown}
