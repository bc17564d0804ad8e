"""The venue's host: the lease, the commands, the journal, the bookings. One venue runs per deployment.

    lease acquired (fencing token claimed in the database)
      -> book what the journal holds unbooked (a crash between match and booking)
      -> build a fresh venue, open its market, restore the working orders from the durable state
      -> loop: commands (acknowledged after their reports are journalled), reports of the market,
               heartbeats (lease renewed, fenced heartbeat in the database)
    lease lost -> stop the venue, never acknowledge or journal again; wait as a standby

Without the lease a host is a hot standby (log, /healthz): it polls for the lease, never matches or
publishes quotes. Reports are journalled in the venue's order (one lock around venue, journal and
commands), and booked by `exchange/bookings.py`: each order's reports in that order, different orders'
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from enum import StrEnum

from brokerql.domain.clock import SYSTEM_CLOCK, Clock
from brokerql.domain.trading.gateway import CancelOrder, ExecutionReport, SubmitOrder
from brokerql.exchange.bookings import Bookings
from brokerql.exchange.client_orders import ExecutionBooker, WorkingOrder
from brokerql.exchange.commands import CommandsLost, CommandSource
from brokerql.exchange.engine import Exchange
from brokerql.exchange.lease import Lease, LeaseLost
from brokerql.exchange.reports import ReportJournal, booking_batches, unique_reports
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)

PRUNE_EVERY = 300  # heartbeats between two prunings of the journal (5 minutes at the default 1 s)


class Role(StrEnum):
    """What this process's venue host is doing."""

    STARTING = "starting"
    STANDBY = "standby"
    ACTIVE = "active"
    STOPPED = "stopped"


class VenueHost:
    def __init__(
        self,
        *,
        venue_factory: Callable[[], Exchange],
        lease: Lease,
        journal: ReportJournal,
        booker: ExecutionBooker,
        commands_factory: Callable[[], CommandSource],
        holder: str,
        clock: Clock = SYSTEM_CLOCK,
        heartbeat_seconds: float = 1.0,
        poll_seconds: float = 0.5,
        reconcile_seconds: float | None = None,
    ) -> None:
        self.venue_factory = venue_factory
        self.lease = lease
        self.journal = journal
        self.bookings = Bookings(booker, journal)
        self.commands_factory = commands_factory
        self.holder = holder
        self.clock = clock
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds
        self.reconcile_seconds = reconcile_seconds  # in-process bus: orders of other local processes
        self.role = Role.STARTING
        self.token: int | None = None
        self.venue: Exchange | None = None
        self._lock = asyncio.Lock()
        self._unjournaled: list[ExecutionReport] = []
        self._lost: asyncio.Event = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._serving: list[asyncio.Task[None]] = []  # the tasks of the current term as holder
        self._started: Exchange | None = None  # the last venue started (stopped again by stop())

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Try the lease once now (so a process that gets it serves a live market when it starts), then
        keep running (or waiting as a standby) in the background."""
        token = await self._try_acquire()
        if token is not None:
            await self._open(token)
        else:
            self._become_standby()
        self._main = asyncio.create_task(self._run(token is not None), name="venue-host")

    async def stop(self) -> None:
        main, self._main = self._main, None
        if main is not None:
            await stop_tasks([main])
        # Cancelling the main task (again and again, until it ends) can cut its own cleanup short: finish
        # it here, so that no task of the venue or of this term outlives the host.
        await stop_tasks(self._serving)
        if self._started is not None:
            await self._started.stop()
        await self._close()
        self.role = Role.STOPPED

    async def _run(self, opened: bool) -> None:
        while True:
            try:
                if not opened:
                    await self._open(await self._acquire())
                opened = False
                await self._serve()
            except LeaseLost as exc:
                log.error("venue lease lost (%s): stepping down; this process no longer matches", exc)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the venue failed; stepping down, then trying for the lease again")
                await asyncio.sleep(self.poll_seconds)
            finally:
                await self._close()

    async def _try_acquire(self) -> int | None:
        try:
            candidate = await self.lease.try_acquire()
        except Exception as exc:  # the lock service is unreachable: try again at the next poll
            log.warning("cannot reach the venue lease (%s)", exc)
            return None
        if candidate is None:
            return None
        try:
            return await self.journal.claim(candidate, self.holder, self.clock.now())
        except BaseException:
            await self.lease.release()
            raise

    async def _acquire(self) -> int:
        while True:
            token = await self._try_acquire()
            if token is not None:
                return token
            self._become_standby()
            await asyncio.sleep(self.poll_seconds)

    def _become_standby(self) -> None:
        if self.role is not Role.STANDBY:
            self.role = Role.STANDBY
            log.warning(
                "another process holds the venue lease: %s waits as a hot standby (no matching, no quotes)",
                self.holder,
            )

    async def _open(self, token: int) -> None:
        """Take over: book the journal's leftovers, then build and restore a fresh venue."""
        self.token = token
        log.info("venue lease acquired by %s (fencing token %d, %s lease)", self.holder, token, self.lease.kind)
        leftovers = await self.journal.unbooked()
        if leftovers:
            log.warning("booking %d journalled reports left unbooked by the previous holder", len(leftovers))
            for batch in booking_batches(leftovers):
                await self.bookings.book(batch)
            await self.bookings.flush_booked()
        await self.journal.prune()
        self.commands = self.commands_factory()
        await self.commands.open()
        venue = self.venue_factory()
        venue.on_reports(self.drain)
        self.venue = self._started = venue
        await venue.start()
        await self.reconcile()
        await self._touch()  # live for every process from now on
        self.role = Role.ACTIVE

    async def _close(self) -> None:
        venue, self.venue = self.venue, None
        if venue is not None:
            await venue.stop()
            with contextlib.suppress(Exception):
                await self.commands.close()
        self.token = None
        await self.bookings.stop()  # journalled: the next holder books what is left
        self._unjournaled = []  # never journalled: as if the match never happened (orders are restored)
        self._lost = asyncio.Event()
        with contextlib.suppress(Exception):
            await self.lease.release()
        if self.role is Role.ACTIVE:
            self.role = Role.STANDBY

    async def _serve(self) -> None:
        tasks = self._serving = [
            asyncio.create_task(self._consume(), name="venue-commands"),
            asyncio.create_task(self.bookings.run(), name="venue-bookings"),
            asyncio.create_task(self._heartbeat(), name="venue-heartbeat"),
            asyncio.create_task(self._watch_drains(), name="venue-drains"),
        ]
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # re-raise (LeaseLost) from whichever stopped
        finally:
            await stop_tasks(tasks)

    # -- commands -----------------------------------------------------------------------------------

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        last_reconcile = loop.time()
        while True:
            try:
                deliveries = await self.commands.next(timeout=0.25)
            except CommandsLost as exc:
                log.warning("venue commands may be lost (%s): reconciling from the database", exc)
                await self.reconcile()
                continue
            if deliveries:
                async with self._lock:
                    working = await self._working_of([command for _id, command in deliveries])
                    for _id, command in deliveries:
                        await self._apply(command, working)
                    await self._journal_taken()
                await self.commands.ack([i for i, _c in deliveries if i])
                assert self.venue is not None
                await self.venue.publish_quotes()
            if self.reconcile_seconds and loop.time() - last_reconcile >= self.reconcile_seconds:
                last_reconcile = loop.time()
                await self.reconcile()

    async def _working_of(self, commands: list[object]) -> dict[str, tuple[WorkingOrder, int]]:
        """The durable state of the batch's SubmitOrders the venue does not hold, in one read."""
        venue = self.venue
        assert venue is not None
        ids = [c.order_id for c in commands if isinstance(c, SubmitOrder) and not venue.knows(c.order_id)]
        return {o.order_id: (o, n) for o, n in await self.journal.working_orders(ids)} if ids else {}

    async def _apply(self, command: object, working: dict[str, tuple[WorkingOrder, int]]) -> None:
        """One command. A SubmitOrder the venue does not hold is checked against the durable state
        (`working`): an order that finished (or was never accepted) is not worked again, so applying
        twice is harmless."""
        venue = self.venue
        assert venue is not None
        match command:
            case SubmitOrder() if not venue.knows(command.order_id):
                if (found := working.get(command.order_id)) is not None:
                    await venue.accept(*found)
            case SubmitOrder() | None:  # held already / unreadable (parked by the codec)
                pass
            case CancelOrder():
                await venue.cancel(command)
            case _:
                log.error("venue ignores %r: not a venue command", command)

    async def reconcile(self) -> None:
        """Put every order the durable state says is working, and the venue does not hold, on the book
        (with its cancel, if one was requested)."""
        venue = self.venue
        if venue is None:
            return
        async with self._lock:
            for order, executions in await self.journal.working_orders():
                if not venue.knows(order.order_id):
                    await venue.accept(order, executions)
                    if order.cancel_requested:
                        await venue.cancel(CancelOrder(order_id=order.order_id, symbol=order.symbol))
                elif order.cancel_requested:
                    await venue.cancel(CancelOrder(order_id=order.order_id, symbol=order.symbol))
            await self._journal_taken()

    # -- reports ------------------------------------------------------------------------------------

    async def drain(self) -> None:
        """The venue's market produced reports (resting client orders traded): journal and book them.

        Called from the venue's market task: a lost lease is handed to the host, never raised there."""
        try:
            async with self._lock:
                await self._journal_taken()
        except LeaseLost:
            self._lost.set()

    async def _watch_drains(self) -> None:
        await self._lost.wait()
        raise LeaseLost("a newer holder fenced this one out")

    async def _journal_taken(self) -> None:
        """Take the venue's reports, make them durable (fenced), then queue them for booking.

        Until the journal takes them nothing else happens (the caller holds the lock, commands are not
        acknowledged): a database outage delays the venue, it never drops a report."""
        venue = self.venue
        if venue is None or self.token is None:
            return
        self._unjournaled = unique_reports([*self._unjournaled, *venue.take_reports()])
        delay = 0.2
        while self._unjournaled:
            try:
                now = self.clock.now()
                if await self.bookings.journal_and_book(self.token, self._unjournaled, now):
                    self._unjournaled = []  # journalled and booked, in one commit
                    break
                fresh = await self.journal.append(self.token, self._unjournaled, now)
            except (LeaseLost, asyncio.CancelledError):
                raise
            except Exception as exc:
                log.warning("cannot journal %d reports (%s); retrying in %.1fs", len(self._unjournaled), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._unjournaled = []
            for batch in booking_batches(fresh):
                self.bookings.put(batch)

    # -- liveness -----------------------------------------------------------------------------------

    async def _touch(self) -> None:
        venue = self.venue
        assert venue is not None and self.token is not None
        await self.journal.touch(
            self.token, self.clock.now(), last_match_at=venue.last_match_at, last_quote_at=venue.last_quote_at
        )

    async def _heartbeat(self) -> None:
        beats = 0
        while True:
            await self.lease.keep()
            try:
                await self._touch()
                await self.bookings.flush_booked()
                beats += 1
                if beats % PRUNE_EVERY == 0:  # the journal keeps only what working orders need
                    await self.journal.prune()
            except LeaseLost:
                raise
            except Exception as exc:  # the database is down: nothing can be journalled anyway
                log.warning("venue heartbeat not written (%s)", exc)
            await asyncio.sleep(self.heartbeat_seconds)
