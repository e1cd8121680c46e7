"""Every document the client sends validates against the real 2026-07 Admin schema, and the
simulator's SDL subset agrees with it (shopify.md §10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    parse,
    validate,
)
from graphql.validation import NoDeprecatedCustomRule
from shopify_support import reference_schema

from shopodoo_console.shopify import documents
from shopodoo_console.sim.shopify.engine import schema as sim_schema

OPERATIONS = documents.names()


@pytest.fixture(scope="module")
def real_schema(reference_dir: Path):
    path = reference_dir / "shopify" / "admin-2026-07.graphql"
    if not path.is_file():
        pytest.skip(f"Shopify SDL not available at {path}")
    return reference_schema(path)


def test_every_operation_is_shipped_and_named_after_its_file():
    assert {
        "OrdersUpdatedSince",
        "OrdersByIds",
        "Order",
        "OrderLineItems",
        "CustomersSearch",
        "CustomerByEmail",
        "VariantsSearch",
        "Locations",
        "InventoryLevels",
        "InventorySetQuantities",
        "OrderFulfillmentState",
        "FulfillmentCreate",
        "MetafieldsSet",
        "TagsAdd",
        "AccessScopes",
    } <= set(OPERATIONS)
    for name in OPERATIONS:
        assert documents.load(name).name == name


@pytest.mark.parametrize("name", OPERATIONS)
def test_document_is_valid_and_uses_no_deprecated_field(real_schema, name):
    document = parse(documents.load(name).text)
    assert [e.message for e in validate(real_schema, document)] == []
    assert [e.message for e in validate(real_schema, document, [NoDeprecatedCustomRule])] == []


def test_runtime_contracts_that_validation_cannot_see():
    """§10: a missing @idempotent or changeFromQuantity passes validation, fails at runtime."""
    text = documents.load("InventorySetQuantities").text
    assert "@idempotent(key: $key)" in text
    orders = documents.load("OrdersUpdatedSince").text
    assert "sortKey: UPDATED_AT" in orders


def test_documents_validate_against_the_simulator_too():
    for name in OPERATIONS:
        errors = validate(sim_schema(), parse(documents.load(name).text))
        assert [e.message for e in errors] == [], name


def test_simulator_subset_agrees_with_the_real_schema(real_schema):
    checked = 0
    for name, sim_type in sim_schema().type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        real = real_schema.type_map.get(name)
        assert real is not None, f"{name} is not a Shopify type"
        assert type(real) is type(sim_type), name
        if isinstance(sim_type, GraphQLEnumType):
            assert set(sim_type.values) <= set(real.values), name
        elif isinstance(sim_type, GraphQLInputObjectType):
            for field_name, field in sim_type.fields.items():
                assert str(field.type) == str(real.fields[field_name].type), (name, field_name)
            required = {n for n, f in real.fields.items() if str(f.type).endswith("!")}
            assert required <= set(sim_type.fields), name
        elif isinstance(sim_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in sim_type.fields.items():
                real_field = real.fields.get(field_name)
                assert real_field is not None, f"{name}.{field_name} does not exist"
                assert str(field.type) == str(real_field.type), (name, field_name)
                for arg_name, arg in field.args.items():
                    assert str(arg.type) == str(real_field.args[arg_name].type), (
                        name,
                        field_name,
                        arg_name,
                    )
                checked += 1
            if isinstance(sim_type, GraphQLObjectType):
                real_interfaces = {i.name for i in real.interfaces}
                assert {i.name for i in sim_type.interfaces} <= real_interfaces, name
        else:
            assert isinstance(sim_type, GraphQLScalarType)
    assert checked > 150
    idempotent = sim_schema().get_directive("idempotent")
    assert idempotent is not None
    assert str(idempotent.args["key"].type) == str(
        real_schema.get_directive("idempotent").args["key"].type
    )
