"""Relay pagination shared by every list: `first/after`, edges with opaque cursors, a cap on `first`.

Cursors are opaque strings (base64 of a kind and a key); a cursor of another list, or garbage, is a
BAD_USER_INPUT error, as is `first` below 0 or above MAX_FIRST.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry

from brokerql.schema.errors import bad_input

E = TypeVar("E")
DEFAULT_FIRST = 20
MAX_FIRST = 100


@strawberry.type(description="Where a page ends and whether more follow (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when another page follows this one.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; pass it as `after`.")


def encode_cursor(kind: str, key: str) -> str:
    """An opaque cursor for `key` in the list `kind`."""
    return base64.urlsafe_b64encode(f"v1|{kind}|{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The key inside a cursor of list `kind` (None for no cursor); BAD_USER_INPUT if it is not one."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    version, _, rest = raw.partition("|")
    got_kind, _, key = rest.partition("|")
    if version != "v1" or got_kind != kind or not key:
        raise bad_input("`after` is not a cursor of this list.", "after")
    return key


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated `first/after` pair: fetch `first + 1` rows to learn whether a next page exists."""

    first: int
    after_key: str | None

    @classmethod
    def of(cls, kind: str, first: int | None, after: str | None) -> PageRequest:
        first = DEFAULT_FIRST if first is None else first
        if first < 0 or first > MAX_FIRST:
            raise bad_input(f"`first` must be between 0 and {MAX_FIRST}.", "first")
        return cls(first, decode_cursor(kind, after))

    @property
    def fetch(self) -> int:
        return self.first + 1


def page_of(
    rows: Sequence[Any],
    request: PageRequest,
    kind: str,
    key: Callable[[Any], str],
    node: Callable[[Any], Any],
    edge: Callable[..., E],
) -> tuple[list[E], PageInfo]:
    """Edges for the first `request.first` rows, and the page info: an extra fetched row (`request.fetch`)
    only says that a next page exists."""
    edges = [edge(node=node(r), cursor=encode_cursor(kind, key(r))) for r in rows[: request.first]]
    return edges, PageInfo(has_next_page=len(rows) > request.first, end_cursor=edges[-1].cursor if edges else None)
