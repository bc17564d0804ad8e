"""The bus on both implementations: fan-out, retained snapshots, order, overflow, and a Redis restart."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from brokerql.bus import Resync, SlowConsumer, create_bus
from brokerql.bus.redis import RedisBus
from brokerql.domain.trading.messages import AccountEvent, AccountEventKind
from tests.conftest import REDIS_UP


def event(seq: int) -> AccountEvent:
    """A typed account event (streams carry codec messages)."""
    return AccountEvent(account_id="a", seq=seq, kind=AccountEventKind.DAY_SETTLED, at=datetime(2026, 1, 5, tzinfo=UTC))


async def test_fan_out_retain_and_order(backend) -> None:  # type: ignore[no-untyped-def]
    bus = create_bus(backend.settings)
    await bus.start()
    try:
        first = await bus.subscribe(["account.a", "quotes.X"])
        second = await bus.subscribe(["account.a"])
        for seq in range(1, 6):
            await bus.publish("account.a", event(seq))
        await bus.publish("quotes.X", {"last": "1.00"}, retain=True)
        got_first = [(await first.get(timeout=5))[1] for _ in range(6)]
        got_second = [(await second.get(timeout=5))[1].seq for _ in range(5)]
        assert [m.seq for m in got_first if isinstance(m, AccountEvent)] == [1, 2, 3, 4, 5]
        assert {"last": "1.00"} in got_first
        assert got_second == [1, 2, 3, 4, 5]
        assert await bus.latest("quotes.X") == {"last": "1.00"}
        await first.close()
        await second.close()
        assert bus.hub.subscriber_count == 0
    finally:
        await bus.close()


async def test_a_slow_consumer_is_cut_off_not_buffered_forever(backend) -> None:  # type: ignore[no-untyped-def]
    bus = create_bus(backend.settings)
    await bus.start()
    try:
        slow = await bus.subscribe(["account.slow"], maxsize=3)
        for seq in range(10):
            await bus.publish("account.slow", event(seq))
        await asyncio.sleep(0.6)  # let the Redis reader deliver; the queue stays bounded at 3
        assert slow.queue.qsize() <= 3
        with pytest.raises(SlowConsumer):
            await slow.get(timeout=1)
    finally:
        await bus.close()


async def test_a_burst_beyond_the_redis_pool_waits_for_a_connection_instead_of_failing() -> None:
    # 8,000 sockets closing at once each released its subscription slot on Redis; past redis-py's
    # default pool of 100 every further command failed with "Too many connections".
    if not REDIS_UP:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    bus = RedisBus("redis://127.0.0.1:6379/0", prefix="pool-burst", max_connections=4, pool_timeout=10)
    key = f"pool-burst:{time.monotonic_ns()}"
    try:
        counts = await asyncio.gather(*(bus.client.incr(key) for _ in range(500)))
        assert sorted(counts) == list(range(1, 501))  # every command ran, none refused, on 4 connections
    finally:
        await bus.client.delete(key)
        await bus.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis() -> Iterator[tuple[int, callable]]:  # type: ignore[valid-type]
    """A redis-server of our own, so restarting it cannot disturb anything else on this machine."""
    if not REDIS_UP or shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port = _free_port()
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        processes.append(
            subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)

    def restart() -> None:
        processes[-1].kill()
        processes[-1].wait()
        start()

    start()
    yield port, restart
    for process in processes:
        process.kill()
        process.wait()


async def test_redis_restart_tells_subscribers_to_resync_and_delivery_resumes(private_redis) -> None:  # type: ignore[no-untyped-def]
    port, restart = private_redis
    bus = RedisBus(f"redis://127.0.0.1:{port}/0", prefix="restart")
    await bus.start()
    try:
        stream = await bus.subscribe(["account.r"])
        quotes = await bus.subscribe(["quotes.R"])
        await bus.publish("account.r", event(1))
        assert (await stream.get(timeout=5))[1] == event(1)
        await asyncio.to_thread(restart)
        with pytest.raises(Resync):  # out of band, not a message in the data
            await stream.get(timeout=15)
        with pytest.raises(Resync):
            await quotes.get(timeout=15)
        await bus.publish("account.r", event(2))
        assert (await stream.get(timeout=5))[1] == event(2)
        await bus.publish("quotes.R", {"last": "2"})
        assert (await quotes.get(timeout=5))[1] == {"last": "2"}
    finally:
        await bus.close()
