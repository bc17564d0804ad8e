"""Relay connections for identity and back-office lists, on the shared pagination module.

`Connection[Client]` becomes the GraphQL type `ClientConnection` with `edges { node cursor }` and
the shared `PageInfo`. Keys are time-ordered ids, so keyset pages are stable under inserts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from brokerql.schema.types.pagination import PageInfo, PageRequest, page_of

T = TypeVar("T")


@strawberry.type(description="One item of a list and its cursor.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Opaque cursor of this item; pass it as `after`.")


@strawberry.type(description="A page of a list (Relay connection): `first` at most 100, then `after` the endCursor.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, in list order.")
    page_info: PageInfo = strawberry.field(description="Whether more follow, and the cursor to get them.")


def page(kind: str, first: int | None, after: str | None) -> PageRequest:
    """Validate `first/after` for list `kind` (BAD_USER_INPUT when out of range or a foreign cursor)."""
    return PageRequest.of(kind, first, after)


def connection(
    kind: str, rows: Sequence[Any], request: PageRequest, key: Callable[[Any], str], node: Callable[[Any], T]
) -> Connection[T]:
    """Build a page from up to `request.fetch` rows (the extra row only says a next page exists)."""
    edges, info = page_of(rows, request, kind, key, node, Edge)
    return Connection(edges=edges, page_info=info)
