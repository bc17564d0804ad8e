"""B4 SMS notices on both backends: one per opted-in holder of a named symbol, sent once, retried."""

from __future__ import annotations

from sqlalchemy import select, update

from brokerql.domain.identity.sms import RecordingSmsSender
from brokerql.domain.research.articles import ArticleContent
from brokerql.services.research.editorial import EditorialDesk
from brokerql.services.research.notices import MAX_ATTEMPTS, ArticleNotices
from brokerql.store.database import Database
from brokerql.store.tables import ClientRow
from brokerql.store.tables_identity import ClientProfileRow
from brokerql.store.tables_research import ArticleNoticeRow

ROLES = {"ed": ["EDITOR"], "rv": ["REVIEWER"]}


class FailingSender(RecordingSmsSender):
    async def send_text(self, phone: str, text: str) -> None:
        raise ConnectionError("SMS gateway down")


async def _roles(operator_id: str) -> list[str]:
    return ROLES.get(operator_id, [])


async def _publish(db: Database, title: str, symbols: tuple[str, ...]) -> str:
    desk = EditorialDesk(db, _roles)
    content = ArticleContent(title=title, summary="s", body="b", column="featured", symbols=symbols)
    row, errors = await desk.create("ed", content)
    assert row is not None, errors
    for step, who in ((desk.submit, "ed"), (desk.approve, "rv"), (desk.publish, "ed")):
        _, errors = await step(who, row.id)
        assert errors == []
    return row.id


async def _drain(notices: ArticleNotices) -> None:
    while await notices.send_pending():
        pass


async def test_notices_go_once_to_opted_in_holders_and_are_retried(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        await _drain(ArticleNotices(db, RecordingSmsSender()))  # what the demo seed left pending
        async with db.transaction() as uow:  # std002 opts out of SMS
            std002 = await uow.session.scalar(select(ClientRow.id).where(ClientRow.username == "std002"))
            await uow.session.execute(
                update(ClientProfileRow).where(ClientProfileRow.client_id == std002).values(channels=["APP"])
            )
        article_id = await _publish(db, "浦发银行快讯", ("600000",))
        async with db.read() as session:
            rows = (
                await session.scalars(select(ArticleNoticeRow).where(ArticleNoticeRow.article_id == article_id))
            ).all()
        holders = {r.client_id for r in rows}
        assert len(holders) == 5 and std002 not in holders  # six demo holders of 600000, one opted out
        failing = FailingSender()
        await ArticleNotices(db, failing).send_pending()
        async with db.read() as session:
            states = {(r.status, r.attempts) for r in (await session.scalars(select(ArticleNoticeRow).where(
                ArticleNoticeRow.article_id == article_id))).all()}  # fmt: skip
        assert states == {("PENDING", 1)}  # failed once, waiting for the next round
        recording = RecordingSmsSender()
        await _drain(ArticleNotices(db, recording))
        await _drain(ArticleNotices(db, recording))  # nothing is sent twice
        mine = [t for t in recording.texts if "浦发银行快讯" in t[1]]
        assert len(mine) == 5 and len({phone for phone, _ in mine}) == 5
        other = await _publish(db, "无人持有的品种", ("510050",))
        async with db.read() as session:
            assert (
                await session.scalars(select(ArticleNoticeRow).where(ArticleNoticeRow.article_id == other))
            ).all() == []
    finally:
        await db.dispose()


async def test_a_notice_that_keeps_failing_stops_after_max_attempts(backend) -> None:  # type: ignore[no-untyped-def]
    db = Database(backend.settings.database_url)
    try:
        await _drain(ArticleNotices(db, RecordingSmsSender()))
        article_id = await _publish(db, "平安银行快讯", ("000001",))
        failing = ArticleNotices(db, FailingSender())
        for _ in range(MAX_ATTEMPTS + 2):
            await failing.send_pending()
        async with db.read() as session:
            rows = (
                await session.scalars(select(ArticleNoticeRow).where(ArticleNoticeRow.article_id == article_id))
            ).all()
        assert rows and {(r.status, r.attempts) for r in rows} == {("FAILED", MAX_ATTEMPTS)}
    finally:
        await db.dispose()
