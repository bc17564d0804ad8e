"""The compliance facts an order's admission reads are kept per client, and a change made in this
process is seen by the next read at once (services/trading/facts_cache.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import event, select

from brokerql.container import Container
from brokerql.services.trading.facts_cache import FactsCache, StoredFacts
from brokerql.store.tables import ClientRow
from brokerql.store.tables_identity import ClientDailyAssetsRow, ClientProfileRow


async def _client(container: Container) -> str:
    async with container.db.read() as session:
        client_id = await session.scalar(select(ClientRow.id).where(ClientRow.username == "gold001"))
    assert client_id is not None
    return client_id


class _ProfileReads:
    """Counts the reads of client_profile on the reader engine."""

    def __init__(self, container: Container) -> None:
        self.engine = container.db.reader.sync_engine
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if "FROM client_profile" in statement:
            self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def test_facts_are_read_once_and_a_change_here_is_seen_at_once(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    reads = _ProfileReads(container)
    try:
        client_id = await _client(container)
        facts = container.compliance.facts
        first = await facts(client_id)
        assert await facts(client_id) == first
        assert reads.count == 1  # the second order of the client read nothing

        # An operator's grant (a unit of work of this process): the next read has it.
        board = next(b for b in ("STAR", "CHINEXT", "HK_CONNECT") if b not in first.granted)
        assert await container.compliance.set_grant("op", client_id, board, True, "test") == []
        assert board in (await facts(client_id)).granted

        # Any other write of the profile or of the asset history, whoever makes it.
        async with container.db.transaction() as uow:
            profile = await uow.session.get(ClientProfileRow, client_id)
            assert profile is not None
            profile.risk_level = "C2" if first.risk_level != "C2" else "C3"
            risk = profile.risk_level
        assert (await facts(client_id)).risk_level == risk
        async with container.db.transaction() as uow:
            uow.session.add(ClientDailyAssetsRow(client_id=client_id, day=date(2000, 1, 3), assets=Decimal(1)))
        reads_before = reads.count
        await facts(client_id)
        assert reads.count == reads_before + 1
    finally:
        reads.close()
        await container.db.dispose()


async def test_a_rolled_back_change_is_not_seen(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    try:
        client_id = await _client(container)
        before = await container.compliance.facts(client_id)
        try:
            async with container.db.transaction() as uow:
                profile = await uow.session.get(ClientProfileRow, client_id)
                assert profile is not None
                profile.risk_level = "C5" if before.risk_level != "C5" else "C4"
                await uow.session.flush()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert await container.compliance.facts(client_id) == before
    finally:
        await container.db.dispose()


def test_a_read_that_overlapped_a_change_is_not_kept() -> None:
    cache = FactsCache(ttl_seconds=60)
    day = date(2026, 11, 30)
    stored = StoredFacts(day, "C3", None, frozenset(), Decimal(0))
    mark = cache.mark()
    cache.forget({"someone else"})  # any change while the read was under way
    cache.put("c1", stored, mark)
    assert cache.get("c1", day) is None
    cache.put("c1", stored, cache.mark())
    assert cache.get("c1", day) == stored
    assert cache.get("c1", date(2026, 12, 1)) is None  # a new day's window reads again
