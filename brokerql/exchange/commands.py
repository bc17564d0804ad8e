"""Where the venue's host reads its commands from, with acknowledgement.

- `RedisCommands`: a consumer group on the `exchange.commands` stream. An entry stays pending until the
  host acknowledges it, which it does only after the reports it caused are journalled; a new holder first
  claims (XAUTOCLAIM) what the dead one left pending. The stream is trimmed by the host, never past the
  oldest unacknowledged entry. If the stream or the group vanished (Redis restarted without persistence),
  the gap is reported as `CommandsLost` and the host reconciles from the database.
- `BusCommands`: the in-process bus (one process): a plain subscription; nothing to acknowledge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from redis.exceptions import RedisError, ResponseError

from brokerql.bus import Bus, Resync, SlowConsumer, codec
from brokerql.bus.topics import COMMANDS_TOPIC

log = logging.getLogger(__name__)

GROUP = "venue"
TRIM_EVERY = 200  # acknowledgements between two trims of the stream
BATCH = 500  # commands read at once


class CommandsLost(Exception):
    """Commands may have been lost (the link or the stream was reset): reconcile from the database."""


Delivery = tuple[str, object]  # (acknowledgement id, command)


class CommandSource(Protocol):
    async def open(self) -> None: ...

    async def next(self, timeout: float) -> list[Delivery]:
        """The next commands (possibly none when `timeout` passes); raises CommandsLost on a gap."""

    async def ack(self, ids: list[str]) -> None: ...

    async def close(self) -> None: ...


class BusCommands:
    """The in-process bus: commands are dispatched directly; a lost one is found again by reconciling."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._subscription: Any = None

    async def open(self) -> None:
        self._subscription = await self.bus.subscribe([COMMANDS_TOPIC], maxsize=100_000)

    async def next(self, timeout: float) -> list[Delivery]:
        """The next command and every one already waiting behind it (up to `BATCH`): the host journals a
        batch in one transaction, and one command at a time let each wait for a commit of its own."""
        try:
            item = await self._subscription.get(timeout)
            deliveries: list[Delivery] = [] if item is None else [("", item[1])]
            while deliveries and len(deliveries) < BATCH and self._subscription.pending:
                item = await self._subscription.get(0)  # waiting already: returned at once
                if item is not None:
                    deliveries.append(("", item[1]))
        except Resync as exc:
            raise CommandsLost("bus resync") from exc
        except SlowConsumer as exc:
            await self._subscription.close()
            await self.open()
            raise CommandsLost("fell behind the command stream") from exc
        return deliveries

    async def ack(self, ids: list[str]) -> None:
        return None

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()


class RedisCommands:
    """XREADGROUP / XACK on the command stream; XAUTOCLAIM of a dead holder's pending entries."""

    def __init__(self, client: Any, key: str, consumer: str) -> None:
        self.client = client
        self.key = key
        self.consumer = consumer
        self._claimed: list[tuple[bytes, dict[bytes, bytes]]] = []
        self._acks = 0
        self._last_acked: str | None = None

    async def open(self) -> None:
        await self._ensure_group()
        start = "0-0"
        while True:  # everything a previous holder read but did not acknowledge
            reply = await self.client.xautoclaim(self.key, GROUP, self.consumer, 0, start, count=1000)
            next_start, entries = reply[0], reply[1]
            self._claimed.extend(e for e in entries if e and e[1] is not None)
            start = next_start.decode() if isinstance(next_start, bytes) else str(next_start)
            if start == "0-0":
                break
        if self._claimed:
            log.warning("venue claimed %d unacknowledged commands of the previous holder", len(self._claimed))

    async def _ensure_group(self) -> None:
        try:  # from the start of the stream: commands published while no venue ran are still there
            await self.client.xgroup_create(self.key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def next(self, timeout: float) -> list[Delivery]:
        if self._claimed:
            entries, self._claimed = self._claimed, []
            return self._decode(entries)
        try:
            reply = await self.client.xreadgroup(
                GROUP, self.consumer, {self.key: ">"}, count=BATCH, block=max(1, int(timeout * 1000))
            )
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream is gone (Redis restarted): what was in it is lost
                await self._ensure_group()
                raise CommandsLost("the command stream was reset") from exc
            raise
        except (RedisError, OSError) as exc:
            await asyncio.sleep(0.5)
            raise CommandsLost(f"lost the link to the command stream: {exc}") from exc
        return [d for _key, entries in reply or () for d in self._decode(entries)]

    @staticmethod
    def _decode(entries: list[Any]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for entry_id, fields in entries:
            message = codec.decode(fields[b"d"]) if fields and b"d" in fields else None
            deliveries.append((entry_id.decode(), message))  # unreadable: parked, acknowledged as done
        return deliveries

    async def ack(self, ids: list[str]) -> None:
        if not ids:
            return
        await self.client.xack(self.key, GROUP, *ids)
        self._last_acked = ids[-1]
        self._acks += len(ids)
        if self._acks >= TRIM_EVERY:
            self._acks = 0
            await self.trim()

    async def trim(self) -> None:
        """Drop acknowledged entries: everything before the oldest pending one (or the last acknowledged)."""
        summary = await self.client.xpending(self.key, GROUP)
        oldest = summary.get("min") if isinstance(summary, dict) else None
        floor = oldest.decode() if isinstance(oldest, bytes) else oldest
        floor = floor or self._last_acked
        if floor:
            with contextlib.suppress(RedisError):
                await self.client.xtrim(self.key, minid=floor, approximate=False)

    async def close(self) -> None:
        return None
