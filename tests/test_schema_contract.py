"""The schema is a product: the exported SDL is current, and every type and field says what it is."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from brokerql.schema import build_schema

ROOT = Path(__file__).resolve().parents[1]


def test_exported_sdl_is_current() -> None:
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `.venv/bin/brokerql export-schema > schema.graphql` and review the diff"
    )


def test_every_type_field_and_argument_is_described() -> None:
    schema = build_schema()._schema
    missing: list[str] = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(graphql_type, GraphQLEnumType):
            continue  # enum values are self-describing codes; the enum itself is described
    assert missing == [], f"undocumented schema elements: {missing}"


def test_contract_operations_exist() -> None:
    schema = build_schema()._schema
    assert {"login", "placeOrder", "cancelOrders"} <= set(schema.mutation_type.fields)
    assert {"me", "quote"} <= set(schema.query_type.fields)
    assert {"quotes", "orderEvents", "heartbeat"} <= set(schema.subscription_type.fields)


def test_contract_basket_operations_exist() -> None:
    schema = build_schema()._schema
    mutations, queries = schema.mutation_type.fields, schema.query_type.fields
    assert {"createBasket", "submitBasket", "cancelBasketRun", "topUpBasketRun"} <= set(mutations)
    assert {"baskets", "basketRun", "previewOrder"} <= set(queries)
    assert str(mutations["topUpBasketRun"].args["priceLevel"].type) == "PriceLevel!"
    assert str(queries["previewOrder"].args["input"].type) == "PlaceOrderInput!"
    submit = schema.type_map["SubmitBasketInput"].fields
    assert {"basketId", "accountId", "side", "multiplier", "amount", "priceLevel", "prices", "preview"} <= set(submit)
    run, leg = schema.type_map["BasketRun"].fields, schema.type_map["BasketRunLeg"].fields
    assert {"id", "status", "legs", "filledRatio"} <= set(run)
    assert {"symbol", "quantity", "filledQuantity", "order"} <= set(leg)
