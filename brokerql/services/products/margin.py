"""Margin trading (C7) use cases: repayments, returns, the live maintenance ratio and its line
crossings, the credit view. The rules are the domain's (domain/trading/margin.py); placeOrder's credit
checks are in credit_rules.py. Prices are read before any transaction (see credit_rules.PriceBoard).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from brokerql.domain.clock import Clock
from brokerql.domain.common import Rejection
from brokerql.domain.market.instruments import Instrument
from brokerql.domain.trading import credit_account, margin
from brokerql.domain.trading.account import AccountType
from brokerql.domain.trading.commands import RepayMargin, ReturnShares
from brokerql.domain.trading.ledger import LedgerError
from brokerql.domain.trading.margin import Zone
from brokerql.domain.trading.messages import AccountEventKind, CreditChanged
from brokerql.domain.trading.products import session_refusal
from brokerql.services.products.credit_rules import PriceBoard, Quotes, holdings_of
from brokerql.services.trading.accounts import open_account
from brokerql.store.account_events import append_event
from brokerql.store.accounts import LoadedAccount, save_account
from brokerql.store.database import Database, UnitOfWork
from brokerql.store.tables import AccountRow
from brokerql.store.tables_trading import CreditDebtRow

log = logging.getLogger(__name__)
WATCH_SECONDS = 5.0


@dataclass
class CreditOutcome:
    """A repayment's or return's result: what was paid or returned, or why not."""

    detail: CreditChanged | None = None
    errors: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CreditView:
    """A margin account's credit as the API shows it (figures exact; the schema rounds)."""

    ratio: Decimal | None
    zone: Zone
    terms: margin.MarginTerms
    credit_used: Decimal
    margin_available: Decimal
    liabilities: dict[str, Decimal]
    assets: Decimal
    debts: list[margin.Debt]


class MarginService:
    """Repay, return, evaluate the lines (and push crossings), read the credit view."""

    def __init__(self, db: Database, quotes: Quotes, instruments: Mapping[str, Instrument], clock: Clock) -> None:
        self.db, self.clock = db, clock
        self.prices = PriceBoard(quotes, instruments)

    async def repay(
        self, client_id: str, command: RepayMargin, *, session_account_type: str | None = None
    ) -> CreditOutcome:
        if command.amount <= 0:
            return CreditOutcome(errors=[Rejection("BAD_AMOUNT", "A repayment must be positive.", "amount")])
        prices = await self.prices.all()
        now = self.clock.now()
        async with self.db.transaction() as uow:
            loaded = await self._open(uow, client_id, command.account_id, session=session_account_type)
            if isinstance(loaded, Rejection):
                return CreditOutcome(errors=[loaded])
            account = loaded.account
            repaid = margin.repay_cash(account.credit, command.amount, command.symbol) if account.credit else None
            if repaid is None or repaid.total == 0:
                return CreditOutcome(errors=[Rejection("NO_DEBT", "There is no financing to repay.", "symbol")])
            try:
                account.funds = account.funds.pay(repaid.total)
            except LedgerError as error:
                return CreditOutcome(errors=[Rejection(error.code, error.message, "amount")])
            account.credit = repaid.debts
            detail = CreditChanged(
                action="REPAY_CASH", symbol=command.symbol, amount=repaid.total, interest=repaid.interest,
                principal=repaid.principal,
            )  # fmt: skip
            await save_account(uow, loaded, now)
            await append_event(uow, loaded.row, AccountEventKind.MARGIN_REPAID, now=now, credit=detail)
            await self._check_lines(uow, loaded, prices)
        return CreditOutcome(detail)

    async def return_shares(
        self, client_id: str, command: ReturnShares, *, session_account_type: str | None = None
    ) -> CreditOutcome:
        if command.quantity <= 0:
            return CreditOutcome(errors=[Rejection("BAD_QUANTITY", "Return a positive quantity.", "quantity")])
        prices = await self.prices.all()
        now = self.clock.now()
        async with self.db.transaction() as uow:
            loaded = await self._open(uow, client_id, command.account_id, [command.symbol], session_account_type)
            if isinstance(loaded, Rejection):
                return CreditOutcome(errors=[loaded])
            try:
                back = credit_account.return_held_shares(loaded.account, command.symbol, command.quantity)
            except LedgerError as error:
                return CreditOutcome(errors=[Rejection(error.code, error.message, "quantity")])
            detail = CreditChanged(
                action="RETURN_SHARES", symbol=command.symbol, quantity=command.quantity, amount=back.released,
                interest=back.interest,
            )  # fmt: skip
            await save_account(uow, loaded, now)
            await append_event(uow, loaded.row, AccountEventKind.SHARES_RETURNED, now=now, credit=detail)
            await self._check_lines(uow, loaded, prices)
        return CreditOutcome(detail)

    async def evaluate(self, account_id: str, prices: Mapping[str, Decimal] | None = None) -> CreditChanged | None:
        """Re-strike the maintenance ratio at current prices; a zone change is stored and pushed."""
        prices = prices if prices is not None else await self.prices.all()
        async with self.db.transaction() as uow:
            loaded = await open_account(uow, account_id, self.clock.now())
            if loaded is None or loaded.credit_row is None:
                return None
            return await self._check_lines(uow, loaded, prices)

    async def evaluate_all(self, prices: Mapping[str, Decimal] | None = None) -> list[CreditChanged]:
        """Every margin account with debts (the watch loop runs this)."""
        prices = prices if prices is not None else await self.prices.all()
        async with self.db.read() as session:
            ids = (await session.scalars(select(CreditDebtRow.account_id).distinct())).all()
        crossed = [await self.evaluate(account_id, prices) for account_id in sorted(ids)]
        return [c for c in crossed if c is not None]

    async def watch(self) -> None:
        """Evaluate the lines every WATCH_SECONDS (prices move without any account change)."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                await self.evaluate_all()
            except Exception:
                log.exception("margin watch failed; retrying")

    async def view(self, account_id: str) -> CreditView | None:
        prices = await self.prices.all()
        async with self.db.read() as session:
            row = await session.get(AccountRow, account_id)
            if row is None or row.type != AccountType.MARGIN.value:
                return None
            from brokerql.store.accounts import account_of
            from brokerql.store.credit_rows import debt_of, load_debts, terms_of
            from brokerql.store.tables_trading import CreditAccountRow

            account = account_of(row, [])
            account.terms = terms_of(await session.get(CreditAccountRow, account_id))
            account.credit = {k: debt_of(r) for k, r in (await load_debts(session, account_id)).items()}
            holdings = await holdings_of(session, account, prices)
        ratio = margin.maintenance_ratio(holdings, account.credit)
        assets = holdings.cash + sum((holdings.value(s, q) for s, q in holdings.positions.items()), Decimal(0))
        return CreditView(
            ratio=ratio,
            zone=account.terms.zone(ratio),
            terms=account.terms,
            credit_used=margin.credit_used(account.credit),
            margin_available=margin.margin_available(holdings, account.credit),
            liabilities=margin.liabilities(account.credit, prices),
            assets=assets,
            debts=sorted(account.credit.values(), key=lambda d: (d.kind.value, d.symbol)),
        )

    async def _open(
        self,
        uow: UnitOfWork,
        client_id: str,
        account_id: str,
        symbols: list[str] | None = None,
        session: str | None = None,
    ) -> LoadedAccount | Rejection:
        """The client's margin account, locked; `session`: the account type the caller's session acts for."""
        loaded = await open_account(uow, account_id, self.clock.now(), symbols or [])
        if loaded is None or loaded.row.client_id != client_id:
            return Rejection("NOT_FOUND", "No such account.", "accountId")
        if refused := session_refusal(session, loaded.account.type):
            return refused
        if loaded.credit_row is None:
            return Rejection("MARGIN_ACCOUNT_ONLY", "This needs a margin account.", "accountId")
        return loaded

    async def _check_lines(
        self, uow: UnitOfWork, loaded: LoadedAccount, prices: Mapping[str, Decimal]
    ) -> CreditChanged | None:
        assert loaded.credit_row is not None
        account = loaded.account
        ratio = margin.maintenance_ratio(await holdings_of(uow.session, account, prices), account.credit)
        zone = account.terms.zone(ratio)
        previous = loaded.credit_row.zone
        if zone.value == previous:
            return None
        loaded.credit_row.zone = zone.value
        uow.session.add(loaded.credit_row)
        detail = CreditChanged(
            action="LINE_CROSSED", ratio=ratio, zone=zone.value, previous_zone=previous,
            warning_line=account.terms.warning_line, liquidation_line=account.terms.liquidation_line,
        )  # fmt: skip
        code = {Zone.SAFE: "MARGIN_SAFE", Zone.WARNING: "MARGIN_WARNING", Zone.LIQUIDATION: "MARGIN_LIQUIDATION"}[zone]
        await append_event(uow, loaded.row, AccountEventKind.MARGIN_LINE_CROSSED, now=self.clock.now(), code=code,
                           credit=detail)  # fmt: skip
        return detail
