"""Per-event entitlement checks read the tier at most once a second per client, in a single flight."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select

from brokerql.container import Container
from brokerql.store.tables import ClientRow


async def test_concurrent_tier_reads_share_one_query(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    async with container.db.read() as session:
        client_id = await session.scalar(select(ClientRow.id).where(ClientRow.username == "gold001"))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "tier_code" in statement and "FROM client" in statement:
            statements.append(statement)

    event.listen(container.db.reader.sync_engine, "before_cursor_execute", count)
    try:
        tiers = await asyncio.gather(*(container.auth.tier_of(client_id) for _ in range(50)))
        assert set(tiers) == {"GOLD"}
        assert len(statements) == 1
        await container.auth.tier_of(client_id)  # fresh in the cache: no query
        assert len(statements) == 1
    finally:
        event.remove(container.db.reader.sync_engine, "before_cursor_execute", count)
        await container.db.dispose()
