"""What the operation guard remembers about documents, by their text (schema/guard.py).

The parse, prescan, inspection and validation caches are keyed by the document's text, whose hash Python
keeps, not by the parsed document: a DocumentNode hashes its whole tree (about 20 us for a small query)
on every lookup. They are shared by the event loop and worker threads (one lock), and filled from the
verdicts of the worker processes too (`remember`).
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import specified_rules
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from brokerql.schema.cost import Measure
from brokerql.schema.errors import CodedError, ErrorCode
from brokerql.schema.operation_limits import OperationLimits, prescan, too_complex

CACHE_SIZE = 1000
RULES = (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule)

# Parsed documents by text, bounded by the text's total length rather than a count: a syntax tree is
# thousands of objects, so a thousand large documents (an attacker's, each made unique) would hold
# millions, and every full garbage collection would scan them (measured: loop stalls of ~1 s). A
# document refused before it runs is dropped from it (`forget`). Parsing happens in worker threads too.
PARSED_CHARS = 512 * 1024
_parsed: LRUCache[tuple[str, int], tuple[DocumentNode, int]] = LRUCache(PARSED_CHARS, getsizeof=lambda v: v[1])
_parsed_lock = threading.Lock()


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    key = (query, max_tokens)
    with _parsed_lock:
        cached = _parsed.get(key)
    if cached is not None:
        return cached[0]
    document = parse_limited(query, max_tokens)
    if len(query) <= PARSED_CHARS // 8:
        with _parsed_lock:
            _parsed[key] = (document, max(1, len(query)))
    return document


def cached_document(query: str, max_tokens: int) -> DocumentNode | None:
    """The document if this text was parsed and kept already; never parses (no prescan has run here)."""
    with _parsed_lock:
        cached = _parsed.get((query, max_tokens))
    return cached[0] if cached is not None else None


def parse_limited(query: str, max_tokens: int) -> DocumentNode:
    """graphql-core's parse, its token limit answered as QUERY_TOO_COMPLEX."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLError as error:
        if "tokens" in error.message and "Parsing aborted" in error.message:
            raise too_complex(
                "tokens", max_tokens, f">{max_tokens}", f"The document has more than {max_tokens} tokens."
            ) from None
        raise


def parsed(query: str, max_tokens: int) -> bool:
    with _parsed_lock:
        return (query, max_tokens) in _parsed


def forget(query: str, max_tokens: int) -> None:
    """Drop a refused document's syntax tree: it will not run, so keeping it only costs memory and GC."""
    with _parsed_lock:
        _parsed.pop((query, max_tokens), None)


# Only documents that validated are remembered: an error holds the nodes (so the whole tree) of its document.
_validated: LRUCache[tuple[GraphQLSchema, str, int, bool], bool] = LRUCache(CACHE_SIZE)


def validated(schema: GraphQLSchema, query: str, max_tokens: int, hide_suggestions: bool) -> bool:
    """Whether this document validated before (then `validate_document` is a lookup)."""
    with _parsed_lock:
        return (schema, query, max_tokens, hide_suggestions) in _validated


def validate_document(schema: GraphQLSchema, query: str, max_tokens: int, hide_suggestions: bool) -> list[GraphQLError]:
    key = (schema, query, max_tokens, hide_suggestions)
    if validated(*key):
        return []
    errors = validate(
        schema, parse_document(query, max_tokens), RULES, max_errors=20, hide_suggestions=hide_suggestions
    )
    if not errors:
        with _parsed_lock:
            _validated[key] = True
    return errors


Frozen = tuple[str, tuple[tuple[str, Any], ...]] | None  # an error as (message, extensions): safe to cache


def freeze(error: CodedError | None) -> Frozen:
    return None if error is None else (error.message, tuple((error.extensions or {}).items()))


def thaw(frozen: Frozen) -> CodedError | None:
    if frozen is None:
        return None
    extensions = dict(frozen[1])
    return CodedError(ErrorCode(extensions.pop("code")), frozen[0], **extensions)


# The prescan reads up to `max_tokens` tokens at ~1.5 us each in Python: a document longer than this many
# characters (which may hold that many) is prescanned in a worker thread unless its result is known.
PRESCAN_ON_LOOP_CHARS = 1024
# Bounded by the text it keys (4 MiB in all), not a count: a thousand 64 KiB documents would be 64 MiB.
_prescanned: LRUCache[tuple[str, OperationLimits], tuple[Frozen, int, int]] = LRUCache(
    4 * 1024 * 1024, getsizeof=lambda v: v[2]
)


def prescan_cached(query: str, limits: OperationLimits) -> tuple[Frozen, int]:
    """The prescan's refusal (frozen) and the document's number of tokens."""
    with _parsed_lock:
        known = _prescanned.get((query, limits))
    if known is not None:
        return known[0], known[1]
    error, tokens = prescan(query, limits)
    with _parsed_lock:
        _prescanned[(query, limits)] = (freeze(error), tokens, max(1, len(query)))
    return freeze(error), tokens


def prescanned(query: str, limits: OperationLimits) -> bool:
    with _parsed_lock:
        return (query, limits) in _prescanned


# What `guard.inspect` found (refusal, depth and cost, introspection, field pairs), by text, limits,
# operation and the Int variables a cost depends on.
InspectKey = tuple[GraphQLSchema, str, OperationLimits, str | None, tuple[tuple[str, int], ...]]
Inspected = tuple[Frozen, Measure, bool, int]
_inspected: LRUCache[InspectKey, Inspected] = LRUCache(CACHE_SIZE)


def inspected(key: InspectKey) -> Inspected | None:
    with _parsed_lock:
        return _inspected.get(key)


def remember_inspected(key: InspectKey, found: Inspected) -> None:
    with _parsed_lock:
        _inspected[key] = found


def remember(key: InspectKey, tokens: int, found: Inspected, hide_suggestions: bool) -> None:
    """A document a worker process found valid and within every limit, kept as if checked here (its
    prescan, inspection and validation), so that running it again asks no process."""
    schema, query, limits = key[0], key[1], key[2]
    with _parsed_lock:
        _prescanned[(query, limits)] = (None, tokens, max(1, len(query)))
        _inspected[key] = found
        _validated[(schema, query, limits.max_tokens, hide_suggestions)] = True
