"""ETF creation, redemption and T+0 arbitrage runs (C6). The arithmetic is domain/trading/etf.py.

An arbitrage run is one action in three steps, each durable (`etf_arbitrage_run`) and each an
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.market.instruments import Instrument, Substitution
from brokerql.domain.trading import etf as rules
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.commands import ConvertEtf, PlaceOrder, RunEtfArbitrage, TradeEtfBasket
from brokerql.domain.trading.ledger import LedgerError
from brokerql.domain.trading.messages import AccountEventKind, EtfChanged, OrderView
from brokerql.domain.trading.orders import OrderStatus
from brokerql.domain.trading.products import session_refusal
from brokerql.services.products.credit_rules import PriceBoard, Quotes
from brokerql.services.trading.accounts import fee_basis, open_account
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.store.accounts import LoadedAccount, append_event, fee_schedule_of, save_account
from brokerql.store.columns import new_id
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow, OrderRow
from brokerql.store.tables_trading import EtfArbitrageRow

log = logging.getLogger(__name__)
# Legs are limit orders this far through the last price, so they trade at once on a normal book.
LEG_SLIPPAGE = Decimal("0.01")
WATCH_SECONDS = 1.0


@dataclass
class ConversionOutcome:
    detail: EtfChanged | None = None
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class BasketOutcome:
    orders: list[OrderView] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class ArbitrageOutcome:
    run: EtfArbitrageRow | None = None
    estimate: rules.ArbitrageEstimate | None = None
    errors: list[Rejection] = field(default_factory=list)


class EtfService:
    """Create and redeem ETF units; run premium/discount arbitrage as one action."""

    def __init__(
        self,
        db: Database,
        place: PlaceOrderService,
        quotes: Quotes,
        instruments: Mapping[str, Instrument],
        clock: Clock,
    ) -> None:
        self.db, self.place, self.instruments, self.clock = db, place, instruments, clock
        self.prices = PriceBoard(quotes, instruments)
        self.on_step: Callable[[str], None] = lambda run_id: None

    # -- creation and redemption ------------------------------------------------------------------------

    async def convert(
        self, client_id: str, command: ConvertEtf, *, session_account_type: str | None = None
    ) -> ConversionOutcome:
        prices = await self.prices.all()
        async with self.db.transaction() as uow:
            detail = await self._convert(uow, client_id, command, prices, session=session_account_type)
        return ConversionOutcome(errors=[detail]) if isinstance(detail, Rejection) else ConversionOutcome(detail)

    async def _convert(
        self,
        uow: UnitOfWork,
        client_id: str,
        command: ConvertEtf,
        prices: Mapping[str, Decimal],
        run_id: str | None = None,
        session: str | None = None,
    ) -> EtfChanged | Rejection:
        etf = self.instruments.get(command.etf)
        if etf is None or not etf.pcf:
            return Rejection("NOT_AN_ETF", f"{command.etf} has no PCF: it cannot be created or redeemed.", "etf")
        symbols = [command.etf, *(line.symbol for line in etf.pcf)]
        loaded = await open_account(uow, command.account_id, self.clock.now(), symbols)
        if loaded is None or loaded.row.client_id != client_id:
            return Rejection("NOT_FOUND", "No such account.", "accountId")
        if refused := session_refusal(session, loaded.account.type):
            return refused
        if loaded.account.type is AccountType.FUTURES:
            return Rejection("WRONG_ACCOUNT_TYPE", "ETFs are created in a cash or margin account.", "accountId")
        account = loaded.account
        if command.create:
            held = {s: p.sellable_quantity + p.bought_today for s, p in account.positions.items()}
            priced = rules.creation(etf, command.units, held, {s: i.prev_close for s, i in self.instruments.items()})
        else:
            priced = rules.redemption(etf, command.units)
        if isinstance(priced, Rejection):
            return priced
        try:
            cash = account.create_etf(priced) if command.create else account.redeem_etf(priced, dict(prices))
        except LedgerError as error:
            return Rejection(error.code, error.message, "units")
        detail = EtfChanged(
            action="CREATED" if command.create else "REDEEMED", etf=etf.symbol, units=command.units,
            etf_shares=priced.etf_shares, cash=cash, substituted=priced.substituted,
            cash_component=priced.cash_component, fee=priced.fee, run_id=run_id,
        )  # fmt: skip
        now = self.clock.now()
        await save_account(uow, loaded, now)
        kind = AccountEventKind.ETF_CREATED if command.create else AccountEventKind.ETF_REDEEMED
        await append_event(uow, loaded.row, kind, now=now, etf=detail)
        return detail

    # -- the PCF basket ----------------------------------------------------------------------------------

    async def trade_basket(
        self, client_id: str, command: TradeEtfBasket, *, session_account_type: str | None = None
    ) -> BasketOutcome:
        """The in-kind PCF lines x units as marketable limit orders, placed all or none."""
        etf = self.instruments.get(command.etf)
        if etf is None or not etf.pcf:
            return BasketOutcome(errors=[Rejection("NOT_AN_ETF", f"{command.etf} has no PCF.", "etf")])
        if isinstance(command.units, bool) or command.units <= 0:
            return BasketOutcome(errors=[Rejection("BAD_UNITS", "A positive whole number of units.", "units")])
        prices = await self.prices.all()
        commands = [
            PlaceOrder(
                account_id=command.account_id,
                symbol=symbol,
                side=command.side,
                type=OrderType.LIMIT,
                quantity=quantity,
                price=self._leg_price(self.instruments[symbol], command.side, prices[symbol]),
                risk_acknowledged=command.risk_acknowledged,
            )
            for symbol, quantity in self._basket_legs(etf, command.units)
        ]
        batch = await self.place.place_all(
            client_id, command.account_id, commands, session_account_type=session_account_type
        )
        if batch.placed:
            return BasketOutcome(orders=batch.orders)
        errors = batch.errors or [
            Rejection(e.code, f"leg {a.command.symbol}: {e.message}", e.field)
            for a in batch.admissions
            for e in a.errors
        ]
        return BasketOutcome(errors=errors)

    # -- arbitrage ----------------------------------------------------------------------------------------

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
            legs = self._basket_legs(etf, command.units)
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

    def _basket_legs(self, etf: Instrument, units: int) -> list[tuple[str, int]]:
        return [
            (line.symbol, line.quantity * units) for line in etf.pcf if line.substitution is not Substitution.MUST_CASH
        ]

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
        commands = [
            PlaceOrder(
                account_id=run.account_id,
                symbol=symbol,
                side=side,
                type=OrderType.LIMIT,
                quantity=quantity,
                price=self._leg_price(self.instruments[symbol], side, prices[symbol]),
                client_order_id=f"{run.id}:{step}:{symbol}",
                risk_acknowledged=acknowledged,
            )
            for symbol, quantity in legs
        ]
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

    @staticmethod
    def _leg_price(instrument: Instrument, side: Side, last: Decimal) -> Decimal:
        tick = instrument.tick_size
        if side is Side.BUY:
            price = (last * (1 + LEG_SLIPPAGE) / tick).to_integral_value(rounding=ROUND_CEILING) * tick
            return min(price, instrument.limit_up) if instrument.limit_up else price
        price = (last * (1 - LEG_SLIPPAGE) / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
        return max(price, instrument.limit_down) if instrument.limit_down else price

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
            detail = await self._convert(uow, run.client_id, command, prices, run_id=run.id)
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
            legs = self._basket_legs(etf, run.units)
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
        self.on_step(run.id)
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
