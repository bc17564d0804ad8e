"""The Redis bus of the scaled deployment.

Durable-ish topics (`account.*`, `exchange.*`, `articles.*`, `trading.*`, `identity.*`) are Redis Streams: a
message is an entry with an id, so one reader per process can follow many streams from exact positions with a single
blocking XREAD and nothing published after a subscription starts is skipped. Quotes are plain pub/sub: only the latest
matters, and the latest is also kept in a key (`retain`) for processes that join later.

The database stays the source of truth: if Redis restarts (it keeps nothing on disk here) every local
subscriber is told out of band (`Resync`) and re-reads what it may have missed from the database.

Stream entries are codec envelopes (typed messages); pub/sub carries market-data snapshots as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from brokerql.bus import codec
from brokerql.bus.base import Bus, Message
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

# typed messages (codec envelopes)
STREAM_PREFIXES = ("account.", "exchange.", "articles.", "trading.", "identity.")
STREAM_MAXLEN = 10_000
# Streams read through a consumer group are trimmed by their consumer, never past an unacknowledged entry.
CONSUMER_TRIMMED = ("exchange.commands",)
BLOCK_MS = 250


def is_stream(topic: str) -> bool:
    return topic.startswith(STREAM_PREFIXES)


class RedisBus(Bus):
    """Streams for ordered per-account and command topics, pub/sub for quotes."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "brokerql",
        buffer_size: int = 1000,
        max_connections: int = 100,
        pool_timeout: float = 5.0,
    ) -> None:
        super().__init__(buffer_size)
        self.url = url
        self.prefix = prefix
        # One pool for every command of the process (bus, rate limits, slots, caches). A blocking pool:
        # a burst of thousands of sockets opening or closing at once waits up to `pool_timeout` for one of
        # `max_connections` instead of failing at once (redis-py's default pool raises "Too many
        # connections" past its 100: 7,980 slot releases failed so when 8,000 sockets closed together).
        # A pooled connection may be dead after a Redis restart: retry a command on a fresh connection
        # (a few times, with backoff) instead of failing the request that happened to draw it.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=pool_timeout,
            socket_connect_timeout=2,
            health_check_interval=10,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self.client = redis.Redis.from_pool(pool)
        # The readers keep no retries: a lost link must surface, so that subscribers are told to RESYNC.
        self._stream_client = redis.Redis.from_url(url, socket_connect_timeout=2)
        self._pubsub = self._stream_client.pubsub(ignore_subscribe_messages=True)
        self._stream_positions: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub_ready = asyncio.Event()

    def key(self, topic: str) -> str:
        return f"{self.prefix}:{topic}"

    def topic_of(self, key: bytes) -> str:
        """Inverse of `key` (the prefix itself may contain colons)."""
        return key.decode()[len(self.prefix) + 1 :]

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read_streams(), name="redis-streams"),
            asyncio.create_task(self._read_pubsub(), name="redis-pubsub"),
        ]

    async def close(self) -> None:
        await stop_tasks(self._tasks)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        await self._stream_client.aclose()
        await self.client.aclose()

    async def publish(self, topic: str, message: Message, *, retain: bool = False) -> None:
        data = codec.encode(message) if is_stream(topic) else json.dumps(message, separators=(",", ":"), default=str)
        await self._send(topic, data, retain=retain)

    async def publish_record(self, topic: str, record: codec.Record) -> None:
        """An outbox record is already an envelope: it goes out as it is, without decoding it first."""
        await self._send(topic, codec.encode_record(record), retain=False)

    async def publish_records(self, records: Sequence[tuple[str, codec.Record]]) -> None:
        """One pipeline (one round trip, run in order) instead of a round trip a message: the outbox
        relay awaited each one and fell behind the placements of a busy process."""
        pipe = self.client.pipeline(transaction=False)
        for topic, record in records:
            key, data = self.key(topic), codec.encode_record(record)
            if is_stream(topic):
                maxlen = None if topic in CONSUMER_TRIMMED else STREAM_MAXLEN
                pipe.xadd(key, {"d": data}, maxlen=maxlen, approximate=True)
            else:
                pipe.publish(key, data)
        await pipe.execute()

    async def _send(self, topic: str, data: str | bytes, *, retain: bool) -> None:
        key = self.key(topic)
        if is_stream(topic):
            maxlen = None if topic in CONSUMER_TRIMMED else STREAM_MAXLEN
            await self.client.xadd(key, {"d": data}, maxlen=maxlen, approximate=True)
        else:
            await self.client.publish(key, data)
        if retain:
            await self.client.set(f"{key}:latest", data)

    async def latest(self, topic: str) -> Message | None:
        data = await self.client.get(f"{self.key(topic)}:latest")
        return None if data is None else json.loads(data)

    async def ping(self) -> None:
        await self.client.ping()

    async def upstream_open(self, topic: str) -> None:
        if is_stream(topic):
            self._stream_positions[topic] = await self._stream_tail(topic)
        else:
            await self._pubsub.subscribe(self.key(topic))
            self._pubsub_ready.set()

    async def upstream_close(self, topic: str) -> None:
        if is_stream(topic):
            self._stream_positions.pop(topic, None)
        else:
            with contextlib.suppress(RedisError):
                await self._pubsub.unsubscribe(self.key(topic))

    async def _stream_tail(self, topic: str) -> str:
        """The id of the newest entry now: reading after it yields exactly what comes next."""
        try:
            newest = await self.client.xrevrange(self.key(topic), count=1)
        except RedisError:
            return "0-0"
        return newest[0][0].decode() if newest else "0-0"

    async def _read_streams(self) -> None:
        while True:
            if not self._stream_positions:
                await asyncio.sleep(BLOCK_MS / 1000)
                continue
            positions = {self.key(t): p for t, p in self._stream_positions.items()}
            try:
                batches = await self._stream_client.xread(positions, block=BLOCK_MS, count=500)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                await self._recover("streams", exc)
                continue
            for key, entries in batches or ():
                topic = self.topic_of(key)
                for entry_id, fields in entries:
                    if topic in self._stream_positions:
                        self._stream_positions[topic] = entry_id.decode()
                    message = codec.decode(fields[b"d"])
                    if message is not None:  # unreadable: parked by the codec
                        self.hub.dispatch(topic, message)

    async def _read_pubsub(self) -> None:
        while True:
            await self._pubsub_ready.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                await self._recover("pubsub", exc)
                continue
            except RuntimeError:
                # No channel subscribed right now (all unsubscribed): wait for the next subscribe.
                self._pubsub_ready.clear()
                continue
            if message and message.get("type") == "message":
                topic = self.topic_of(message["channel"])
                self.hub.dispatch(topic, json.loads(message["data"]))

    async def _recover(self, reader: str, exc: BaseException) -> None:
        """Wait for Redis to answer again, then tell this reader's subscribers to resynchronise."""
        log.warning("redis %s reader lost its connection: %s; reconnecting", reader, exc)
        while True:
            await asyncio.sleep(0.5)
            try:
                await self.client.ping()
                break
            except (RedisError, OSError):
                continue
        if reader == "streams":
            for topic in list(self._stream_positions):
                self._stream_positions[topic] = await self._stream_tail(topic)
        else:
            channels = [self.key(t) for t in self.hub.by_topic if not is_stream(t)]
            with contextlib.suppress(RedisError):
                await self._pubsub.aclose()
            self._pubsub = self._stream_client.pubsub(ignore_subscribe_messages=True)
            if channels:
                await self._pubsub.subscribe(*channels)
        for topic in list(self.hub.by_topic):
            if is_stream(topic) == (reader == "streams"):
                self.hub.resync(topic)
