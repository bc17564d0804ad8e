"""Depth and estimated cost of an operation, computed from the document and the schema before execution.

The cost model (docs/api.md, Cost): an object field costs 1 plus its selection; a scalar or `__typename`
costs nothing; a connection (a field with a `first` argument) multiplies its selection by `first`, or by
the default page size when `first` is not given, capped at the page cap; a connection's own `edges` and
`nodes` count once (`first` already counted them); any other list of objects multiplies by LIST_WEIGHT.
Fragments are measured once per name, so a document of fragments spreading fragments is measured in
time linear in its size, however large the expansion would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from brokerql.schema.types.pagination import DEFAULT_FIRST, MAX_FIRST

LIST_WEIGHT = 10
CONNECTION_LISTS = frozenset({"edges", "nodes"})


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    cost: int


class CostEstimator:
    """Measures one operation of a document; fragments are memoised by name."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: Any) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables if isinstance(variables, dict) else {}
        self._memo: dict[str, Measure] = {}
        self._visiting: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(operation.operation)
        return self.selection(operation.selection_set, root)

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Measure:
        if selection_set is None:
            return Measure(0, 0)
        depth = cost = 0
        for node in selection_set.selections or ():
            if isinstance(node, FieldNode):
                inner = self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                typed = self.schema.get_type(condition.name.value) if condition else parent
                inner = self.selection(node.selection_set, typed)
                inner = Measure(inner.depth - 1, inner.cost)  # a fragment is not a level of its own
            elif isinstance(node, FragmentSpreadNode):
                inner = self.fragment(node.name.value)
                inner = Measure(inner.depth - 1, inner.cost)
            else:
                continue
            depth, cost = max(depth, inner.depth + 1), cost + inner.cost
        return Measure(depth, cost)

    def fragment(self, name: str) -> Measure:
        known = self._memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self._visiting:  # unknown or cyclic: validation reports it
            return Measure(0, 0)
        self._visiting.add(name)
        measured = self.selection(definition.selection_set, self.schema.get_type(definition.type_condition.name.value))
        self._visiting.discard(name)
        self._memo[name] = measured
        return measured

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = None
        if isinstance(parent, GraphQLObjectType) or hasattr(parent, "fields"):
            definition = parent.fields.get(node.name.value)  # type: ignore[union-attr]
        if definition is None or node.selection_set is None:
            inner = self.selection(node.selection_set, None) if node.selection_set else Measure(0, 0)
            return Measure(inner.depth, inner.cost)
        inner = self.selection(node.selection_set, get_named_type(definition.type))
        weight = self.weight(node, definition)
        return Measure(inner.depth, weight * (1 + inner.cost))

    def weight(self, node: FieldNode, definition: Any) -> int:
        if "first" in definition.args:
            first = self.argument(node, "first")
            return max(1, min(MAX_FIRST, first if isinstance(first, int) else DEFAULT_FIRST))
        if node.name.value in CONNECTION_LISTS:
            return 1  # a connection's edges or nodes: the connection above already counted `first` of them
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            return LIST_WEIGHT
        return 1

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                try:
                    return int(value.value)
                except ValueError:
                    return None
            if isinstance(value, VariableNode):
                return self.variables.get(value.name.value)
        return None


def estimate(schema: GraphQLSchema, document: Any, operation_name: str | None, variables: Any) -> Measure:
    """Depth and cost of the operation that will run (the named one, or the only one)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    estimator = CostEstimator(schema, fragments, variables)
    measures = [estimator.operation(o) for o in chosen] or [Measure(0, 0)]
    # Depth counts nesting below the root fields, as strawberry's limiter did: `{ me { name } }` is 1.
    return Measure(max(0, max(m.depth for m in measures) - 1), max(m.cost for m in measures))
