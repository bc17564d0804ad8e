"""ETF creation and redemption, and the PCF basket trade (C6). The arithmetic is domain/trading/etf.py;
arbitrage runs are services/products/etf_arbitrage.py (this service starts and follows them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading import etf as rules
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.commands import ConvertEtf, TradeEtfBasket
from brokerql.domain.trading.ledger import LedgerError
from brokerql.domain.trading.messages import AccountEventKind, EtfChanged, OrderView
from brokerql.domain.trading.products import session_refusal
from brokerql.services.products.credit_rules import PriceBoard, Quotes
from brokerql.services.products.etf_arbitrage import EtfArbitrage
from brokerql.services.products.etf_legs import basket_legs, leg_orders
from brokerql.services.trading.accounts import open_account
from brokerql.services.trading.place_order import PlaceOrderService
from brokerql.store.account_events import append_event
from brokerql.store.accounts import save_account
from brokerql.store.database import Database, UnitOfWork


@dataclass
class ConversionOutcome:
    detail: EtfChanged | None = None
    errors: list[Rejection] = field(default_factory=list)


@dataclass
class BasketOutcome:
    orders: list[OrderView] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)


class EtfService:
    """Create and redeem ETF units, trade the PCF basket; `runs` starts and follows arbitrage runs."""

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
        self.runs = EtfArbitrage(db, place, instruments, clock, self.prices, self.book_conversion)

    # -- creation and redemption ------------------------------------------------------------------------

    async def convert(
        self, client_id: str, command: ConvertEtf, *, session_account_type: str | None = None
    ) -> ConversionOutcome:
        prices = await self.prices.all()
        async with self.db.transaction() as uow:
            detail = await self.book_conversion(uow, client_id, command, prices, session=session_account_type)
        return ConversionOutcome(errors=[detail]) if isinstance(detail, Rejection) else ConversionOutcome(detail)

    async def book_conversion(
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
        legs = basket_legs(etf, command.units)
        commands = leg_orders(command.account_id, legs, command.side, prices, self.instruments,
                              risk_acknowledged=command.risk_acknowledged)  # fmt: skip
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
