"""The control API: change the simulated shop while the client runs ("this order changes now").

Every public method is callable from Python (``sim.control.touch_order(gid)``) and over HTTP
(``POST /_sim/control/<method>`` with the keyword arguments as a JSON object; the answer is
``{"result": …}``), so a separate process — the demo, a crash test — can drive it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import scenario as scenario_mod
from .cost import PLANS
from .state import StateError

if TYPE_CHECKING:
    from .server import ShopifySimulator

PUBLIC = (
    "create_order",
    "update_order",
    "touch_order",
    "cancel_order",
    "create_customer",
    "update_customer",
    "create_product",
    "update_variant",
    "set_stock",
    "set_scopes",
    "freeze",
    "set_plan",
    "set_bucket",
    "drain_bucket",
    "expire_tokens",
    "set_token_ttl",
    "add_fault",
    "clear_faults",
    "counters",
    "reset_counters",
    "order",
    "find_order",
    "level",
    "fulfillments",
)


class Control:
    def __init__(self, sim: ShopifySimulator) -> None:
        self._sim = sim
        self._store = sim.store

    # orders and customers
    def create_order(self, spec: Mapping[str, Any]) -> str:
        """Create an order now (scenario order format); returns its GID."""
        return scenario_mod.create_order(self._store, spec)

    def update_order(self, id: str, same_second: bool = False, **changes: Any) -> str:
        """Change note/tags/email/phone/shippingAddress/cancel; returns the new updatedAt.
        ``same_second``: Shopify's ``updatedAt`` has whole seconds, so a second change within
        the same second leaves it as it was (DESIGN §3.7)."""
        return self._store.update_order(id, changes, same_second=same_second)["updatedAt"]

    def touch_order(self, id: str) -> str:
        """ "This order changes now": bump updatedAt only; returns it."""
        with self._store.lock:
            order = self._store.get(id, "Order")
            if order is None:
                raise StateError(f"no order {id}")
            return self._store.touch(order)

    def cancel_order(self, id: str, reason: str = "CUSTOMER") -> str:
        return self._store.update_order(id, {"cancel": True, "reason": reason})["updatedAt"]

    def create_customer(self, spec: Mapping[str, Any]) -> str:
        return self._store.create_customer(spec)

    def update_customer(self, id: str, **changes: Any) -> str:
        return self._store.update_customer(id, changes)["updatedAt"]

    # catalogue and stock
    def create_product(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Create a product; returns its GID and its variants' GIDs and inventory item GIDs."""
        product_id = self._store.create_product(spec)
        product = self._store.nodes[product_id]
        return {
            "id": product_id,
            "variants": [
                {
                    "id": v,
                    "sku": self._store.nodes[v]["sku"],
                    "inventoryItemId": self._store.nodes[v]["_item"],
                }
                for v in product["_variants"]
            ],
        }

    def update_variant(self, id: str, **changes: Any) -> str:
        """Change sku/barcode/price/title of a variant; returns its new updatedAt."""
        return self._store.update_variant(id, changes)["updatedAt"]

    def set_stock(self, item: str, location: str, available: int) -> dict[str, Any]:
        """Set ``available`` for an inventory item (GID or SKU) at a location (GID or name)."""
        with self._store.lock:
            item_id = item
            if self._store.get(item, "InventoryItem") is None:
                matches = self._store.variants_by_sku(item)
                if not matches:
                    raise StateError(f"no inventory item or SKU {item!r}")
                item_id = matches[0]["_item"]
            level = self._store.stock(item_id, self._store.location(location)["id"], available)
            return {"id": level["id"], **level["_q"]}

    # access and limits
    def set_scopes(self, scopes: Sequence[str]) -> list[str]:
        """Replace the access scopes of every token (e.g. drop ``read_orders``)."""
        return self._sim.set_scopes(scopes)

    def freeze(self, status: int | None = 402) -> int | None:
        """402: frozen (unpaid), 423: locked; ``None`` thaws the shop."""
        if status not in (None, 402, 423):
            raise StateError("freeze status must be 402, 423 or null")
        self._sim.frozen = status
        return status

    def set_plan(self, plan: str) -> dict[str, Any]:
        if plan not in PLANS:
            raise StateError(f"unknown plan {plan!r}; use one of {sorted(PLANS)}")
        return self.set_bucket(*PLANS[plan])

    def set_bucket(self, maximum: int, restore_rate: float) -> dict[str, Any]:
        for bucket in self._sim.buckets():
            bucket.configure(int(maximum), float(restore_rate))
        return {"maximumAvailable": maximum, "restoreRate": restore_rate}

    def drain_bucket(self, points: float | None = None) -> None:
        """Empty every bucket (or take ``points``) so the next requests are THROTTLED."""
        for bucket in self._sim.buckets():
            bucket.drain(points)

    def expire_tokens(self) -> int:
        """Expire every issued client-credentials token now; returns how many."""
        return self._sim.expire_tokens()

    def set_token_ttl(self, seconds: float) -> float:
        self._sim.token_ttl = float(seconds)
        return self._sim.token_ttl

    # faults and counters
    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return self._sim.faults.add(rule).to_dict()

    def clear_faults(self) -> None:
        self._sim.faults.clear()

    def counters(self) -> dict[str, Any]:
        return self._sim.counters.snapshot()

    def reset_counters(self) -> None:
        self._sim.counters.reset()

    # reads for assertions
    def order(self, id: str) -> dict[str, Any] | None:
        """A JSON-safe snapshot of an order with its lines, fulfillment orders and fulfillments."""
        store = self._store
        with store.lock:
            order = store.get(id, "Order")
            if order is None:
                return None

            def clean(record: Mapping[str, Any]) -> dict[str, Any]:
                return {k: v for k, v in record.items() if not k.startswith("_")}

            snap = clean(order)
            snap["lineItems"] = [clean(store.nodes[i]) for i in order["_lines"]]
            snap["fulfillmentOrders"] = [
                {
                    **clean(store.nodes[f]),
                    "lineItems": [clean(store.nodes[x]) for x in store.nodes[f]["_lines"]],
                }
                for f in order["_fulfillment_orders"]
            ]
            snap["fulfillments"] = [clean(store.nodes[f]) for f in order["_fulfillments"]]
            snap["metafields"] = [
                clean(m) for (owner, _ns, _k), m in store.metafields.items() if owner == id
            ]
            return snap

    def find_order(self, name: str) -> str | None:
        """An order's GID by its name (``#1001``)."""
        found = self._store.order_by_name(name)
        return found["id"] if found else None

    def level(self, item: str, location: str) -> dict[str, int] | None:
        with self._store.lock:
            level = self._store.levels.get((item, self._store.location(location)["id"]))
            return dict(level["_q"]) if level else None

    def fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        snap = self.order(order_id)
        return snap["fulfillments"] if snap else []

    def call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        """Dispatch an HTTP control call to a public method."""
        if name not in PUBLIC:
            raise StateError(f"unknown control method {name!r}")
        return getattr(self, name)(**arguments)
