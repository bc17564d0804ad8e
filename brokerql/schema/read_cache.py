"""Answers to market reads, kept per snapshot: a `quote` query runs once per snapshot and entitlement set.

A `quote` answer is a function of the document, its variables, what the caller is entitled to and the
snapshot it read, and the snapshot is replaced (never changed in place) when the market moves. So a
query whose every root field is declared `KEPT_PER_SNAPSHOT` (and that selects no field declared
`NEVER_KEPT`, such as the clock-dependent `ageSeconds`) is answered from a kept answer when:

- the document, operation name and variables are the same;
- the caller's entitlements are the same (`HeldEntitlements.key`: a partner's scopes, or a tier in one
  version of the tier catalog, so a tier edit or a client's new tier takes the next answer past it);
- every snapshot the answer was computed from is still the latest (`MarketData.peek` returns the same
  object): the read set that `MarketData` noted while it ran (bus/read_set.py).

Only answers without errors are kept. Authentication, the session's idle lock, the rate limit, the
operation guard (limits, cost budget) and metrics run for every request as before; only execution is
skipped. The answer's `extensions` (the cost charged) are the request's own. With Redis, `peek` reads
the process's mirror of the quote topics, which pub/sub fills: a new snapshot is seen when its message
arrives, not when the retained copy is written (they are one pipeline apart).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from brokerql.bus import read_set
from brokerql.monitor import prometheus
from brokerql.schema.entitlements import held_entitlements

KEPT_PER_SNAPSHOT = {"read_cache": "snapshot"}  # field metadata: its answer depends on snapshots only
NEVER_KEPT = {"read_cache": "never"}  # field metadata: computed when answered (the clock, liveness)

MAX_ANSWERS = 4096  # bounds memory against callers that vary variables; the newest are kept
MAX_DOCUMENTS = 1024


def _declared(field_def: Any) -> str | None:
    strawberry_field = (getattr(field_def, "extensions", None) or {}).get("strawberry-definition")
    return (getattr(strawberry_field, "metadata", None) or {}).get("read_cache")


class _Verdict(Visitor):
    """Walks a whole document with its types: keepable when it holds only queries, every root field is
    declared per-snapshot, and no field anywhere is declared never kept."""

    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info, self.query_root = type_info, schema.query_type
        self.keepable = True

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> Any:
        if node.operation is not OperationType.QUERY:
            self.keepable = False
            return self.BREAK
        return None

    def enter_field(self, node: FieldNode, *_: Any) -> Any:
        if node.name.value == "__typename":
            return None
        field_def, declared = self.type_info.get_field_def(), None
        if field_def is not None:
            declared = _declared(field_def)
        at_root = self.type_info.get_parent_type() is self.query_root
        if field_def is None or declared == "never" or (at_root and declared != "snapshot"):
            self.keepable = False
            return self.BREAK
        return None


def keepable(schema: GraphQLSchema, document: DocumentNode) -> bool:
    type_info = TypeInfo(schema)
    verdict = _Verdict(schema, type_info)
    visit(document, TypeInfoVisitor(type_info, verdict))
    return verdict.keepable


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    data: dict[str, Any]
    reads: tuple[tuple[str, Any], ...]  # (topic, the retained message read)


def still_latest(reads: Iterable[tuple[str, Any]], market: Any) -> bool:
    """Whether every snapshot read is still the latest one the process holds (the same object)."""
    return all(message is not None and market.peek(topic) is message for topic, message in reads)


class AnswerCache:
    """One process's kept answers, and its verdicts on documents. The event loop is its only user."""

    def __init__(self) -> None:
        self.answers: LRUCache[Any, KeptAnswer] = LRUCache(maxsize=MAX_ANSWERS)
        self.verdicts: LRUCache[tuple[str, str | None], bool] = LRUCache(maxsize=MAX_DOCUMENTS)

    def keepable(self, schema: GraphQLSchema, query: str, operation_name: str | None, document: Any) -> bool:
        key = (query, operation_name)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = keepable(schema, document)
        return verdict

    def known_keepable(self, query: str, operation_name: str | None) -> bool:
        """Whether this document was judged keepable already (a lookup: no verdict is reached here)."""
        return self.verdicts.get((query, operation_name)) is True

    def current(self, key: Any, market: Any) -> dict[str, Any] | None:
        kept = self.answers.get(key)
        if kept is None:
            return None
        if still_latest(kept.reads, market):
            return kept.data
        del self.answers[key]
        return None

    def keep(self, key: Any, data: dict[str, Any], reads: read_set.Reads, market: Any) -> None:
        if reads and still_latest(reads, market):
            self.answers[key] = KeptAnswer(data, tuple(reads))


def _variables_key(variables: Any) -> Any:
    """A hashable form of the variables: their items when flat scalars (the usual `symbol`), else JSON."""
    if not variables:
        return ()
    if all(isinstance(v, str | int | float | bool | None) for v in variables.values()):
        return tuple(sorted((k, type(v).__name__, v) for k, v in variables.items()))
    try:
        return json.dumps(variables, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def answer_key(query: str, operation_name: str | None, variables: Any, held: Any) -> Any:
    """Where a keepable document's answer for these variables and entitlements is kept (None: not kept)."""
    variables_key = _variables_key(variables)
    if variables_key is None or held is None:
        return None
    return (query, operation_name, variables_key, held.key)


class SnapshotReadCache(SchemaExtension):
    """Answers a keepable query from `AnswerCache`, or runs it and keeps the answer (see the module)."""

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    @classmethod
    def factory(cls, cache: AnswerCache) -> Any:
        return lambda: cls(cache)

    async def _key(self) -> Any:
        context = self.execution_context
        caller, document = context.context, context.graphql_document
        market = getattr(getattr(caller, "container", None), "market", None)
        if market is None or document is None or context.query is None:
            return None
        if not self.cache.keepable(context.schema._schema, context.query, context.operation_name, document):
            return None
        try:
            held = await held_entitlements(caller)
        except Exception:  # no caller to key on now (a bad token, a locked or ended session, the tier
            return None  # unreadable): execution reports it with its code
        return answer_key(context.query, context.operation_name, context.variables, held)

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context
        key = await self._key()
        if key is None:  # not a market read (nor a subscription: its reads are never collected)
            yield
            return
        market = context.context.container.market
        if (data := self.cache.current(key, market)) is not None:
            prometheus.READ_CACHE.labels("hit").inc()
            context.result = ExecutionResult(data=data, errors=None)  # strawberry then skips execution
            yield
            return
        with read_set.tracking() as reads:
            yield
        result = context.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data:
            prometheus.READ_CACHE.labels("miss").inc()
            self.cache.keep(key, result.data, reads, market)
