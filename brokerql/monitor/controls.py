"""Operator controls (E3), each written to the operator log and signalled to every process:
halt/resume trading, pause/resume the simulator, drain a process, force-close a client's streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete

from brokerql.domain.common import Rejection
from brokerql.domain.operations.halts import MARKET, scope_of
from brokerql.monitor.messages import Control
from brokerql.services.identity.audit import operator_log
from brokerql.store.database import Database
from brokerql.store.tables_operations import TradingHaltRow

if TYPE_CHECKING:
    from brokerql.monitor.service import Monitor
    from brokerql.services.identity.clients import ClientDirectory


class OperatorControls:
    def __init__(self, db: Database, monitor: Monitor, clients: ClientDirectory, known_symbols: set[str]) -> None:
        self.db = db
        self.monitor = monitor
        self.clients = clients
        self.known_symbols = known_symbols

    async def halt(self, by: str, symbol: str | None) -> tuple[str, list[Rejection]]:
        scope = scope_of(symbol)
        if scope != MARKET and scope not in self.known_symbols:
            return scope, [Rejection("UNKNOWN_SYMBOL", f"No instrument {scope}.", "symbol")]
        async with self.db.transaction() as uow:
            if await uow.session.get(TradingHaltRow, scope) is None:
                uow.session.add(TradingHaltRow(symbol=scope, halted_by=by))
            operator_log(uow, by, "trading.halt", scope, None, {"halted": True})
        await self.monitor.send(Control("halts"))
        return scope, []

    async def resume(self, by: str, symbol: str | None) -> tuple[str, list[Rejection]]:
        scope = scope_of(symbol)
        async with self.db.transaction() as uow:
            await uow.session.execute(delete(TradingHaltRow).where(TradingHaltRow.symbol == scope))
            operator_log(uow, by, "trading.resume", scope, {"halted": True}, {"halted": False})
        await self.monitor.send(Control("halts"))
        return scope, []

    async def simulator(self, by: str, paused: bool) -> None:
        async with self.db.transaction() as uow:
            operator_log(uow, by, "simulator.pause" if paused else "simulator.resume", "exchange")
        await self.monitor.send(Control("pause_simulator" if paused else "resume_simulator"))

    async def drain(self, by: str, process_id: str, drain: bool) -> list[Rejection]:
        known = {p.id for p in await self.monitor.board.processes()}
        if process_id not in known:
            return [Rejection("NOT_FOUND", "No live process with this id (see monitorStats.processes).", "processId")]
        async with self.db.transaction() as uow:
            operator_log(uow, by, "process.drain" if drain else "process.undrain", process_id)
        await self.monitor.send(Control("drain" if drain else "undrain", target=process_id))
        return []

    async def close_client(self, by: str, client_id: str) -> tuple[int, list[Rejection]]:
        """End every session of the client (tokens stop working) and close its streams on every process."""
        sessions = await self.clients.revoke_sessions(by, client_id)
        async with self.db.transaction() as uow:
            operator_log(uow, by, "client.force_close", client_id, None, {"sessions": sessions})
        await self.monitor.send(Control("close_client", subject=client_id))
        return sessions, []

    async def rules_changed(self) -> None:
        await self.monitor.send(Control("rules"))
