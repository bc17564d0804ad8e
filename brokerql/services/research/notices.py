"""B4 SMS notices: the article_notice rows written when an article is published are handed to the SMS
sender after the commit. Each row is sent once: it is claimed (PENDING -> SENDING) in one statement, so
two processes never send the same notice; a failure puts it back to PENDING until MAX_ATTEMPTS."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select, update

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.identity.sms import SmsSender
from brokerql.store.database import Database
from brokerql.store.tables_research import ArticleNoticeRow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
BATCH = 100


class ArticleNotices:
    def __init__(self, db: Database, sender: SmsSender, clock: Clock = SYSTEM_CLOCK, poll_seconds: float = 2.0) -> None:
        self.db = db
        self.sender = sender
        self.clock = clock
        self.poll_seconds = poll_seconds

    async def send_pending(self) -> int:
        """Send what is pending now; returns how many went out."""
        async with self.db.read() as session:
            keys = (
                await session.execute(
                    select(ArticleNoticeRow.article_id, ArticleNoticeRow.client_id)
                    .where(ArticleNoticeRow.status == "PENDING")
                    .limit(BATCH)
                )
            ).all()
        sent = 0
        for article_id, client_id in keys:
            notice = await self._claim(article_id, client_id)
            if notice is not None:
                sent += await self._send(notice)
        return sent

    async def _claim(self, article_id: str, client_id: str) -> ArticleNoticeRow | None:
        key = (ArticleNoticeRow.article_id == article_id, ArticleNoticeRow.client_id == client_id)
        async with self.db.transaction() as uow:
            claimed = await uow.session.execute(
                update(ArticleNoticeRow)
                .where(*key, ArticleNoticeRow.status == "PENDING")
                .values(status="SENDING", attempts=ArticleNoticeRow.attempts + 1)
                .returning(ArticleNoticeRow.phone, ArticleNoticeRow.text, ArticleNoticeRow.attempts)
            )
            row = claimed.first()
        if row is None:
            return None
        return ArticleNoticeRow(article_id=article_id, client_id=client_id, phone=row[0], text=row[1], attempts=row[2])

    async def _send(self, notice: ArticleNoticeRow) -> int:
        try:
            await self.sender.send_text(notice.phone, notice.text)
            status, sent_at, ok = "SENT", self.clock.now(), 1
        except Exception:  # the SMS platform failing: retried later, up to MAX_ATTEMPTS
            log.exception("SMS notice to client %s failed", notice.client_id)
            status, sent_at, ok = ("FAILED" if notice.attempts >= MAX_ATTEMPTS else "PENDING"), None, 0
        await self._finish(notice, status, sent_at)
        return ok

    async def _finish(self, notice: ArticleNoticeRow, status: str, sent_at: datetime | None) -> None:
        async with self.db.transaction() as uow:
            await uow.session.execute(
                update(ArticleNoticeRow)
                .where(ArticleNoticeRow.article_id == notice.article_id, ArticleNoticeRow.client_id == notice.client_id)
                .values(status=status, sent_at=sent_at)
            )

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.send_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: try again next round
                log.warning("sending article notices failed (%s); retrying", exc)
