"""Information platform tables (B1-B5): articles, their symbols, their event history, SMS notices, the
broker's stock pool and F10 profiles. Full-text search is created by the migration only: an FTS5 table
on SQLite (`article_fts`), and on PostgreSQL a stored generated column `article.search_vector`
(`to_tsvector('simple', search_text)`) with a GIN index."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from brokerql.store.columns import JsonText, UtcDateTime, utcnow


def _ts(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UtcDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class ArticleRow(SQLModel, table=True):
    """An article: content, where it came from, its workflow status and its click count."""

    __tablename__ = "article"
    __table_args__ = (
        UniqueConstraint("source", "source_item_id", name="uq_article_source_item"),
        Index("ix_article_feed", "status", "published_at"),
        Index("ix_article_due", "status", "publish_at"),
    )
    id: str = Field(primary_key=True, max_length=40)
    column: str = Field(max_length=48, index=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_type=Text)
    body: str = Field(default="", sa_type=Text)
    authors: list[str] = Field(default_factory=list, sa_type=JsonText)
    symbols: list[str] = Field(default_factory=list, sa_type=JsonText)
    industries: list[str] = Field(default_factory=list, sa_type=JsonText)
    tags: list[str] = Field(default_factory=list, sa_type=JsonText)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonText)
    entitlement: str = Field(max_length=64)
    status: str = Field(max_length=16)
    source: str = Field(max_length=32)
    source_item_id: str = Field(max_length=128)
    source_revision: str = Field(default="", max_length=64)
    content_hash: str = Field(max_length=64)
    revision: int = 1
    search_text: str = Field(default="", sa_type=Text)
    publish_at: datetime | None = _ts(nullable=True)  # a scheduled publication, while APPROVED
    published_at: datetime | None = _ts(nullable=True)
    click_count: int = 0
    created_by: str = Field(max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ArticleSymbolRow(SQLModel, table=True):
    """Which symbols an article names (symbol filters, position info, info mines)."""

    __tablename__ = "article_symbol"
    article_id: str = Field(foreign_key="article.id", primary_key=True, max_length=40)
    symbol: str = Field(primary_key=True, max_length=16, index=True)


class ArticleEventRow(SQLModel, table=True):
    """An article's history, one typed event per change (created, revised, submitted, approved ...).

    CREATED and REVISED events keep the content of that revision in `payload`."""

    __tablename__ = "article_event"
    id: str = Field(primary_key=True, max_length=40)
    article_id: str = Field(foreign_key="article.id", index=True, max_length=40)
    kind: str = Field(max_length=16)
    actor: str = Field(max_length=64)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    revision: int
    comment: str = Field(default="", max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JsonText)
    at: datetime = _ts()


class ArticleNoticeRow(SQLModel, table=True):
    """B4 SMS outbox: one notice per (article, client), written when the article is published and
    handed to the SMS sender until it goes out (retried a few times)."""

    __tablename__ = "article_notice"
    article_id: str = Field(foreign_key="article.id", primary_key=True, max_length=40)
    client_id: str = Field(foreign_key="client.id", primary_key=True, max_length=40)
    phone: str = Field(max_length=20)
    text: str = Field(max_length=255)
    status: str = Field(default="PENDING", max_length=16, index=True)
    attempts: int = 0
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class StockPoolEntryRow(SQLModel, table=True):
    """The broker's stock pool (券商股票池): a pick and the reason for it."""

    __tablename__ = "stock_pool_entry"
    id: str = Field(primary_key=True, max_length=40)
    symbol: str = Field(max_length=16, index=True)
    reason: str = Field(max_length=500)
    article_id: str | None = Field(default=None, foreign_key="article.id", max_length=40)
    added_by: str = Field(max_length=64)
    added_at: datetime = _ts()
    removed_at: datetime | None = _ts(nullable=True)


class InstrumentProfileRow(SQLModel, table=True):
    """F10 basic data of an instrument (company profile, capital structure, business)."""

    __tablename__ = "instrument_profile"
    symbol: str = Field(primary_key=True, max_length=16)
    company_name: str = Field(max_length=128)
    industry: str = Field(max_length=64)
    listed_on: date | None = None
    total_shares: int = Field(default=0, sa_type=BigInteger)
    float_shares: int = Field(default=0, sa_type=BigInteger)
    main_business: str = Field(default="", max_length=500)
    chairman: str = Field(default="", max_length=64)
    website: str = Field(default="", max_length=128)
    updated_at: datetime = _ts()
