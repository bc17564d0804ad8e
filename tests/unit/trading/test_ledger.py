"""Ledger values and the account: freezing, T+1, fills, refunds, P&L and invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest

from brokerql.domain.common import Side
from brokerql.domain.trading import (
    Account,
    Funds,
    InvalidFill,
    LedgerError,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    Position,
    check_invariants,
)
from tests.unit.trading.factories import at, make_order

D = Decimal


def test_funds_freeze_release_and_insufficient_funds():
    funds = Funds.of(D("1000"))
    funds = funds.freeze(D("600"))
    assert (funds.balance, funds.available, funds.frozen) == (D("1000"), D("400"), D("600"))
    with pytest.raises(LedgerError) as error:
        funds.freeze(D("400.01"))
    assert error.value.code == "INSUFFICIENT_FUNDS"
    funds = funds.release(D("600"))
    assert funds == Funds.of(D("1000"))
    with pytest.raises(LedgerError):
        funds.release(D("1"))


def test_sell_proceeds_are_usable_at_once_but_withdrawable_after_settlement():
    funds = Funds.of(D("100")).settle(D("900"), D("0"))
    assert funds.available == D("1000") and funds.withdrawable == D("100")
    with pytest.raises(LedgerError):
        funds.withdraw(D("100.01"))
    assert funds.roll_day().withdrawable == D("1000")


def test_position_freeze_respects_sellable_and_t_plus_one():
    position = Position.settled("600000", 300, D("3000")).add_bought(200, D("2100"))
    assert (position.quantity, position.sellable_quantity, position.bought_today) == (500, 300, 200)
    with pytest.raises(LedgerError) as error:
        position.freeze(400)
    assert error.value.code == "INSUFFICIENT_POSITION"
    assert "tomorrow" in error.value.message
    rolled = position.roll_day()
    assert (rolled.sellable_quantity, rolled.bought_today) == (500, 0)
    assert rolled.freeze(500).sellable_quantity == 0


def test_t_plus_zero_buys_are_sellable_the_same_day():
    position = Position("510300").add_bought(100, D("400"), t_plus=0)
    assert position.sellable_quantity == 100


def test_position_valuation_and_average_cost():
    position = Position.settled("600000", 300, D("3005.02"))
    assert position.avg_cost == D("10.0167")
    assert position.market_value(D("11")) == D("3300")
    assert position.unrealised_pnl(D("11")) == D("294.98")
    assert Position("x").avg_cost is None


def buy(account, qty=400, price="10.00", **kw):
    order = make_order(side=Side.BUY, quantity=qty, price=price, account_id=account.id, **kw)
    return order, account.accept(order, ts=at(0))


def filled(order, account, qty, price, fill_id="f"):
    fees = account.fees_for_fill(order, D(price), qty)
    return OrderFilled(order_id=order.id, ts=at(5), fill_id=fill_id, price=D(price), quantity=qty, fees=fees)


def test_buy_freezes_notional_plus_fees_and_refunds_the_excess_when_filled():
    account = Account("a1", funds=Funds.of(D("10000")))
    order, event = buy(account)
    assert order.status is OrderStatus.NEW and event.frozen_cash == D("4005.04")
    assert account.funds.available == D("5994.96")
    account.book_fill(order, filled(order, account, 100, "9.90", "f1"))  # 990 + 5.00 + 0.01
    assert account.funds.frozen == order.frozen_cash == D("4005.04") - D("995.01")
    account.book_fill(order, filled(order, account, 300, "9.95", "f2"))  # 2985 + 0 + 0.03 (cumulative fees 5.04)
    assert order.status is OrderStatus.FILLED and order.frozen_cash == 0
    assert account.funds == Funds(D("6019.96"), D("6019.96"), D("0"))
    position = account.positions["600000"]
    assert (position.quantity, position.sellable_quantity, position.bought_today) == (400, 0, 400)
    assert position.cost == D("3980.04")
    assert check_invariants(account, [order]) == []


def test_insufficient_funds_rejects_and_freezes_nothing():
    account = Account("a1", funds=Funds.of(D("4005.03")))
    order, event = buy(account)
    assert order.status is OrderStatus.REJECTED and event.code == "INSUFFICIENT_FUNDS"
    assert account.funds == Funds.of(D("4005.03"))


def test_market_buy_freezes_at_the_protective_price():
    account = Account("a1", funds=Funds.of(D("10000")))
    order = make_order(price=None, account_id="a1", quantity=100)
    event = account.accept(order, ts=at(0), protective_price=D("11.00"))
    assert event.frozen_cash == D("1100") + D("5") + D("0.01")
    with pytest.raises(ValueError):
        account.freeze_needed(make_order(price=None))


def test_shares_bought_today_cannot_be_sold_until_roll_day():
    account = Account("a1", funds=Funds.of(D("10000")))
    order, _ = buy(account, qty=100)
    account.book_fill(order, filled(order, account, 100, "10.00"))
    sell = make_order(side=Side.SELL, quantity=100, id="s1")
    assert account.accept(sell, ts=at(9)).code == "INSUFFICIENT_POSITION"
    account.roll_day()
    sell = make_order(side=Side.SELL, quantity=100, id="s2")
    assert account.accept(sell, ts=at(9)).kind == "ACCEPTED"
    assert account.positions["600000"].frozen_quantity == 100


def test_sell_fill_books_proceeds_fees_and_realised_pnl():
    account = Account("a1", funds=Funds.of(D("0")), positions={"600000": Position.settled("600000", 300, D("2700"))})
    sell = make_order(side=Side.SELL, quantity=200, price="10.00")
    account.accept(sell, ts=at(0))
    realised = account.book_fill(sell, filled(sell, account, 200, "10.50"))
    # proceeds 2100 - (5 + 1.05 stamp + 0.02 transfer) - cost 1800
    assert realised == D("2100") - D("6.07") - D("1800")
    assert account.realised_pnl == realised
    assert account.funds.available == D("2093.93") and account.funds.withdrawable == 0
    assert account.positions["600000"] == Position("600000", 100, 100, 0, D("900"), 0)


def test_cancel_and_expiry_release_what_the_order_holds():
    account = Account(
        "a1", funds=Funds.of(D("10000")), positions={"600000": Position.settled("600000", 500, D("5000"))}
    )
    order, _ = buy(account)
    account.book_fill(order, filled(order, account, 100, "10.00"))
    account.close_order(order, OrderCanceled(order_id=order.id, ts=at(9), canceled_quantity=300))
    assert account.funds.frozen == 0 and order.status is OrderStatus.CANCELED
    sell = make_order(side=Side.SELL, quantity=500, id="s1")
    account.accept(sell, ts=at(1))
    assert account.positions["600000"].sellable_quantity == 0
    account.close_order(sell, OrderExpired(order_id=sell.id, ts=at(9)))
    assert account.positions["600000"].sellable_quantity == 500
    assert check_invariants(account, [order, sell]) == []


def test_invalid_fill_changes_neither_the_account_nor_the_order():
    account = Account("a1", funds=Funds.of(D("10000")))
    order, _ = buy(account, qty=100)
    before = account.funds
    with pytest.raises(InvalidFill):
        account.book_fill(order, filled(order, account, 200, "10.00"))
    assert account.funds == before and order.cum_qty == 0 and "600000" not in account.positions


def test_roll_day_drops_flat_positions_and_keeps_others():
    account = Account("a1", positions={"x": Position("x"), "y": Position.settled("y", 100, D("1"))})
    account.roll_day()
    assert list(account.positions) == ["y"]


def test_check_invariants_reports_broken_rules():
    account = Account("a1", funds=Funds(D("10"), D("-1"), D("5")))
    account.positions["x"] = Position("x", 100, 90, 0, D("1"), 0)
    problems = check_invariants(account, [make_order(OrderStatus.NEW, symbol="x")])
    assert any("available" in p for p in problems)
    assert any("balance" in p for p in problems)
    assert any("quantity 100" in p for p in problems)
    assert any("cash held by orders" in p for p in problems)


def test_orders_of_another_account_are_refused():
    with pytest.raises(ValueError):
        Account("a2", funds=Funds.of(D("1"))).reserve_for(make_order(account_id="a1"))


def test_settle_functions_move_cash_and_shares():
    from brokerql.domain.trading import Fees, settle_buy_fill, settle_sell_fill

    funds = Funds.of(D("2000")).freeze(D("1005.01"))
    funds, position = settle_buy_fill(
        funds,
        Position("x"),
        price=D("10"),
        quantity=100,
        fees=Fees(D("5"), D("0"), D("0.01")),
        frozen_portion=D("1005.01"),
    )
    assert funds == Funds.of(D("994.99")) and position.bought_today == 100 and position.cost == D("1005.01")
    funds, position, realised = settle_sell_fill(
        funds, position.roll_day().freeze(100), price=D("11"), quantity=100, fees=Fees(D("5"), D("0.55"), D("0.01"))
    )
    assert realised == D("1100") - D("5.56") - D("1005.01")
    assert position == Position("x") and funds.balance == D("994.99") + D("1094.44")


def test_penny_stock_sell_with_no_cash_is_covered_by_its_fee_buffer():
    holdings = {"000725": Position.settled("000725", 100, D("150"))}
    account = Account("a1", funds=Funds.of(D("10")), positions=holdings)
    sell = make_order(side=Side.SELL, quantity=100, price="1.50", symbol="000725")
    event = account.accept(sell, ts=at(0))
    assert event.frozen_cash == D("5") + D("0.02") - D("1.50")  # 1 share: 5.00 commission on 1.50
    account.book_fill(sell, filled(sell, account, 1, "1.50", "f1"))  # owes 3.50 more than it earned
    assert account.funds.available == D("10") - event.frozen_cash
    account.book_fill(sell, filled(sell, account, 99, "1.50", "f2"))
    assert account.funds == Funds(D("10") + D("150") - D("5.08"), D("154.92"), D("0"), D("148.42"))
    assert account.funds.withdrawable == D("10") - D("3.50")  # the old cash, less the fees it paid
    assert check_invariants(account, [sell]) == []
    broke = Account("a2", funds=Funds.of(D("3")), positions=dict(holdings))
    assert (
        broke.accept(
            make_order(side=Side.SELL, price="1.50", symbol="000725", account_id="a2", quantity=100), ts=at(0)
        ).code
        == "INSUFFICIENT_FUNDS"
    )


def test_an_order_reserves_only_once():
    account = Account("a1", funds=Funds.of(D("10000")))
    order, _ = buy(account)
    with pytest.raises(ValueError):
        account.reserve_for(order)
