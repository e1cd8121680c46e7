"""The inner query of a bulk operation: Shopify's validators, paging, and JSONL lines.

Validation follows capture ``2026-04/bulk-operations/bulk-operation-run-query-validators.json``
(every message below is copied from it; all come back as userErrors ``INVALID`` on
``field: ["query"]``): connections are read through ``edges { node }``, at most five of them,
nested at most two deep, never inside a list field; a nested connection's parent selects ``id``
without an alias; no top-level ``node``; query operations only; at least one connection.

Execution reads the root connection page by page (``first``/``after`` written into the
document) and nested connections whole. Each node becomes one JSON line; the nodes of a nested
connection become lines of their own carrying ``__parentId`` (capture
``2026-04/bulk-operations/bulk-operation-root-count-and-search-filters.json``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    get_named_type,
    parse,
    validate,
)

NESTED_FIRST = 1_000_000  # nested connections are read whole
MAX_CONNECTIONS = 5
MAX_DEPTH = 2


class InvalidBulkQuery(ValueError):
    """The inner query breaks a bulk rule; ``messages`` are Shopify's userError texts."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass
class Connection:
    """One connection field of the inner query, as the validators see it."""

    name: str  # response key (alias or field name)
    node: FieldNode
    depth: int
    in_list: bool
    uses_nodes: bool
    parent: Connection | None = None
    parent_has_id: bool = True


@dataclass
class Plan:
    """A validated inner query, ready to be executed page by page."""

    document: DocumentNode
    operation: OperationDefinitionNode
    root: FieldNode  # the root connection field
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)


def _is_connection(type_: Any) -> bool:
    return get_named_type(type_).name.endswith("Connection")


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


class _Walk:
    """Finds every connection of a selection, with what the validators need to know."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments
        self.connections: list[Connection] = []

    def fields(self, selection: SelectionSetNode | None) -> Iterator[FieldNode]:
        for sel in selection.selections if selection else ():
            if isinstance(sel, FieldNode):
                yield sel
            elif isinstance(sel, InlineFragmentNode):
                yield from self.fields(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in self.fragments:
                yield from self.fields(self.fragments[sel.name.value].selection_set)

    def object_fields(
        self,
        owner: Any,
        selection: SelectionSetNode | None,
        depth: int,
        in_list: bool,
        parent: Connection | None,
    ) -> None:
        """Connections below an object. ``owner`` may be ``None`` (a type this simulator does
        not serve): a field is then a connection when it selects ``edges`` or ``nodes``."""
        for node in self.fields(selection):
            fdef = _field_def(owner, node.name.value)
            kind = fdef.type if fdef is not None else None
            if _is_connection(kind) if kind is not None else _looks_like_connection(self, node):
                self.connection(kind, node, depth + 1, in_list, parent)
            elif node.selection_set is not None:
                listed = in_list or (kind is not None and _is_list(kind))
                self.object_fields(kind, node.selection_set, depth, listed, parent)

    def connection(
        self, type_: Any, node: FieldNode, depth: int, in_list: bool, parent: Connection | None
    ) -> None:
        found = Connection(_key(node), node, depth, in_list, uses_nodes=False, parent=parent)
        self.connections.append(found)
        for sub in self.fields(node.selection_set):
            if sub.name.value == "nodes":
                found.uses_nodes = True
            elif sub.name.value == "edges":
                edge_def = _field_def(type_, "edges")
                for edge_field in self.fields(sub.selection_set):
                    if edge_field.name.value != "node":
                        continue
                    node_def = _field_def(edge_def.type if edge_def else None, "node")
                    found.parent_has_id = any(
                        f.name.value == "id" and f.alias is None
                        for f in self.fields(edge_field.selection_set)
                    )
                    node_type = node_def.type if node_def is not None else None
                    self.object_fields(node_type, edge_field.selection_set, depth, False, found)


def _field_def(owner: Any, name: str) -> Any:
    if owner is None:
        return None
    named = get_named_type(owner)
    return named.fields.get(name) if isinstance(named, GraphQLObjectType) else None


def _looks_like_connection(walk: _Walk, node: FieldNode) -> bool:
    return any(f.name.value in ("edges", "nodes") for f in walk.fields(node.selection_set))


def plan(schema: GraphQLSchema, text: str) -> Plan:
    """Check an inner query against the bulk rules; raise :class:`InvalidBulkQuery`.

    The bulk rules are checked first (on the document's shape, so they hold for types this
    simulator does not serve), then the query is validated against the schema."""
    try:
        document = parse(text)
    except GraphQLError as exc:
        raise InvalidBulkQuery([f"Invalid bulk query: {exc.message}"]) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if any(op.operation.value != "query" for op in operations):
        raise InvalidBulkQuery(["Invalid operation type. Only `query` operations are supported."])
    if len(operations) != 1:
        raise InvalidBulkQuery(["Invalid bulk query: exactly one query operation is required."])
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments)
    roots = list(walk.fields(operations[0].selection_set))
    messages: list[str] = []
    if any(r.name.value == "node" for r in roots):
        messages.append("Bulk queries cannot contain a top level `node` field.")
    walk.object_fields(schema.query_type, operations[0].selection_set, 0, False, None)
    messages += _connection_messages(walk.connections)
    if not walk.connections:
        messages.append("Bulk queries must contain at least one connection.")
    if messages:
        raise InvalidBulkQuery(messages)
    errors = validate(schema, document)
    if errors:
        raise InvalidBulkQuery([f"Invalid bulk query: {e.message}" for e in errors])
    root = next(c.node for c in walk.connections if c.depth == 1)
    return Plan(document, operations[0], root, fragments)


def _connection_messages(connections: list[Connection]) -> list[str]:
    messages: list[str] = []
    via_nodes = [c.name for c in connections if c.uses_nodes]
    if via_nodes:
        names = ", ".join(f"'{n}'" for n in via_nodes)
        messages.append(
            "All connection fields in a bulk query must select their contents using 'edges' > "
            f"'node', e.g: '{via_nodes[0]} {{ edges {{ node {{'. Selecting via 'nodes' is not "
            f"supported. Invalid connection fields: {names}."
        )
    if any(c.in_list for c in connections):
        messages.append(
            "Queries that contain a connection field within a list field are not currently "
            "supported."
        )
    if len(connections) > MAX_CONNECTIONS:
        messages.append(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.")
    if any(c.depth > MAX_DEPTH for c in connections):
        messages.append(
            f"Bulk queries cannot contain connections with a nesting depth greater than "
            f"{MAX_DEPTH}."
        )
    without_id = sorted(
        {c.parent.name for c in connections if c.parent is not None and not c.parent.parent_has_id}
    )
    if without_id:
        messages.append(
            "The parent 'node' field for a nested connection must select the 'id' field without "
            "an alias and must be of 'ID' return type. Connection fields without 'id': "
            f"{', '.join(without_id)}."
        )
    return messages


# -- execution ---------------------------------------------------------------------------------


def _with(node: Any, **changes: Any) -> Any:
    """A changed copy of an AST node (frozen dataclasses in graphql-core 3.3, not in 3.2)."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return dataclasses.replace(node, **changes)
    clone = copy.copy(node)
    for name, value in changes.items():
        setattr(clone, name, value)
    return clone


def _field(name: str, selections: tuple[Any, ...] = ()) -> FieldNode:
    return FieldNode(
        name=NameNode(value=name),
        arguments=(),
        directives=(),
        selection_set=SelectionSetNode(selections=selections) if selections else None,
    )


def _argument(name: str, value: Any) -> ArgumentNode:
    return ArgumentNode(name=NameNode(value=name), value=value)


def _paged(
    node: FieldNode, schema: GraphQLSchema, owner: Any, page: int | None, after: str | None
) -> FieldNode:
    """A copy of a connection field with ``first``/``after`` set; nested connections whole."""
    skip = {"first", "last", "after", "before"}
    args = [a for a in node.arguments or () if a.name.value not in skip]
    args.append(_argument("first", IntValueNode(value=str(page or NESTED_FIRST))))
    if after:
        args.append(_argument("after", StringValueNode(value=after)))
    inner = node.selection_set.selections if node.selection_set else ()
    selections = [_rewrite(s, schema, get_named_type(owner)) for s in inner]
    if page is not None:  # the root: also ask where the page ends
        selections.append(_field("pageInfo", (_field("hasNextPage"), _field("endCursor"))))
    return _with(
        node, arguments=tuple(args), selection_set=SelectionSetNode(selections=tuple(selections))
    )


def _rewrite(selection: Any, schema: GraphQLSchema, owner: Any) -> Any:
    """Every nested connection below ``selection`` asks for all its nodes."""
    if not isinstance(selection, FieldNode) or selection.selection_set is None:
        if isinstance(selection, InlineFragmentNode):
            inner = tuple(_rewrite(s, schema, owner) for s in selection.selection_set.selections)
            return _with(selection, selection_set=SelectionSetNode(selections=inner))
        return selection
    fdef = getattr(get_named_type(owner), "fields", {}).get(selection.name.value)
    if fdef is None:
        return selection
    if _is_connection(fdef.type) and selection.name.value not in ("edges", "node"):
        return _paged(selection, schema, fdef.type, None, None)
    inner = tuple(_rewrite(s, schema, fdef.type) for s in selection.selection_set.selections)
    return _with(selection, selection_set=SelectionSetNode(selections=inner))


def page_document(bulk: Plan, schema: GraphQLSchema, page: int, after: str | None) -> DocumentNode:
    """The inner query reading one page of the root connection (the rest unchanged)."""
    root_def = schema.query_type.fields[bulk.root.name.value] if schema.query_type else None
    assert root_def is not None
    root = _paged(bulk.root, schema, root_def.type, page, after)
    selections = tuple(
        root if s is bulk.root else s for s in bulk.operation.selection_set.selections
    )
    operation = _with(bulk.operation, selection_set=SelectionSetNode(selections=selections))
    definitions = tuple(operation if d is bulk.operation else d for d in bulk.document.definitions)
    return DocumentNode(definitions=definitions)


@dataclass
class Lines:
    """The JSONL lines of one page, and how many objects (all / roots) they hold."""

    roots: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    objects: int = 0
    root_count: int = 0

    def text(self, group_objects: bool) -> list[str]:
        return self.roots if group_objects else self.roots + self.children


def encode(record: dict[str, Any]) -> str:
    """One JSONL line the way Shopify writes it: compact, slashes escaped."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


def lines_of_page(
    bulk: Plan, schema: GraphQLSchema, connection: dict[str, Any], group_objects: bool
) -> Lines:
    """JSONL lines for the nodes of one page of the root connection."""
    root_def = schema.query_type.fields[bulk.root.name.value] if schema.query_type else None
    assert root_def is not None
    walk = _Walk(schema, bulk.fragments)
    out = Lines()
    for edge in connection.get("edges") or []:
        lines: list[str] = []
        _emit(walk, root_def.type, bulk.root, edge["node"], None, lines)
        out.roots.append(lines[0])
        out.objects += len(lines)
        out.root_count += 1
        if group_objects:
            out.roots.extend(lines[1:])
        else:
            out.children.extend(lines[1:])
    return out


def _node_selection(walk: _Walk, conn_field: FieldNode) -> FieldNode | None:
    for sub in walk.fields(conn_field.selection_set):
        if sub.name.value == "edges":
            for edge_field in walk.fields(sub.selection_set):
                if edge_field.name.value == "node":
                    return edge_field
    return None


def _emit(
    walk: _Walk,
    conn_type: Any,
    conn_field: FieldNode,
    node: dict[str, Any],
    parent_id: str | None,
    lines: list[str],
) -> None:
    """Lines for one node: itself (its nested connections removed), then theirs."""
    node_field = _node_selection(walk, conn_field)
    conn = get_named_type(conn_type)
    assert isinstance(conn, GraphQLObjectType) and node_field is not None
    edge_type = get_named_type(conn.fields["edges"].type)
    assert isinstance(edge_type, GraphQLObjectType)
    node_type = get_named_type(edge_type.fields["node"].type)
    record: dict[str, Any] = {}
    nested: list[tuple[Any, FieldNode, dict[str, Any]]] = []
    for sub in walk.fields(node_field.selection_set):
        key = _key(sub)
        if key not in node or key in record:
            continue
        fdef = getattr(node_type, "fields", {}).get(sub.name.value)
        if fdef is not None and _is_connection(fdef.type):
            nested.append((fdef.type, sub, node[key] or {}))
        else:
            record[key] = node[key]
    if parent_id is not None:
        record["__parentId"] = parent_id
    lines.append(encode(record))
    for child_type, child_field, value in nested:
        for edge in value.get("edges") or []:
            _emit(walk, child_type, child_field, edge["node"], node.get("id"), lines)
