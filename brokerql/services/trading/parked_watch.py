"""The trigger watch: every API process evaluates parked orders' price triggers on every quote, and
sweeps time triggers, expiries and dead claims on the clock.

Each process keeps an index of the price-triggered parked orders by symbol, built from the database at
start (and after any gap in what it heard) and kept current by the `trading.parked` topic, on which
every change of a parked order is announced. On each quote it asks the domain (`decide`) what each of
the symbol's parked orders should do. Several processes see the same quote and try the same parked
order: the durable claim in the database lets exactly one fire it, so the duplicates cost one
conditional UPDATE each and nothing else.

The index can miss a quote only while this process is not listening; the retained snapshot checked at
every (re)load covers a crossing that happened meanwhile, since a crossed trigger stays crossed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from brokerql.bus import Bus, Resync, SlowConsumer
from brokerql.bus.topics import PARKED_ORDERS_TOPIC
from brokerql.domain.clock import Clock
from brokerql.domain.trading.parked import Decision, ParkedOrderView, ParkedStatus, decide
from brokerql.exchange.engine import quote_topic
from brokerql.services.trading.parked_orders import ParkedOrdersService
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)


class ParkedTriggerWatch:
    def __init__(
        self, service: ParkedOrdersService, bus: Bus, symbols: list[str], clock: Clock, *, sweep_seconds: float
    ) -> None:
        self.service, self.bus, self.symbols, self.clock = service, bus, symbols, clock
        self.sweep_seconds = sweep_seconds
        self.armed: dict[str, dict[str, ParkedOrderView]] = {}  # symbol -> parked id -> parked order
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._follow(), name="parked-trigger-watch"))
        self._tasks.append(asyncio.create_task(self._sweeping(), name="parked-sweep"))
        with contextlib.suppress(TimeoutError):  # subscribed and loaded: no quote from now on goes unseen
            await asyncio.wait_for(self._listening.wait(), 10)

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks.clear()

    async def track(self, parked: ParkedOrderView) -> None:
        """Keep the index current with a parked order as it now stands. A newly parked one is checked
        against the latest quote at once: a quote that came between its commit and this announcement
        would otherwise go unseen for it."""
        symbol = parked.order.symbol
        by_id = self.armed.setdefault(symbol, {})
        if not (parked.status is ParkedStatus.PARKED and parked.trigger.is_price):
            by_id.pop(parked.id, None)
            return
        by_id[parked.id] = parked
        snapshot = await self.bus.latest(quote_topic(symbol))
        if snapshot is not None:
            await self.on_quote(symbol, snapshot, only=parked.id)

    async def reload(self) -> None:
        """Rebuild the index from the database, then check each symbol against its retained quote."""
        armed: dict[str, dict[str, ParkedOrderView]] = {}
        for parked in await self.service.armed_price_triggers():
            armed.setdefault(parked.order.symbol, {})[parked.id] = parked
        self.armed = armed
        for symbol in list(armed):
            snapshot = await self.bus.latest(quote_topic(symbol))
            if snapshot is not None:
                await self.on_quote(symbol, snapshot)

    async def on_quote(self, symbol: str, snapshot: dict[str, Any], *, only: str | None = None) -> None:
        """Fire (or expire) each of the symbol's parked orders (or just `only`) the domain says should go now."""
        waiting = self.armed.get(symbol)
        if not waiting:
            return
        try:
            last = Decimal(snapshot["last"]) if snapshot.get("last") is not None else None
        except (InvalidOperation, TypeError):
            return
        now = self.clock.now()
        for parked in list(waiting.values()):
            if only is not None and parked.id != only:
                continue
            decision = decide(parked.trigger, parked.valid_until, now, last)
            if decision is Decision.WAIT:
                continue
            waiting.pop(parked.id, None)  # whatever happens next is announced; a failure is re-read later
            try:
                if decision is Decision.FIRE:
                    await self.service.fire(parked.id)
                else:
                    await self.service.expire(parked.id)
            except Exception:  # the database is away: the sweep takes over the claim, the reload re-arms
                log.exception("parked order %s: %s failed", parked.id, decision.value)

    async def _follow(self) -> None:
        symbol_of = {quote_topic(s): s for s in self.symbols}
        topics = [*symbol_of, PARKED_ORDERS_TOPIC]
        while True:
            try:
                async with await self.bus.subscribe(topics, maxsize=10_000) as subscription:
                    await self.reload()
                    self._listening.set()
                    while True:
                        try:
                            topic, message = await subscription.get()  # type: ignore[misc]
                        except Resync:  # the link was lost: what was announced meanwhile is in the database
                            await self.reload()
                            continue
                        if isinstance(message, ParkedOrderView):
                            await self.track(message)
                        elif topic in symbol_of and isinstance(message, dict):
                            await self.on_quote(symbol_of[topic], message)
            except asyncio.CancelledError:
                raise
            except SlowConsumer:
                log.warning("parked trigger watch fell behind; reloading")
            except Exception:  # the database or bus is away: try again shortly
                log.exception("parked trigger watch failed; restarting")
                await asyncio.sleep(1.0)

    async def _sweeping(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.service.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: next round
                log.warning("parked-order sweep failed (%s); retrying", exc)
