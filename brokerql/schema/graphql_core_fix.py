"""Guard against graphql-core 3.3.2's subscription leak.

Each subscription event runs on a shallow copy of the operation's executor. The copy shares the
`_relevant_sub_fields` memo, which is keyed by the identity of per-event field lists, so it gains an
entry for every object field of every delivered event and is never freed: about 1.9 KB per message
per live subscription. A per-event executor gets its own memo here; the memo still serves the lists
inside one event, which is what it exists for. tests/unit/test_graphql_core_fix.py proves it stays flat.
"""

from __future__ import annotations

from typing import Any

from graphql.execution.executor import Executor

_original = Executor.build_per_event_executor


def _build_per_event_executor(self: Executor, payload: Any) -> Executor:
    executor = _original(self, payload)
    executor._relevant_sub_fields = {}
    return executor


def install() -> None:
    if Executor.build_per_event_executor is not _build_per_event_executor:
        Executor.build_per_event_executor = _build_per_event_executor  # type: ignore[method-assign]


install()
