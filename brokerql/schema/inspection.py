"""What the guard measures of a parsed document before validation: the limit it breaks (if any), its depth
and estimated cost, whether it asks for introspection, and the field pairs validation will compare.
Shared by the guard on the event loop (schema/guard.py) and its worker processes (schema/guard_process.py).
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLSchema

from brokerql.schema.cost import Measure, estimate
from brokerql.schema.document_cache import Inspected, InspectKey, freeze, inspected, parse_document, remember_inspected
from brokerql.schema.errors import CodedError
from brokerql.schema.operation_limits import OperationLimits, check, check_overlaps, measure, too_complex


def inspect_cached(key: InspectKey) -> Inspected:
    found = inspected(key)
    if found is None:
        schema, query, limits, operation, variables = key
        document = parse_document(query, limits.max_tokens)
        error, measured, introspection, pairs = inspect(schema, document, limits, operation, dict(variables))
        found = (freeze(error), measured, introspection, pairs)
        remember_inspected(key, found)
    return found


def inspect(
    schema: GraphQLSchema, document: DocumentNode, limits: OperationLimits, operation: str | None, variables: Any
) -> tuple[CodedError | None, Measure, bool, int]:
    """The limit broken (if any), the depth and cost, whether it asks for introspection, and the field
    pairs validation will compare. Bounded work: linear passes that stop at their limits."""
    figures = measure(document)
    error = check(figures, limits)
    if error is not None:
        return error, Measure(0, 0), figures.introspection, 0
    error, pairs = check_overlaps(document, limits)
    if error is not None:
        return error, Measure(0, 0), figures.introspection, pairs
    error, measured = _estimate(schema, document, limits, operation, variables)
    return error, measured, figures.introspection, pairs


def _estimate(
    schema: GraphQLSchema, document: DocumentNode, limits: OperationLimits, operation: str | None, variables: Any
) -> tuple[CodedError | None, Measure]:
    """The depth and cost, refused over their limits."""
    try:
        measured = estimate(schema, document, operation, variables)
    except RecursionError:
        text = "The operation is nested too deeply."
        return too_complex("depth", limits.max_depth, f">{limits.max_depth}", text), Measure(0, 0)
    if measured.depth > limits.max_depth:
        text = f"The operation is {measured.depth} levels deep; the limit is {limits.max_depth}."
        return too_complex("depth", limits.max_depth, measured.depth, text), measured
    if measured.cost > limits.max_cost:
        text = f"The operation's estimated cost is {measured.cost}; the limit is {limits.max_cost}."
        return too_complex("cost", limits.max_cost, measured.cost, text), measured
    return None, measured
