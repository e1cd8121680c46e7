"""Stock in Shopify: levels read in batches, quantities set exactly once (shopify.md §8.3-§8.4).

Reads go through ``nodes(ids:)`` (many variants or items per request, sized to the bucket by
the measured cost) or page through every variant for a resync. Writes are
``inventorySetQuantities`` in batches of at most 250 quantities, each batch with its own
idempotency key derived from the caller's (``<key>:<n>``), and every quantity with its
``changeFromQuantity``. Shopify applies a batch whole or not at all; the outcome of each
quantity is reported (set, unchanged, stale, not stocked, rejected, or not applied because
another quantity of its batch was refused). The idempotency conflicts are handled as §8.4
says: a key still in flight is resent after a pause, a key whose attempt failed is replaced
by a derived one (``<key>~1``); a key reused with other parameters is reported, never
guessed around.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import CostTooHigh
from .models import InventoryResult, QuantityTarget, UserError, nodes

if TYPE_CHECKING:
    from .client import ShopifyClient

MAX_QUANTITIES = 250  # input arrays at most 250 items (shopify.md §3)
MAX_QUERY_COST = 1000
CONCURRENT = "IDEMPOTENCY_CONCURRENT_REQUEST"
MISMATCH = "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
PREVIOUS_FAILED = "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
STALE = "CHANGE_FROM_QUANTITY_STALE"
NOT_STOCKED = "ITEM_NOT_STOCKED_AT_LOCATION"


# -- what was read -------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """An item's quantities at one location, as last read."""

    location_id: str
    available: int
    on_hand: int
    committed: int
    active: bool
    level_id: str
    updated_at: str | None = None


@dataclass(frozen=True)
class ItemInventory:
    """An inventory item with its levels by location id (only locations it is stocked at).

    Read through a variant, it also says which variant and product it belongs to and the
    product's status (``ACTIVE``, ``DRAFT``, ``ARCHIVED``).
    """

    item_id: str
    sku: str | None
    tracked: bool
    levels: dict[str, Level]
    variant_id: str | None = None
    product_id: str | None = None
    product_status: str | None = None
    barcode: str | None = None  # the variant's (read through a variant)
    title: str | None = None  # the variant's display name

    def available_at(self, location_id: str) -> int | None:
        """``available`` at a location, ``None`` when the item is not stocked there."""
        level = self.levels.get(location_id)
        return level.available if level is not None else None


def parse_level(node: Mapping[str, Any]) -> Level:
    quantities = {q["name"]: int(q["quantity"]) for q in node.get("quantities") or []}
    return Level(
        location_id=node["location"]["id"],
        available=quantities.get("available", 0),
        on_hand=quantities.get("on_hand", 0),
        committed=quantities.get("committed", 0),
        active=bool(node.get("isActive", True)),
        level_id=node["id"],
        updated_at=node.get("updatedAt"),
    )


def parse_item(node: Mapping[str, Any], variant: Mapping[str, Any] | None = None) -> ItemInventory:
    levels = [parse_level(n) for n in nodes(node.get("inventoryLevels"))]
    product = (variant or {}).get("product") or {}
    return ItemInventory(
        item_id=node["id"],
        sku=node.get("sku"),
        tracked=bool(node.get("tracked")),
        levels={level.location_id: level for level in levels if level.active},
        variant_id=variant["id"] if variant else None,
        product_id=product.get("id"),
        product_status=product.get("status"),
        barcode=(variant or {}).get("barcode") or None,
        title=(variant or {}).get("displayName") or None,
    )


def _truncated(item_node: Mapping[str, Any]) -> bool:
    connection = item_node.get("inventoryLevels") or {}
    return bool((connection.get("pageInfo") or {}).get("hasNextPage"))


# -- reads ---------------------------------------------------------------------------------


def batch_size(client: ShopifyClient, document: str, default: int = 10) -> int:
    """Records per ``nodes(ids:)`` request: within 1000 points, the bucket and 250 ids."""
    per_record = client.cost_per_unit(document)
    if per_record is None or per_record <= 0:
        return default  # learn the real cost on a small first batch
    budget = client.budget
    ceiling = min(MAX_QUERY_COST, budget.maximum if budget else MAX_QUERY_COST)
    return max(1, min(250, int(ceiling // per_record)))


def _by_ids(
    client: ShopifyClient, document: str, ids: Sequence[str], levels: int
) -> dict[str, dict[str, Any] | None]:
    pending = list(dict.fromkeys(ids))
    found: dict[str, dict[str, Any] | None] = {}
    batch = batch_size(client, document)
    while pending:
        chunk = pending[:batch]
        try:
            reply = client.execute(
                document,
                {"ids": chunk, "levels": levels},
                units=len(chunk),
                default_cost=len(chunk) * (2 + levels),
            )
        except CostTooHigh:
            if len(chunk) == 1:
                raise
            batch = max(1, len(chunk) // 2)
            continue
        with client.shaped(document):
            for gid, node in zip(chunk, reply.data["nodes"], strict=True):
                found[gid] = node if isinstance(node, dict) else None
        pending = pending[len(chunk) :]
        batch = batch_size(client, document)
    return found


def _complete(client: ShopifyClient, item_node: dict[str, Any]) -> dict[str, Any]:
    """An item with more levels than one request asked for: read the rest (rare)."""
    if not _truncated(item_node):
        return item_node
    full = client.inventory_levels(item_node["id"])
    return {**item_node, "inventoryLevels": (full or item_node)["inventoryLevels"]}


def by_variants(
    client: ShopifyClient, variant_ids: Sequence[str], levels: int
) -> dict[str, ItemInventory | None]:
    """Inventory of many variants; ``None`` for a variant Shopify does not return."""
    raw = _by_ids(client, "InventoryByVariants", variant_ids, levels)
    out: dict[str, ItemInventory | None] = {}
    with client.shaped("InventoryByVariants"):
        for gid in variant_ids:
            node = raw.get(gid)
            if node is None or node.get("__typename") != "ProductVariant":
                out[gid] = None
                continue
            out[gid] = parse_item(_complete(client, node["inventoryItem"]), node)
    return out


def by_items(
    client: ShopifyClient, item_ids: Sequence[str], levels: int
) -> dict[str, ItemInventory | None]:
    """Levels of many inventory items; ``None`` for an item Shopify does not return."""
    raw = _by_ids(client, "InventoryByItems", item_ids, levels)
    out: dict[str, ItemInventory | None] = {}
    with client.shaped("InventoryByItems"):
        for gid in item_ids:
            node = raw.get(gid)
            is_item = node is not None and node.get("__typename") == "InventoryItem"
            out[gid] = parse_item(_complete(client, node)) if is_item and node else None
    return out


def variant_pages(
    client: ShopifyClient, query: str | None, levels: int, page_size: int | None
) -> Iterator[list[ItemInventory]]:
    """Every variant (matching ``query``) with its inventory, one page per request."""
    first = page_size or max(1, min(250, (MAX_QUERY_COST - 2) // (1 + levels)))
    after = None
    while True:
        variables = {"first": first, "after": after, "query": query, "levels": levels}
        try:
            reply = client.execute(
                "VariantsInventory", variables, units=first, default_cost=first * (1 + levels) + 2
            )
        except CostTooHigh:
            if first == 1:
                raise
            first = max(1, first // 2)
            continue
        with client.shaped("VariantsInventory"):
            connection = reply.data["productVariants"]
            page = [
                parse_item(_complete(client, node["inventoryItem"]), node)
                for node in nodes(connection)
            ]
            info = connection["pageInfo"]
        yield page
        if not info["hasNextPage"]:
            return
        after = info["endCursor"]


# -- writes --------------------------------------------------------------------------------

SET = "set"
UNCHANGED = "unchanged"
STALE_STATUS = "stale"
NOT_STOCKED_STATUS = "not_stocked"
REJECTED = "rejected"
NOT_APPLIED = "not_applied"


@dataclass(frozen=True)
class QuantityOutcome:
    """What became of one quantity: ``set`` (changed), ``unchanged`` (already there),
    ``stale`` (changeFromQuantity no longer true: re-read, recompute, new key),
    ``not_stocked`` (activate first), ``rejected`` (refused for itself) or ``not_applied``
    (its batch was refused for another quantity or for the key: send it again)."""

    target: QuantityTarget
    status: str
    error: UserError | None = None


@dataclass(frozen=True)
class InventoryBatch:
    """One ``inventorySetQuantities`` call: the key it finally used and what it did."""

    key: str
    outcomes: tuple[QuantityOutcome, ...]
    result: InventoryResult
    replaced_keys: tuple[str, ...] = field(default=())  # keys whose attempt had failed

    @property
    def applied(self) -> bool:
        return self.result.ok

    @property
    def conflict(self) -> str | None:
        """An idempotency code still standing after the client's own handling, if any."""
        for code in (MISMATCH, CONCURRENT, PREVIOUS_FAILED):
            if self.result.has_code(code):
                return code
        return None

    def with_status(self, status: str) -> list[QuantityTarget]:
        return [o.target for o in self.outcomes if o.status == status]


def _quantity_index(error: UserError) -> int | None:
    path = error.field or ()
    if len(path) >= 3 and path[0] == "input" and path[1] == "quantities" and path[2].isdigit():
        return int(path[2])
    return None


def outcomes(
    targets: Sequence[QuantityTarget], result: InventoryResult
) -> tuple[QuantityOutcome, ...]:
    """Each target's outcome from the payload (errors point at ``input.quantities.<i>``)."""
    if result.ok:
        changed = {
            (c["item"]["id"], c["location"]["id"])
            for c in (result.group or {}).get("changes") or []
            if c.get("delta")
        }
        return tuple(
            QuantityOutcome(
                t, SET if (t.inventory_item_id, t.location_id) in changed else UNCHANGED
            )
            for t in targets
        )
    own: dict[int, UserError] = {}
    batch_error: UserError | None = None
    for problem in result.user_errors:
        index = _quantity_index(problem)
        if index is None or index >= len(targets):
            batch_error = batch_error or problem
        else:
            own.setdefault(index, problem)
    out = []
    for index, target in enumerate(targets):
        error = own.get(index)
        if error is None:
            out.append(QuantityOutcome(target, NOT_APPLIED, batch_error))
        elif error.code == STALE:
            out.append(QuantityOutcome(target, STALE_STATUS, error))
        elif error.code == NOT_STOCKED:
            out.append(QuantityOutcome(target, NOT_STOCKED_STATUS, error))
        else:
            out.append(QuantityOutcome(target, REJECTED, error))
    return tuple(out)


def set_batch(
    client: ShopifyClient,
    targets: Sequence[QuantityTarget],
    key: str,
    *,
    reason: str,
    name: str,
    reference_document_uri: str | None,
    concurrent_waits: int = 5,
    replacements: int = 3,
) -> InventoryBatch:
    """One batch, with the idempotency rules of §8.4 applied by the client."""
    replaced: list[str] = []
    used = key
    waits = 0
    while True:
        result = client.inventory_set_quantities(
            targets,
            idempotency_key=used,
            reason=reason,
            name=name,
            reference_document_uri=reference_document_uri,
        )
        if result.has_code(CONCURRENT) and waits < concurrent_waits:
            waits += 1
            time.sleep(min(2.0, 0.1 * 2**waits))  # the first request is still running
            continue
        if result.has_code(PREVIOUS_FAILED) and len(replaced) < replacements:
            replaced.append(used)
            used = f"{key}~{len(replaced)}"  # derived, so the job's retry derives it again
            continue
        return InventoryBatch(used, outcomes(targets, result), result, tuple(replaced))


def set_quantities(
    client: ShopifyClient,
    targets: Sequence[QuantityTarget],
    key: str,
    *,
    reason: str = "correction",
    name: str = "available",
    reference_document_uri: str | None = None,
    batch: int = MAX_QUANTITIES,
) -> list[InventoryBatch]:
    """Set many quantities, ``batch`` (≤ 250) per call, keys ``<key>:<n>`` per batch.

    The same targets in the same order give the same batches and keys, so a job's retry
    replays what Shopify already applied instead of applying it twice.
    """
    if not key.strip():
        raise ValueError("an idempotency key is required")
    if not 1 <= batch <= MAX_QUANTITIES:
        raise ValueError(f"a batch holds 1 to {MAX_QUANTITIES} quantities")
    pairs = [(t.inventory_item_id, t.location_id) for t in targets]
    if len(set(pairs)) != len(pairs):
        raise ValueError("each (item, location) may appear once")
    return [
        set_batch(
            client,
            targets[start : start + batch],
            f"{key}:{start // batch}",
            reason=reason,
            name=name,
            reference_document_uri=reference_document_uri,
        )
        for start in range(0, len(targets), batch)
    ]


@dataclass(frozen=True)
class ActivateResult:
    """``inventoryActivate``: the level now stocked, or why not (generic userErrors)."""

    level: Level | None
    user_errors: tuple[UserError, ...]

    @property
    def ok(self) -> bool:
        return self.level is not None and not self.user_errors


def activate(
    client: ShopifyClient, item_id: str, location_id: str, available: int | None, key: str
) -> ActivateResult:
    if not key.strip():
        raise ValueError("an idempotency key is required")
    reply = client.execute(
        "InventoryActivate",
        {"itemId": item_id, "locationId": location_id, "available": available, "key": key},
        default_cost=13,
        idempotent=True,
    )
    with client.shaped("InventoryActivate"):
        payload = reply.data["inventoryActivate"]
        level = payload.get("inventoryLevel")
        return ActivateResult(
            level=parse_level(level) if level else None,
            user_errors=UserError.many(payload["userErrors"]),
        )
