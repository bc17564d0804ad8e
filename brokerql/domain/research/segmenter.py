"""Text segmentation for full-text search (B3): Chinese has no spaces, so words are cut with jieba's
dictionary (rjieba, the Rust port) and indexed as space-separated tokens. The same cut is applied to
the query, so a word from inside a sentence finds the article on SQLite FTS5 and PostgreSQL alike."""

from __future__ import annotations

import re

import rjieba

_WORD = re.compile(r"\w", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Search tokens of `text`: words and their sub-words (search mode), lower-cased, no punctuation."""
    return [t.lower() for t in rjieba.cut_for_search(text) if _WORD.search(t) and not t.isspace()]


def segment(text: str) -> str:
    """The indexable form of `text`: its tokens separated by single spaces."""
    return " ".join(tokens(text))


def query_terms(text: str, limit: int = 12) -> list[str]:
    """The distinct tokens of a search query (at most `limit`), in order. Only word characters remain,
    so a query can never inject FTS or tsquery syntax."""
    terms = [re.sub(r"\W", "", t) for t in rjieba.cut(text)]
    return list(dict.fromkeys(t.lower() for t in terms if t))[:limit]


def highlight(text: str, terms: list[str], width: int = 80, mark: tuple[str, str] = ("<mark>", "</mark>")) -> str:
    """A snippet of `text` around the first match of any term, every match wrapped in `mark`.

    Works on the original text (not the segmented form), so Chinese reads without inserted spaces."""
    if not text:
        return ""
    lowered = text.lower()
    hits = sorted((lowered.find(t), t) for t in terms if t and lowered.find(t) >= 0)
    start = max(0, hits[0][0] - width // 3) if hits else 0
    window = text[start : start + width]
    pattern = "|".join(re.escape(t) for t in sorted({t for _, t in hits}, key=len, reverse=True))
    marked = re.sub(pattern, lambda m: f"{mark[0]}{m.group(0)}{mark[1]}", window, flags=re.I) if pattern else window
    return ("…" if start > 0 else "") + marked + ("…" if start + width < len(text) else "")
