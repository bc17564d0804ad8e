"""articlePublished(columns): info express (B4). Every process follows the `articles.published` topic;
each published article is pushed to each subscriber whose tier (re-read per event) may read it, so a
publish on one API process reaches subscribers on every other through the bus."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from brokerql.bus.base import Resync, SlowConsumer
from brokerql.bus.topics import ARTICLES_PUBLISHED_TOPIC
from brokerql.domain.research.columns import COLUMNS, column_and_children
from brokerql.domain.research.messages import ArticlePublished
from brokerql.resolvers.guards import require_any
from brokerql.schema.errors import CodedError, ErrorCode, bad_input
from brokerql.schema.types.research import Article, may_read
from brokerql.subscriptions.guard import ensure_live, subscription_slot


def wanted_columns(columns: list[str] | None) -> frozenset[str] | None:
    """The column codes to follow (parents include their children); None for every column."""
    if not columns:
        return None
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise bad_input(f"Unknown columns {unknown[:5]}; see articleColumns.", "columns")
    return frozenset(code for c in columns for code in column_and_children(c))


async def article_published(info: strawberry.Info, columns: list[str] | None) -> AsyncGenerator[Article, None]:
    principal = require_any(info, "research")
    wanted = wanted_columns(columns)
    container = info.context.container
    heartbeat = container.settings.heartbeat_seconds
    async with subscription_slot(info, principal):
        subscription = await container.bus.subscribe([ARTICLES_PUBLISHED_TOPIC])
        async with subscription:
            while True:
                try:
                    item = await subscription.get(timeout=heartbeat)
                except SlowConsumer:
                    raise CodedError(ErrorCode.RATE_LIMITED, "Too slow to follow.", reason="SLOW_CONSUMER") from None
                except Resync:  # the link to Redis was lost: news of the gap is in `articles`, not replayed here
                    continue
                if item is None:
                    await ensure_live(info)  # an ended session ends its streams
                    continue
                event = item[1]
                if not isinstance(event, ArticlePublished) or (wanted is not None and event.column not in wanted):
                    continue
                if not await may_read(info, event.entitlement):
                    continue  # pushed only to those entitled to read it
                row = await container.research.reader.get(event.article_id)
                if row is not None:  # withdrawn again meanwhile: nothing to push
                    yield Article.from_row(row)
