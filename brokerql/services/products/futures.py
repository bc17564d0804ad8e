"""settleFutures: the daily mark-to-market of one contract across every futures account holding it.

Each account settles in its own transaction (lock, the domain's `Account.settle_futures`, one event),
so one account's failure does not hold the others back and a repeat of the same day changes nothing:
a position already marked at that price and with no lots opened today moves no cash. On or after the
contract's last trading day the settlement is the final one and delivers the position in cash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.market.instruments import Board, Instrument
from brokerql.domain.market.sessions import trading_day
from brokerql.domain.trading.futures import is_final_settlement, spec_of
from brokerql.domain.trading.messages import AccountEventKind, FuturesSettled
from brokerql.services.trading.accounts import open_account
from brokerql.store.account_events import append_event
from brokerql.store.accounts import save_account
from brokerql.store.database import Database
from brokerql.store.tables_trading import FuturesPositionRow


@dataclass
class SettlementOutcome:
    """What one settlement run did: the events written (one per account holding the contract)."""

    settled: list[FuturesSettled] = field(default_factory=list)
    errors: list[Rejection] = field(default_factory=list)
    final: bool = False


class FuturesSettlementService:
    """Marks every position in a contract to its settlement price, or delivers it at expiry."""

    def __init__(self, db: Database, instruments: dict[str, Instrument], clock: Clock) -> None:
        self.db, self.instruments, self.clock = db, instruments, clock

    async def settle(self, symbol: str, price: Decimal) -> SettlementOutcome:
        instrument = self.instruments.get(symbol)
        if instrument is None or instrument.board is not Board.CFFEX_INDEX_FUTURE:
            return SettlementOutcome(errors=[Rejection("UNKNOWN_SYMBOL", f"No futures contract {symbol}.", "symbol")])
        spec = spec_of(symbol, instrument.multiplier)
        if price <= 0 or price % spec.tick:
            return SettlementOutcome(
                errors=[Rejection("TICK_SIZE", f"A settlement price is a positive multiple of {spec.tick}.", "price")]
            )
        final = is_final_settlement(spec, trading_day(self.clock.now()))
        async with self.db.read() as session:
            holders = (
                await session.scalars(
                    select(FuturesPositionRow.account_id).where(
                        FuturesPositionRow.symbol == symbol,
                        (FuturesPositionRow.yd_quantity + FuturesPositionRow.td_quantity) > 0,
                    )
                )
            ).all()
        outcome = SettlementOutcome(final=final)
        for account_id in sorted(set(holders)):
            settled = await self._settle_account(account_id, symbol, price, final)
            if settled is not None:
                outcome.settled.append(settled)
        return outcome

    async def _settle_account(self, account_id: str, symbol: str, price: Decimal, final: bool) -> FuturesSettled | None:
        now = self.clock.now()
        async with self.db.transaction() as uow:
            loaded = await open_account(uow, account_id, now, [])
            if loaded is None:
                return None
            account = loaded.account
            before = account.futures.get(symbol)
            settlement = account.settle_futures(symbol, price, final=final)
            if settlement is None or before is None:
                return None
            detail = FuturesSettled(
                symbol=symbol,
                settlement_price=price,
                direction=before.direction.value,
                quantity=before.quantity,
                variation=settlement.variation,
                margin=account.futures[symbol].margin if symbol in account.futures else Decimal(0),
                fee=settlement.fee,
                delivered=settlement.delivered,
                margin_call=max(Decimal(0), -account.funds.available),
            )
            await save_account(uow, loaded, now)
            kind = AccountEventKind.FUTURES_DELIVERED if final else AccountEventKind.FUTURES_SETTLED
            code = "MARGIN_CALL" if detail.margin_call > 0 else None
            await append_event(uow, loaded.row, kind, now=now, code=code, futures=detail)
        return detail
