"""The control API: change the simulated shop while the client runs ("this order changes now").

Every public method is callable from Python (``sim.control.touch_order(gid)``) and over HTTP
(``POST /_sim/control/<method>`` with the keyword arguments as a JSON object; the answer is
``{"result": …}``), so a separate process — the demo, a crash test — can drive it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import fulfillment as fo_rules
from . import scenario as scenario_mod
from . import stock
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
    "sell",
    "deactivate_level",
    "set_tracked",
    "create_location",
    "set_location_active",
    "hold_fulfillment",
    "release_fulfillment",
    "request_fulfillment",
    "accept_fulfillment_request",
    "reject_fulfillment_request",
    "fulfill_by_hand",
    "fulfillment_orders",
    "inflight_keys",
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
    "adjustments",
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
        """Set ``available`` for an item (GID, variant GID or SKU) at a location (GID or
        name), stocking it there if needed — a count in the Shopify admin."""
        with self._store.lock:
            item_id = stock.item_ref(self._store, item)["id"]
            location_id = self._store.location(location)["id"]
            level = self._store.stock(item_id, location_id, available)
            level["isActive"] = True
            return {"id": level["id"], **level["_q"]}

    def sell(self, item: str, location: str, quantity: int = 1) -> dict[str, int]:
        """A sale in Shopify: ``quantity`` units go from available to committed (a sale
        between the console's read and its write makes the write stale)."""
        with self._store.lock:
            item_id = stock.item_ref(self._store, item)["id"]
            location_id = self._store.location(location)["id"]
            if stock.level_of(self._store, item_id, location_id) is None:
                raise StateError(f"{item} is not stocked at {location}")
            stock.commit(self._store, item_id, location_id, int(quantity))
            return dict(self._store.levels[(item_id, location_id)]["_q"])

    def deactivate_level(self, item: str, location: str) -> str:
        """The item stops being stocked at the location; returns the level's GID."""
        with self._store.lock:
            item_id = stock.item_ref(self._store, item)["id"]
            return stock.deactivate(self._store, item_id, self._store.location(location)["id"])[
                "id"
            ]

    def set_tracked(self, item: str, tracked: bool) -> str:
        """Turn inventory tracking of an item on or off; returns the item's GID."""
        with self._store.lock:
            record = stock.item_ref(self._store, item)
            record["tracked"] = bool(tracked)
            return str(record["id"])

    def create_location(self, spec: Mapping[str, Any]) -> str:
        """A new location (scenario location format); returns its GID."""
        return self._store.create_location(spec)

    def set_location_active(self, location: str, active: bool) -> str:
        """(De)activate a location; deactivating it deactivates every level there."""
        with self._store.lock:
            record = self._store.location(location)
            record["isActive"] = bool(active)
            if not active:
                for (_item, loc), level in self._store.levels.items():
                    if loc == record["id"]:
                        level["isActive"] = False
            return str(record["id"])

    # fulfillment orders
    def _each(self, ref: str, action: Any, *args: Any) -> list[dict[str, Any]]:
        with self._store.lock:
            found = fo_rules.find(self._store, ref)
            for fo in found:
                action(self._store, fo, *args)
            return [fo_rules.describe(self._store, fo) for fo in found]

    def hold_fulfillment(
        self, ref: str, reason: str = "OTHER", notes: str | None = None
    ) -> list[dict[str, Any]]:
        """Put a fulfillment order (GID) or every open one of an order (GID or name) on hold."""
        with self._store.lock:
            found = [
                fo
                for fo in fo_rules.find(self._store, ref)
                if fo["status"] in (*fo_rules.WORKABLE, "SCHEDULED")
            ]
            if not found:
                raise StateError(f"nothing to hold on {ref!r}")
            for fo in found:
                fo_rules.hold(self._store, fo, reason, notes)
            return [fo_rules.describe(self._store, fo) for fo in found]

    def release_fulfillment(self, ref: str) -> list[dict[str, Any]]:
        """Release the holds of a fulfillment order, or of every held one of an order."""
        with self._store.lock:
            held = [fo for fo in fo_rules.find(self._store, ref) if fo["status"] == "ON_HOLD"]
            if not held:
                raise StateError(f"nothing on hold on {ref!r}")
            for fo in held:
                fo_rules.release(self._store, fo)
            return [fo_rules.describe(self._store, fo) for fo in held]

    def request_fulfillment(self, ref: str) -> list[dict[str, Any]]:
        """Submit the fulfillment request of a fulfillment-service order to the service."""
        return self._each(ref, fo_rules.submit_request)

    def accept_fulfillment_request(self, ref: str) -> list[dict[str, Any]]:
        return self._each(ref, fo_rules.accept_request)

    def reject_fulfillment_request(self, ref: str) -> list[dict[str, Any]]:
        return self._each(ref, fo_rules.reject_request)

    def fulfill_by_hand(
        self,
        order: str,
        lines: Mapping[str, int] | None = None,
        tracking_number: str | None = None,
        company: str | None = None,
        url: str | None = None,
        notify: bool = False,
    ) -> list[str]:
        """A person fulfils lines (line GID or SKU → units; all when omitted) in the Shopify
        admin; returns the new fulfillments' names."""
        with self._store.lock:
            record = self._store.get(order, "Order") or self._store.order_by_name(order)
            if record is None:
                raise StateError(f"no order {order!r}")
            tracking = {
                k: v
                for k, v in (("number", tracking_number), ("company", company), ("url", url))
                if v
            }
            created = fo_rules.fulfill_by_hand(self._store, record, lines, tracking, notify)
            return [f["name"] for f in created]

    def fulfillment_orders(self, order: str) -> list[dict[str, Any]]:
        """An order's fulfillment orders: status, request status, holds, location, lines."""
        with self._store.lock:
            return [fo_rules.describe(self._store, fo) for fo in fo_rules.find(self._store, order)]

    def inflight_keys(self) -> list[str]:
        """Idempotency keys some request is running with right now."""
        with self._store.lock:
            return sorted(self._store.inflight)

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

    def level(self, item: str, location: str) -> dict[str, Any] | None:
        """Quantities of an item (GID, variant GID or SKU) at a location (GID or name), with
        ``isActive``; ``None`` if it was never stocked there."""
        with self._store.lock:
            item_id = stock.item_ref(self._store, item)["id"]
            level = self._store.levels.get((item_id, self._store.location(location)["id"]))
            return {**level["_q"], "isActive": level["isActive"]} if level else None

    def adjustments(
        self, item: str | None = None, location: str | None = None
    ) -> list[dict[str, Any]]:
        """Every quantity ``inventorySetQuantities`` changed, oldest first (a replayed key
        changes nothing and adds nothing); narrowed to an item (GID, variant GID or SKU) and
        a location (GID or name) when given."""
        with self._store.lock:
            item_id = stock.item_ref(self._store, item)["id"] if item else None
            location_id = self._store.location(location)["id"] if location else None
            return [
                {"item": i, "location": loc, "name": n, "delta": d, "group": g}
                for i, loc, n, d, g in self._store.adjustments
                if (item_id is None or i == item_id) and (location_id is None or loc == location_id)
            ]

    def fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        snap = self.order(order_id)
        return snap["fulfillments"] if snap else []

    def call(self, name: str, arguments: Mapping[str, Any]) -> Any:
        """Dispatch an HTTP control call to a public method."""
        if name not in PUBLIC:
            raise StateError(f"unknown control method {name!r}")
        return getattr(self, name)(**arguments)
