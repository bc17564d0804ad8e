"""The simulated exchange: books, the simulator loop, client orders, and quote publishing.

It is one `ExecutionVenue` (brokerql.domain.trading.gateway): its host (`brokerql.exchange.host`) holds
the lease, feeds it commands, takes its execution reports, journals them and has them booked. Everything
that touches a book runs synchronously on one event loop, so book state never interleaves; reports pile
up in order (an order's fills before the cancel of its remainder) until the host takes them.

Execution ids are stable across restarts: `<order_id>:<n>` for an order's n-th execution (n continues
from what the durable state says the order already had), `<order_id>:C` / `:E` when its rest is
canceled / expired, `<order_id>:R<n>` when a cancel is refused after n executions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from brokerql.bus import Bus
from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.orders import Execution
from brokerql.domain.market.sessions import TradingPhase, trading_day
from brokerql.domain.market.simulator import MarketSimulator, executions_of
from brokerql.domain.trading.events import Liquidity
from brokerql.domain.trading.gateway import CancelOrder, ExecType, ExecutionReport
from brokerql.exchange.client_orders import ExecutionBooker, RestingClientOrders, WorkingOrder
from brokerql.exchange.desk import HK_DELAY, REFERENCE_TOPIC, QuoteDesk, bars_topic, quote_topic
from brokerql.exchange.replay import Replay, play
from brokerql.tasks import TimeSlice, stop_tasks

__all__ = [
    "COMMANDS_TOPIC",
    "HK_DELAY",
    "REFERENCE_TOPIC",
    "Exchange",
    "ExecutionBooker",
    "WorkingOrder",
    "bars_topic",
    "quote_topic",
]

log = logging.getLogger(__name__)


class Exchange:
    """The simulated exchange: one instance per lease term (a new holder builds a new one)."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        bus: Bus,
        *,
        seed: int,
        tick_seconds: float,
        warmup_steps: int = 60,
        always_open: bool = True,
        clock: Clock = SYSTEM_CLOCK,
        replay: Replay | None = None,
    ) -> None:
        self.instruments = dict(instruments)  # rolled by the desk at each new trading day
        self.bus = bus
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.sim = MarketSimulator(self.instruments, seed)
        self.books = {s: self.sim.create_book(i) for s, i in self.instruments.items()}
        self.desk = QuoteDesk(self.instruments, self.books, always_open=always_open, on_new_day=self._expire_day)
        # Symbols whose prices come from a replayed recording: the simulator only keeps their book liquid.
        self.replayed: set[str] = set()
        self.replay = replay
        self.client_orders = RestingClientOrders()  # resting client order id -> symbol, trading day
        # Working client orders -> executions so far. Bounded: an order leaves when its reports are taken
        # after it finished (filled, canceled, expired, or an IOC/market remainder).
        self.seen: dict[str, int] = {}
        self._finished: set[str] = set()
        self._reports: list[ExecutionReport] = []
        self._listener: Callable[[], Awaitable[None]] | None = None
        self.warmup_steps = warmup_steps
        self.last_match_at: datetime | None = None
        self.last_quote_at: datetime | None = None
        self._bus_down = False
        self.paused = False  # operators pause the simulator (E3): books and client orders keep working
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._warm_up()
        await self.publish_quotes()
        self._tasks = [asyncio.create_task(self._run_simulator(), name="exchange-simulator")]
        if self.replay is not None:
            self.add_task(play(self, self.replay), name="exchange-replay")

    async def stop(self) -> None:
        await stop_tasks(self._tasks)

    def add_task(self, coroutine: Any, name: str) -> None:
        """Run a helper (e.g. a replay feed) for as long as the exchange runs."""
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    def _warm_up(self) -> None:
        """Trade for a while "in the past" so the day has an open, a range, and a 15-minute-old HK quote."""
        now = self.clock.now()
        start = now - HK_DELAY - timedelta(minutes=1)
        step = (HK_DELAY + timedelta(minutes=1)) / max(1, self.warmup_steps)
        # The warm-up belongs to the day the market opens into: started just after a close, its "past"
        # would otherwise straddle the close and settle a day that never traded.
        self.desk.begin_days(now)
        for n in range(self.warmup_steps):
            self._simulate_once(start + step * n)

    # -- the venue seam (see ExecutionVenue) ---------------------------------------------------------

    def knows(self, order_id: str) -> bool:
        return order_id in self.seen

    def on_reports(self, listener: Callable[[], Awaitable[None]]) -> None:
        self._listener = listener

    def take_reports(self) -> list[ExecutionReport]:
        reports, self._reports = self._reports, []
        for order_id in self._finished:
            if order_id not in self.client_orders:
                self.seen.pop(order_id, None)
        self._finished.clear()
        return reports

    async def accept(self, order: WorkingOrder, executions: int = 0) -> None:
        self.submit(order, executions)

    async def cancel(self, command: CancelOrder) -> None:
        self.cancel_order(command.order_id, command.symbol)

    def submit(self, order: WorkingOrder, executions: int = 0) -> None:
        if order.order_id in self.seen or order.symbol not in self.books:
            return
        self.seen[order.order_id] = executions
        if self._of_past_day(order):  # restored after the exchange was down when its day ended
            self._report(order.order_id, order.symbol, ExecType.EXPIRED, order.leaves_qty, text="end of trading day")
            return
        book = self.books[order.symbol]
        result = book.submit(order.order_id, order.side, order.type, order.leaves_qty, order.price, order.time_in_force)
        if result.resting_quantity:  # only DAY orders rest (IOC/FOK remainders are canceled at once)
            self.client_orders.add(order.order_id, order.symbol, self._day_of(order))
        else:
            self._finished.add(order.order_id)
        self._after_executions(order.symbol, result.executions)
        if result.canceled_quantity:
            reason = "market order remainder" if order.type is OrderType.MARKET else f"{order.time_in_force} remainder"
            self._report(order.order_id, order.symbol, ExecType.CANCELED, result.canceled_quantity, text=reason)

    def cancel_order(self, order_id: str, symbol: str) -> None:
        book = self.books.get(symbol)
        removed = book.cancel(order_id) if book is not None and order_id in self.seen else None
        self.client_orders.discard(order_id)
        if removed:
            self._report(order_id, symbol, ExecType.CANCELED, removed, text="canceled by client")
        else:
            self._report(order_id, symbol, ExecType.CANCEL_REJECTED, 0, text="the order had already filled")

    def _report(self, order_id: str, symbol: str, exec_type: ExecType, quantity: int, *, text: str = "") -> None:
        """Queue a non-trade execution report (in order with the fills before it)."""
        if exec_type is ExecType.CANCEL_REJECTED:
            exec_id = f"{order_id}:R{self.seen.get(order_id, 0)}"
        else:
            exec_id = f"{order_id}:{'C' if exec_type is ExecType.CANCELED else 'E'}"
            self._finished.add(order_id)
        self._reports.append(
            ExecutionReport(
                exec_id=exec_id,
                order_id=order_id,
                symbol=symbol,
                exec_type=exec_type,
                last_qty=quantity,
                text=text,
                ts=self.clock.now(),
            )
        )

    def _day_of(self, order: WorkingOrder) -> date:
        board = self.instruments[order.symbol].board
        return trading_day(order.created_at or self.clock.now(), board=board)

    def _of_past_day(self, order: WorkingOrder) -> bool:
        if order.time_in_force is not TimeInForce.DAY:
            return False
        return self._day_of(order) < trading_day(self.clock.now(), board=self.instruments[order.symbol].board)

    def _expire_day(self, symbol: str, day: date) -> None:
        """The desk rolled `symbol` to `day`: its client orders of earlier days leave the book, expired."""
        for order_id in self.client_orders.before(symbol, day):
            removed = self.books[symbol].cancel(order_id)
            self.client_orders.discard(order_id)
            if removed:
                self._report(order_id, symbol, ExecType.EXPIRED, removed, text="end of trading day")

    # -- the market ---------------------------------------------------------------------------------

    def _simulate_once(self, now: datetime) -> None:
        for symbol in list(self.instruments):
            self._simulate(symbol, now)

    def _simulate(self, symbol: str, now: datetime) -> None:
        """One tick of simulated activity on one instrument's book."""
        self.desk.roll_if_new_day(symbol, now)
        instrument = self.instruments[symbol]
        if self.desk.phase(symbol, now) is not TradingPhase.CONTINUOUS:
            return  # outside the sessions nobody trades (demo mode is always CONTINUOUS)
        if symbol in self.replayed:
            actions = self.sim.requote(self.books[symbol], instrument)
        else:
            actions = self.sim.step(self.books[symbol], instrument)
        if actions:
            self._after_executions(symbol, executions_of(actions), now)

    def play(self, symbol: str, price: Decimal, quantity: int, side: Side | None) -> None:
        """A recorded trade: prices follow the recording, and the simulated book re-centres on it."""
        if symbol not in self.books:
            return
        now = self.clock.now()
        self.replayed.add(symbol)
        self.desk.record_external(symbol, price, quantity, side, now)
        actions = self.sim.follow(self.books[symbol], self.instruments[symbol], price)
        self._after_executions(symbol, executions_of(actions), now)

    def _after_executions(self, symbol: str, executions: list[Execution], now: datetime | None = None) -> None:
        now = now or self.clock.now()
        self.desk.record(symbol, executions, now)
        if not executions:
            return
        self.last_match_at = now
        for execution in executions:
            for order_id, maker in ((execution.taker_order_id, False), (execution.maker_order_id, True)):
                if order_id not in self.seen:
                    continue
                self.seen[order_id] += 1
                self._reports.append(
                    ExecutionReport(
                        exec_id=f"{order_id}:{self.seen[order_id]}",
                        order_id=order_id,
                        symbol=symbol,
                        exec_type=ExecType.TRADE,
                        last_qty=execution.quantity,
                        last_px=execution.price,
                        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
                        ts=now,
                    )
                )
            maker_id = execution.maker_order_id
            if maker_id in self.client_orders and self.books[symbol].remaining(maker_id) in (None, 0):
                self.client_orders.discard(maker_id)
                self._finished.add(maker_id)

    @property
    def quotes(self) -> dict[str, Any]:
        """Each instrument's quote statistics of the day (the desk's)."""
        return self.desk.quotes

    async def _run_simulator(self) -> None:
        # Ticks keep their own rate (the work of a tick is inside its period, not added to it): a loaded
        # event loop made every tick 0.5 s plus the tick's wall time, and the market published about a
        # third as many snapshots at 5,700 sockets as at 750 (docs/performance.md).
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at = max(next_at + self.tick_seconds, loop.time())  # behind: the next one now, never a burst
            await asyncio.sleep(next_at - loop.time())
            if not self.paused:
                now = self.clock.now()
                # A tick of every instrument is 10-20 ms of CPU: requests and pushes run between
                # instruments every few ms instead of waiting behind all of them (each book is whole at a yield).
                turn = TimeSlice()
                for symbol in list(self.instruments):
                    self._simulate(symbol, now)
                    await turn.pause()
            if self._reports and self._listener is not None:
                await self._listener()  # resting client orders traded: the host journals and books them
            await self.publish_quotes()

    async def publish_quotes(self) -> None:
        """What changed since the last call goes on the bus (see QuoteDesk.publish).

        A bus outage must not stop the market: the failure is logged once, everything is marked for
        republishing, and the next tick tries again.
        """
        now = self.clock.now()
        try:
            await self.desk.publish(self.bus, now, self.clock.now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._bus_down:
                log.warning("exchange cannot publish quotes (%s); retrying every tick", exc)
            self._bus_down = True
            self.desk.mark_all_dirty()
            return
        if self._bus_down:
            log.info("exchange publishes quotes again")
        self._bus_down = False
        self.last_quote_at = now
