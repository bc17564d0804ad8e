"""What a broadcast frame is keyed by (subscriptions/push_channel.py): the variables a selection uses."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from brokerql.subscriptions.push_channel import selection_variables


def parts(document: str) -> tuple[OperationDefinitionNode, dict]:
    definitions = parse(document).definitions
    operation = next(d for d in definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    return operation, fragments


def test_the_root_fields_arguments_do_not_split_groups() -> None:
    """Subscribers of different symbol lists render a snapshot alike: `$s` picks snapshots only."""
    assert selection_variables(*parts("subscription($s: [String!]!) { quotes(symbols: $s) { symbol last } }")) == set()


def test_variables_inside_the_selection_do() -> None:
    document = """subscription($s: [String!]!, $n: Int!, $d: Boolean!) {
      quotes(symbols: $s) @include(if: $d) { symbol depth(levels: $n) { bids { price } } } }"""
    assert selection_variables(*parts(document)) == {"n", "d"}


def test_fragments_count_whole() -> None:
    document = """subscription($s: [String!]!, $k: Int!) { quotes(symbols: $s) { ...F } }
      fragment F on Quote { trades(first: $k) { seq } }"""
    assert selection_variables(*parts(document)) == {"k"}
