"""B1 imports: a feed file becomes articles, idempotently by (source, item id).

A new item becomes an article (published at once when asked, except risk-control information, which
waits for the RISK role's approval); a known item with the same content is skipped; an edited one
updates its article and records a REVISED event with the new text (a published article stays
published). An item whose feed revision is not newer than the stored one is skipped as stale."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.research.columns import COLUMNS
from brokerql.domain.research.feeds import FeedError, FeedFormat, FeedItem, parse_feed
from brokerql.domain.research.workflow import ArticleEventKind, ArticleStatus
from brokerql.services.identity.audit import operator_log
from brokerql.services.research.records import apply_content, go_live, index, record, snapshot
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables_research import ArticleRow


@dataclass(frozen=True, slots=True)
class ImportLine:
    """What happened to one item: its line, its item id, the article, and why (for skipped items)."""

    line: int
    item_id: str
    article_id: str | None
    reason: str = ""


@dataclass
class ImportReport:
    imported: list[ImportLine] = field(default_factory=list)
    updated: list[ImportLine] = field(default_factory=list)
    skipped: list[ImportLine] = field(default_factory=list)
    errors: list[FeedError] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"imported": len(self.imported), "updated": len(self.updated), "skipped": len(self.skipped),
                "errors": len(self.errors)}  # fmt: skip


def newer(feed_revision: str, stored_revision: str) -> bool:
    """Whether a feed's revision label is newer than the stored one (numbers compare as numbers)."""
    if not feed_revision or not stored_revision:
        return True
    if feed_revision.isdigit() and stored_revision.isdigit():
        return int(feed_revision) > int(stored_revision)
    return feed_revision > stored_revision


class FeedImporter:
    def __init__(self, db: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.clock = clock

    async def run(
        self, fmt: FeedFormat | str, text: str, *, actor: str, operator_id: str | None = None, publish: bool = True,
        source: str | None = None,
    ) -> ImportReport:  # fmt: skip
        """Import every item of `text` (in `fmt`); `actor` names who ran it in the article events."""
        parsed = parse_feed(fmt, text, source)
        report = ImportReport(errors=list(parsed.errors))
        for item in parsed.items:
            async with self.db.transaction() as uow:
                await self._one(uow, item, actor, publish, report)
        if operator_id is not None:
            async with self.db.transaction() as uow:
                operator_log(uow, operator_id, "article.import", str(FeedFormat(fmt).value), None, report.summary())
        return report

    async def _one(self, uow: UnitOfWork, item: FeedItem, actor: str, publish: bool, report: ImportReport) -> None:
        query = select(ArticleRow).where(ArticleRow.source == item.source, ArticleRow.source_item_id == item.item_id)
        row = await uow.session.scalar(uow.lock(query))
        now = self.clock.now()
        if row is None:
            row = ArticleRow(id=new_id("art"), status=ArticleStatus.DRAFT.value, source=item.source,
                             source_item_id=item.item_id, source_revision=item.revision, created_by=actor,
                             created_at=now, title="", entitlement="", content_hash="")  # fmt: skip
            apply_content(row, item.content, now)
            row.published_at = item.content.published_at
            uow.session.add(row)
            await index(uow, row)
            record(uow, row, ArticleEventKind.CREATED, actor, None, payload=snapshot(item.content))
            await self._land(uow, row, actor, publish, now)
            report.imported.append(ImportLine(item.line, item.item_id, row.id))
            return
        if row.content_hash == item.content.digest():
            report.skipped.append(ImportLine(item.line, item.item_id, row.id, "unchanged"))
            return
        if not newer(item.revision, row.source_revision):
            reason = f"revision {item.revision} is not newer than {row.source_revision}"
            report.skipped.append(ImportLine(item.line, item.item_id, row.id, reason))
            return
        apply_content(row, item.content, now)
        row.revision += 1
        row.source_revision = item.revision or row.source_revision
        await index(uow, row)
        record(uow, row, ArticleEventKind.REVISED, actor, row.status, payload=snapshot(item.content))
        report.updated.append(ImportLine(item.line, item.item_id, row.id))

    @staticmethod
    async def _land(uow: UnitOfWork, row: ArticleRow, actor: str, publish: bool, now) -> None:  # type: ignore[no-untyped-def]
        """Risk-control information waits for the RISK role; the rest is published when asked."""
        column = COLUMNS.get(row.column)
        if column is not None and column.risk_control:
            row.status = ArticleStatus.SUBMITTED.value
            record(uow, row, ArticleEventKind.SUBMITTED, actor, ArticleStatus.DRAFT.value)
        elif publish:
            await go_live(uow, row, now)
            record(uow, row, ArticleEventKind.PUBLISHED, actor, ArticleStatus.DRAFT.value)


async def print_import(database_url: str, fmt: str, text: str, source: str | None, publish: bool) -> int:
    """`brokerql import`: run one import and print its report; exit code 1 when lines were unreadable."""
    db = Database(database_url)
    try:
        report = await FeedImporter(db).run(fmt, text, actor="import:cli", publish=publish, source=source)
    finally:
        await db.dispose()
    counts = report.summary()
    print(", ".join(f"{k} {v}" for k, v in counts.items()))
    for line in report.skipped:
        print(f"  line {line.line}: skipped {line.item_id}: {line.reason}")
    for error in report.errors:
        print(f"  line {error.line}: {error.message}")
    return 1 if report.errors else 0
