"""Counts every GraphQL operation once, by root field and outcome code, and every pushed result.

A schema extension sees exactly the GraphQL operations (not the GraphiQL page, /healthz or /metrics),
after the errors have their codes (`BrokerSchema.process_errors` runs first). Queries and mutations
are timed; a subscription counts once, with the outcome of its first result, and each pushed result
counts as a push.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from brokerql.monitor import prometheus as metrics


def root_field(execution_context: Any) -> str:
    """The first root field of the operation: a label bounded by the schema (operation names are not)."""
    context = execution_context
    return root_field_of(context.schema._schema, context.graphql_document, context.operation_name)


def root_field_of(schema: Any, document: Any, wanted: str | None) -> str:
    """`root_field` of a document and operation name, for callers without an execution context."""
    if document is None:
        return "unknown"
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if wanted is not None and (definition.name is None or definition.name.value != wanted):
            continue
        root = schema.get_root_type(definition.operation)
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                return name if root is not None and name in root.fields else "unknown"
    return "unknown"


def _codes(errors: list[Any] | None) -> list[str]:
    return sorted({str((error.extensions or {}).get("code", "INTERNAL")) for error in errors or []})


def _figures(execution_context: Any) -> Any:
    return figures_of(execution_context.context)


def figures_of(caller: Any) -> Any:
    """The monitor figures of the caller's process (None for a bare schema)."""
    container = getattr(caller, "container", None)
    return getattr(getattr(container, "monitor", None), "figures", None)


def record(figures: Any, operation: str, kind: str, codes: list[str], seconds: float | None) -> None:
    """One operation's outcome, in the Prometheus registry and the process's monitor figures."""
    metrics.record_operation(operation, kind, codes, seconds)
    if figures is not None:
        figures.record_operation(operation, seconds or 0.0, codes)


class OperationMetrics(SchemaExtension):
    """Feeds both the Prometheus registry and this process's monitor figures."""

    _subscription_counted = False
    _pushes: Any = None
    _figures: Any = None

    def _kind(self) -> str:
        try:
            return self.execution_context.operation_type.value
        except Exception:  # an unparsable document has no operation type
            return "unknown"

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        kind = self._kind()
        if kind == "subscription" and self._subscription_counted:
            return
        context = self.execution_context
        result = context.result
        errors = (getattr(result, "errors", None) if result is not None else None) or context.pre_execution_errors
        self._record(kind, _codes(errors), None if kind == "subscription" else time.perf_counter() - started)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        yield
        if not self._subscription_counted:
            if self._kind() != "subscription":
                return  # a query or mutation sent over the WebSocket: on_operation counts it
            self._subscription_counted = True
            self._record("subscription", _codes(result.errors), None)
            # Looked up once per stream, not per push.
            self._pushes = metrics.PUSHES.labels(root_field(self.execution_context))
            self._figures = _figures(self.execution_context)
        if result.data is not None:
            self._pushes.inc()
            if self._figures is not None:
                self._figures.pushes.add()

    def _record(self, kind: str, codes: list[str], seconds: float | None) -> None:
        record(_figures(self.execution_context), root_field(self.execution_context), kind, codes, seconds)
