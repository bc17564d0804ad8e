"""The operation guard: parse, limits, gates, validation and the cost budget, before anything executes.

One extension (per request: strawberry builds it from a factory) replaces ParserCache and ValidationCache:

1. parse with graphql-core's `max_tokens` (cached by text);
2. the linear limits of `operation_limits` (aliases, repeated fields, fragment spreads, directives), then
   the fields validation would compare once fragments are expanded (`overlappingFields`, `expandedFields`);
3. depth and estimated cost (`cost`), against `max_depth` and `max_cost`;
4. in production: introspection for operators only, and only registered operations if so configured;
5. validation, remembered for documents that validated;
6. the caller's cost budget (`brokerql.api.quotas`), charged with the estimate.

A new document over 1 KiB, of more than `offload_tokens` tokens (counted by the prescan), or whose
validation compares more than `offload_pairs` field pairs, is checked (1-5) in a worker process
(schema/guard_process.py), so that it cannot hold the event loop (every stream and /healthz) while it
is read; without one (`BROKERQL_GUARD_PROCESSES=0`) in a worker thread. The limits bound what either
spends. The caches (schema/document_cache.py) keep no refused document. The cost is reported in each
response's `extensions.cost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from brokerql.logs import bind
from brokerql.schema.cost import Measure
from brokerql.schema.document_cache import (
    PRESCAN_ON_LOOP_CHARS,
    forget,
    inspected,
    parse_document,
    parsed,
    prescan_cached,
    prescanned,
    remember,
    thaw,
    validate_document,
    validated,
)
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.inspection import inspect_cached
from brokerql.schema.operation_limits import OperationLimits
from brokerql.schema.scalars import nul_refusal

if TYPE_CHECKING:
    from brokerql.schema.guard_process import DocumentChecks, Examined

log = logging.getLogger("brokerql.limits")


class Edge(Protocol):
    """What the guard asks of the deployment (brokerql.api.edge.Edge); None when run bare (tests, SDL)."""

    production: bool
    persisted_only: bool
    checks: DocumentChecks  # the worker processes (schema/guard_process.py)

    def is_operator(self, context: Any) -> bool: ...

    def who(self, context: Any) -> str: ...

    async def is_registered(self, query: str) -> bool: ...

    async def charge(self, context: Any, cost: int) -> dict[str, Any]: ...


def int_variables(variables: Any) -> tuple[tuple[str, int], ...]:
    """The variables a cost estimate can depend on (`first` is an Int): the rest of the cache key."""
    if not isinstance(variables, dict):
        return ()
    return tuple(sorted((k, v) for k, v in variables.items() if isinstance(v, int) and not isinstance(v, bool)))


def admitted(
    schema: Any, query: str, limits: OperationLimits, operation_name: str | None, variables: Any, production: bool
) -> Measure | None:
    """The measure of a document that this process's guard admitted before with these inputs, read from
    its caches only (limits, depth and cost, validation); None when that is not known without running it.
    Introspection in production is never admitted here: it depends on who asks. The caller's cost budget
    and the production gates that need the caller are still the caller's to apply."""
    found = inspected((schema, query, limits, operation_name, int_variables(variables)))
    if found is None or found[0] is not None or (production and found[2]):
        return None
    return found[1] if validated(schema, query, limits.max_tokens, production) else None


def cost_report(measured: Measure, limits: OperationLimits) -> dict[str, Any]:
    """The response's `extensions.cost`, before the charge adds `throttleStatus`."""
    return {"requestedQueryCost": measured.cost, "maximumQueryCost": limits.max_cost}


async def charge(edge: Edge, caller: Any, report: dict[str, Any]) -> None:
    """Charge the estimate to the caller's budget (at least a point); RATE_LIMITED when it is spent."""
    report["throttleStatus"] = await edge.charge(caller, max(1, report["requestedQueryCost"]))


def bind_caller(edge: Edge, caller: Any, operation_name: str | None) -> None:
    """The operation and the caller on the request's log lines."""
    bind(operation=operation_name, principal=edge.who(caller))


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
        self.offload = False  # set by the prescan: a document this large is parsed and checked off the loop
        self.examined: Examined | None = None  # a worker process's verdict on the document

    @classmethod
    def factory(cls, limits: OperationLimits, edge: Edge | None) -> Callable[[], OperationGuard]:
        return lambda: cls(limits, edge)

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        if self.offload:
            return await asyncio.to_thread(function, *args)
        return function(*args)

    async def _examine(self, context: Any) -> Examined | None:
        """Everything checked in a worker process; None when there is none (then: threads, as before)."""
        checks = self.edge.checks if self.edge is not None else None
        if checks is None or not checks.running:
            return None
        variables, hide = int_variables(context.variables), bool(self.edge and self.edge.production)
        self.examined = await checks.examine(context.query, self.limits, context.operation_name, variables, hide)
        examined = self.examined
        if examined is not None and (refused := thaw(examined.refusal) or examined.syntax_error(context.query)):
            raise refused  # what the prescan or the parser would have raised here
        return examined

    async def on_parse(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        if (nul := nul_refusal(context.query or "", context.variables)) is not None:
            raise nul
        if context.graphql_document is None and context.query:
            query, limits = context.query, self.limits
            if len(query) > PRESCAN_ON_LOOP_CHARS and not prescanned(query, limits):
                if (examined := await self._examine(context)) is not None:
                    frozen, tokens = None, examined.tokens
                else:
                    frozen, tokens = await asyncio.to_thread(prescan_cached, query, limits)
            else:
                frozen, tokens = prescan_cached(query, limits)
            if (refused := thaw(frozen)) is not None:
                raise refused
            self.offload = tokens > self.limits.offload_tokens
            if self.offload and self.examined is None and not parsed(query, limits.max_tokens):
                await self._examine(context)
            if self.examined is not None and not self.examined.accepted:
                # Refused by a limit or by validation, answered in `on_validate`: it will not run, so it
                # is not parsed here; strawberry reads only the operation's type and name meanwhile.
                context.graphql_document = self.examined.stand_in()
            else:
                context.graphql_document = await self._run(parse_document, query, limits.max_tokens)
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
        key = (schema, query, self.limits, context.operation_name, int_variables(context.variables))
        examined = self.examined
        found = examined.inspection if examined is not None else None
        frozen, measured, introspection, pairs = found or await self._run(inspect_cached, key)
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
            bind_caller(edge, caller, context.operation_name)
        production = edge is not None and edge.production

        def operator() -> bool:  # asked only where a gate applies: it reads headers and the cookie
            return edge is not None and caller is not None and edge.is_operator(caller)

        if production and introspection and not operator():
            raise CodedError(ErrorCode.FORBIDDEN, "Introspection is open to logged-in operators only.")
        if edge is not None and edge.persisted_only and not operator() and not await edge.is_registered(query):
            raise CodedError(
                ErrorCode.FORBIDDEN, "Only registered operations run here.", reason="OPERATION_NOT_REGISTERED"
            )
        # A small document is validated on the loop (1-5 ms for a new one: graphql-core sets its rules'
        # visitors up per call). Validating every new one off the loop kept the loop freer, but let an
        # HTTP request overtake a subscription that was opened before it (the stream then missed the
        # first event of an order placed right after subscribing).
        if validated(schema, query, self.limits.max_tokens, production):
            errors: list[GraphQLError] = []
        elif examined is not None or (pairs > self.limits.offload_pairs and await self._examine(context)):
            examined = self.examined
            assert examined is not None
            errors = examined.validation_errors(query)
            if not errors:
                remember(key, examined.tokens, (None, measured, introspection, pairs), production)
        else:
            self.offload = self.offload or pairs > self.limits.offload_pairs
            errors = await self._run(validate_document, schema, query, self.limits.max_tokens, production)
        context.pre_execution_errors = errors
        if errors:
            forget(query, self.limits.max_tokens)
            return
        self.cost = cost_report(measured, self.limits)
        if edge is not None and caller is not None:
            await charge(edge, caller, self.cost)

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.cost} if self.cost is not None else {}
