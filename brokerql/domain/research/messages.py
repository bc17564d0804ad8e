"""The information platform's bus message (B4): what a subscriber on any process needs to push a newly
published article to the clients entitled to it. The body is not carried: it is gated and read from the
database by whoever may see it. It travels on `bus.topics.ARTICLES_PUBLISHED_TOPIC` through the codec."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ArticlePublished(msgspec.Struct, frozen=True, kw_only=True):
    """An article went live (published now, or a scheduled publication came due)."""

    article_id: str
    column: str
    entitlement: str
    title: str
    summary: str
    symbols: tuple[str, ...] = ()
    published_at: datetime
