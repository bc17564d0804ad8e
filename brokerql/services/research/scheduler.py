"""Scheduled publishing: a due article is published once, however many API processes run this loop.

The claim is one statement, `UPDATE article SET status = 'PUBLISHED' ... WHERE status = 'APPROVED' AND
publish_at <= now RETURNING id`: on PostgreSQL the row lock makes a second process's UPDATE wait and
then skip the row (its WHERE no longer holds); on SQLite writers are serialised by BEGIN IMMEDIATE.
The event, the bus message (outbox) and the SMS notices are written in the same transaction."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select, update

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.research.workflow import ArticleEventKind, ArticleStatus
from brokerql.services.research.records import go_live, record
from brokerql.store.database import Database
from brokerql.store.tables_research import ArticleRow

log = logging.getLogger(__name__)
SCHEDULER_ACTOR = "scheduler"


class PublishScheduler:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.clock = clock
        self.poll_seconds = poll_seconds

    async def publish_due(self, now: datetime | None = None) -> list[str]:
        """Publish every article whose time has come; returns the ids this call published."""
        now = now or self.clock.now()
        approved, published = ArticleStatus.APPROVED.value, ArticleStatus.PUBLISHED.value
        claim = (
            update(ArticleRow)
            .where(ArticleRow.status == approved, ArticleRow.publish_at.is_not(None), ArticleRow.publish_at <= now)
            .values(status=published, published_at=now, updated_at=now)
            .returning(ArticleRow.id)
        )
        async with self.db.transaction() as uow:
            ids = list((await uow.session.execute(claim)).scalars().all())
            if not ids:
                return []
            rows = (await uow.session.scalars(select(ArticleRow).where(ArticleRow.id.in_(ids)))).all()
            for row in rows:
                await uow.session.refresh(row)
                await go_live(uow, row, now)
                record(uow, row, ArticleEventKind.PUBLISHED, SCHEDULER_ACTOR, approved)
        return ids

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.publish_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: try again next round
                log.warning("scheduled publishing failed (%s); retrying", exc)
