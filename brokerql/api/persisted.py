"""Persisted queries: registered operations (a client build's documents) and automatic ones (APQ).

- Registered: `brokerql persist-operations DIR` stores every operation of a client build's .graphql
  files in the `persisted_operation` table, by the sha256 of its text. With
  BROKERQL_PERSISTED_QUERIES_ONLY (production) nothing else runs, except for operators.
- Automatic (Apollo's convention): a request carries `extensions.persistedQuery = {version: 1,
  sha256Hash}`. Without `query`, the hash is looked up; unknown, the answer is PERSISTED_QUERY_NOT_FOUND
  and the client sends the text once with the hash, which is checked, run, and kept if it was a valid
  operation, in a store bounded in entries and bytes (api/apq.py; on Redis when scaled), each address
  registering a bounded number an hour. GET is accepted for persisted queries, so CDNs and browsers can
  cache them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from cachetools import TTLCache
from graphql import FragmentDefinitionNode, FragmentSpreadNode, Node, OperationDefinitionNode, parse, print_ast

from brokerql.api.apq import ApqBounds, make_apq_store
from brokerql.store.database import Database
from brokerql.store.tables_persisted import PersistedOperationRow


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PersistedQueries:
    """Registered operations (a client build's, stored by `brokerql persist-operations`) and automatic
    persisted queries (api/apq.py), looked up by the sha256 of their text."""

    # A registration is seen by running servers within this many seconds: misses are remembered that
    # long, so a client retrying an unknown hash, or a hash that is automatic only, reads no database.
    UNREGISTERED_SECONDS = 5

    def __init__(self, db: Database, redis: Any = None, prefix: str = "brokerql", bounds: ApqBounds | None = None):
        self.db = db
        self.automatic = make_apq_store(redis, prefix, bounds or ApqBounds())
        self._registered: dict[str, str] = {}
        self._unregistered: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=self.UNREGISTERED_SECONDS)

    async def registered(self, digest: str) -> str | None:
        """The text of a registered operation (memoised: registrations are never changed, only added)."""
        known = self._registered.get(digest)
        if known is not None or digest in self._unregistered:
            return known
        async with self.db.read() as session:
            row = await session.get(PersistedOperationRow, digest)
        if row is None:
            self._unregistered[digest] = True
            return None
        self._registered[digest] = row.document
        return row.document

    async def is_registered(self, query: str) -> bool:
        return await self.registered(sha256(query)) is not None

    async def lookup(self, digest: str) -> str | None:
        """The text of `digest`, registered or automatic. A hash names one text whichever store holds it,
        so the automatic store (memory or Redis) is asked before the database."""
        if (known := self._registered.get(digest)) is not None:
            return known
        automatic = await self.automatic.get(digest)
        return automatic if automatic is not None else await self.registered(digest)

    async def remember(self, digest: str, query: str) -> None:
        """Keep an automatic persisted query: its hash checked against the text, and it ran (so it parsed
        and validated). The store's bounds evict the least recently used (api/apq.py)."""
        await self.automatic.put(digest, query)


def operations_of(text: str) -> list[tuple[str | None, str]]:
    """Each operation of a .graphql file as a standalone document: (name, text with the fragments it uses)."""
    document = parse(text)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    found: list[tuple[str | None, str]] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        used: set[str] = set()
        pending = list(_spreads(definition))
        while pending:
            name = pending.pop()
            if name in fragments and name not in used:
                used.add(name)
                pending.extend(_spreads(fragments[name]))
        body = "\n\n".join([print_ast(definition), *(print_ast(fragments[name]) for name in sorted(used))])
        found.append((definition.name.value if definition.name else None, body))
    return found


def _spreads(node: Node) -> set[str]:
    names: set[str] = set()
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FragmentSpreadNode):
            names.add(current.name.value)
        for key in current.keys:
            value = getattr(current, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(v for v in value if isinstance(v, Node))
    return names


async def register_sources(db: Database, sources: Iterable[str], client_name: str) -> list[tuple[str, str | None]]:
    """Register every operation of the given .graphql texts; (sha256, name) of each, new or known."""
    registered: list[tuple[str, str | None]] = []
    async with db.transaction() as uow:
        for source in sources:
            for name, body in operations_of(source):
                digest = sha256(body)
                if await uow.session.get(PersistedOperationRow, digest) is None:
                    uow.session.add(
                        PersistedOperationRow(
                            sha256=digest, document=body, operation_name=name, client_name=client_name
                        )
                    )
                registered.append((digest, name))
    return registered
