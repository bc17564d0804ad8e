"""ETF premium/discount arbitrage as one action (C6), in three durable steps (`etf_arbitrage_run`), each an
ETF_ARBITRAGE event on the account's stream:
  1. STARTED: the first legs go out (PREMIUM: one buy per in-kind PCF line; DISCOUNT: the ETF buy),
     as marketable limit orders through `container.trading.place` (every order rule applies);
  2. CONVERTED: once every first leg is FILLED, the creation (or redemption) is booked and the second
     legs go out (PREMIUM: the ETF sell; DISCOUNT: one sell per in-kind line);
  3. DONE with the realised P&L from the fills once every second leg is FILLED; BROKEN (with a note)
     if a leg ends without filling: what was bought stays in the account.
`advance` moves a run on; `watch` calls it for every unfinished run every second.

Seam: the basket legs are plain PlaceOrder commands placed all or none with `place_all` (the same
path basket runs use); `_place_legs` is where they would become a basket run (to follow and top up
with basketRun) and `_legs_state` where the run's state would be read instead of the orders'.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection, Side
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading import etf as rules
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.commands import ConvertEtf, RunEtfArbitrage
from brokerql.domain.trading.messages import AccountEventKind, EtfChanged
from brokerql.domain.trading.orders import OrderStatus
from brokerql.domain.trading.products import session_refusal
from brokerql.services.products.credit_rules import PriceBoard
from brokerql.services.products.etf_legs import basket_legs, leg_orders
from brokerql.services.trading.accounts import fee_basis, open_account
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.store.account_events import append_event
from brokerql.store.accounts import LoadedAccount, fee_schedule_of
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow, OrderRow
from brokerql.store.tables_trading import EtfArbitrageRow

log = logging.getLogger(__name__)
WATCH_SECONDS = 1.0
# Books the creation or redemption of a run inside the caller's transaction (EtfService's conversion).
Convert = Callable[..., Awaitable[EtfChanged | Rejection]]


@dataclass
class ArbitrageOutcome:
    run: EtfArbitrageRow | None = None
    estimate: rules.ArbitrageEstimate | None = None
    errors: list[Rejection] = field(default_factory=list)


class EtfArbitrage:
    """Start arbitrage runs and move them on as their legs fill."""

    def __init__(
        self,
        db: Database,
        place: PlaceOrderService,
        instruments: Mapping[str, Instrument],
        clock: Clock,
        prices: PriceBoard,
        convert: Convert,
    ) -> None:
        self.db, self.place, self.instruments, self.clock = db, place, instruments, clock
        self.prices, self.convert = prices, convert

    async def arbitrage(
        self, client_id: str, command: RunEtfArbitrage, *, session_account_type: str | None = None
    ) -> ArbitrageOutcome:
        etf = self.instruments.get(command.etf)
        if etf is None or not etf.pcf:
            return ArbitrageOutcome(errors=[Rejection("NOT_AN_ETF", f"{command.etf} has no PCF.", "etf")])
        if command.direction not in ("PREMIUM", "DISCOUNT") or command.units <= 0:
            return ArbitrageOutcome(errors=[Rejection("BAD_ARGUMENT", "PREMIUM or DISCOUNT, units > 0.", "direction")])
        prices = await self.prices.all()
        async with self.db.read() as session:
            row = await session.get(AccountRow, command.account_id)
        if row is None or row.client_id != client_id:
            return ArbitrageOutcome(errors=[Rejection("NOT_FOUND", "No such account.", "accountId")])
        if refused := session_refusal(session_account_type, AccountType(row.type)):  # every leg is on this account
            return ArbitrageOutcome(errors=[refused])
        bases = {s: fee_basis(i) for s, i in self.instruments.items()}
        estimate = rules.estimate(etf, command.units, command.direction, prices[etf.symbol], prices,
                                  fee_schedule_of(row), bases)  # fmt: skip
        if command.estimate_only:
            return ArbitrageOutcome(estimate=estimate)
        run = EtfArbitrageRow(
            id=new_id("arb"), account_id=row.id, client_id=client_id, etf=etf.symbol, direction=command.direction,
            units=command.units, estimated_pnl=estimate.pnl, created_at=self.clock.now(), updated_at=self.clock.now(),
        )  # fmt: skip
        assert etf.creation_unit is not None
        if command.direction == "PREMIUM":  # the first legs always buy: the basket, or the ETF
            legs = basket_legs(etf, command.units)
        else:
            legs = [(etf.symbol, etf.creation_unit * command.units)]
        run.first_orders, refused = await self._place_legs(
            client_id, run, legs, Side.BUY, prices, "1", acknowledged=command.risk_acknowledged
        )
        run.status = "BROKEN" if refused else "LEGS_WORKING"
        run.note = refused.message if refused else ""
        async with self.db.transaction() as uow:
            uow.session.add(run)
            await self._event(uow, run, "STARTED" if not refused else "BROKEN")
        if refused and not run.first_orders:
            return ArbitrageOutcome(run=run, estimate=estimate, errors=[refused])
        return ArbitrageOutcome(run=run, estimate=estimate)

    async def _place_legs(
        self,
        client_id: str,
        run: EtfArbitrageRow,
        legs: list[tuple[str, int]],
        side: Side,
        prices: Mapping[str, Decimal],
        step: str,
        *,
        acknowledged: bool = False,
    ) -> tuple[list[str], Rejection | None]:
        """Marketable limit orders, one per leg, through PlaceOrderService. The first legs go all or none
        (`place_all`: nothing is bought unless the whole basket is accepted); the second legs one by one,
        so that a retry after a crash finds each by its client order id instead of placing it twice."""
        commands = leg_orders(run.account_id, legs, side, prices, self.instruments, risk_acknowledged=acknowledged,
                              id_prefix=f"{run.id}:{step}")  # fmt: skip
        if step == "1":
            batch = await self.place.place_all(client_id, run.account_id, commands)
            if not batch.placed:
                refused = batch.errors or next((a.errors for a in batch.admissions if a.errors), [])
                first = refused[0] if refused else Rejection("REJECTED", "refused")
                leg = next((a.command.symbol for a in batch.admissions if a.errors), "")
                return [], Rejection(first.code, f"leg {leg}: {first.message}".strip(), "units")
            return [o.id for o in batch.orders], None
        ids: list[str] = []
        for command in commands:
            outcome = await self.place.place(client_id, command)
            if outcome.order is None:
                first = outcome.errors[0] if outcome.errors else Rejection("REJECTED", "refused")
                return ids, Rejection(first.code, f"leg {command.symbol}: {first.message}", "units")
            ids.append(outcome.order.id)
        return ids, None

    async def advance(self, run_id: str) -> EtfArbitrageRow | None:
        """Move a run on as far as its legs allow (idempotent)."""
        async with self.db.read() as session:
            run = await session.get(EtfArbitrageRow, run_id)
        if run is None or run.status in ("DONE", "BROKEN"):
            return run
        first = await self._legs_state(run.first_orders)
        if run.status == "LEGS_WORKING":
            if any(o.status in _DEAD for o in first):
                return await self._finish(run, "BROKEN", note="a first leg ended unfilled")
            if not all(o.status == OrderStatus.FILLED.value for o in first):
                return run
            await self._convert_step(run)
            run = await self._place_second(run.id)
            return run
        if run.status == "CONVERTING":  # converted, second legs not (all) sent yet: send them (idempotent)
            return await self._place_second(run.id)
        second = await self._legs_state(run.second_orders)
        if any(o.status in _DEAD for o in second):
            return await self._finish(run, "BROKEN", note="a second leg ended unfilled")
        if run.status == "CONVERTED" and all(o.status == OrderStatus.FILLED.value for o in second):
            bought = sum((o.notional + o.fees_paid for o in first), Decimal(0))  # first legs buy
            sold = sum((o.notional - o.fees_paid for o in second), Decimal(0))  # second legs sell
            realised = rules.realised_pnl(run.direction, bought, sold, run.conversion_cash)
            return await self._finish(run, "DONE", realised=realised)
        return run

    async def _convert_step(self, run: EtfArbitrageRow) -> None:
        prices = await self.prices.all()
        async with self.db.transaction() as uow:
            locked = await uow.session.scalar(uow.lock(select(EtfArbitrageRow).where(EtfArbitrageRow.id == run.id)))
            if locked is None or locked.status != "LEGS_WORKING":
                return
            command = ConvertEtf(
                account_id=run.account_id, etf=run.etf, units=run.units, create=run.direction == "PREMIUM"
            )
            detail = await self.convert(uow, run.client_id, command, prices, run_id=run.id)
            if isinstance(detail, Rejection):
                locked.status, locked.note = "BROKEN", detail.message[:255]
                await self._event(uow, locked, "BROKEN")
                return
            locked.conversion_cash = detail.cash
            locked.status, locked.updated_at = "CONVERTING", self.clock.now()

    async def _place_second(self, run_id: str) -> EtfArbitrageRow | None:
        """The second legs (PREMIUM: sell the ETF; DISCOUNT: sell the basket); client order ids make a
        retry after a crash return the orders already placed."""
        async with self.db.read() as session:
            run = await session.get(EtfArbitrageRow, run_id)
        if run is None or run.status != "CONVERTING":
            return run
        etf = self.instruments[run.etf]
        prices = await self.prices.all()
        assert etf.creation_unit is not None
        if run.direction == "PREMIUM":
            legs = [(etf.symbol, etf.creation_unit * run.units)]
        else:
            legs = basket_legs(etf, run.units)
        ids, refused = await self._place_legs(run.client_id, run, legs, Side.SELL, prices, "2")
        async with self.db.transaction() as uow:
            locked = await uow.session.get(EtfArbitrageRow, run.id)
            assert locked is not None
            locked.second_orders = ids
            locked.status = "BROKEN" if refused else "CONVERTED"
            locked.note = refused.message[:255] if refused else ""
            locked.updated_at = self.clock.now()
            await self._event(uow, locked, locked.status)
        return locked

    async def _finish(
        self, run: EtfArbitrageRow, status: str, *, note: str = "", realised: Decimal | None = None
    ) -> EtfArbitrageRow:
        async with self.db.transaction() as uow:
            locked = await uow.session.scalar(uow.lock(select(EtfArbitrageRow).where(EtfArbitrageRow.id == run.id)))
            assert locked is not None
            if locked.status in ("DONE", "BROKEN"):
                return locked
            locked.status, locked.note, locked.realised_pnl = status, note, realised
            locked.updated_at = self.clock.now()
            await self._event(uow, locked, status)
        return locked

    async def _legs_state(self, order_ids: list[str]) -> list[OrderRow]:
        if not order_ids:
            return []
        async with self.db.read() as session:
            return list((await session.scalars(select(OrderRow).where(OrderRow.id.in_(order_ids)))).all())

    async def _event(self, uow: UnitOfWork, run: EtfArbitrageRow, status: str) -> None:
        loaded = await open_account(uow, run.account_id, self.clock.now(), [])
        assert loaded is not None
        await self._append(uow, loaded, run, status)

    async def _append(self, uow: UnitOfWork, loaded: LoadedAccount, run: EtfArbitrageRow, status: str) -> None:
        detail = EtfChanged(
            action="ARBITRAGE", etf=run.etf, units=run.units, run_id=run.id, status=status,
            estimated_pnl=run.estimated_pnl, realised_pnl=run.realised_pnl, cash=run.conversion_cash,
        )  # fmt: skip
        await append_event(
            uow, loaded.row, AccountEventKind.ETF_ARBITRAGE, now=self.clock.now(), code=status, etf=detail
        )

    async def run_of(self, client_id: str, run_id: str) -> EtfArbitrageRow | None:
        async with self.db.read() as session:
            run = await session.get(EtfArbitrageRow, run_id)
        return run if run is not None and run.client_id == client_id else None

    async def watch(self) -> None:
        """Advance every unfinished run every WATCH_SECONDS (fills arrive on their own time)."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                async with self.db.read() as session:
                    working = ["LEGS_WORKING", "CONVERTING", "CONVERTED"]
                    query = select(EtfArbitrageRow.id).where(EtfArbitrageRow.status.in_(working))
                    ids = (await session.scalars(query)).all()
                for run_id in ids:
                    await self.advance(run_id)
            except Exception:
                log.exception("ETF arbitrage watch failed; retrying")


_DEAD = {OrderStatus.CANCELED.value, OrderStatus.REJECTED.value, OrderStatus.EXPIRED.value}
