"""One `quotes` operation's side of the broadcast path: what its frames are keyed by, how a snapshot's
payload is rendered once per key, and writing a frame to its socket without a task per write.

Strawberry runs and serializes every event once per subscriber (~100x the CPU of writing the same bytes
to a socket). For a quote, every subscriber with the same selection set and the same entitlements gets
the same `next` payload, so a `PushChannel` (one per graphql-transport-ws operation, made by
`api/ws_protocol.ProtocolHandler`) renders the payload text once per key (cached on the snapshot's shared
`Quote`) and writes it with only its subscription `id` and its own `extensions` (the operation cost it
was charged at subscribe time) spliced around it. Who calls it per snapshot: the group writer
(subscriptions/quote_fanout.py); `orderEvents` likewise, per (event, selection) (subscriptions/order_fanout.py).

What strawberry still does, so the protocol's semantics do not move: validation and every refusal
before the stream starts, the first event of each stream (from which the channel learns the operation's
executor and the subscriber's `extensions`, `learn_*`), a stream's error and its `complete`, and a
client's `complete` (`ended`, set before strawberry cancels the stream). A frame is never written once
strawberry marked the operation completed.

Per-field entitlements are applied by the execution itself (the Level-2 fields' permission checks run
with the context of the subscriber that renders), so the viewer key must capture every entitlement that
can change a quote's rendering (subscriptions/quotes.Viewer.key), and only errors that the key decides
(FORBIDDEN) may be shared.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import msgspec
from graphql import ExecutionResult, FieldNode, OperationDefinitionNode, VariableNode, visit
from graphql.language import Visitor

from brokerql.monitor.connections import ConnectionRegistry
from brokerql.schema.graphql_core_fix import EXECUTOR_LISTENER, fresh_event_executor
from brokerql.schema.types.market import Quote

# (id of the operation, the values of the variables its selection uses, the viewer's entitlement key)
FrameKey = tuple[Any, ...]

_encode = msgspec.json.Encoder().encode


# topic -> (snapshot, Quote built from it). Holding the snapshot keeps its identity from being reused.
_built: dict[str, tuple[dict[str, Any], Quote]] = {}


def shared_quote(topic: str, snapshot: dict[str, Any]) -> Quote:
    """The Quote of this exact snapshot object, built by whichever reader saw it first."""
    cached = _built.get(topic)
    if cached is not None and cached[0] is snapshot:
        return cached[1]
    quote = Quote.from_snapshot(snapshot)
    # Subscribers with the same selection and the same entitlements share one execution per snapshot
    # (brokerql/schema/graphql_core_fix.py) and, on the broadcast path, one serialized payload.
    quote.shared_results = {}  # type: ignore[attr-defined]
    quote.frames = {}  # type: ignore[attr-defined]
    _built[topic] = (snapshot, quote)
    return quote


def current() -> PushChannel | None:
    """The channel of the graphql-transport-ws operation running in this task (None elsewhere: HTTP,
    tests that call the schema directly)."""
    listener = EXECUTOR_LISTENER.get()
    return listener if isinstance(listener, PushChannel) else None


def attach(channel: PushChannel) -> None:
    """Make `channel` the current task's (api/ws_protocol.ProtocolHandler.run_operation, in the operation's task)."""
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


def send_now(send: Callable[[Any], Awaitable[None]], message: Any) -> Awaitable[None] | None:
    """Run an ASGI `send` in the caller's turn up to its first suspension: None when it finished (the
    server took the bytes: uvicorn suspends only while the transport is paused), else an awaitable that
    finishes it. This is what asyncio's eager tasks (3.12) do; here it spares a task per frame."""
    coroutine = send(message)
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return None
    return _resume(coroutine, waiting)


@types.coroutine
def _resume(coroutine: Any, waiting: Any) -> Generator[Any, Any, None]:
    """The rest of a coroutine that `send_now` started: what `await` does (PEP 380), from its middle."""
    while True:
        try:
            sent = yield waiting
        except BaseException as exc:  # thrown in by the awaiting task (a cancellation): the send gets it
            try:
                waiting = coroutine.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting = coroutine.send(sent)
            except StopIteration:
                return


class PushChannel:
    """Renders and writes one operation's `next` frames, beside strawberry's per-event loop."""

    def __init__(self, handler: Any, operation: Any) -> None:
        self.handler, self.operation = handler, operation
        self.prefix = '{"id":' + _encode(operation.id).decode() + ',"type":"next","payload":'
        self.suffix: str | None = None  # learnt from the first `next` strawberry sends for this operation
        self.executor: Any = None  # learnt from the first event strawberry executes for this operation
        self.ended = False  # the client completed the operation, or its stream left the broadcast path
        self._key: tuple[int, str] | None = None
        self._send: Any = None  # the server's own send (found at the first write)
        self._connection: Any = None  # the monitor's view of the socket: it says when it closed it

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

    def shared(self, item: Any, key: FrameKey) -> str | Awaitable[str | None] | None:
        """The payload of `key`'s frame of this item (a snapshot, an order event) for every subscriber of
        the key, rendered with this subscriber's executor unless another one did already (cached in the
        shared item's `frames`); None when this rendering carries an error of this subscriber's own (each
        one renders its own then)."""
        entry = item.frames.get(key)
        if entry is not None and entry[0] is self.executor.operation:
            return entry[1]
        rendered = self._render(item)
        if isinstance(rendered, tuple):
            return self._keep(item, key, *rendered)
        return self._keep_async(item, key, rendered)

    async def own(self, item: Any, key: FrameKey, *, mine: bool = False) -> str:
        """This subscriber's payload of the item: the shared one, or its own rendering (`mine`:
        its rendering carried an error of its own, which the shared payload would hide)."""
        if not mine:
            shared = self.shared(item, key)
            if shared is not None and not isinstance(shared, str):
                shared = await shared
            if shared is not None:
                return shared
        rendered = self._render(item)
        return (rendered if isinstance(rendered, tuple) else await rendered)[0]

    def _keep(self, item: Any, key: FrameKey, payload: str, shareable: bool) -> str | None:
        if not shareable:
            return None
        # Entries hold their operation: the key has its id, which a document freed meanwhile could pass on.
        item.frames[key] = (self.executor.operation, payload)
        return payload

    async def _keep_async(self, item: Any, key: FrameKey, rendering: Awaitable[tuple[str, bool]]) -> str | None:
        return self._keep(item, key, *await rendering)

    def _render(self, item: Any) -> tuple[str, bool] | Awaitable[tuple[str, bool]]:
        """The shared part of the frame, and whether it may be shared: the execution ran with this
        subscriber's context, so only errors that the viewer key decides (FORBIDDEN: an entitlement
        the set lacks) may go to others; an UNAUTHENTICATED of a revoked session, say, may not.
        Synchronous when every resolved field is (Level-1 fields are): no task per snapshot then."""
        executor = self.executor
        result = fresh_event_executor(executor, item).execute_operation()
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

    # -- writing --------------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Nothing may be written for this operation any more: its `complete` or `error` was sent (or the
        client's arrived), or the socket is closing."""
        return self.ended or self.operation.completed or (self._connection is not None and self._connection.closed)

    def write(self, payload: str) -> Awaitable[None] | None:
        """Write the frame of `payload` (the subscription id and this subscriber's `extensions` spliced
        around it) now: None once the transport took it (or the operation is over), else an awaitable
        that finishes the write when the paused transport resumes. Raises when the socket is gone."""
        if self.closed:
            return None
        if self._send is None:
            websocket = self.handler.websocket.ws
            self._connection = ConnectionRegistry.of(websocket)
            self._send = websocket.send if self._connection is None else self._connection.server_send
        frame = self.prefix + payload + self.suffix  # type: ignore[operator]
        return send_now(self._send, {"type": "websocket.send", "text": frame})
