"""The information platform's bus message (B4): what a subscriber on any process needs to push a newly
published article to the clients entitled to it. The body is not carried: it is gated and read from the
database by whoever may see it."""

from __future__ import annotations

from datetime import datetime

import msgspec

ARTICLES_PUBLISHED_TOPIC = "articles.published"


class ArticlePublished(msgspec.Struct, frozen=True, kw_only=True):
    """An article went live (published now, or a scheduled publication came due)."""

    article_id: str
    column: str
    entitlement: str
    title: str
    summary: str
    symbols: tuple[str, ...] = ()
    published_at: datetime


def to_message(message: ArticlePublished) -> dict[str, object]:
    """The wire form: the struct's fields plus its `type` and version `v`."""
    return {"type": "ArticlePublished", "v": 1, **msgspec.to_builtins(message)}


def from_message(raw: dict[str, object]) -> ArticlePublished | None:
    """The struct back from the wire form; None for anything else (another type, a malformed message)."""
    if raw.get("type") != "ArticlePublished":
        return None
    fields = {k: v for k, v in raw.items() if k not in ("type", "v")}
    try:
        return msgspec.convert(fields, ArticlePublished, strict=False)
    except msgspec.ValidationError:
        return None
