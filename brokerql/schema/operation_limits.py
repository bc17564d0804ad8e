"""Operation limits checked on the parsed document before validation or execution (E1).

graphql-core's validation is not linear in the size of a document: overlapping-field checks compare the
fields of a selection set pairwise, across fragment spreads. So a document is measured first, in one
linear pass over its nodes, and one over the limit is refused with QUERY_TOO_COMPLEX (naming the limit
and the figure) before any rule runs. The parser itself is bounded by `max_tokens`.

Counting repeated fields in the text is not enough: forty fragments that each select `tiers { ... }`,
spread side by side, repeat no field literally, yet validation compares the forty `tiers` fields pairwise
and then their sub-selections (about 200 ms of CPU for a 3.6 KiB document). So `overlaps` expands
fragments the way validation does and counts the field pairs it will compare (`overlappingFields`) and
the fields it visits (`expandedFields`), stopping as soon as either is over its limit.
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
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
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
    # Field pairs sharing a response key in one selection set once fragments are expanded (what
    # validation compares pairwise), and the fields visited expanding them.
    max_overlapping_fields: int = 200
    max_expanded_fields: int = 5000
    # Documents with more tokens than this are parsed, measured and validated off the event loop (the
    # parser costs ~8 us a token, so this keeps what runs on the loop to a few ms) ...
    offload_tokens: int = 250
    # ... and so are documents whose validation compares more field pairs than this (~50 us a pair).
    offload_pairs: int = 20


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


def prescan(query: str, limits: OperationLimits) -> tuple[CodedError | None, int]:
    """Before the parser (pure Python, about 20 us a token) reads anything: refuse a document over the
    token limit, or with more fragment spreads, directives, aliases or repeated fields than allowed, from
    its tokens alone (the parse is then checked exactly by `measure`). Stops at the first token over the
    limit, so its cost is bounded whatever the document's size. Returns the refusal (or None) and the
    number of tokens read."""
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
            return too_complex("tokens", limits.max_tokens, f">{limits.max_tokens}", message), tokens
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
            message = f"The operation has {value} {_words(rule)}; the limit is {limit}."
            return too_complex(rule, limit, value, message), tokens
    return None, tokens


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


def overlaps(document: DocumentNode, limits: OperationLimits) -> tuple[int, int]:
    """(field pairs compared, fields visited) when fragments are expanded into every selection set that
    spreads them, as validation's overlapping-fields rule does; both stop counting just over their limit.

    Each entry of the work list is a group of selection sets merged into one (the sub-selections of the
    fields that share a response key); a fragment is expanded once per group, as the rule does.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    groups: list[list[SelectionSetNode]] = [
        [d.selection_set] for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    pairs = visited = 0
    while groups:
        pending, expanded = list(groups.pop()), set[str]()
        by_key: dict[str, list[FieldNode]] = {}
        while pending:
            for selection in pending.pop().selections or ():
                visited += 1
                if visited > limits.max_expanded_fields:
                    return pairs, visited
                if isinstance(selection, FieldNode):
                    by_key.setdefault((selection.alias or selection.name).value, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in expanded:
                    expanded.add(selection.name.value)
                    if selection.name.value in fragments:
                        pending.append(fragments[selection.name.value].selection_set)
        for fields in by_key.values():
            pairs += len(fields) * (len(fields) - 1) // 2
            if pairs > limits.max_overlapping_fields:
                return pairs, visited
            subs = [f.selection_set for f in fields if f.selection_set is not None]
            if subs:
                groups.append(subs)
    return pairs, visited


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


def check_overlaps(document: DocumentNode, limits: OperationLimits) -> tuple[CodedError | None, int]:
    """The overlapping-fields limits (see `overlaps`), checked after the linear ones; and the pairs."""
    pairs, visited = overlaps(document, limits)
    for rule, value, limit in (
        ("expandedFields", visited, limits.max_expanded_fields),
        ("overlappingFields", pairs, limits.max_overlapping_fields),
    ):
        if value > limit:
            shown = f">{limit}"  # counting stops just over the limit
            return too_complex(rule, limit, shown, f"The operation has more than {limit} {_words(rule)}."), pairs
    return None, pairs


def _words(rule: str) -> str:
    return {
        "overlappingFields": "pairs of fields merged across fragments",
        "expandedFields": "fields with its fragments expanded",
        "aliases": "aliases",
        "duplicateFields": "repeated fields",
        "fragmentSpreads": "fragment spreads",
        "directives": "directives",
        "repeatedDirectives": "repeated directives on one field",
    }[rule]
