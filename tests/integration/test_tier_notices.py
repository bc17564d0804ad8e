"""A committed tier change reaches the tier cache of every process through the bus, without a read per
client per second (`services/identity/tier_notices.py`). On PostgreSQL + Redis two containers stand for
two processes of one deployment."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from sqlalchemy import event, select

from brokerql.container import Container
from brokerql.services.identity.audit import tier_changed
from brokerql.store.tables import ClientRow, OperatorRow


async def _listening(container: Container) -> list[asyncio.Task[None]]:
    await container.bus.start()
    tasks = [asyncio.create_task(container.relay.run()), asyncio.create_task(container.tier_notices.run())]
    await asyncio.wait_for(container.tier_notices.listening.wait(), 10)
    return tasks


async def _stop(container: Container, tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await container.bus.close()
    await container.db.dispose()


@contextlib.contextmanager
def _tier_reads(container: Container) -> Iterator[list[str]]:
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT client.tier_code"):  # `AuthService._read_tier`
            reads.append(statement)

    engine = container.db.reader.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield reads
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _ids(container: Container) -> tuple[str, str]:
    async with container.db.read() as session:
        client_id = await session.scalar(select(ClientRow.id).where(ClientRow.username == "gold001"))
        operator_id = await session.scalar(select(OperatorRow.id).order_by(OperatorRow.id).limit(1))
    assert client_id is not None and operator_id is not None
    return client_id, operator_id


async def _becomes(container: Container, client_id: str, tier: str) -> None:
    for _ in range(200):
        if await container.auth.tier_of(client_id) == tier:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the tier never became {tier}")


async def test_every_process_takes_a_tier_change_as_it_commits(backend) -> None:  # type: ignore[no-untyped-def]
    containers = [Container.build(backend.settings, with_exchange=False)]
    if backend.name != "sqlite-memory":  # processes share Redis; the in-process bus is one process's own
        containers.append(Container.build(backend.settings, with_exchange=False))
    running = [await _listening(c) for c in containers]
    try:
        client_id, _operator_id = await _ids(containers[0])
        for container in containers:
            assert await container.auth.tier_of(client_id) == "GOLD"  # now cached (for 30 s by default)
        with contextlib.ExitStack() as stack:
            reads = [stack.enter_context(_tier_reads(c)) for c in containers]
            # What every tier change does (`LevelWorkflow._change_tier` also forgets the changing
            # process's entry at once, which would read it again here).
            async with containers[0].db.transaction() as uow:
                client = await uow.session.get(ClientRow, client_id)
                assert client is not None
                client.tier_code = "SILVER"
                tier_changed(uow, client_id, "GOLD", "SILVER", "FORCED")
            for container in containers:
                await _becomes(container, client_id, "SILVER")
            assert reads == [[] for _ in containers]  # the notice set it: no read of the tier
    finally:
        for container, tasks in zip(containers, running, strict=True):
            await _stop(container, tasks)


async def test_a_level_change_reaches_the_other_processes(backend) -> None:  # type: ignore[no-untyped-def]
    containers = [Container.build(backend.settings, with_exchange=False) for _ in range(2)]
    running = [await _listening(c) for c in containers]
    try:
        client_id, operator_id = await _ids(containers[0])
        assert await containers[1].auth.tier_of(client_id) == "GOLD"
        assert await containers[0].identity.levels.force(operator_id, client_id, "SILVER", "test") == []
        assert await containers[0].auth.tier_of(client_id) == "SILVER"  # its own change: read again at once
        if backend.name != "sqlite-memory":  # over Redis: the other process hears of it
            await _becomes(containers[1], client_id, "SILVER")
    finally:
        for container, tasks in zip(containers, running, strict=True):
            await _stop(container, tasks)


async def test_a_read_that_began_before_a_change_is_not_kept(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    try:
        client_id, _operator_id = await _ids(container)
        reading = asyncio.create_task(container.auth.tier_of(client_id))
        await asyncio.sleep(0)  # the read has begun: it waits for the database
        container.auth.take_tier(client_id, "SILVER")  # a change committed meanwhile
        assert await reading == "GOLD"  # what the read saw
        with _tier_reads(container) as reads:
            assert await container.auth.tier_of(client_id) == "SILVER"  # the notice's tier, from the cache
            assert reads == []
    finally:
        await container.db.dispose()


async def test_a_lost_link_forgets_every_cached_tier(backend) -> None:  # type: ignore[no-untyped-def]
    container = Container.build(backend.settings, with_exchange=False)
    try:
        client_id, _operator_id = await _ids(container)
        container.auth.take_tier(client_id, "SILVER")  # cached, though the database still says GOLD
        container.auth.forget_tiers()  # what `Resync` does: changes may have gone unheard
        assert await container.auth.tier_of(client_id) == "GOLD"
    finally:
        await container.db.dispose()
