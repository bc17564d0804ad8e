"""The monitor agent of one process (E3): collects this process's figures, publishes them on the board
every few seconds, follows operators' control signals (halts, drain, force-close, simulator, rules),
and, on the one process that leads, evaluates the alert rules against the cluster's figures."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import func, select

from brokerql.bus import Bus, Resync
from brokerql.domain.operations.halts import Halts
from brokerql.exchange.desk import quote_topic
from brokerql.monitor import prometheus as metrics
from brokerql.monitor.alerting import AlertService
from brokerql.monitor.board import Board, MemoryBoard, RedisBoard
from brokerql.monitor.cluster import ClusterFigures, aggregate
from brokerql.monitor.connections import ConnectionRegistry
from brokerql.monitor.figures import FillCounter, ProcessFigures
from brokerql.monitor.messages import BusProbe, Control, ProcessStats, decode, encode
from brokerql.settings import Settings
from brokerql.store.database import Database
from brokerql.store.tables import OutboxRow
from brokerql.store.tables_operations import TradingHaltRow
from brokerql.tasks import stop_tasks

log = logging.getLogger(__name__)
CONTROL_TOPIC = "ops.control"
PROBE_TOPIC = "ops.probe"
LAG_PROBE_SECONDS = 0.5


def _version() -> str:
    try:
        return version("brokerql")
    except PackageNotFoundError:
        return "unknown"


class Monitor:
    """`container.monitor`: this process's figures, the board of the cluster, alerts, halts, drain."""

    def __init__(self, settings: Settings, db: Database, bus: Bus, instruments: list[str], role: str) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.instruments = instruments
        self.role = role
        # Set when this process hosts an exchange: False while it waits as a hot standby, so the board (and the
        # EXCHANGE_DOWN alert) counts only the exchange that actually matches.
        self.venue_active: Callable[[], bool] | None = None
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self.started_at = time.time()
        self.version = _version()
        self.url = settings.public_url or f"http://{settings.host}:{settings.port}/graphql"
        self.figures = ProcessFigures()
        self.connections = ConnectionRegistry()
        client = getattr(bus, "client", None)
        self.board: Board = RedisBoard(client, settings.redis_prefix) if client is not None else MemoryBoard()
        self.alerts = AlertService(db, bus)
        self.halts = Halts()
        self.draining = False
        self.simulator_paused = False
        self.last_board: list[ProcessStats] = []
        self.bus_lag_ms: float | None = None
        self.verify_token: Callable[[str], Any] | None = None  # set by the container (closing a client)
        self.on_simulator: Callable[[bool], None] | None = None  # set where the exchange runs
        self._tasks: list[asyncio.Task[None]] = []

    def attach(self, trading: Any, exchange: Any, fills: FillCounter) -> None:
        """Wire the hooks: halts read by order placement, the simulator switch, the fill count, the sizes of
        the placements' and bookings' units of work."""
        trading.halts = lambda: self.halts
        fills.on_booked = self.fills_booked
        trading.groups.on_group = metrics.UNIT_OF_WORK_ORDERS.labels("placement").observe
        fills.on_group = metrics.UNIT_OF_WORK_ORDERS.labels("booking").observe
        if exchange is not None:
            self.on_simulator = lambda paused: setattr(exchange, "paused", paused)

    def order_placed(self, accepted: bool) -> None:
        if accepted:
            self.figures.orders.add()
            metrics.ORDERS.inc()

    def fills_booked(self, count: int) -> None:
        self.figures.fills.add(count)
        metrics.FILLS.inc(count)

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.refresh_halts()
        subscription = await self.bus.subscribe([CONTROL_TOPIC, PROBE_TOPIC], maxsize=10_000)
        self._tasks = [
            asyncio.create_task(self._follow_controls(subscription), name="monitor-controls"),
            asyncio.create_task(self._measure_loop_lag(), name="monitor-loop-lag"),
            asyncio.create_task(self._publish_forever(), name="monitor-publish"),
        ]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks.clear()
        try:
            await self.board.remove(self.process_id)  # a clean stop leaves at once, not after the TTL
        except Exception:
            log.warning("could not take this process off the monitor board")

    # -- figures ------------------------------------------------------------------------------------
    async def _quote_age(self) -> float | None:
        newest: float | None = None
        for symbol in self.instruments:
            snapshot = await self.bus.latest(quote_topic(symbol))
            if snapshot and snapshot.get("asOf"):
                at = datetime.fromisoformat(snapshot["asOf"]).timestamp()
                newest = at if newest is None else max(newest, at)
        return None if newest is None else round(max(0.0, time.time() - newest), 2)

    async def _outbox_backlog(self) -> int | None:
        try:
            async with self.db.read() as session:
                return int(await session.scalar(select(func.count()).select_from(OutboxRow)) or 0)
        except Exception:
            return None

    def _pool_in_use(self) -> int | None:
        pool = getattr(getattr(self.db, "writer", None), "pool", None)
        checked_out = getattr(pool, "checkedout", None)
        return int(checked_out()) if callable(checked_out) else None

    def reported_role(self) -> str:
        """The role on the board: a standby exchange reports `standby` in place of `exchange`."""
        if self.venue_active is None or self.venue_active():
            return self.role
        return "+".join("standby" if part == "exchange" else part for part in self.role.split("+"))

    async def snapshot(self) -> ProcessStats:
        figures = self.figures
        online, trading, quote_only = figures.clients()
        return ProcessStats(
            id=self.process_id,
            role=self.reported_role(),
            version=self.version,
            started_at=self.started_at,
            published_at=time.time(),
            url=self.url if "api" in self.role.split("+") else None,
            draining=self.draining,
            connections=len(self.connections.open),
            subscriptions={k: v for k, v in figures.streams.items() if v > 0},
            clients_online=online,
            trading_clients=trading,
            quote_only_clients=quote_only,
            operations=figures.operations(),
            orders_per_second=figures.orders.per_second(),
            fills_per_second=figures.fills.per_second(),
            pushes_per_second=figures.pushes.per_second(),
            quote_age_seconds=await self._quote_age(),
            loop_lag_ms=round(figures.loop_lag_ms, 2),
            cpu_percent=figures.usage.cpu_percent(),
            rss_bytes=figures.usage.rss_bytes(),
            open_files=figures.usage.open_files(),
            bus_lag_ms=self.bus_lag_ms,
            outbox_backlog=await self._outbox_backlog(),
            db_pool_in_use=self._pool_in_use(),
        )

    async def publish_once(self) -> None:
        """Publish this process's stats, read the board, and evaluate the alert rules if leading."""
        interval = self.settings.monitor_interval_seconds
        await self.bus.publish(PROBE_TOPIC, encode(BusProbe(self.process_id, time.time())))
        await self.board.publish(await self.snapshot(), self.settings.monitor_ttl_seconds)
        self.last_board = await self.board.processes()
        if await self.board.lead(self.process_id, interval * 3):
            await self.alerts.evaluate(aggregate(self.last_board).as_figures(), datetime.now(UTC))
        else:
            self.alerts.step_down()

    async def cluster(self) -> tuple[list[ProcessStats], ClusterFigures]:
        processes = await self.board.processes()
        return processes, aggregate(processes)

    async def _publish_forever(self) -> None:
        while True:
            try:
                await self.publish_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the board being down must not stop the process; the next round retries
                log.exception("monitor could not publish this process's stats")
            await asyncio.sleep(self.settings.monitor_interval_seconds)

    async def _measure_loop_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_PROBE_SECONDS)
            self.figures.loop_lag_ms = max(0.0, (loop.time() - started - LAG_PROBE_SECONDS) * 1000)

    # -- controls -----------------------------------------------------------------------------------
    async def refresh_halts(self) -> None:
        async with self.db.read() as session:
            symbols = (await session.scalars(select(TradingHaltRow.symbol))).all()
        self.halts = Halts(frozenset(symbols))

    async def send(self, control: Control) -> None:
        """Announce a control signal to every process (this one included, through the bus)."""
        await self.bus.publish(CONTROL_TOPIC, encode(control))
        await self.apply(control)  # at once here, whatever the bus's delivery time

    async def apply(self, control: Control) -> None:
        if control.target not in ("*", self.process_id):
            return
        if control.kind == "halts":
            await self.refresh_halts()
        elif control.kind == "rules":
            self.alerts.forget_rules()
        elif control.kind == "drain" and not self.draining:
            self.draining = True
            closed = await self.connections.close_all()
            log.warning("draining: new subscriptions refused, %d connections told to reconnect elsewhere", closed)
        elif control.kind == "undrain":
            self.draining = False
        elif control.kind == "close_client" and control.subject and self.verify_token is not None:
            await self.connections.close_subject(control.subject, self.verify_token)
        elif control.kind in ("pause_simulator", "resume_simulator"):
            self.simulator_paused = control.kind == "pause_simulator"
            if self.on_simulator is not None:
                self.on_simulator(self.simulator_paused)

    async def _follow_controls(self, subscription: Any) -> None:
        async with subscription:
            while True:
                try:
                    item = await subscription.get(timeout=self.settings.monitor_interval_seconds)
                except Resync:  # signals may have been lost: what is stored is re-read
                    item = None
                try:
                    if item is None:
                        await self.refresh_halts()  # a lost signal is caught up by polling
                    elif (probe := decode(item[1], BusProbe)) is not None:
                        if probe.process == self.process_id:
                            self.bus_lag_ms = round((time.time() - probe.sent_at) * 1000, 2)
                    elif (control := decode(item[1], Control)) is not None:
                        await self.apply(control)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("monitor could not apply %s", item)
