"""The operation guard: parse, limits, gates, validation and the cost budget, before anything executes.

One extension (per request: strawberry builds it from a factory) replaces ParserCache and ValidationCache:

1. parse with graphql-core's `max_tokens` (cached by text);
2. the linear limits of `operation_limits` (aliases, repeated fields, fragment spreads, directives), then
   the fields validation would compare once fragments are expanded (`overlappingFields`, `expandedFields`);
3. depth and estimated cost (`cost`), against `max_depth` and `max_cost`;
4. in production: introspection for operators only, and only registered operations if so configured;
5. validation, remembered for documents that validated (in a worker thread for a large document, or one
   whose validation compares many field pairs);
6. the caller's cost budget (`brokerql.api.quotas`), charged with the estimate.

Documents of more than `offload_tokens` tokens (counted by the prescan) are parsed and checked in a
worker thread, so a large document cannot hold the event loop (every stream and /healthz) while it is
read; the limits bound what the thread spends. The caches keep no refused document. The cost is
reported in each response's `extensions.cost`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from typing import Any, Protocol

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from brokerql.logs import bind
from brokerql.schema.cost import Measure, estimate
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.operation_limits import (
    OperationLimits,
    check,
    check_overlaps,
    measure,
    prescan,
    too_complex,
)
from brokerql.schema.scalars import nul_refusal

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


# Parsed documents by text, bounded by the text's total length rather than a count: a syntax tree is
# thousands of objects, so a thousand large documents (an attacker's, each made unique) would hold
# millions, and every full garbage collection would scan them (measured: loop stalls of ~1 s). A
# document refused before it runs is dropped from it (`forget`). Parsing happens in worker threads too.
PARSED_CHARS = 512 * 1024
_parsed: LRUCache[tuple[str, int], tuple[DocumentNode, int]] = LRUCache(PARSED_CHARS, getsizeof=lambda v: v[1])
_parsed_lock = threading.Lock()


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    key = (query, max_tokens)
    with _parsed_lock:
        cached = _parsed.get(key)
    if cached is not None:
        return cached[0]
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError as error:
        if "tokens" in error.message and "Parsing aborted" in error.message:
            raise too_complex(
                "tokens", max_tokens, f">{max_tokens}", f"The document has more than {max_tokens} tokens."
            ) from None
        raise
    if len(query) <= PARSED_CHARS // 8:
        with _parsed_lock:
            _parsed[key] = (document, max(1, len(query)))
    return document


def forget(query: str, max_tokens: int) -> None:
    """Drop a refused document's syntax tree: it will not run, so keeping it only costs memory and GC."""
    with _parsed_lock:
        _parsed.pop((query, max_tokens), None)


# The caches below are keyed by the document's text, whose hash Python keeps, not by the parsed
# document: a DocumentNode hashes its whole tree (about 20 us for a small query) on every lookup.
# Only documents that validated are remembered: an error holds the nodes (so the whole tree) of its document.
_validated: LRUCache[tuple[GraphQLSchema, str, int, bool], bool] = LRUCache(CACHE_SIZE)


def validated(schema: GraphQLSchema, query: str, max_tokens: int, hide_suggestions: bool) -> bool:
    """Whether this document validated before (then `validate_document` is a lookup)."""
    with _parsed_lock:
        return (schema, query, max_tokens, hide_suggestions) in _validated


def validate_document(schema: GraphQLSchema, query: str, max_tokens: int, hide_suggestions: bool) -> list[GraphQLError]:
    key = (schema, query, max_tokens, hide_suggestions)
    if validated(*key):
        return []
    errors = validate(
        schema, parse_document(query, max_tokens), RULES, max_errors=20, hide_suggestions=hide_suggestions
    )
    if not errors:
        with _parsed_lock:
            _validated[key] = True
    return errors


Frozen = tuple[str, tuple[tuple[str, Any], ...]] | None  # an error as (message, extensions): safe to cache


def freeze(error: CodedError | None) -> Frozen:
    return None if error is None else (error.message, tuple((error.extensions or {}).items()))


def thaw(frozen: Frozen) -> CodedError | None:
    if frozen is None:
        return None
    extensions = dict(frozen[1])
    return CodedError(ErrorCode(extensions.pop("code")), frozen[0], **extensions)


# The prescan reads up to `max_tokens` tokens at ~1.5 us each in Python: a document longer than this many
# characters (which may hold that many) is prescanned in a worker thread unless its result is known.
PRESCAN_ON_LOOP_CHARS = 1024
# Bounded by the text it keys (4 MiB in all), not a count: a thousand 64 KiB documents would be 64 MiB.
_prescanned: LRUCache[tuple[str, OperationLimits], tuple[Frozen, int, int]] = LRUCache(
    4 * 1024 * 1024, getsizeof=lambda v: v[2]
)


def prescan_cached(query: str, limits: OperationLimits) -> tuple[Frozen, int]:
    """The prescan's refusal (frozen) and the document's number of tokens."""
    with _parsed_lock:
        known = _prescanned.get((query, limits))
    if known is not None:
        return known[0], known[1]
    error, tokens = prescan(query, limits)
    with _parsed_lock:
        _prescanned[(query, limits)] = (freeze(error), tokens, max(1, len(query)))
    return freeze(error), tokens


def prescanned(query: str, limits: OperationLimits) -> bool:
    with _parsed_lock:
        return (query, limits) in _prescanned


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
) -> tuple[Frozen, Measure, bool, int]:
    document = parse_document(query, limits.max_tokens)
    error, measured, introspection, pairs = inspect(schema, document, limits, operation, dict(variables))
    return freeze(error), measured, introspection, pairs


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
        self.offload = False  # set by the prescan: a document this large is parsed and checked in a thread

    @classmethod
    def factory(cls, limits: OperationLimits, edge: Edge | None) -> Callable[[], OperationGuard]:
        return lambda: cls(limits, edge)

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self.offload:
            return await asyncio.to_thread(function, *args)
        return function(*args)

    async def on_parse(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        if (nul := nul_refusal(context.query or "", context.variables)) is not None:
            raise nul
        if context.graphql_document is None and context.query:
            query, limits = context.query, self.limits
            if len(query) > PRESCAN_ON_LOOP_CHARS and not prescanned(query, limits):
                frozen, tokens = await asyncio.to_thread(prescan_cached, query, limits)
            else:
                frozen, tokens = prescan_cached(query, limits)
            if (refused := thaw(frozen)) is not None:
                raise refused
            self.offload = tokens > self.limits.offload_tokens
            context.graphql_document = await self._run(parse_document, context.query, self.limits.max_tokens)
        yield

    async def on_validate(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        try:
            await self._guard(context)
        except GraphQLError as error:
            forget(context.query or "", self.limits.max_tokens)
            context.pre_execution_errors = [error]  # classified and logged (INFO) with the others
        yield

    async def _guard(self, context: Any) -> None:
        schema, query = context.schema._schema, context.query or ""
        frozen, measured, introspection, pairs = await self._run(
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
        # A small document is validated on the loop (1-5 ms for a new one: graphql-core sets its rules'
        # visitors up per call). Validating every new one in a thread kept the loop freer, but let an
        # HTTP request overtake a subscription that was opened before it (the stream then missed the
        # first event of an order placed right after subscribing).
        if validated(schema, query, self.limits.max_tokens, production):
            errors: list[GraphQLError] = []
        else:
            self.offload = self.offload or pairs > self.limits.offload_pairs
            errors = await self._run(validate_document, schema, query, self.limits.max_tokens, production)
        context.pre_execution_errors = errors
        if errors:
            forget(query, self.limits.max_tokens)
            return
        self.cost = {"requestedQueryCost": measured.cost, "maximumQueryCost": self.limits.max_cost}
        if edge is not None and caller is not None:
            self.cost["throttleStatus"] = await edge.charge(caller, max(1, measured.cost))

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}
