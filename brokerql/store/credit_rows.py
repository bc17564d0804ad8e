"""A margin account's stored credit rows as the domain's terms and debts (the account aggregate's loading
and saving, `store/accounts.py`, and the credit view read them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from brokerql.domain.trading.margin import Debt, DebtKey, DebtKind, MarginTerms
from brokerql.store.tables_trading import CreditAccountRow, CreditDebtRow


def terms_of(row: CreditAccountRow | None) -> MarginTerms:
    if row is None:
        return MarginTerms()
    return MarginTerms(
        credit_line=row.credit_line,
        warning_line=row.warning_line,
        liquidation_line=row.liquidation_line,
        financing_rate=row.financing_rate,
        lending_rate=row.lending_rate,
    )


def debt_of(r: CreditDebtRow) -> Debt:
    return Debt(
        DebtKind(r.kind), r.symbol, r.quantity, r.principal, r.interest, r.held, r.pending_quantity, r.pending_amount
    )


async def load_debts(session: Any, account_id: str) -> dict[DebtKey, CreditDebtRow]:
    rows = (await session.scalars(select(CreditDebtRow).where(CreditDebtRow.account_id == account_id))).all()
    return {(DebtKind(r.kind), r.symbol): r for r in rows}
