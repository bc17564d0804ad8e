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
from strawberry.types.graphql import OperationType

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


# The caches below are keyed by the document's text, whose hash Python keeps, not by the parsed
# document: a DocumentNode hashes its whole tree (about 20 us for a small query) on every lookup.
@lru_cache(maxsize=CACHE_SIZE)
def validate_document(schema: GraphQLSchema, query: str, max_tokens: int, hide_suggestions: bool) -> list[GraphQLError]:
    document = parse_document(query, max_tokens)
    return validate(schema, document, RULES, max_errors=20, hide_suggestions=hide_suggestions)


Frozen = tuple[str, tuple[tuple[str, Any], ...]] | None  # an error as (message, extensions): safe to cache


def freeze(error: CodedError | None) -> Frozen:
    return None if error is None else (error.message, tuple((error.extensions or {}).items()))


def thaw(frozen: Frozen) -> CodedError | None:
    if frozen is None:
        return None
    extensions = dict(frozen[1])
    return CodedError(ErrorCode(extensions.pop("code")), frozen[0], **extensions)


@lru_cache(maxsize=CACHE_SIZE)
def prescan_cached(query: str, limits: OperationLimits) -> Frozen:
    return freeze(prescan(query, limits))


def int_variables(variables: Any) -> tuple[tuple[str, int], ...]:
    """The variables a cost estimate can depend on (`first` is an Int): the rest of the cache key."""
    if not isinstance(variables, dict):
        return ()
    return tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, int) and not isinstance(v, bool)))


@lru_cache(maxsize=CACHE_SIZE)
def inspect_cached(
    schema: GraphQLSchema,
    query: str,
    limits: OperationLimits,
    operation: str | None,
    variables: tuple[tuple[str, int], ...],
) -> tuple[Frozen, Measure, bool]:
    document = parse_document(query, limits.max_tokens)
    error, measured, introspection = inspect(schema, document, limits, operation, dict(variables))
    return freeze(error), measured, introspection


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


def _subscription_over_http(context: Any) -> bool:
    """A subscription document that arrived as an HTTP request rather than on a socket."""
    request = getattr(context.context, "request", None)
    if request is None or getattr(request, "scope", {}).get("type") != "http":
        return False
    try:
        return context.operation_type is OperationType.SUBSCRIPTION
    except Exception:  # no single operation to pick (validation reports that with its own code)
        return False


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
            refused = thaw(prescan_cached(context.query, self.limits))
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
            context.pre_execution_errors = [error]  # classified and logged (INFO) with the others
        yield

    async def _guard(self, context: Any) -> None:
        schema, query = context.schema._schema, context.query or ""
        frozen, measured, introspection = await self._run(
            query,
            inspect_cached,
            schema,
            query,
            self.limits,
            context.operation_name,
            int_variables(context.variables),
        )
        if frozen is not None:
            raise thaw(frozen)
        caller, edge = context.context, self.edge
        if _subscription_over_http(context):
            raise CodedError(
                ErrorCode.BAD_USER_INPUT,
                "Subscriptions run over WebSocket (graphql-transport-ws) at /graphql, not over HTTP.",
                reason="SUBSCRIPTION_OVER_HTTP",
            )
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
        errors = await self._run(query, validate_document, schema, query, self.limits.max_tokens, production)
        context.pre_execution_errors = errors
        if errors:
            return
        self.cost = {"requestedQueryCost": measured.cost, "maximumQueryCost": self.limits.max_cost}
        if edge is not None and caller is not None:
            self.cost["throttleStatus"] = await edge.charge(caller, max(1, measured.cost))

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}
