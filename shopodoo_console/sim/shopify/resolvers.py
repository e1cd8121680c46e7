"""Resolvers that serve the SDL subset from the :class:`~.state.Store`.

Connections page with opaque cursors (``first/after/last/before/reverse``) ordered by the
requested sort key and then by id; ``query:`` strings go through :mod:`.search`, whose
warnings end up in ``extensions.search`` (shopify.md §5.3). Access scopes are checked per root
field and per node type (ACCESS_DENIED shape from capture
``2026-04/orders/taxSummaryCreate-access-denied-parity.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema, get_directive_values

from . import cursor, mutations, search
from . import fulfillment as fo_rules
from .state import Store
from .util import kind_of, legacy

READ_SCOPES = {
    "Order": ("read_orders",),
    "LineItem": ("read_orders",),
    "OrderTransaction": ("read_orders",),
    "Fulfillment": ("read_orders", "read_fulfillments"),
    "FulfillmentOrder": (
        "read_merchant_managed_fulfillment_orders",
        "read_assigned_fulfillment_orders",
    ),
    "Customer": ("read_customers",),
    "Product": ("read_products",),
    "ProductVariant": ("read_products",),
    "InventoryItem": ("read_inventory", "read_products"),
    "InventoryLevel": ("read_inventory",),
    "Location": ("read_locations", "read_inventory"),
}
WRITE_FULFILLMENTS = (
    "write_merchant_managed_fulfillment_orders",
    "write_assigned_fulfillment_orders",
    "write_fulfillments",
)


@dataclass
class Context:
    """What one request knows: the store, the caller (app, scopes, API version), the shop's
    bulk operations, and search warnings."""

    store: Store
    scopes: frozenset[str]
    search: list[dict[str, Any]] = field(default_factory=list)
    token: object | None = None  # the request, as the holder of its idempotency keys
    app: str = "static"
    api_version: str = "2026-07"
    bulk: Any = None


def _ctx(info: GraphQLResolveInfo) -> Context:
    return info.context


def require(info: GraphQLResolveInfo, scopes: Iterable[str], what: str | None = None) -> None:
    scopes = tuple(scopes)
    if not scopes or set(scopes) & _ctx(info).scopes:
        return
    name = what or info.field_name
    access = f"`{scopes[0]}` access scope"
    raise GraphQLError(
        f"Access denied for {name} field. Required access: {access}.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"{access}.",
        },
    )


# -- connections --------------------------------------------------------------------------


Keyed = tuple[Any, int, Mapping[str, Any]]  # (sort value, legacy id, record)


def _position(value: str, sorted_: bool) -> tuple[Any, int]:
    """A cursor as the (sort value, id) it stands for; a bad one is the client's error."""
    try:
        last_id, last_value = cursor.decode(value)
    except cursor.CursorError as exc:
        raise GraphQLError(str(exc)) from exc
    return (last_value if sorted_ else 0), last_id


def _between(
    keyed: list[Keyed], args: Mapping[str, Any], sorted_: bool, reverse: bool
) -> list[Keyed]:
    """The rows strictly after ``after`` and before ``before``, in the listing's direction."""
    if args.get("after"):
        mark = _position(args["after"], sorted_)
        keyed = [t for t in keyed if ((t[0], t[1]) < mark if reverse else (t[0], t[1]) > mark)]
    if args.get("before"):
        mark = _position(args["before"], sorted_)
        keyed = [t for t in keyed if ((t[0], t[1]) > mark if reverse else (t[0], t[1]) < mark)]
    return keyed


def _window(
    keyed: list[Keyed], args: Mapping[str, Any], first: int | None, last: int | None
) -> tuple[list[Keyed], bool, bool]:
    """``first``/``last`` cut the rows; whether a next or previous page exists, as Shopify
    says it (a cursor given counts as a page on its side)."""
    has_next = has_previous = False
    if first is not None:
        has_next = len(keyed) > first
        keyed = keyed[:first]
        has_previous = bool(args.get("after"))
    if last is not None:
        has_previous = len(keyed) > last
        keyed = keyed[-last:] if last else []
        has_next = has_next or bool(args.get("before"))
    return keyed, has_next, has_previous


def paginate(
    records: Iterable[Mapping[str, Any]],
    args: Mapping[str, Any],
    sort: Callable[[Mapping[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """A Relay connection over ``records``: ordered by ``sort`` then id, cursors that carry
    both, ``first``/``last``/``after``/``before``/``reverse`` as Shopify reads them."""
    reverse = bool(args.get("reverse"))
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    keyed = sorted(
        ((sort(r) if sort else 0, legacy(r["id"]), r) for r in records),
        key=lambda t: (t[0], t[1]),
        reverse=reverse,
    )
    keyed = _between(keyed, args, bool(sort), reverse)
    keyed, has_next, has_previous = _window(keyed, args, first, last)
    edges = [{"cursor": cursor.encode(t[1], t[0] if sort else None), "node": t[2]} for t in keyed]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def filtered(
    info: GraphQLResolveInfo,
    records: Iterable[Mapping[str, Any]],
    query: str | None,
    fields: Mapping[str, search.Matcher],
) -> list[Mapping[str, Any]]:
    """Apply a search string; warnings go to ``extensions.search`` like Shopify's."""
    ctx = _ctx(info)
    try:
        outcome = search.compile_query(query, fields, ctx.store.tz)
    except search.SearchError as exc:
        raise GraphQLError(f"Invalid search query: {exc}") from exc
    if outcome.warnings:
        alias = info.path.key
        ctx.search.append(
            {
                "path": [alias],
                "query": query,
                "parsed": outcome.parsed,
                "warnings": outcome.warnings,
            }
        )
    return [r for r in records if outcome.predicate(r)]


def _sorter(sort_key: str | None, mapping: Mapping[str, str]) -> Callable | None:
    attribute = mapping.get(sort_key or "")
    if attribute is None:
        return None
    return lambda record: record.get(attribute) or ""


# -- root queries --------------------------------------------------------------------------


def _orders_fields(store: Store) -> dict[str, search.Matcher]:
    tz = store.tz

    def customer_id(record):
        return legacy(record["_customer"]) if record.get("_customer") else 0

    def status(record, term):
        value = term.value.lower()
        closed, cancelled = bool(record["closedAt"]), bool(record["cancelledAt"])
        return {
            "open": not closed,
            "closed": closed,
            "cancelled": cancelled,
            "not_closed": not closed,
        }.get(value, False)

    def skus(record):
        return [store.nodes[i]["sku"] for i in record["_lines"]]

    return {
        "updated_at": search.time_matcher("updatedAt", tz),
        "created_at": search.time_matcher("createdAt", tz),
        "processed_at": search.time_matcher("processedAt", tz),
        "id": search.id_matcher(lambda r: legacy(r["id"])),
        "customer_id": search.id_matcher(customer_id),
        "name": search.text_matcher(lambda r: [r["name"], r["name"].lstrip("#")]),
        "email": search.text_matcher(lambda r: r.get("email")),
        "tag": search.text_matcher(lambda r: r.get("tags")),
        "sku": search.text_matcher(skus),
        "test": search.text_matcher(lambda r: str(r["test"]).lower()),
        "financial_status": search.text_matcher(
            lambda r: (r.get("displayFinancialStatus") or "").lower()
        ),
        "fulfillment_status": search.text_matcher(lambda r: r["displayFulfillmentStatus"].lower()),
        "status": status,
    }


ORDER_SORT = {
    "UPDATED_AT": "updatedAt",
    "CREATED_AT": "createdAt",
    "PROCESSED_AT": "processedAt",
    "ORDER_NUMBER": "name",
}


def resolve_orders(_root, info, **args):
    require(info, READ_SCOPES["Order"])
    store = _ctx(info).store
    with store.lock:
        visible = [
            store.nodes[i]
            for i in store.orders
            if store.order_visible(store.nodes[i], _ctx(info).scopes)
        ]
        records = filtered(info, visible, args.get("query"), _orders_fields(store))
        return paginate(records, args, _sorter(args.get("sortKey", "PROCESSED_AT"), ORDER_SORT))


def resolve_orders_count(_root, info, query=None, limit=None, **_):
    """How many orders match a search; ``limit`` caps it (precision AT_LEAST beyond)."""
    require(info, READ_SCOPES["Order"])
    store = _ctx(info).store
    with store.lock:
        visible = [
            store.nodes[i]
            for i in store.orders
            if store.order_visible(store.nodes[i], _ctx(info).scopes)
        ]
        count = len(filtered(info, visible, query, _orders_fields(store)))
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def _visible(info: GraphQLResolveInfo, record: Mapping[str, Any] | None) -> Any:
    if record is None:
        return None
    ctx = _ctx(info)
    if record["__typename"] == "Order" and not ctx.store.order_visible(record, ctx.scopes):
        return None
    return record


def resolve_order(_root, info, id):
    require(info, READ_SCOPES["Order"])
    return _visible(info, _ctx(info).store.get(id, "Order"))


def resolve_nodes(_root, info, ids):
    if len(ids) > 250:
        raise GraphQLError(
            f"The input array size of {len(ids)} is greater than the maximum allowed of 250.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
    store = _ctx(info).store
    with store.lock:
        return [_node_checked(info, store.get(i)) for i in ids]


def _node_checked(info: GraphQLResolveInfo, record: Mapping[str, Any] | None) -> Any:
    if record is None or info.schema.type_map.get(record["__typename"]) is None:
        return None
    scopes = READ_SCOPES.get(record["__typename"], ())
    if scopes and not set(scopes) & _ctx(info).scopes:
        return GraphQLError(
            f"Access denied for {record['__typename']} object. "
            f"Required access: `{scopes[0]}` access scope.",
            extensions={"code": "ACCESS_DENIED", "requiredAccess": f"`{scopes[0]}` access scope."},
        )
    return _visible(info, record)


def resolve_node(_root, info, id):
    record = _node_checked(info, _ctx(info).store.get(id))
    if isinstance(record, GraphQLError):
        raise record
    return record


def _customer_fields(store: Store) -> dict[str, search.Matcher]:
    def email(record):
        address = record.get("defaultEmailAddress")
        return address["emailAddress"] if address else None

    def phone(record):
        number = record.get("defaultPhoneNumber")
        return number["phoneNumber"] if number else None

    def words(record, term):
        wanted = term.value.lower()
        haystack = " ".join(
            str(v) for v in (record["displayName"], email(record), phone(record)) if v
        ).lower()
        return wanted in haystack

    return {
        "updated_at": search.time_matcher("updatedAt", store.tz),
        "created_at": search.time_matcher("createdAt", store.tz),
        "id": search.id_matcher(lambda r: legacy(r["id"])),
        "email": search.text_matcher(email),
        "phone": search.text_matcher(phone),
        "tag": search.text_matcher(lambda r: r.get("tags")),
        "state": search.text_matcher(lambda r: r["state"].lower()),
        "first_name": search.text_matcher(lambda r: r.get("firstName")),
        "last_name": search.text_matcher(lambda r: r.get("lastName")),
        "*": words,
    }


def resolve_customers(_root, info, **args):
    require(info, READ_SCOPES["Customer"])
    store = _ctx(info).store
    with store.lock:
        records = [store.nodes[i] for i in store.customers]
        records = filtered(info, records, args.get("query"), _customer_fields(store))
        sort = _sorter(
            args.get("sortKey", "ID"),
            {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "NAME": "displayName"},
        )
        return paginate(records, args, sort)


def resolve_customer(_root, info, id):
    require(info, READ_SCOPES["Customer"])
    return _ctx(info).store.get(id, "Customer")


def resolve_customer_by_identifier(_root, info, identifier):
    require(info, READ_SCOPES["Customer"], "customerByIdentifier")
    given = {k: v for k, v in identifier.items() if v is not None}
    if len(given) != 1:
        raise GraphQLError(
            "'CustomerIdentifierInput' requires exactly one argument, but "
            f"{len(given)} were provided.",
            extensions={"code": "INVALID_VARIABLE"},
        )
    store = _ctx(info).store
    ((kind, value),) = given.items()
    if kind == "id":
        return store.get(value, "Customer")
    if kind == "emailAddress":
        return store.customer_by_email(value)
    if kind == "phoneNumber":
        return next(
            (
                store.nodes[i]
                for i in store.customers
                if (store.nodes[i]["defaultPhoneNumber"] or {}).get("phoneNumber") == value
            ),
            None,
        )
    raise GraphQLError(
        "Metafield definition of type 'id' is required when using custom ids.",
        extensions={"code": "NOT_FOUND"},
    )


def resolve_product_variants(_root, info, **args):
    require(info, READ_SCOPES["ProductVariant"])
    store = _ctx(info).store
    fields = {
        "sku": search.text_matcher(lambda r: r.get("sku")),
        "barcode": search.text_matcher(lambda r: r.get("barcode")),
        "product_id": search.id_matcher(lambda r: legacy(r["_product"])),
        "id": search.id_matcher(lambda r: legacy(r["id"])),
        "title": search.text_matcher(lambda r: r.get("title")),
        "updated_at": search.time_matcher("updatedAt", store.tz),
    }
    with store.lock:
        records = filtered(
            info, [store.nodes[i] for i in store.variants], args.get("query"), fields
        )
        sort = _sorter(args.get("sortKey", "ID"), {"SKU": "sku", "TITLE": "title"})
        return paginate(records, args, sort)


def resolve_product_variants_count(_root, info, query=None, limit=10000, **_):
    """How many variants there are; ``limit`` caps it (precision AT_LEAST beyond)."""
    require(info, READ_SCOPES["ProductVariant"])
    store = _ctx(info).store
    with store.lock:
        count = len(store.variants)
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def resolve_locations(_root, info, **args):
    require(info, READ_SCOPES["Location"])
    store = _ctx(info).store
    records = [
        store.nodes[i]
        for i in store.locations
        if (store.nodes[i]["isActive"] or args.get("includeInactive"))
        and (not store.nodes[i]["isFulfillmentService"] or args.get("includeLegacy"))
    ]
    fields = {
        "name": search.text_matcher(lambda r: r["name"]),
        "id": search.id_matcher(lambda r: legacy(r["id"])),
    }
    records = filtered(info, records, args.get("query"), fields)
    return paginate(records, args, _sorter(args.get("sortKey", "NAME"), {"NAME": "name"}))


def resolve_inventory_item(_root, info, id):
    require(info, READ_SCOPES["InventoryItem"])
    return _ctx(info).store.get(id, "InventoryItem")


def resolve_app_installation(_root, info):
    scopes = sorted(_ctx(info).scopes)
    return {
        "id": "gid://shopify/AppInstallation/1",
        "accessScopes": [{"handle": s} for s in scopes],
    }


def resolve_shop(_root, info):
    shop = _ctx(info).store.shop
    return {
        "id": "gid://shopify/Shop/1",
        "name": shop["name"],
        "myshopifyDomain": shop["domain"],
        "currencyCode": shop["currencyCode"],
        "ianaTimezone": shop["ianaTimezone"],
        "plan": {
            "publicDisplayName": {"plus": "Shopify Plus"}.get(shop["plan"], "Basic"),
            "shopifyPlus": shop["plan"] == "plus",
        },
    }


# -- object fields -------------------------------------------------------------------------


def _ref(key: str) -> Callable:
    def resolve(record, info):
        return _ctx(info).store.get(record.get(key))

    return resolve


def _page_of(key: str, sort: Callable | None = None) -> Callable:
    def resolve(record, info, **args):
        store = _ctx(info).store
        items = record.get(key) or []
        records = [store.nodes[i] if isinstance(i, str) else i for i in items]
        return paginate(records, args, sort)

    return resolve


def _list_of(key: str) -> Callable:
    def resolve(record, info, first=None, **_):
        store = _ctx(info).store
        items = [store.nodes[i] for i in record.get(key) or []]
        return items if first is None else items[:first]

    return resolve


def resolve_order_metafields(record, info, namespace=None, keys=None, **args):
    store = _ctx(info).store
    items = [
        m
        for (owner, ns, key), m in store.metafields.items()
        if owner == record["id"]
        and (namespace is None or ns == namespace)
        and (keys is None or f"{ns}.{key}" in keys)
    ]
    return paginate(items, args)


def resolve_order_metafield(record, info, key, namespace=None):
    """One metafield by namespace and key (``None`` when unset), e.g. ``shopodoo.odoo_id``."""
    return _ctx(info).store.metafields.get((record["id"], namespace or "app--shopodoo", key))


def resolve_metafield_owner(record, info):
    return _ctx(info).store.nodes.get(record["_owner"])


def resolve_current_quantity(record, info):
    """What remains to sell after edits and removals (the sum of ``currentQuantity``)."""
    store = _ctx(info).store
    return sum(int(store.nodes[i].get("currentQuantity") or 0) for i in record["_lines"])


def resolve_inventory_quantity(record, info):
    store = _ctx(info).store
    return sum(
        level["_q"]["available"]
        for (item, _loc), level in store.levels.items()
        if item == record["_item"]
    )


def resolve_inventory_levels(record, info, includeInactive=False, **args):
    store = _ctx(info).store
    levels = [
        level
        for (item, _loc), level in store.levels.items()
        if item == record["id"] and (level["isActive"] or includeInactive)
    ]
    return paginate(levels, args)


def resolve_quantities(record, info, names):
    return [
        {
            "id": f"gid://shopify/InventoryQuantity/{legacy(record['id'])}?name={name}",
            "name": name,
            "quantity": record["_q"].get(name, 0),
            "updatedAt": record["_q_updated"].get(name),
        }
        for name in names
    ]


def resolve_assigned_location(record, info):
    return {"location": _ctx(info).store.get(record["_location"])}


def resolve_supported_actions(record, info):
    store = _ctx(info).store
    return [{"action": action} for action in fo_rules.supported_actions(store, record)]


def resolve_tracking_info(record, info, first=None):
    items = list(record.get("trackingInfo") or [])
    return items if first is None else items[:first]


# -- mutations -----------------------------------------------------------------------------


def _idempotency_key(info: GraphQLResolveInfo) -> str | None:
    directive = info.schema.get_directive("idempotent")
    if directive is None:
        return None
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    return values["key"] if values else None


def resolve_inventory_set_quantities(_root, info, input):
    require(info, ("write_inventory",))
    mutations.require_input_size(input["quantities"], "input.quantities")
    mutations.require_change_from(input["quantities"], "InventoryQuantityInput")
    ctx = _ctx(info)
    return mutations.idempotent(
        ctx.store,
        _idempotency_key(info),
        input,
        lambda: mutations.inventory_set_quantities(ctx.store, input),
        token=ctx.token,
    )


def resolve_inventory_activate(
    _root, info, inventoryItemId, locationId, available=None, onHand=None, **_
):
    require(info, ("write_inventory",))
    ctx = _ctx(info)
    params = [inventoryItemId, locationId, available, onHand]
    return mutations.idempotent(
        ctx.store,
        _idempotency_key(info),
        params,
        lambda: mutations.inventory_activate(
            ctx.store, inventoryItemId, locationId, available, onHand
        ),
        token=ctx.token,
        empty={"inventoryLevel": None},
    )


def resolve_fulfillment_create(_root, info, fulfillment, message=None):
    require(info, WRITE_FULFILLMENTS)
    store = _ctx(info).store
    with store.lock:
        return mutations.fulfillment_create(store, fulfillment)


def resolve_fulfillment_tracking_update(
    _root, info, fulfillmentId, trackingInfoInput, notifyCustomer=None
):
    require(info, WRITE_FULFILLMENTS)
    store = _ctx(info).store
    with store.lock:
        return mutations.fulfillment_tracking_update(
            store, fulfillmentId, trackingInfoInput, bool(notifyCustomer)
        )


def resolve_metafields_set(_root, info, metafields):
    store = _ctx(info).store
    for item in metafields:
        scope = mutations.OWNER_SCOPES.get(kind_of(item["ownerId"]))
        if scope:
            require(info, (scope,))
    with store.lock:
        return mutations.metafields_set(store, metafields)


def resolve_tags_add(_root, info, id, tags):
    scope = mutations.OWNER_SCOPES.get(kind_of(id))
    if scope:
        require(info, (scope,))
    store = _ctx(info).store
    with store.lock:
        return mutations.tags_add(store, id, tags)


RESOLVERS: dict[tuple[str, str], Callable] = {
    ("QueryRoot", "orders"): resolve_orders,
    ("QueryRoot", "ordersCount"): resolve_orders_count,
    ("QueryRoot", "order"): resolve_order,
    ("QueryRoot", "nodes"): resolve_nodes,
    ("QueryRoot", "node"): resolve_node,
    ("QueryRoot", "customers"): resolve_customers,
    ("QueryRoot", "customer"): resolve_customer,
    ("QueryRoot", "customerByIdentifier"): resolve_customer_by_identifier,
    ("QueryRoot", "productVariants"): resolve_product_variants,
    ("QueryRoot", "productVariantsCount"): resolve_product_variants_count,
    ("QueryRoot", "locations"): resolve_locations,
    ("QueryRoot", "inventoryItem"): resolve_inventory_item,
    ("QueryRoot", "currentAppInstallation"): resolve_app_installation,
    ("QueryRoot", "shop"): resolve_shop,
    ("Order", "customer"): _ref("_customer"),
    ("Order", "lineItems"): _page_of("_lines"),
    ("Order", "shippingLines"): _page_of("_shipping_lines"),
    ("Order", "transactions"): _list_of("_transactions"),
    ("Order", "fulfillmentOrders"): _page_of("_fulfillment_orders"),
    ("Order", "fulfillments"): _list_of("_fulfillments"),
    ("Order", "metafields"): resolve_order_metafields,
    ("Order", "metafield"): resolve_order_metafield,
    ("Order", "currentSubtotalLineItemsQuantity"): resolve_current_quantity,
    ("Metafield", "owner"): resolve_metafield_owner,
    ("LineItem", "variant"): _ref("_variant"),
    ("LineItem", "product"): _ref("_product"),
    ("ProductVariant", "product"): _ref("_product"),
    ("ProductVariant", "inventoryItem"): _ref("_item"),
    ("ProductVariant", "inventoryQuantity"): resolve_inventory_quantity,
    ("InventoryItem", "inventoryLevels"): resolve_inventory_levels,
    ("InventoryLevel", "location"): _ref("_location"),
    ("InventoryLevel", "item"): _ref("_item"),
    ("InventoryLevel", "quantities"): resolve_quantities,
    ("FulfillmentOrder", "lineItems"): _page_of("_lines"),
    ("FulfillmentOrder", "assignedLocation"): resolve_assigned_location,
    ("FulfillmentOrder", "supportedActions"): resolve_supported_actions,
    ("FulfillmentOrderLineItem", "lineItem"): _ref("_line"),
    ("Fulfillment", "fulfillmentLineItems"): _page_of("_lines"),
    ("Fulfillment", "trackingInfo"): resolve_tracking_info,
    ("FulfillmentLineItem", "lineItem"): _ref("_line"),
    ("Mutation", "inventorySetQuantities"): resolve_inventory_set_quantities,
    ("Mutation", "inventoryActivate"): resolve_inventory_activate,
    ("Mutation", "fulfillmentCreate"): resolve_fulfillment_create,
    ("Mutation", "fulfillmentTrackingInfoUpdate"): resolve_fulfillment_tracking_update,
    ("Mutation", "metafieldsSet"): resolve_metafields_set,
    ("Mutation", "tagsAdd"): resolve_tags_add,
}


def install(schema: GraphQLSchema) -> None:
    """Attach the resolvers to a freshly built schema (fails loudly on a missing field)."""
    for (type_name, field_name), resolver in RESOLVERS.items():
        type_ = schema.type_map.get(type_name)
        fields = getattr(type_, "fields", None) or {}
        if field_name in fields:
            fields[field_name].resolve = resolver
