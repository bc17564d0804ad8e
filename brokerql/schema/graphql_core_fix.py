"""Two changes to how graphql-core 3.3.2 runs subscription events.

1. The leak. Each event runs on a shallow copy of the operation's executor. The copy shares the
   `_relevant_sub_fields` memo, keyed by the identity of per-event field lists, so it gains an entry for
   every object field of every delivered event and is never freed: about 1.9 KB per message per live
   subscription. A per-event executor gets its own memo here; the memo still serves the lists inside
   one event, which is what it exists for. tests/unit/test_graphql_core_fix.py proves it stays flat.

2. Shared event results. When thousands of clients follow the same quote, running each one's selection
   set on the same snapshot is the main cost of a push (see docs/performance.md, Capacity). A payload
   that offers a result cache (`shared_results`, a dict on the object, e.g. `Quote`) is executed once per
   (operation, variables, viewer key) and the result is handed to every subscriber with the same key.
   The viewer key must capture everything that changes the result for the caller: the subscription sets
   `context.shared_event_key` (e.g. the caller's entitlement set) right before it yields the payload.
   Without a key, or for payloads without a cache, every event is executed as usual.

3. The broadcast path (subscriptions/push_channel.py) learns the operation's executor here, from the
   first event strawberry runs, and executes later events with it once per key.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from graphql.execution.executor import Executor

_original = Executor.build_per_event_executor

# What runs the current task's operation on the broadcast path (a PushChannel), told the executor of
# each event strawberry runs for it. Set per graphql-transport-ws operation task.
EXECUTOR_LISTENER: contextvars.ContextVar[Any] = contextvars.ContextVar("executor_listener", default=None)


def _variables_key(executor: Executor) -> str:
    coerced = getattr(executor.variable_values, "coerced", None) or {}
    return repr(sorted(coerced.items()))


def _share(executor: Executor, cache: dict[Any, Any], viewer_key: Any) -> None:
    """Make `executor.execute_operation` answer from `cache` when another subscriber already ran it."""
    operation = executor.operation
    key = (id(operation), _variables_key(executor), viewer_key)
    run = executor.execute_operation

    def execute_operation(serially: bool | None = None) -> Any:
        hit = cache.get(key)
        if hit is not None and hit[0] is operation:  # the same operation, not one that reused a freed id
            return hit[1]
        result = run(serially)
        if executor.is_awaitable(result):
            # Concurrent subscribers of the same event await one execution.
            result = asyncio.ensure_future(result)
        cache[key] = (operation, result)  # holding the operation keeps its id from being reused
        return result

    executor.execute_operation = execute_operation  # type: ignore[method-assign]


def fresh_event_executor(operation_executor: Executor, payload: Any) -> Executor:
    """The executor of one event, with its own memo (fix 1) and no shared result (fix 2)."""
    executor = _original(operation_executor, payload)
    executor._relevant_sub_fields = {}
    return executor


def _build_per_event_executor(self: Executor, payload: Any) -> Executor:
    executor = fresh_event_executor(self, payload)
    listener = EXECUTOR_LISTENER.get()
    if listener is not None:  # the broadcast path runs later events with this operation's executor
        listener.learn_executor(self)
    cache = getattr(payload, "shared_results", None)
    viewer_key = getattr(self.context_value, "shared_event_key", None)
    if cache is not None and viewer_key is not None:
        _share(executor, cache, viewer_key)
    return executor


def install() -> None:
    if Executor.build_per_event_executor is not _build_per_event_executor:
        Executor.build_per_event_executor = _build_per_event_executor  # type: ignore[method-assign]


install()
