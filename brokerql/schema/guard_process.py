"""Large or heavy documents checked in a worker process, so that their CPU never holds the event loop.

The guard (schema/guard.py) used worker threads for documents over 1 KiB, over `offload_tokens` tokens,
or whose validation compares more than `offload_pairs` field pairs. A thread still holds the GIL, and
it keeps it between each of the event loop's system calls (the convoy effect): one client sending such
documents back to back kept a /healthz probe waiting 230-350 ms at the p99 (docs/performance.md). In a
process of its own the same work (prescan, parse, limits, cost, validation: 10-15 ms of CPU for such a
document) leaves the loop's GIL alone; what crosses is the text and the verdict (coded refusal, syntax
error, figures, validation errors). An accepted document is parsed again by the serving process: its
syntax tree pickles to ~25 times the text and unpickles in 65-95% of the time a parse takes (measured).

`BROKERQL_GUARD_PROCESSES` (default 1) sets the number of worker processes; 0 keeps the worker threads.
The pool is started with the app (`brokerql serve`) and shut down with it; without it (0, or an app
whose lifespan does not run) the guard falls back to threads.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Source,
    validate,
)

from brokerql.schema.document_cache import RULES, Frozen, Inspected, freeze, parse_limited
from brokerql.schema.errors import CodedError
from brokerql.schema.inspection import inspect
from brokerql.schema.operation_limits import OperationLimits, prescan

log = logging.getLogger("brokerql.limits")

# (message, positions in the text, extensions): a validation error without its syntax nodes.
PlainError = tuple[str, tuple[int, ...] | None, tuple[tuple[str, Any], ...]]
# The operation strawberry will pick: its type, its name, and its first root field (the metrics' label).
Outline = tuple[str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Examined:
    """The verdict on one document, as the guard on the loop would have reached it."""

    tokens: int
    refusal: Frozen = None  # by the prescan or the parser's token limit (raised while parsing)
    syntax: tuple[str, int] | None = None  # a syntax error: its description and position
    inspection: Inspected | None = None  # `guard.inspect`'s, when the document parsed
    errors: tuple[PlainError, ...] = ()  # validation's, when `inspection` refused nothing
    outline: Outline | None = None

    @property
    def accepted(self) -> bool:
        return self.inspection is not None and self.inspection[0] is None and not self.errors

    def syntax_error(self, query: str) -> GraphQLSyntaxError | None:
        return None if self.syntax is None else GraphQLSyntaxError(Source(query), self.syntax[1], self.syntax[0])

    def validation_errors(self, query: str) -> list[GraphQLError]:
        source = Source(query)  # locations come from the positions in it, as from the nodes
        return [
            GraphQLError(message, source=source, positions=positions, extensions=dict(extensions) or None)
            for message, positions, extensions in self.errors
        ]

    def stand_in(self) -> DocumentNode:
        """A document of the operation alone (type, name, first root field), for a document that will
        not run: what strawberry and the metrics read of it before the guard answers with its errors."""
        if self.outline is None:  # no operation to pick: strawberry says so, as for the real document
            return DocumentNode(definitions=())
        kind, name, first = self.outline
        fields = (FieldNode(name=NameNode(value=first), directives=(), arguments=()),) if first else ()
        operation = OperationDefinitionNode(
            operation=OperationType(kind),
            name=NameNode(value=name) if name else None,
            variable_definitions=(),
            directives=(),
            selection_set=SelectionSetNode(selections=fields),
        )
        return DocumentNode(definitions=(operation,))


def outline(document: DocumentNode, wanted: str | None) -> Outline | None:
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if wanted is not None and (definition.name is None or definition.name.value != wanted):
            continue
        first = next((s.name.value for s in definition.selection_set.selections if isinstance(s, FieldNode)), None)
        return definition.operation.value, definition.name.value if definition.name else None, first
    return None


_schema: GraphQLSchema | None = None


def start_worker(parent: int, build_schema: Callable[[], Any]) -> None:
    """In the worker process: build the schema once (the guard validates against the same types).
    `build_schema` is the serving process's own builder, passed by reference (spawn pickles its name)."""
    global _schema
    # First, before the imports (seconds): a parent killed meanwhile must not leave this one waiting.
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()
    # Ctrl-C reaches the whole process group: the serving process shuts its workers down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _schema = build_schema()._schema
    gc.freeze()  # the schema lives as long as the process: full collections need not scan it


def _exit_with(parent: int) -> None:
    """A worker holds both ends of its task queue, so it would wait for tasks forever once the serving
    process is killed (SIGKILL, out of memory): it leaves when its parent does."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def ready() -> bool:
    return _schema is not None


def examine(
    query: str, limits: OperationLimits, operation: str | None, variables: tuple[tuple[str, int], ...], hide: bool
) -> Examined:
    """In the worker process: everything the guard does to a new document before it runs, in its order."""
    assert _schema is not None, "start_worker runs first"
    error, tokens = prescan(query, limits)
    if error is not None:
        return Examined(tokens, refusal=freeze(error))
    try:
        document = parse_limited(query, limits.max_tokens)
    except CodedError as refused:
        return Examined(tokens, refusal=freeze(refused))
    except GraphQLSyntaxError as syntax:
        return Examined(tokens, syntax=(syntax.description, (syntax.positions or [0])[0]))
    refusal, measured, introspection, pairs = inspect(_schema, document, limits, operation, dict(variables))
    inspection = (freeze(refusal), measured, introspection, pairs)
    if refusal is not None:
        return Examined(tokens, inspection=inspection, outline=outline(document, operation))
    errors = validate(_schema, document, RULES, max_errors=20, hide_suggestions=hide)
    plain = tuple(
        (e.message, tuple(e.positions) if e.positions else None, tuple((e.extensions or {}).items())) for e in errors
    )
    return Examined(tokens, inspection=inspection, errors=plain, outline=outline(document, operation))


class DocumentChecks:
    """The worker processes of one app, started and stopped with it."""

    def __init__(self, processes: int, build_schema: Callable[[], Any]) -> None:
        self.processes, self.build_schema = processes, build_schema
        self.checked = 0  # documents the workers gave a verdict on
        self._executor: ProcessPoolExecutor | None = None
        self._warming: list[Future[bool]] = []

    @property
    def running(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        """Spawn the workers (a fresh interpreter each: nothing of the serving process's loop, threads
        or sockets is inherited) and let them build the schema now rather than on the first document."""
        if self.processes <= 0 or self._executor is not None:
            return
        context = multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            self.processes, mp_context=context, initializer=start_worker, initargs=(os.getpid(), self.build_schema)
        )
        self._warming = [self._executor.submit(ready) for _ in range(self.processes)]

    async def started(self) -> None:
        """Wait until the workers have built their schema (the app is ready then: a worker starting up
        takes a core for a few seconds); if they cannot start, the guard uses threads."""
        warming, self._warming = self._warming, []
        try:
            for future in warming:
                await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.exception("the document-check processes did not start; checking in threads")
            executor, self._executor = self._executor, None
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)

    async def stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def examine(self, query: str, limits: OperationLimits, *args: Any) -> Examined | None:
        """`examine` (operation name, Int variables, hide suggestions) in a worker process; None when there
        is none (the caller then checks in a thread)."""
        executor = self._executor
        if executor is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            examined = await loop.run_in_executor(executor, examine, query, limits, *args)
        except BrokenProcessPool:  # a worker died (killed, out of memory): start new ones for the next
            log.warning("a document-check process died; starting new ones")
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
                self.start()
            return None
        self.checked += 1
        return examined
