"""Writes shared by every article use case, inside the caller's unit of work: the article row and what
hangs off it (symbols, full-text index, typed events), and the side effects of going live."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text

from brokerql.bus.topics import ARTICLES_PUBLISHED_TOPIC
from brokerql.domain.research.articles import ArticleContent, Attachment
from brokerql.domain.research.columns import article_entitlement
from brokerql.domain.research.messages import ArticlePublished
from brokerql.domain.research.segmenter import segment
from brokerql.domain.research.workflow import ArticleEventKind, ArticleStatus
from brokerql.services.identity.audit import operator_log
from brokerql.store.columns import new_id
from brokerql.store.database import UnitOfWork
from brokerql.store.tables import AccountRow, ClientRow, PositionRow
from brokerql.store.tables_identity import ClientProfileRow
from brokerql.store.tables_research import ArticleEventRow, ArticleNoticeRow, ArticleRow, ArticleSymbolRow

SMS_CHANNEL = "SMS"  # clients opt in to notices by listing SMS among their channels (A1 service attributes)


def content_of(row: ArticleRow) -> ArticleContent:
    """The content value of a stored article."""
    return ArticleContent(
        title=row.title, summary=row.summary, body=row.body, column=row.column, authors=tuple(row.authors),
        symbols=tuple(row.symbols), industries=tuple(row.industries), tags=tuple(row.tags),
        attachments=tuple(Attachment(**a) for a in row.attachments), entitlement=row.entitlement,
    )  # fmt: skip


def snapshot(content: ArticleContent) -> dict[str, Any]:
    """The content as kept in a CREATED/REVISED event (the revision's text)."""
    data = asdict(content)
    data["published_at"] = content.published_at.isoformat() if content.published_at else None
    return data


def apply_content(row: ArticleRow, content: ArticleContent, now: datetime) -> None:
    """Copy content onto the row, with its entitlement resolved and its search text segmented."""
    row.column, row.title, row.summary, row.body = content.column, content.title, content.summary, content.body
    row.authors, row.symbols = list(content.authors), list(content.symbols)
    row.industries, row.tags = list(content.industries), list(content.tags)
    row.attachments = [asdict(a) for a in content.attachments]
    row.entitlement = article_entitlement(content.column, content.entitlement)
    row.content_hash = content.digest()
    row.search_text = segment("\n".join((content.title, content.summary, content.body, " ".join(content.tags))))
    row.updated_at = now


async def index(uow: UnitOfWork, row: ArticleRow) -> None:
    """Keep the symbol rows and (SQLite) the FTS5 table in step with the article row.

    PostgreSQL indexes `search_text` itself (a GIN expression index), so it needs nothing here."""
    await uow.session.flush()
    await uow.session.execute(delete(ArticleSymbolRow).where(ArticleSymbolRow.article_id == row.id))
    if row.symbols:
        rows = [{"article_id": row.id, "symbol": s} for s in row.symbols]
        await uow.session.execute(insert(ArticleSymbolRow.__table__), rows)  # type: ignore[attr-defined]
    if uow.is_sqlite:
        await uow.session.execute(text("DELETE FROM article_fts WHERE article_id = :id"), {"id": row.id})
        await uow.session.execute(
            text("INSERT INTO article_fts (article_id, search_text) VALUES (:id, :t)"),
            {"id": row.id, "t": row.search_text},
        )


def record(
    uow: UnitOfWork, row: ArticleRow, kind: ArticleEventKind, actor: str, before: str | None, *,
    comment: str = "", payload: dict[str, Any] | None = None, operator_id: str | None = None,
) -> None:  # fmt: skip
    """One typed event of the article's history, and (for operators) the same in the operator log."""
    uow.session.add(
        ArticleEventRow(
            id=new_id("aev"), article_id=row.id, kind=kind.value, actor=actor, from_status=before,
            to_status=row.status, revision=row.revision, comment=comment[:500], payload=payload or {},
        )
    )  # fmt: skip
    if operator_id is not None:
        after = {"status": row.status, "revision": row.revision, **({"comment": comment} if comment else {})}
        operator_log(uow, operator_id, f"article.{kind.value.lower()}", row.id, {"status": before}, after)


async def go_live(uow: UnitOfWork, row: ArticleRow, now: datetime) -> None:
    """The side effects of publishing, in the same transaction: the bus message (through the outbox)
    and one SMS notice per opted-in client holding a symbol the article names."""
    row.status, row.publish_at = ArticleStatus.PUBLISHED.value, None
    row.published_at = row.published_at or now
    message = ArticlePublished(
        article_id=row.id, column=row.column, entitlement=row.entitlement, title=row.title,
        summary=row.summary, symbols=tuple(row.symbols), published_at=row.published_at,
    )  # fmt: skip
    uow.emit(ARTICLES_PUBLISHED_TOPIC, message)  # typed, through the codec and the outbox
    await queue_notices(uow, row)


async def queue_notices(uow: UnitOfWork, row: ArticleRow) -> None:
    if not row.symbols:
        return
    holders = (
        select(ClientRow.id, ClientProfileRow.phone, ClientProfileRow.channels)
        .join(AccountRow, AccountRow.client_id == ClientRow.id)
        .join(PositionRow, PositionRow.account_id == AccountRow.id)
        .join(ClientProfileRow, ClientProfileRow.client_id == ClientRow.id)
        .where(PositionRow.symbol.in_(row.symbols), PositionRow.quantity > 0, ClientProfileRow.phone.is_not(None))
        .distinct()
    )
    done = set(
        (
            await uow.session.scalars(select(ArticleNoticeRow.client_id).where(ArticleNoticeRow.article_id == row.id))
        ).all()
    )
    text_ = f"【资讯速递】{row.title}"[:255]
    for client_id, phone, channels in (await uow.session.execute(holders)).all():
        if client_id not in done and SMS_CHANNEL in (channels or []):
            uow.session.add(ArticleNoticeRow(article_id=row.id, client_id=client_id, phone=phone, text=text_))
