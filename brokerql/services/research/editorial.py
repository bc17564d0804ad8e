"""B2 editorial workflow: create, revise, submit, approve, reject, publish (now or scheduled), withdraw.

Every change goes through `_transition` or `create`/`revise`, is checked against the domain's
transition table, and is recorded as a typed article event and in the operator log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.common import Rejection
from brokerql.domain.research.articles import ArticleContent, changed_fields, normalise, validate
from brokerql.domain.research.columns import COLUMNS
from brokerql.domain.research.workflow import EDITABLE, Action, ArticleEventKind, ArticleStatus, Decision, decide
from brokerql.services.research.records import apply_content, content_of, go_live, index, record, snapshot
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables_research import ArticleRow

RolesOf = Callable[[str], Awaitable[list[str] | None]]
Outcome = tuple[ArticleRow | None, list[Rejection]]
EDITOR_SOURCE = "editor"  # articles written in the back office; their item id is the article id


def _not_found() -> list[Rejection]:
    return [Rejection("NOT_FOUND", "No such article.", "id")]


class EditorialDesk:
    def __init__(self, db: Database, roles_of: RolesOf, clock: Clock = SYSTEM_CLOCK) -> None:
        self.db = db
        self.roles_of = roles_of
        self.clock = clock

    async def create(self, operator_id: str, content: ArticleContent) -> Outcome:
        roles = await self.roles_of(operator_id) or []
        if not {"EDITOR", "ADMIN"} & set(roles):
            return None, [Rejection("NOT_YOUR_ROLE", "Only EDITOR or ADMIN may write articles.", "input")]
        content = normalise(content)
        if problems := validate(content):
            return None, problems
        now = self.clock.now()
        article_id = new_id("art")
        async with self.db.transaction() as uow:
            row = ArticleRow(id=article_id, status=ArticleStatus.DRAFT.value, source=EDITOR_SOURCE,
                             source_item_id=article_id, created_by=operator_id, created_at=now, title="",
                             entitlement="", content_hash="")  # fmt: skip
            apply_content(row, content, now)
            uow.session.add(row)
            await index(uow, row)
            record(uow, row, ArticleEventKind.CREATED, operator_id, None, payload=snapshot(content),
                   operator_id=operator_id)  # fmt: skip
        return row, []

    async def revise(self, operator_id: str, article_id: str, content: ArticleContent) -> Outcome:
        """An editor changes a draft or a rejected article (a new revision, its text kept in the event)."""
        roles = await self.roles_of(operator_id) or []
        if not {"EDITOR", "ADMIN"} & set(roles):
            return None, [Rejection("NOT_YOUR_ROLE", "Only EDITOR or ADMIN may revise articles.", "id")]
        content = normalise(content)
        if problems := validate(content):
            return None, problems
        async with self.db.transaction() as uow:
            row = await self._load(uow, article_id)
            if row is None:
                return None, _not_found()
            if ArticleStatus(row.status) not in EDITABLE:
                return None, [Rejection("INVALID_TRANSITION", f"A {row.status} article cannot be revised.", "id")]
            change = changed_fields(content_of(row), content)
            apply_content(row, content, self.clock.now())
            row.revision += 1
            await index(uow, row)
            payload = {**snapshot(content), "changed": list(change.fields)}
            record(uow, row, ArticleEventKind.REVISED, operator_id, row.status, payload=payload,
                   operator_id=operator_id)  # fmt: skip
        return row, []

    async def submit(self, operator_id: str, article_id: str) -> Outcome:
        return await self._transition(operator_id, article_id, Action.SUBMIT)

    async def approve(self, operator_id: str, article_id: str, comment: str = "") -> Outcome:
        return await self._transition(operator_id, article_id, Action.APPROVE, comment)

    async def reject(self, operator_id: str, article_id: str, comment: str) -> Outcome:
        if not comment.strip():
            return None, [Rejection("COMMENT_REQUIRED", "Say why the article is rejected.", "comment")]
        return await self._transition(operator_id, article_id, Action.REJECT, comment)

    async def publish(self, operator_id: str, article_id: str, at: datetime | None = None) -> Outcome:
        """Publish now, or at `at` when that lies in the future (the scheduler publishes it when due)."""
        if at is not None and at.tzinfo is None:
            return None, [Rejection("BAD_TIME", "Give the publication time with a time zone.", "at")]
        return await self._transition(operator_id, article_id, Action.PUBLISH, at=at)

    async def withdraw(self, operator_id: str, article_id: str, comment: str = "") -> Outcome:
        return await self._transition(operator_id, article_id, Action.WITHDRAW, comment)

    async def _transition(
        self, operator_id: str, article_id: str, action: Action, comment: str = "", at: datetime | None = None
    ) -> Outcome:
        roles = await self.roles_of(operator_id) or []
        async with self.db.transaction() as uow:
            row = await self._load(uow, article_id)
            if row is None:
                return None, _not_found()
            column = COLUMNS.get(row.column)
            decision = decide(row.status, action, roles, risk_control=bool(column and column.risk_control))
            if isinstance(decision, Rejection):
                return None, [decision]
            if row.publish_at is not None and action is Action.PUBLISH:
                return None, [Rejection("ALREADY_SCHEDULED", "This article is already scheduled.", "id")]
            await self._apply(uow, row, decision, operator_id, comment, at)
        return row, []

    async def _apply(
        self, uow: UnitOfWork, row: ArticleRow, decision: Decision, operator_id: str, comment: str,
        at: datetime | None,
    ) -> None:  # fmt: skip
        before, now = row.status, self.clock.now()
        if decision.to is ArticleStatus.PUBLISHED and at is not None and at > now:
            row.publish_at, row.updated_at = at, now  # stays APPROVED until due
            record(uow, row, ArticleEventKind.SCHEDULED, operator_id, before, comment=comment,
                   payload={"at": at.isoformat()}, operator_id=operator_id)  # fmt: skip
            return
        row.status, row.updated_at = decision.to.value, now
        if decision.to is ArticleStatus.PUBLISHED:
            row.published_at = None  # the moment it goes live, not a draft's feed time
            await go_live(uow, row, now)
        record(uow, row, decision.event, operator_id, before, comment=comment, operator_id=operator_id)

    @staticmethod
    async def _load(uow: UnitOfWork, article_id: str) -> ArticleRow | None:
        return await uow.session.scalar(uow.lock(select(ArticleRow).where(ArticleRow.id == article_id)))
