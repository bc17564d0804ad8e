"""The operation guard: parse, limits, gates, validation and the cost budget, before anything executes.

One extension (per request: strawberry builds it from a factory) replaces ParserCache and ValidationCache:

1. parse with graphql-core's `max_tokens` (cached by text);
2. the linear limits of `operation_limits` (aliases, repeated fields, fragment spreads, directives);
3. depth and estimated cost (`cost`), against `max_depth` and `max_cost`;
4. in production: introspection for operators only, and only registered operations if so configured;
5. validation, cached by document (its rules are built once, so the cache keys stay stable);
6. the caller's cost budget (`brokerql.api.quotas`), charged with the estimate.

Documents longer than `offload_chars` are parsed and checked in a worker thread, so a large document
cannot hold the event loop (every stream and /healthz) while it is read. The cost is reported in each
response's `extensions.cost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from typing import Any, Protocol

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from brokerql.logs import bind
from brokerql.schema.cost import Measure, estimate
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.operation_limits import OperationLimits, check, measure, prescan, too_complex

log = logging.getLogger("brokerql.limits")
CACHE_SIZE = 1000
RULES = (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule)


class Edge(Protocol):
    """What the guard asks of the deployment (brokerql.api.edge.Edge); None when run bare (tests, SDL)."""

    production: bool
    persisted_only: bool

    def is_operator(self, context: Any) -> bool: ...

    async def is_registered(self, query: str) -> bool: ...

    async def charge(self, context: Any, cost: int) -> dict[str, Any]: ...


@lru_cache(maxsize=CACHE_SIZE)
def parse_document(query: str, max_tokens: int) -> DocumentNode:
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLError as error:
        if "tokens" in error.message and "Parsing aborted" in error.message:
            raise too_complex(
                "tokens", max_tokens, f">{max_tokens}", f"The document has more than {max_tokens} tokens."
            ) from None
        raise


@lru_cache(maxsize=CACHE_SIZE)
def validate_document(schema: GraphQLSchema, document: DocumentNode, hide_suggestions: bool) -> list[GraphQLError]:
    return validate(schema, document, RULES, max_errors=20, hide_suggestions=hide_suggestions)


def inspect(
    schema: GraphQLSchema, document: DocumentNode, limits: OperationLimits, operation: str | None, variables: Any
) -> tuple[CodedError | None, Measure, bool]:
    """The limit broken (if any), the depth and cost, and whether it asks for introspection. Linear time."""
    figures = measure(document)
    error = check(figures, limits)
    if error is not None:
        return error, Measure(0, 0), figures.introspection
    try:
        measured = estimate(schema, document, operation, variables)
    except RecursionError:
        error = too_complex("depth", limits.max_depth, f">{limits.max_depth}", "The operation is nested too deeply.")
        return error, Measure(0, 0), figures.introspection
    if measured.depth > limits.max_depth:
        text = f"The operation is {measured.depth} levels deep; the limit is {limits.max_depth}."
        return too_complex("depth", limits.max_depth, measured.depth, text), measured, figures.introspection
    if measured.cost > limits.max_cost:
        text = f"The operation's estimated cost is {measured.cost}; the limit is {limits.max_cost}."
        return too_complex("cost", limits.max_cost, measured.cost, text), measured, figures.introspection
    return None, measured, figures.introspection


class OperationGuard(SchemaExtension):
    def __init__(self, limits: OperationLimits, edge: Edge | None = None) -> None:
        self.limits = limits
        self.edge = edge
        self.cost: dict[str, Any] | None = None

    @classmethod
    def factory(cls, limits: OperationLimits, edge: Edge | None) -> Callable[[], OperationGuard]:
        return lambda: cls(limits, edge)

    async def _run(self, query: str, function: Callable[..., Any], *args: Any) -> Any:
        if len(query) > self.limits.offload_chars:
            return await asyncio.to_thread(function, *args)
        return function(*args)

    async def on_parse(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        if context.graphql_document is None and context.query:
            refused = prescan(context.query, self.limits)
            if refused is not None:
                raise refused
            context.graphql_document = await self._run(
                context.query, parse_document, context.query, self.limits.max_tokens
            )
        yield

    async def on_validate(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        try:
            await self._guard(context)
        except GraphQLError as error:
            log.info("operation refused: %s", error.message)
            context.pre_execution_errors = [error]
        yield

    async def _guard(self, context: Any) -> None:
        schema, document, query = context.schema._schema, context.graphql_document, context.query or ""
        error, measured, introspection = await self._run(
            query, inspect, schema, document, self.limits, context.operation_name, context.variables
        )
        if error is not None:
            raise error
        caller, edge = context.context, self.edge
        if edge is not None and caller is not None:
            bind(operation=context.operation_name, principal=edge.who(caller))
        production = edge is not None and edge.production
        operator = edge is not None and caller is not None and edge.is_operator(caller)
        if production and introspection and not operator:
            raise CodedError(ErrorCode.FORBIDDEN, "Introspection is open to logged-in operators only.")
        if edge is not None and edge.persisted_only and not operator and not await edge.is_registered(query):
            raise CodedError(
                ErrorCode.FORBIDDEN, "Only registered operations run here.", reason="OPERATION_NOT_REGISTERED"
            )
        errors = await self._run(query, validate_document, schema, document, production)
        context.pre_execution_errors = errors
        if errors:
            return
        self.cost = {"requestedQueryCost": measured.cost, "maximumQueryCost": self.limits.max_cost}
        if edge is not None and caller is not None:
            self.cost["throttleStatus"] = await edge.charge(caller, max(1, measured.cost))

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}
