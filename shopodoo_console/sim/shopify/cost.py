"""Query cost and the leaky bucket (shopify.md §3).

Cost model (documented by Shopify and checked against the captures):

* scalars and enums cost 0; an object costs 1;
* a connection costs ``first``/``last`` × (1 + the cost of one node), plus 2 at the root;
  ``nodes(ids:)`` costs one node per id; a list field that takes ``first`` counts like a nested
  connection;
* plain objects *inside* a node are free: capture ``2025-01/customers/customers-search.json``
  requests 4 for two customers with ``defaultAddress`` and ``defaultPhoneNumber``, i.e. 2 + 2 × 1;
  capture ``2025-01/products/product-helper-roots-read.json`` shows nested connections without
  the +2;
* a mutation costs 10; the objects its payload returns directly (``inventoryAdjustmentGroup``,
  ``inventoryLevel``, ``userErrors``) are free, what *they* contain costs like any object, and a
  plain list of objects (``changes``) counts once whatever its length: captures
  ``2026-04/products/inventory-item-levels-connection-windowing-2026-04.json`` (set, adjust and
  activate: requested 13 = 10 + ``changes`` + ``item`` + ``location``; 10 when userErrors came
  back instead) and ``.../inventorySetQuantities-name-validation.json`` (13 for one or two
  quantities).

The requested cost is charged up front; after execution the same walk over the *returned*
data gives the actual cost and the difference is refunded. Real Shopify is often cheaper than
this model (its requested costs grow less than linearly with ``first``), so the simulator errs
on the expensive side.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MAX_QUERY_COST = 1000
MAX_PAGE_SIZE = 250
MUTATION_COST = 10
PLANS: dict[str, tuple[int, float]] = {
    "standard": (2000, 100.0),
    "advanced": (4000, 200.0),
    "plus": (20000, 1000.0),
    "enterprise": (40000, 2000.0),
}


@dataclass
class PageProblem:
    """A connection asked for too much, or forgot ``first``/``last``."""

    message: str
    path: list[str]
    code: str


@dataclass
class Analysis:
    requested: int
    problems: list[PageProblem] = field(default_factory=list)


def _unwrap_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_connection(type_: Any) -> bool:
    return get_named_type(type_).name.endswith("Connection")


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.problems: list[PageProblem] = []

    def args(self, node: FieldNode) -> dict[str, Any]:
        return {
            arg.name.value: value_from_ast_untyped(arg.value, dict(self.variables))
            for arg in node.arguments or ()
        }

    def fields(
        self, parent: Any, selection: SelectionSetNode | None
    ) -> list[tuple[Any, FieldNode]]:
        """Flatten fragments into (owner type, field); fragment costs add up (conservative)."""
        out: list[tuple[Any, FieldNode]] = []
        for sel in selection.selections if selection else ():
            if isinstance(sel, FieldNode):
                out.append((parent, sel))
            elif isinstance(sel, InlineFragmentNode | FragmentSpreadNode):
                condition: NamedTypeNode | None
                if isinstance(sel, FragmentSpreadNode):
                    frag = self.fragments.get(sel.name.value)
                    if frag is None:
                        continue
                    condition, inner = frag.type_condition, frag.selection_set
                else:
                    condition, inner = sel.type_condition, sel.selection_set
                owner = self.schema.type_map.get(condition.name.value) if condition else parent
                out.extend(self.fields(owner or parent, inner))
        return out

    def field_def(self, owner: Any, name: str) -> Any:
        return getattr(get_named_type(owner), "fields", {}).get(name)

    def size(self, node: FieldNode, args: Mapping[str, Any], path: list[str]) -> int:
        first, last = args.get("first"), args.get("last")
        n = first if first is not None else last
        if n is None:
            self.problems.append(
                PageProblem("you must provide one of first or last", path, "BAD_REQUEST")
            )
            return 0
        if not isinstance(n, int) or n > MAX_PAGE_SIZE or n < 0:
            self.problems.append(
                PageProblem(
                    f"The value of '{'first' if first is not None else 'last'}' on field "
                    f"'{node.name.value}' must be between 0 and {MAX_PAGE_SIZE}.",
                    path,
                    "MAX_PAGE_SIZE_EXCEEDED",
                )
            )
            return MAX_PAGE_SIZE
        return n

    # -- requested cost -------------------------------------------------------------------

    def requested(
        self, parent: Any, selection: SelectionSetNode | None, in_node: bool, root: bool, path
    ) -> int:
        total = 0
        for owner, node in self.fields(parent, selection):
            name = node.name.value
            if name.startswith("__"):
                continue
            fdef = self.field_def(owner, name)
            if fdef is None or is_leaf_type(get_named_type(fdef.type)):
                continue
            args = self.args(node)
            here = [*path, node.alias.value if node.alias else name]
            target = get_named_type(fdef.type)
            if root and parent is self.schema.mutation_type:
                total += MUTATION_COST + self.payload(target, node.selection_set, here)
            elif _is_connection(fdef.type):
                n = self.size(node, args, here)
                per_node = 1 + self.connection_inner(target, node, here)
                total += (2 if root else 0) + n * per_node
            elif root and name == "nodes":
                ids = args.get("ids") or []
                per_node = 1 + self.requested(target, node.selection_set, True, False, here)
                total += len(ids) * per_node
            elif _unwrap_list(fdef.type) and "first" in fdef.args:
                n = args.get("first") or 1
                per_node = 1 + self.requested(target, node.selection_set, True, False, here)
                total += n * per_node
            else:
                own = 0 if in_node else 1
                total += own + self.requested(target, node.selection_set, in_node, False, here)
        return total

    def payload(self, payload_type: Any, selection: SelectionSetNode | None, path) -> int:
        """A mutation payload: its own objects are free, their contents are charged."""
        total = 0
        for owner, node in self.fields(payload_type, selection):
            fdef = self.field_def(owner, node.name.value)
            if fdef is None or is_leaf_type(get_named_type(fdef.type)):
                continue
            here = [*path, node.alias.value if node.alias else node.name.value]
            if _is_connection(fdef.type) or "first" in fdef.args:
                total += self.requested(payload_type, _only(node), False, False, path)
            else:
                total += self.requested(
                    get_named_type(fdef.type), node.selection_set, False, False, here
                )
        return total

    def connection_inner(self, conn_type: Any, node: FieldNode, path: list[str]) -> int:
        """Cost of one node of a connection selection (``nodes``/``edges.node``)."""
        inner = 0
        for _, sub in self.fields(conn_type, node.selection_set):
            sub_name = sub.name.value
            if sub_name == "nodes":
                fdef = self.field_def(conn_type, "nodes")
                inner = max(inner, self.requested(fdef.type, sub.selection_set, True, False, path))
            elif sub_name == "edges":
                edge_type = get_named_type(self.field_def(conn_type, "edges").type)
                for _, edge_field in self.fields(edge_type, sub.selection_set):
                    if edge_field.name.value == "node":
                        fdef = self.field_def(edge_type, "node")
                        inner = max(
                            inner,
                            self.requested(fdef.type, edge_field.selection_set, True, False, path),
                        )
        return inner

    # -- actual cost ----------------------------------------------------------------------

    def actual(
        self, parent: Any, selection: SelectionSetNode | None, data: Any, in_node: bool, root: bool
    ) -> int:
        if not isinstance(data, Mapping):
            return 0
        total = 0
        for owner, node in self.fields(parent, selection):
            name = node.name.value
            key = node.alias.value if node.alias else name
            if name.startswith("__") or key not in data:
                continue
            if owner is not parent and data.get("__typename") not in (None, owner.name):
                continue
            fdef = self.field_def(owner, name)
            if fdef is None or is_leaf_type(get_named_type(fdef.type)):
                continue
            value = data[key]
            if value is None:
                continue
            target = get_named_type(fdef.type)
            if root and parent is self.schema.mutation_type:
                total += MUTATION_COST + self.payload_actual(target, node.selection_set, value)
            elif _is_connection(fdef.type):
                total += (2 if root else 0) + self.connection_actual(target, node, value)
            elif isinstance(value, list):
                counted = (root and name == "nodes") or "first" in fdef.args
                total += self.list_actual(target, node, value, counted, in_node)
            else:
                own = 0 if in_node else 1
                total += own + self.actual(target, node.selection_set, value, in_node, False)
        return total

    def list_actual(
        self, target: Any, node: FieldNode, value: list[Any], counted: bool, in_node: bool
    ) -> int:
        """A list field: one object per item when it takes ``first`` (or is ``nodes``);
        otherwise, outside a node, one object however long it is."""
        items = [i for i in value if i is not None]
        if not counted and not in_node:
            return 1 + max(
                (self.actual(target, node.selection_set, i, False, False) for i in items),
                default=0,
            )
        return sum(
            (1 if counted else 0) + self.actual(target, node.selection_set, i, True, False)
            for i in items
        )

    def payload_actual(
        self, payload_type: Any, selection: SelectionSetNode | None, data: Any
    ) -> int:
        """What a returned payload cost, by the same rule as :meth:`payload`."""
        if not isinstance(data, Mapping):
            return 0
        total = 0
        for owner, node in self.fields(payload_type, selection):
            key = node.alias.value if node.alias else node.name.value
            fdef = self.field_def(owner, node.name.value)
            value = data.get(key)
            if fdef is None or value is None or is_leaf_type(get_named_type(fdef.type)):
                continue
            target = get_named_type(fdef.type)
            if _is_connection(fdef.type) or "first" in fdef.args:
                total += self.actual(payload_type, _only(node), {key: value}, False, False)
            elif isinstance(value, list):
                total += max(
                    (self.actual(target, node.selection_set, v, False, False) for v in value),
                    default=0,
                )
            else:
                total += self.actual(target, node.selection_set, value, False, False)
        return total

    def connection_actual(self, conn_type: Any, node: FieldNode, value: Mapping[str, Any]) -> int:
        best = 0
        for _, sub in self.fields(conn_type, node.selection_set):
            key = sub.alias.value if sub.alias else sub.name.value
            items = value.get(key)
            if sub.name.value == "nodes" and isinstance(items, list):
                fdef = self.field_def(conn_type, "nodes")
                best = max(
                    best,
                    sum(
                        1 + self.actual(fdef.type, sub.selection_set, i, True, False) for i in items
                    ),
                )
            elif sub.name.value == "edges" and isinstance(items, list):
                edge_type = get_named_type(self.field_def(conn_type, "edges").type)
                cost = 0
                for edge in items:
                    for _, edge_field in self.fields(edge_type, sub.selection_set):
                        if edge_field.name.value == "node":
                            fdef = self.field_def(edge_type, "node")
                            k = edge_field.alias.value if edge_field.alias else "node"
                            cost += 1 + self.actual(
                                fdef.type, edge_field.selection_set, edge.get(k), True, False
                            )
                best = max(best, cost)
        return best


def _only(node: FieldNode) -> SelectionSetNode:
    return SelectionSetNode(selections=(node,))


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> Any:
    return schema.mutation_type if operation.operation.value == "mutation" else schema.query_type


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Analysis:
    """Requested cost of an operation, and any page-size problem found on the way."""
    walker = _Walker(schema, fragments, variables)
    cost = walker.requested(_root(schema, operation), operation.selection_set, False, True, [])
    return Analysis(requested=cost, problems=walker.problems)


def actual_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """What the returned data really cost (refund = requested - actual)."""
    if not data:
        return 0
    walker = _Walker(schema, fragments, variables)
    return walker.actual(_root(schema, operation), operation.selection_set, data, False, True)


class Bucket:
    """A leaky bucket per app and shop: ``maximum`` points, refilled at ``restore_rate``/s."""

    def __init__(self, maximum: int, restore_rate: float) -> None:
        self._lock = threading.Lock()
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._available = float(maximum)
        self._at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self._available = min(
            float(self.maximum), self._available + (now - self._at) * self.restore_rate
        )
        self._at = now

    def take(self, cost: int) -> bool:
        """Charge ``cost`` up front; False (and nothing charged) when the bucket is short."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: int) -> None:
        with self._lock:
            self._refill()
            self._available = min(float(self.maximum), self._available + max(points, 0))

    def configure(self, maximum: int, restore_rate: float) -> None:
        with self._lock:
            self._refill()
            self.maximum, self.restore_rate = maximum, restore_rate
            self._available = min(self._available, float(maximum))

    def drain(self, points: float | None = None) -> None:
        """Empty the bucket (or take ``points``) to provoke throttling on purpose."""
        with self._lock:
            self._refill()
            self._available = 0.0 if points is None else max(0.0, self._available - points)

    def status(self) -> dict[str, Any]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": int(self._available),
                "restoreRate": self.restore_rate
                if self.restore_rate % 1
                else int(self.restore_rate),
            }
