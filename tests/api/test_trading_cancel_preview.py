"""A dry-run cancel (`dryRun: true`) only reads: no write statement and no row lock on the trading tables,
no daily settlement, and it lists exactly what the real cancel then covers (both backends)."""

from __future__ import annotations

from sqlalchemy import event, select, update

from brokerql.store.tables import AccountEventRow, AccountRow
from tests.api.trading_helpers import CANCEL, place, trading_client

WRITES = ("INSERT", "UPDATE", "DELETE")
TRADING_TABLES = ("ACCOUNT", "ORDERS", "POSITION")  # background tasks (outbox relay, monitor) touch others


async def test_a_dry_run_cancel_reads_one_snapshot_and_writes_nothing(backend) -> None:  # type: ignore[no-untyped-def]
    async with trading_client(backend, with_exchange=False, cancel_confirm_seconds=0) as client:
        await client.login("gold001")
        account = await client.account_id()
        ids = [(await place(client, account, price=price))["order"]["id"] for price in ("12.50", "12.60")]
        db = client.container.db
        async with db.transaction() as uow:  # yesterday's account: a change would settle it first
            await uow.session.execute(
                update(AccountRow).where(AccountRow.id == account).values(trading_day="2000-01-03")
            )
        statements: list[str] = []

        def record(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
            text = statement.strip().upper()
            if any(table in text for table in TRADING_TABLES):
                statements.append(text)

        engines = {db.writer.sync_engine, db.reader.sync_engine}
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            preview = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ALL", "dryRun": True}})
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)
        listed = preview["data"]["cancelOrders"]
        assert sorted(o["id"] for o in listed["canceled"]) == sorted(ids) and listed["errors"] == []
        assert {o["status"] for o in listed["canceled"]} == {"NEW"}
        assert statements and not [s for s in statements if s.startswith(WRITES) or "FOR UPDATE" in s]
        async with db.read() as session:
            assert (await session.get(AccountRow, account)).trading_day == "2000-01-03"
            kinds = (
                await session.scalars(select(AccountEventRow.kind).where(AccountEventRow.account_id == account))
            ).all()
        assert "DAY_SETTLED" not in kinds
        canceled = await client.execute(CANCEL, {"i": {"accountId": account, "scope": "ALL"}})
        assert sorted(o["id"] for o in canceled["data"]["cancelOrders"]["canceled"]) == sorted(ids)
