"""Operation limits checked on the parsed document before validation or execution (E1).

graphql-core's validation is not linear in the size of a document: overlapping-field checks compare the
fields of a selection set pairwise, across fragment spreads. So a document is measured first, in one
linear pass over its nodes, and one over the limit is refused with QUERY_TOO_COMPLEX (naming the limit
and the figure) before any rule runs. The parser itself is bounded by `max_tokens`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentSpreadNode,
    IntValueNode,
    Node,
    SelectionSetNode,
)

from brokerql.schema.errors import CodedError, ErrorCode

# Longest number literal read: Decimal money has at most 28 digits, an Int 10; anything longer is an error.
MAX_NUMBER_LITERAL_CHARS = 40
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class OperationLimits:
    """The limits of one deployment; every one of them is a setting (docs/operations.md)."""

    max_body_bytes: int = 64 * 1024
    max_tokens: int = 2000
    max_depth: int = 12
    max_aliases: int = 30
    max_duplicate_fields: int = 5
    max_fragment_spreads: int = 50
    max_directives: int = 10
    max_cost: int = 5000
    # Documents longer than this (characters) are parsed and validated off the event loop.
    offload_chars: int = 4096


@dataclass(slots=True)
class Figures:
    """What the linear pass found in a document."""

    aliases: int = 0
    directives: int = 0
    fragment_spreads: int = 0
    duplicate_fields: int = 0
    # The same directive twice on one field or fragment: none of ours may repeat, so this is never valid.
    repeated_directives: int = 0
    introspection: bool = False
    long_number: str | None = None


# GraphQL's lexical tokens, matched by the re module (C): block strings and strings are one token each,
# comments are skipped, anything else unexpected is one token (the parser reports it).
TOKEN = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*"""|"(?:\\.|[^"\\\n])*"|#[^\n\r]*|\.\.\.|-?\d[\w.+-]*|[_A-Za-z]\w*|[^\s,]'
)


def prescan(query: str, limits: OperationLimits) -> CodedError | None:
    """Before the parser (pure Python, about 20 us a token) reads anything: refuse a document over the
    token limit, or with more fragment spreads, directives, aliases or repeated fields than allowed, from
    its tokens alone (the parse is then checked exactly by `measure`). Stops at the first token over the
    limit, so its cost is bounded whatever the document's size."""
    counts = Counter[str]()
    scopes: list[Counter[str]] = []  # response keys of each open selection set
    parens, previous, tokens = 0, "", 0
    for match in TOKEN.finditer(query):
        text = match.group()
        if text[0] == "#":
            continue
        tokens += 1
        if tokens > limits.max_tokens:
            message = f"The document has more than {limits.max_tokens} tokens."
            return too_complex("tokens", limits.max_tokens, f">{limits.max_tokens}", message)
        name = text[0].isalpha() or text[0] == "_"
        if previous == "..." and name and text != "on":
            counts["fragmentSpreads"] += 1
        elif text == "@":
            counts["directives"] += 1
        elif text in "()":
            parens += 1 if text == "(" else -1
        elif text == "{" and parens == 0:
            scopes.append(Counter())
        elif text == "}" and parens == 0 and scopes:
            scope = scopes.pop()
            counts["duplicateFields"] += sum(n - 1 for n in scope.values())
        elif text == ":" and parens == 0 and scopes:
            counts["aliases"] += 1
        elif name and parens == 0 and scopes and previous not in ("...", "on", "@", "$", ":"):
            scopes[-1][text] += 1  # a response key (an alias, or a field without one)
        if text == ":" and parens == 0 and scopes:  # `alias: field`: the field is not a second key
            previous = ":"
            continue
        previous = text
    for rule, limit in (
        ("aliases", limits.max_aliases),
        ("duplicateFields", limits.max_duplicate_fields),
        ("fragmentSpreads", limits.max_fragment_spreads),
        ("directives", limits.max_directives),
    ):
        if counts[rule] > limit:
            value = counts[rule]
            return too_complex(rule, limit, value, f"The operation has {value} {_words(rule)}; the limit is {limit}.")
    return None


def too_complex(rule: str, limit: int, value: int | str, message: str) -> CodedError:
    return CodedError(ErrorCode.QUERY_TOO_COMPLEX, message, rule=rule, limit=limit, value=value)


def measure(document: DocumentNode) -> Figures:
    """Count aliases, directives, fragment spreads and repeated fields in one pass (no recursion)."""
    figures = Figures()
    stack: list[Node] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            if node.alias is not None:
                figures.aliases += 1
            if node.name.value in INTROSPECTION_FIELDS:
                figures.introspection = True
        elif isinstance(node, DirectiveNode):
            figures.directives += 1
        elif isinstance(node, FragmentSpreadNode):
            figures.fragment_spreads += 1
        elif isinstance(node, SelectionSetNode):
            keys = Counter((s.alias or s.name).value for s in node.selections or () if isinstance(s, FieldNode))
            figures.duplicate_fields += sum(n - 1 for n in keys.values())
        elif isinstance(node, IntValueNode | FloatValueNode) and len(node.value) > MAX_NUMBER_LITERAL_CHARS:
            figures.long_number = node.value
        directives = getattr(node, "directives", None)
        if directives:
            names = Counter(d.name.value for d in directives)
            figures.repeated_directives += sum(n - 1 for n in names.values())
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, tuple | list):
                stack.extend(v for v in value if isinstance(v, Node))
    return figures


def check(figures: Figures, limits: OperationLimits) -> CodedError | None:
    """The first limit the document breaks, as the error to answer with."""
    if figures.long_number is not None:
        shown = f"{figures.long_number[:12]}... ({len(figures.long_number)} characters)"
        return CodedError(ErrorCode.BAD_USER_INPUT, f"Number literal {shown} is out of range.")
    for rule, value, limit in (
        ("aliases", figures.aliases, limits.max_aliases),
        ("duplicateFields", figures.duplicate_fields, limits.max_duplicate_fields),
        ("fragmentSpreads", figures.fragment_spreads, limits.max_fragment_spreads),
        ("directives", figures.directives, limits.max_directives),
        ("repeatedDirectives", figures.repeated_directives, 0),
    ):
        if value > limit:
            return too_complex(rule, limit, value, f"The operation has {value} {_words(rule)}; the limit is {limit}.")
    return None


def _words(rule: str) -> str:
    return {
        "aliases": "aliases",
        "duplicateFields": "repeated fields",
        "fragmentSpreads": "fragment spreads",
        "directives": "directives",
        "repeatedDirectives": "repeated directives on one field",
    }[rule]
