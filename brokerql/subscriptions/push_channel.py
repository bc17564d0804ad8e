"""The broadcast path of `quotes`: one execution and one serialization per (snapshot, selection, viewer).

Strawberry runs and serializes every event once per subscriber (~100x the CPU of writing the same bytes
to a socket). For a quote, every subscriber with the same selection set and the same entitlements gets
the same `next` payload, so a `PushChannel` (one per graphql-transport-ws operation, made by
`api/http_view.ProtocolHandler`) writes a pre-serialized frame straight to the socket instead: the
payload text is built once per key and shared (cached on the snapshot's shared `Quote`), and only the
subscription `id` and the subscriber's own `extensions` (the operation cost it was charged at
subscribe time) are spliced around it.

What strawberry still does, so the protocol's semantics do not move: validation and every refusal
before the stream starts, the first event of each stream (from which the channel learns the operation's
executor and the subscriber's `extensions`, `learn_*`), a stream's error and its `complete`, and a
client's `complete`. The resolver only writes while its generator runs, which is between strawberry's
own messages for that id, so no `next` can follow the `complete` or `error` of its operation; and a frame
is never written once strawberry marked the operation completed.

Per-field entitlements are applied by the execution itself (the Level-2 fields' permission checks run
with the first subscriber of the key's context), so the viewer key must capture every entitlement that
can change a quote's rendering (subscriptions/quotes.viewer_key). Slow consumers: the resolver awaits
the socket's write (uvicorn waits while the transport is paused), and meanwhile the bus's conflated
subscription keeps only the newest snapshot per symbol: latest wins, nothing queues without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import msgspec
from graphql import ExecutionResult, FieldNode, OperationDefinitionNode, VariableNode, visit
from graphql.language import Visitor
from strawberry.http.exceptions import WebSocketDisconnected

from brokerql.monitor import prometheus as metrics
from brokerql.schema.graphql_core_fix import EXECUTOR_LISTENER, fresh_event_executor

_encode = msgspec.json.Encoder().encode


def current() -> PushChannel | None:
    """The channel of the graphql-transport-ws operation running in this task (None elsewhere: HTTP,
    tests that call the schema directly)."""
    listener = EXECUTOR_LISTENER.get()
    return listener if isinstance(listener, PushChannel) else None


def attach(channel: PushChannel) -> None:
    """Make `channel` the current task's (api/http_view.ProtocolHandler.run_operation, in the operation's task)."""
    EXECUTOR_LISTENER.set(channel)


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)


# id(operation) -> (operation, names of the variables its root field's selection uses)
_selection_variables: dict[int, tuple[OperationDefinitionNode, frozenset[str]]] = {}


def selection_variables(operation: OperationDefinitionNode, fragments: dict[str, Any]) -> frozenset[str]:
    """Variables that can change what the root field's selection renders (not its arguments: `symbols`
    picks the snapshots, it does not change how one is rendered, so subscribers of different symbol
    lists share a frame). Fragments are counted whole, which is conservative."""
    cached = _selection_variables.get(id(operation))
    if cached is not None and cached[0] is operation:
        return cached[1]
    collector = _Variables()
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                visit(selection.selection_set, collector)
            for directive in selection.directives or ():
                visit(directive, collector)
        else:
            visit(selection, collector)
    for fragment in fragments.values():
        visit(fragment, collector)
    names = frozenset(collector.names)
    if len(_selection_variables) > 10_000:  # documents come and go; the map must not grow for ever
        _selection_variables.clear()
    _selection_variables[id(operation)] = (operation, names)
    return names


def shared_payload(result: ExecutionResult) -> str:
    """`{"data":...[,"errors":[...]]` of a `next` payload, without its closing brace (extensions follow)."""
    text = '{"data":' + _encode(result.data).decode()
    if result.errors:
        text += ',"errors":' + _encode([error.formatted for error in result.errors]).decode()
    return text


class PushChannel:
    """Writes one operation's `next` frames to its socket, bypassing strawberry's per-event loop."""

    def __init__(self, handler: Any, operation: Any) -> None:
        self.handler, self.operation = handler, operation
        self.prefix = '{"id":' + _encode(operation.id).decode() + ',"type":"next","payload":'
        self.suffix: str | None = None  # learnt from the first `next` strawberry sends for this operation
        self.executor: Any = None  # learnt from the first event strawberry executes for this operation
        self._key: tuple[int, str] | None = None
        self._pushes: Any = None
        self._figures: Any = None

    # -- learnt from strawberry's own path ------------------------------------------------------------
    def learn_executor(self, executor: Any) -> None:
        if self.executor is None:
            self.executor = executor

    def learn_payload(self, payload: dict[str, Any]) -> None:
        if self.suffix is None:
            extensions = payload.get("extensions")
            self.suffix = (',"extensions":' + _encode(extensions).decode() if extensions else "") + "}}"

    @property
    def ready(self) -> bool:
        return self.executor is not None and self.suffix is not None

    # -- the broadcast path ---------------------------------------------------------------------------
    def selection_key(self) -> tuple[int, str]:
        """The operation and the values of the variables its selection uses: what a frame depends on
        besides the snapshot and the viewer."""
        if self._key is None:
            executor = self.executor
            names = selection_variables(executor.operation, executor.fragments)
            values = getattr(executor.variable_values, "coerced", None) or {}
            used = sorted((name, repr(values.get(name))) for name in names)
            self._key = (id(executor.operation), repr(used))
        return self._key

    async def push(self, quote: Any, viewer: Any) -> None:
        """Write this snapshot's frame for the subscriber's selection and viewer (built once per key).
        `viewer.key()` is the subscriber's entitlement set now (subscriptions/quotes.Viewer)."""
        frames: dict[Any, Any] = quote.frames
        viewer_key = await viewer.key()
        key = (*self.selection_key(), viewer_key)
        # Entries hold their operation: the key has its id, which a document freed meanwhile could pass on.
        operation = self.executor.operation
        entry = frames.get(key)
        if entry is None or entry[0] is not operation:  # the first subscriber of this key renders it
            rendered = self._render(quote)
            if not isinstance(rendered, tuple):  # an async field: concurrent subscribers await one run
                future = asyncio.ensure_future(rendered)
                frames[key] = (operation, future)
                rendered = await asyncio.shield(future)  # shield: one leaving cancels nothing
            payload, shareable = rendered
            if shareable and await viewer.key() == viewer_key:
                frames[key] = (operation, payload)
            else:  # the entitlements moved while it ran, or an error of this subscriber's own
                frames.pop(key, None)
        elif isinstance(entry[1], str):
            payload = entry[1]
        else:
            await asyncio.shield(entry[1])
            done = frames.get(key)
            if done is not None and done[0] is operation and isinstance(done[1], str):
                payload = done[1]
            else:  # the renderer's result was not for everyone: render our own
                rendered = self._render(quote)
                payload, _ = rendered if isinstance(rendered, tuple) else await rendered
        await self._send(self.prefix + payload + self.suffix)  # type: ignore[operator]

    def _render(self, quote: Any) -> tuple[str, bool] | Awaitable[tuple[str, bool]]:
        """The shared part of the frame, and whether it may be shared: the execution ran with this
        subscriber's context, so only errors that the viewer key decides (FORBIDDEN: an entitlement
        the set lacks) may go to others; an UNAUTHENTICATED of a revoked session, say, may not.
        Synchronous when every resolved field is (Level-1 fields are): no task per snapshot then."""
        executor = self.executor
        result = fresh_event_executor(executor, quote).execute_operation()
        if executor.is_awaitable(result):
            return self._finish_async(result)
        return self._finish(result)

    async def _finish_async(self, pending: Awaitable[ExecutionResult]) -> tuple[str, bool]:
        return self._finish(await pending)

    def _finish(self, result: ExecutionResult) -> tuple[str, bool]:
        if result.errors:
            self.handler.schema.process_errors(result.errors)  # codes and logging, once per key
        shareable = all((error.extensions or {}).get("code") == "FORBIDDEN" for error in result.errors or ())
        return shared_payload(result), shareable

    async def _send(self, frame: str) -> None:
        if self.operation.completed:  # strawberry sent this id's complete or error: nothing may follow
            return
        try:
            await self.handler.websocket.ws.send_text(frame)
        except Exception as exc:  # the socket went away: end as strawberry's own send would
            raise WebSocketDisconnected from exc
        if self._pushes is None:
            self._pushes = metrics.PUSHES.labels("quotes")
            container = getattr(self.handler.context, "container", None)
            self._figures = getattr(getattr(container, "monitor", None), "figures", None)
        self._pushes.inc()
        if self._figures is not None:
            self._figures.pushes.add()
