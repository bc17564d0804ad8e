"""Margin trading arithmetic (C7): maintenance ratio and lines, credit checks, the short-sell price rule,
interest over several days, and conservation of cash and shares across repayments and returns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading import Order, OrderFilled
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.invariants import check_invariants
from brokerql.domain.trading.ledger import Funds, Position
from brokerql.domain.trading.margin import (
    Debt,
    DebtKind,
    Holdings,
    MarginTerms,
    Zone,
    accrue,
    check_new_credit,
    check_short_price,
    maintenance_ratio,
    repay_cash,
    return_shares,
)
from brokerql.domain.trading.orders import OrderPurpose

TS = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TERMS = MarginTerms()
_n = iter(range(10**9))


def test_ratio_crosses_the_warning_then_the_liquidation_line_as_the_price_falls() -> None:
    # 100,000 cash of our own, financed 20,000 shares of 600000 at 10.00 (200,000 owed)
    debts = {(DebtKind.FINANCING, "600000"): Debt(DebtKind.FINANCING, "600000", 20_000, Decimal("200000"))}
    zones = []
    for price in ("10.00", "8.00", "6.50", "5.00"):
        holdings = Holdings(Decimal("100000"), {"600000": 20_000}, {"600000": Decimal(price)})
        ratio = maintenance_ratio(holdings, debts)
        zones.append((ratio, TERMS.zone(ratio)))
    assert zones == [
        (Decimal("1.5000"), Zone.WARNING),  # (100,000 + 200,000) / 200,000: at the line counts
        (Decimal("1.3000"), Zone.LIQUIDATION),
        (Decimal("1.1500"), Zone.LIQUIDATION),
        (Decimal("1.0000"), Zone.LIQUIDATION),
    ]
    assert TERMS.zone(Decimal("1.5001")) is Zone.SAFE and TERMS.zone(None) is Zone.SAFE
    custom = MarginTerms(warning_line=Decimal("1.40"), liquidation_line=Decimal("1.20"))
    assert custom.zone(Decimal("1.30")) is Zone.WARNING


def test_new_credit_is_refused_below_the_liquidation_line_off_the_list_and_beyond_the_line() -> None:
    debts = {(DebtKind.FINANCING, "600000"): Debt(DebtKind.FINANCING, "600000", 20_000, Decimal("200000"))}
    poor = Holdings(Decimal("50000"), {"600000": 20_000}, {"600000": Decimal("10.00")})  # ratio 1.25
    assert check_new_credit(DebtKind.FINANCING, "600519", Decimal("1000"), TERMS, poor, debts).code == (  # type: ignore[union-attr]
        "BELOW_LIQUIDATION_LINE"
    )
    rich = Holdings(Decimal("5000000"), {}, {})
    assert check_new_credit(DebtKind.FINANCING, "601899", Decimal("1000"), TERMS, rich, {}).code == (  # type: ignore[union-attr]
        "NOT_MARGIN_ELIGIBLE"
    )
    assert check_new_credit(DebtKind.FINANCING, "600519", Decimal("1000001"), TERMS, rich, {}).code == (  # type: ignore[union-attr]
        "CREDIT_LINE_EXCEEDED"
    )
    small = Holdings(Decimal("10000"), {}, {})
    assert check_new_credit(DebtKind.FINANCING, "600519", Decimal("20000"), TERMS, small, {}).code == (  # type: ignore[union-attr]
        "INSUFFICIENT_MARGIN"
    )
    assert check_new_credit(DebtKind.SHORT, "600000", Decimal("20000"), TERMS, small, {}) is None  # 50% margin


def test_short_sell_price_rule() -> None:
    assert check_short_price(Decimal("13.51"), Decimal("13.52"), Decimal("13.00")).code == "SHORT_SELL_PRICE"  # type: ignore[union-attr]
    assert check_short_price(Decimal("13.52"), Decimal("13.52"), Decimal("13.00")) is None
    assert check_short_price(Decimal("12.99"), None, Decimal("13.00")).code == "SHORT_SELL_PRICE"  # type: ignore[union-attr]
    assert check_short_price(None, Decimal("13.52"), Decimal("13.00")).code == "SHORT_SELL_LIMIT_ONLY"  # type: ignore[union-attr]


def test_interest_accrues_per_calendar_day_at_rate_over_360() -> None:
    debts = {
        (DebtKind.FINANCING, "600000"): Debt(DebtKind.FINANCING, "600000", 10_000, Decimal("100000")),
        (DebtKind.SHORT, "000001"): Debt(DebtKind.SHORT, "000001", 1_000, Decimal("11480"), held=Decimal("11470")),
    }
    after = accrue(debts, TERMS, date(2026, 12, 1), date(2026, 12, 4))  # 3 days (Tue..Thu)
    # financing 100,000 x 6% / 360 = 16.67 a day; short 11,480 x 8% / 360 = 2.55 a day
    assert after[(DebtKind.FINANCING, "600000")].interest == Decimal("50.01")
    assert after[(DebtKind.SHORT, "000001")].interest == Decimal("7.65")
    over_weekend = accrue(after, TERMS, date(2026, 12, 4), date(2026, 12, 7))  # Fri..Sun: 3 more days
    assert over_weekend[(DebtKind.FINANCING, "600000")].interest == Decimal("100.02")
    assert accrue(debts, TERMS, date(2026, 12, 4), date(2026, 12, 4)) == debts


amounts = st.integers(min_value=1, max_value=500_000_00).map(lambda n: Decimal(n) / 100)


@settings(max_examples=200, deadline=None)
@given(principal=amounts, interest=amounts, other=amounts, pay=amounts)
def test_a_repayment_pays_interest_first_and_conserves_cash(
    principal: Decimal, interest: Decimal, other: Decimal, pay: Decimal
) -> None:
    debts = {
        (DebtKind.FINANCING, "600000"): Debt(DebtKind.FINANCING, "600000", 100, principal, interest),
        (DebtKind.FINANCING, "600519"): Debt(DebtKind.FINANCING, "600519", 10, other),
    }
    owed_before = principal + interest + other
    repaid = repay_cash(debts, pay)
    owed_after = sum((d.principal + d.interest for d in repaid.debts.values()), Decimal(0))
    assert repaid.total == min(pay, owed_before) and owed_before - owed_after == repaid.total
    assert repaid.interest == min(pay, interest)  # all interest before any principal


@settings(max_examples=200, deadline=None)
@given(owed=st.integers(1, 10_000), back=st.integers(1, 10_000), held=amounts, interest=amounts)
def test_returning_shares_releases_proceeds_and_interest_pro_rata_and_conserves_them(
    owed: int, back: int, held: Decimal, interest: Decimal
) -> None:
    back = min(back, owed)
    debt = Debt(DebtKind.SHORT, "000001", owed, held, interest, held)
    returned = return_shares(debt, back)
    left = returned.debt or Debt(DebtKind.SHORT, "000001")
    assert left.quantity == owed - back
    assert left.held + returned.released == held and left.interest + returned.interest == interest
    if back == owed:
        assert returned.debt is None


def margin_account(cash: str = "500000") -> Account:
    account = Account("m1", AccountType.MARGIN, Funds.of(Decimal(cash)))
    account.positions["000001"] = Position.settled("000001", 1_000, Decimal("10900"))
    return account


def order(purpose: OrderPurpose, side: Side, symbol: str, quantity: int, price: str) -> Order:
    n = next(_n)
    return Order(
        id=f"o{n}", account_id="m1", symbol=symbol, side=side, type=OrderType.LIMIT, price=Decimal(price),
        quantity=quantity, created_at=TS, updated_at=TS, purpose=purpose,
    )  # fmt: skip


def fill(account: Account, o: Order, quantity: int, price: str) -> None:
    fees = account.fees_for_fill(o, Decimal(price), quantity)
    f = OrderFilled(
        order_id=o.id, ts=TS, fill_id=f"f{o.id}{o.cum_qty}", price=Decimal(price), quantity=quantity, fees=fees
    )
    account.book_fill(o, f)


def test_financing_buy_sell_to_repay_and_short_round_trip_keep_the_ledger_whole() -> None:
    account = margin_account()
    buy = order(OrderPurpose.FINANCING_BUY, Side.BUY, "600000", 1_000, "13.50")
    assert account.accept(buy, ts=TS).kind.value == "ACCEPTED" and buy.frozen_cash == 0
    fill(account, buy, 600, "13.40")
    fill(account, buy, 400, "13.50")
    debt = account.credit[(DebtKind.FINANCING, "600000")]
    assert debt.principal == buy.notional + buy.fees_paid and debt.pending_quantity == 0 and debt.pending_amount == 0
    assert account.funds.balance == Decimal("500000")  # the broker paid
    assert account.position("600000").bought_today == 1_000
    account.roll_day()

    short = order(OrderPurpose.SHORT_SELL, Side.SELL, "000001", 2_000, "11.50")  # more than held: borrowed
    assert account.accept(short, ts=TS).kind.value == "ACCEPTED"
    fill(account, short, 2_000, "11.50")
    owed = account.credit[(DebtKind.SHORT, "000001")]
    proceeds = short.notional - short.fees_paid
    assert owed.quantity == 2_000 and owed.held == proceeds == account.funds.margin
    assert account.position("000001").quantity == 1_000  # own shares untouched
    assert check_invariants(account, [buy, short]) == []

    back = order(OrderPurpose.BUY_TO_RETURN, Side.BUY, "000001", 2_000, "11.00")
    assert account.accept(back, ts=TS).kind.value == "ACCEPTED"
    before = account.funds.balance
    fill(account, back, 2_000, "11.00")
    assert (DebtKind.SHORT, "000001") not in account.credit and account.funds.margin == 0
    assert account.funds.balance == before - back.notional - back.fees_paid  # proceeds released, not added
    assert account.position("000001").quantity == 1_000

    repay = order(OrderPurpose.SELL_TO_REPAY, Side.SELL, "600000", 1_000, "14.00")
    assert account.accept(repay, ts=TS).kind.value == "ACCEPTED"
    fill(account, repay, 1_000, "14.00")
    assert (DebtKind.FINANCING, "600000") not in account.credit  # 14,000 - fees covers 13,460 + fees
    assert check_invariants(account, [buy, short, back, repay]) == []
