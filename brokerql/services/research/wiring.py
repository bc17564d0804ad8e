"""Builds the information platform's services of one process and its background loops."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.identity.sms import SmsSender
from brokerql.services.research.editorial import EditorialDesk, RolesOf
from brokerql.services.research.imports import FeedImporter
from brokerql.services.research.notices import ArticleNotices
from brokerql.services.research.reading import ArticleReader
from brokerql.services.research.scheduler import PublishScheduler
from brokerql.store.database import Database


@dataclass
class ResearchServices:
    """container.research.<service>: desk (B2), importer (B1), reader (B3/B5), scheduler, notices (B4)."""

    desk: EditorialDesk
    importer: FeedImporter
    reader: ArticleReader
    scheduler: PublishScheduler
    notices: ArticleNotices

    @classmethod
    def build(cls, db: Database, roles_of: RolesOf, sms: SmsSender, clock: Clock = SYSTEM_CLOCK) -> ResearchServices:
        return cls(
            desk=EditorialDesk(db, roles_of, clock),
            importer=FeedImporter(db, clock),
            reader=ArticleReader(db),
            scheduler=PublishScheduler(db, clock),
            notices=ArticleNotices(db, sms, clock),
        )

    def start(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self.scheduler.run(), name="article-scheduler"),
            asyncio.create_task(self.notices.run(), name="article-notices"),
        ]
