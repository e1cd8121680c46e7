"""One GraphQL request, end to end, the way Shopify answers it (shopify.md §3, §5, §10).

parse → validate → choose the operation → coerce variables → page-size and cost checks →
take the requested cost from the bucket (or answer THROTTLED) → execute → refund the
difference to the actual cost → ``extensions.cost`` (and ``extensions.search``). Errors that
stop a request before execution carry no ``data`` and no cost, like Shopify's; everything
comes back with HTTP 200.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, cast

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    build_schema,
    execute_sync,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from . import bulk, cost, resolvers
from .state import Store

THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"


@cache
def schema() -> GraphQLSchema:
    """The simulator's SDL subset, built once per process, with resolvers attached."""
    text = resources.files(__package__).joinpath("schema.graphql").read_text(encoding="utf-8")
    built = build_schema(text)
    resolvers.install(built)
    bulk.install(built)
    return built


@dataclass
class Request:
    """What the server and fault rules need to know about a request before running it."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None
    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    root_fields: list[str] = field(default_factory=list)
    token: object = field(default_factory=object)  # who holds an idempotency key in flight

    @property
    def is_mutation(self) -> bool:
        return self.operation is not None and self.operation.operation.value == "mutation"


@dataclass
class Result:
    body: dict[str, Any]
    requested: int | None = None
    actual: int | None = None
    throttled: bool = False


def idempotency_keys(request: Request) -> list[str]:
    """The ``@idempotent(key:)`` values of a mutation's root fields (literal or variable)."""
    if request.operation is None or not request.is_mutation:
        return []
    keys = []
    for sel in request.operation.selection_set.selections:
        for directive in getattr(sel, "directives", None) or ():
            if directive.name.value != "idempotent":
                continue
            for arg in directive.arguments or ():
                if arg.name.value != "key":
                    continue
                value = arg.value
                if isinstance(value, VariableNode):
                    found = request.variables.get(value.name.value)
                else:
                    found = getattr(value, "value", None)
                if isinstance(found, str):
                    keys.append(found)
    return keys


def inspect(payload: Any) -> Request | Result:
    """Parse the body; a malformed document answers at once with PARSE_ERROR."""
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return Result({"errors": [{"message": "No query string was present"}]})
    variables = payload.get("variables") or {}
    request = Request(payload["query"], variables, payload.get("operationName"))
    try:
        request.document = parse(request.query)
    except GraphQLError as exc:
        line, column = (exc.locations[0].line, exc.locations[0].column) if exc.locations else (1, 1)
        reason = exc.message.removeprefix("Syntax Error: ")
        return Result(
            {
                "errors": [
                    {
                        "message": f"syntax error, {reason} at [{line}, {column}]",
                        "locations": [{"line": line, "column": column}],
                        "extensions": {"code": "PARSE_ERROR"},
                    }
                ]
            }
        )
    operations = [d for d in request.document.definitions if isinstance(d, OperationDefinitionNode)]
    if request.operation_name:
        request.operation = next(
            (o for o in operations if o.name and o.name.value == request.operation_name), None
        )
    elif len(operations) == 1:
        request.operation = operations[0]
    if request.operation is not None:
        request.root_fields = [
            sel.name.value
            for sel in request.operation.selection_set.selections
            if hasattr(sel, "name") and sel.name is not None
        ]
    return request


_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'"),
        lambda m: (
            f"Field '{m['field']}' doesn't exist on type '{m['type']}'",
            {"code": "undefinedField", "typeName": m["type"], "fieldName": m["field"]},
        ),
    ),
    (
        re.compile(r"Field '(?P<field>\w+)' of type '(?P<type>[^']+)' must have a selection"),
        lambda m: (
            f"Field must have selections (field '{m['field']}' returns "
            f"{m['type'].strip('[]!')} but has no selections. Did you mean "
            f"'{m['field']} {{ ... }}'?)",
            {
                "code": "selectionMismatch",
                "nodeName": f"field '{m['field']}'",
                "typeName": m["type"].strip("[]!"),
            },
        ),
    ),
    (
        re.compile(r"Unknown argument '(?P<arg>\w+)' on field '(?P<type>\w+)\.(?P<field>\w+)'"),
        lambda m: (
            f"Field '{m['field']}' doesn't accept argument '{m['arg']}'",
            {
                "code": "argumentNotAccepted",
                "name": m["field"],
                "typeName": "Field",
                "argumentName": m["arg"],
            },
        ),
    ),
    (
        re.compile(r"Unknown directive '@(?P<name>\w+)'"),
        lambda m: (
            f"Directive @{m['name']} is not defined",
            {"code": "undefinedDirective", "directiveName": m["name"]},
        ),
    ),
    (
        re.compile(r"Directive '@(?P<name>\w+)' argument '(?P<arg>\w+)' of type .* is required"),
        lambda m: (
            f"Directive '{m['name']}' is missing required arguments: {m['arg']}",
            {"code": "missingRequiredArguments", "className": "Directive", "name": m["name"]},
        ),
    ),
    (
        re.compile(r"Field '(?P<field>\w+)' argument '(?P<arg>\w+)' of type .* is required"),
        lambda m: (
            f"Field '{m['field']}' is missing required arguments: {m['arg']}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m["field"]},
        ),
    ),
    (
        re.compile(r"Variable '\$(?P<name>\w+)' is never used"),
        lambda m: (
            f"Variable ${m['name']} is declared by {'{operation}'} but not used",
            {"code": "variableNotUsed", "variableName": m["name"]},
        ),
    ),
    (
        re.compile(r"Unknown type '(?P<type>\w+)'"),
        lambda m: (
            f"No such type {m['type']}, so it can't be a fragment condition",
            {"code": "undefinedType", "typeName": m["type"]},
        ),
    ),
]


def _validation_error(error: GraphQLError, label: str) -> dict[str, Any]:
    message, extensions = error.message, {"code": "GRAPHQL_VALIDATION_FAILED"}
    for pattern, shape in _PATTERNS:
        match = pattern.search(error.message)
        if match:
            message, extensions = shape(match)
            message = message.replace("{operation}", label)
            break
    out: dict[str, Any] = {"message": message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    path = [label]
    if "fieldName" in extensions:
        path.append(extensions["fieldName"])
    out["path"] = path
    out["extensions"] = extensions
    return out


def _variable_error(error: GraphQLError, request: Request) -> dict[str, Any]:
    """graphql-core's coercion message (3.2 or 3.3 wording) → Shopify's INVALID_VARIABLE."""
    text = error.message
    found = re.search(r"Variable '\$(\w+)'", text)
    name = found.group(1) if found else "input"
    assert request.operation is not None
    var_type = next(
        (
            d.type
            for d in request.operation.variable_definitions or ()
            if d.variable.name.value == name
        ),
        None,
    )
    type_text = print_ast(var_type) if var_type is not None else "?"
    at = re.search(r" at '([^']+)'", text)
    path = [p for p in re.split(r"[.\[\]]+", at.group(1))[1:] if p] if at else []
    unknown = re.search(r"unknown field '(\w+)'|Field '(\w+)' is not defined", text)
    if unknown:
        field_name = unknown.group(1) or unknown.group(2)
        path = [*path, field_name]
        explanation = f"Field is not defined on {type_text.strip('[]!')}"
    elif re.search(r"not provided|not to be null|non-null|Expected non-nullable", text):
        explanation = "Expected value to not be null"
    else:
        explanation = re.split(r"has invalid value: |got invalid value .*?; ", text)[-1]
    message = f"Variable ${name} of type {type_text} was provided invalid value"
    if path:
        message += f" for {'.'.join(path)} ({explanation})"
    out: dict[str, Any] = {"message": message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    out["extensions"] = {
        "code": "INVALID_VARIABLE",
        "value": request.variables.get(name),
        "problems": [{"path": path, "explanation": explanation}],
    }
    return out


def run(
    request: Request,
    store: Store,
    scopes: frozenset[str],
    bucket: cost.Bucket,
    *,
    app: str = "static",
    api_version: str = "2026-07",
    bulk_operations: bulk.BulkOperations | None = None,
) -> Result:
    """Validate, charge and execute a parsed request (as ``app``, on ``api_version``)."""
    assert request.document is not None
    if request.operation is None:
        operations = [
            d for d in request.document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        message = (
            f'No operation named "{request.operation_name}"'
            if request.operation_name or not operations
            else "An operation name is required"
        )
        return Result({"errors": [{"message": message}]})
    op = request.operation
    label = f"{op.operation.value} {op.name.value}" if op.name else op.operation.value
    the_schema = schema()
    errors = validate(the_schema, request.document)
    if errors:
        return Result({"errors": [_validation_error(e, label) for e in errors]})
    values = get_variable_values(the_schema, op.variable_definitions or [], request.variables)
    if isinstance(values, list):
        return Result({"errors": [_variable_error(e, request) for e in values]})
    # graphql-core 3.3 wraps them, 3.2 does not
    coerced: Mapping[str, Any] = cast(Mapping[str, Any], getattr(values, "coerced", values))
    fragments = {
        d.name.value: d
        for d in request.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    analysis = cost.analyse(the_schema, op, fragments, coerced)
    if analysis.problems:
        problem = analysis.problems[0]
        return Result(
            {
                "errors": [
                    {
                        "message": problem.message,
                        "path": [label, *problem.path],
                        "extensions": {"code": problem.code},
                    }
                ]
            }
        )
    requested = analysis.requested
    if requested > cost.MAX_QUERY_COST:
        return Result(
            {
                "errors": [
                    {
                        "message": f"Query cost is {requested}, which exceeds the single query "
                        f"max cost limit ({cost.MAX_QUERY_COST}).\n\nSee "
                        f"{THROTTLE_DOCS} for more information on how the cost of a query is "
                        "calculated.\n\nTo query larger amounts of data with fewer limits, bulk "
                        "operations should be used instead.\nSee "
                        "https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api "
                        "for usage details.\n",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": requested,
                            "maxCost": cost.MAX_QUERY_COST,
                            "documentation": THROTTLE_DOCS,
                        },
                    }
                ]
            },
            requested=requested,
        )
    if not bucket.take(requested):
        return throttled(requested, bucket)
    context = resolvers.Context(
        store=store,
        scopes=scopes,
        token=request.token,
        app=app,
        api_version=api_version,
        bulk=bulk_operations,
    )
    with store.lock:  # one request at a time sees and changes the shop: consistent reads
        outcome = execute_sync(
            the_schema,
            request.document,
            context_value=context,
            variable_values=request.variables,
            operation_name=request.operation_name,
        )
        data = outcome.data
        actual = min(cost.actual_cost(the_schema, op, fragments, coerced, data), requested)
    bucket.refund(requested - actual)
    body: dict[str, Any] = {}
    if outcome.errors:
        body["errors"] = [e.formatted for e in outcome.errors]
    body["data"] = data
    body["extensions"] = {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": bucket.status(),
        }
    }
    if context.search:
        body["extensions"]["search"] = context.search
    return Result(body, requested=requested, actual=actual)


def requested_cost(request: Request) -> int | None:
    """The requested cost of a valid request (``None`` if it would not execute)."""
    if request.document is None or request.operation is None:
        return None
    if validate(schema(), request.document):
        return None
    values = get_variable_values(
        schema(), request.operation.variable_definitions or [], request.variables
    )
    if isinstance(values, list):
        return None
    fragments = {
        d.name.value: d
        for d in request.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    coerced: Mapping[str, Any] = cast(Mapping[str, Any], getattr(values, "coerced", values))
    return cost.analyse(schema(), request.operation, fragments, coerced).requested


def throttled(requested: int, bucket: cost.Bucket) -> Result:
    """HTTP 200 + THROTTLED, no data, ``actualQueryCost: null`` (shopify.md §3)."""
    return Result(
        {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS},
                }
            ],
            "extensions": {
                "cost": {
                    "requestedQueryCost": requested,
                    "actualQueryCost": None,
                    "throttleStatus": bucket.status(),
                }
            },
        },
        requested=requested,
        throttled=True,
    )
