"""The exchange runtime: books, the simulator loop, client order commands, and quote publishing.

Everything that touches a book runs synchronously on one event loop, so book state never interleaves.
What the books produce for client orders (fills, cancels) is queued and booked by one worker in order,
so an order's fills are always booked before the cancel of its remainder.

Recovery: on start (and whenever the bus says it lost messages) the exchange re-reads the working
orders from the database and puts any it does not know back on the book. The database is the truth.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from brokerql.bus import Bus, Resync, SlowConsumer
from brokerql.bus.topics import COMMANDS_TOPIC
from brokerql.domain.common import OrderType, Side, TimeInForce
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.market.orders import Execution
from brokerql.domain.market.sessions import TradingPhase, trading_day
from brokerql.domain.market.simulator import MarketSimulator, executions_of
from brokerql.domain.trading.events import Liquidity
from brokerql.domain.trading.gateway import CancelOrder, ExecType, ExecutionReport, GatewayCommand, SubmitOrder
from brokerql.exchange.client_orders import ExecutionBooker, RestingClientOrders, WorkingOrder, run_bookings
from brokerql.exchange.desk import HK_DELAY, REFERENCE_TOPIC, QuoteDesk, bars_topic, quote_topic
from brokerql.exchange.replay import Replay, play
from brokerql.store.columns import utcnow
from brokerql.tasks import stop_tasks

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
    """One process's exchange. In the scaled deployment exactly one runs (`brokerql exchange`)."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        bus: Bus,
        booker: ExecutionBooker,
        *,
        seed: int,
        tick_seconds: float,
        warmup_steps: int = 60,
        always_open: bool = True,
        clock: Callable[[], datetime] = utcnow,
        replay: Replay | None = None,
    ) -> None:
        self.instruments = dict(instruments)  # rolled by the desk at each new trading day
        self.bus = bus
        self.booker = booker
        self.tick_seconds = tick_seconds
        self.clock = clock
        self.sim = MarketSimulator(self.instruments, seed)
        self.books = {s: self.sim.create_book(i) for s, i in self.instruments.items()}
        self.desk = QuoteDesk(self.instruments, self.books, always_open=always_open, on_new_day=self._expire_day)
        # Symbols whose prices come from a replayed recording: the simulator only keeps their book liquid.
        self.replayed: set[str] = set()
        self.replay = replay
        self.client_orders = RestingClientOrders()  # resting client order id -> symbol, trading day
        self.seen: set[str] = set()
        self.run_id = secrets.token_hex(4)
        self.jobs: asyncio.Queue[ExecutionReport] = asyncio.Queue()
        self.warmup_steps = warmup_steps
        self._bus_down = False
        self.paused = False  # operators pause the simulator (E3): books and client orders keep working
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._warm_up()
        subscription = await self.bus.subscribe([COMMANDS_TOPIC], maxsize=100_000)
        await self.reconcile()
        await self.publish_quotes()
        self._tasks = [
            asyncio.create_task(self._run_commands(subscription), name="exchange-commands"),
            asyncio.create_task(self._run_simulator(), name="exchange-simulator"),
            asyncio.create_task(run_bookings(self.jobs, self.booker, self.publish_quotes), name="exchange-bookings"),
        ]
        if self.replay is not None:
            self.add_task(play(self, self.replay), name="exchange-replay")

    async def stop(self) -> None:
        await stop_tasks(self._tasks)

    def add_task(self, coroutine: Any, name: str) -> None:
        """Run a helper (e.g. a replay feed) for as long as the exchange runs."""
        self._tasks.append(asyncio.create_task(coroutine, name=name))

    def _warm_up(self) -> None:
        """Trade for a while "in the past" so the day has an open, a range, and a 15-minute-old HK quote."""
        start = self.clock() - HK_DELAY - timedelta(minutes=1)
        step = (HK_DELAY + timedelta(minutes=1)) / max(1, self.warmup_steps)
        for n in range(self.warmup_steps):
            self._simulate_once(start + step * n)

    # -- commands from the trading service ----------------------------------------------------------

    async def _run_commands(self, subscription: Any) -> None:
        async with subscription:
            while True:
                try:
                    _topic, message = await subscription.get()
                except Resync:  # the bus may have lost commands: the database has every working order
                    self.desk.mark_all_dirty()
                    await self.reconcile()
                    continue
                except SlowConsumer:
                    log.error("exchange fell behind its command stream; resubscribing and reconciling")
                    await subscription.close()
                    subscription = await self.bus.subscribe([COMMANDS_TOPIC], maxsize=100_000)
                    await self.reconcile()
                    continue
                try:
                    await self.handle(message)
                except Exception:  # one bad command must not stop the exchange
                    log.exception("exchange could not handle %s", message)

    async def handle(self, command: GatewayCommand) -> None:
        match command:
            case SubmitOrder():
                self.submit(WorkingOrder.of(command))
            case CancelOrder():
                self.cancel(command.order_id, command.symbol)
            case _:
                log.error("exchange ignores %r: not a venue command", command)

    async def reconcile(self) -> None:
        """Put back on the book every working order the database has and this exchange does not;
        DAY orders of a past trading day (the exchange was down when it ended) are expired instead."""
        for order in await self.booker.working_orders():
            if order.order_id not in self.seen and order.symbol in self.books and self._of_past_day(order):
                self.seen.add(order.order_id)
                self._report(order.order_id, order.symbol, ExecType.EXPIRED, order.leaves_qty)
                continue
            if order.order_id in self.seen:
                if order.cancel_requested:
                    self.cancel(order.order_id, order.symbol)
                continue
            self.submit(order)
            if order.cancel_requested:
                self.cancel(order.order_id, order.symbol)

    def submit(self, order: WorkingOrder) -> None:
        if order.order_id in self.seen or order.symbol not in self.books:
            return
        self.seen.add(order.order_id)
        book = self.books[order.symbol]
        result = book.submit(order.order_id, order.side, order.type, order.leaves_qty, order.price, order.time_in_force)
        if result.resting_quantity:  # only DAY orders rest (IOC/FOK remainders are canceled at once)
            self.client_orders.add(order.order_id, order.symbol, self._day_of(order))
        self._after_executions(order.symbol, result.executions)
        if result.canceled_quantity:
            reason = "market order remainder" if order.type is OrderType.MARKET else f"{order.time_in_force} remainder"
            self._report(order.order_id, order.symbol, ExecType.CANCELED, result.canceled_quantity, text=reason)

    def cancel(self, order_id: str, symbol: str) -> None:
        book = self.books.get(symbol)
        removed = book.cancel(order_id) if book is not None else None
        self.client_orders.discard(order_id)
        if removed:
            self._report(order_id, symbol, ExecType.CANCELED, removed, text="canceled by client")
        else:
            self._report(order_id, symbol, ExecType.CANCEL_REJECTED, 0, text="the order had already filled")

    def _report(self, order_id: str, symbol: str, exec_type: ExecType, quantity: int, *, text: str = "") -> None:
        """Queue a non-trade execution report for booking (in order with the fills before it)."""
        exec_id = f"{self.run_id}:{order_id}:{exec_type.value}"
        self.jobs.put_nowait(
            ExecutionReport(
                exec_id=exec_id,
                order_id=order_id,
                symbol=symbol,
                exec_type=exec_type,
                last_qty=quantity,
                text=text,
                ts=self.clock(),
            )
        )

    def _day_of(self, order: WorkingOrder) -> date:
        board = self.instruments[order.symbol].board
        return trading_day(order.created_at or self.clock(), board=board)

    def _of_past_day(self, order: WorkingOrder) -> bool:
        if order.time_in_force is not TimeInForce.DAY:
            return False
        return self._day_of(order) < trading_day(self.clock(), board=self.instruments[order.symbol].board)

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
            self.desk.roll_if_new_day(symbol, now)
            instrument = self.instruments[symbol]
            if self.desk.phase(symbol, now) is not TradingPhase.CONTINUOUS:
                continue  # outside the sessions nobody trades (demo mode is always CONTINUOUS)
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
        now = self.clock()
        self.replayed.add(symbol)
        self.desk.record_external(symbol, price, quantity, side, now)
        actions = self.sim.follow(self.books[symbol], self.instruments[symbol], price)
        self._after_executions(symbol, executions_of(actions), now)

    def _after_executions(self, symbol: str, executions: list[Execution], now: datetime | None = None) -> None:
        self.desk.record(symbol, executions, now or self.clock())
        if not executions:
            return
        for execution in executions:
            for order_id, maker in ((execution.taker_order_id, False), (execution.maker_order_id, True)):
                if order_id in self.seen:
                    self.jobs.put_nowait(
                        ExecutionReport(
                            exec_id=f"{self.run_id}:{symbol}:{execution.seq}:{'M' if maker else 'T'}",
                            order_id=order_id,
                            symbol=symbol,
                            exec_type=ExecType.TRADE,
                            last_qty=execution.quantity,
                            last_px=execution.price,
                            liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
                            ts=self.clock(),
                        )
                    )
            maker_id = execution.maker_order_id
            if maker_id in self.client_orders and self.books[symbol].remaining(maker_id) in (None, 0):
                self.client_orders.discard(maker_id)

    @property
    def quotes(self) -> dict[str, Any]:
        """Each instrument's quote statistics of the day (the desk's)."""
        return self.desk.quotes

    async def _run_simulator(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            if not self.paused:
                self._simulate_once(self.clock())
            await self.publish_quotes()

    async def publish_quotes(self) -> None:
        """What changed since the last call goes on the bus (see QuoteDesk.publish).

        A bus outage must not stop the market: the failure is logged once, everything is marked for
        republishing, and the next tick tries again.
        """
        try:
            await self.desk.publish(self.bus, self.clock())
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
