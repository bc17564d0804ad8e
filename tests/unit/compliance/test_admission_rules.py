"""The admission rules of issue #15 as pure domain functions: products per account, the session's
account type, price instructions, suitability, board eligibility, Stock Connect."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from brokerql.domain.common import OrderType, Side
from brokerql.domain.compliance.admission import compliance_refusal
from brokerql.domain.compliance.suitability import ClientFacts, board_refusal, suitability_refusal
from brokerql.domain.market.boards import Board
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, validate_order
from brokerql.domain.market.sessions import TradingPhase
from brokerql.domain.market.stock_connect import DEMO_REFERENCE_RATES, connect_basis, in_cny, settlement_rate
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.events import OrderFilled
from brokerql.domain.trading.fees import DEFAULT_SCHEDULE, estimate_buy_freeze, hk_connect_fees
from brokerql.domain.trading.orders import Order
from brokerql.domain.trading.price_levels import PriceLevel
from brokerql.domain.trading.products import price_instruction_refusal, product_refusal, session_refusal

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
RICH = ClientFacts("C5", D(10_000_000), 120)


def _code(rejection) -> str | None:  # type: ignore[no-untyped-def]
    return None if rejection is None else rejection.code


def test_products_per_account_type() -> None:
    cash, margin, futures = AccountType.CASH, AccountType.MARGIN, AccountType.FUTURES
    assert _code(product_refusal(cash, "IF2612", Board.CFFEX_INDEX_FUTURE)) == "PRODUCT_NOT_ALLOWED"
    assert _code(product_refusal(futures, "600000", Board.SSE_MAIN)) == "PRODUCT_NOT_ALLOWED"
    assert _code(product_refusal(margin, "00700", Board.HK)) == "PRODUCT_NOT_ALLOWED"
    assert _code(product_refusal(margin, "IF2612", Board.CFFEX_INDEX_FUTURE)) == "PRODUCT_NOT_ALLOWED"
    assert _code(product_refusal(margin, "123456", Board.SSE_MAIN)) == "PRODUCT_NOT_ALLOWED"  # not on the list
    for symbol in ("600000", "510300", "688981", "00700"):
        assert product_refusal(cash, symbol, DEMO_INSTRUMENTS[symbol].board) is None
    assert product_refusal(margin, "600000", Board.SSE_MAIN) is None
    assert product_refusal(futures, "IF2612", Board.CFFEX_INDEX_FUTURE) is None


def test_a_session_acts_only_for_its_account_type() -> None:
    assert _code(session_refusal("CASH", AccountType.MARGIN)) == "ACCOUNT_TYPE_NOT_IN_SESSION"
    assert session_refusal("MARGIN", AccountType.MARGIN) is None
    assert session_refusal(None, AccountType.FUTURES) is None  # no session: an internal caller


def test_price_instructions_are_unambiguous() -> None:
    both = price_instruction_refusal(OrderType.LIMIT, D("13.00"), PriceLevel.ASK1)
    assert (
        both is not None and both.code == "BAD_USER_INPUT" and "price" in both.message and "priceLevel" in both.message
    )
    market_price = price_instruction_refusal(OrderType.MARKET, D("13.00"), None)
    assert market_price is not None and market_price.code == "BAD_USER_INPUT" and market_price.field == "price"
    assert _code(price_instruction_refusal(OrderType.MARKET, None, PriceLevel.ASK1)) == "BAD_USER_INPUT"
    assert price_instruction_refusal(OrderType.LIMIT, D("13.00"), None) is None
    assert price_instruction_refusal(OrderType.LIMIT, None, PriceLevel.ASK1) is None
    assert price_instruction_refusal(OrderType.MARKET, None, None) is None


def test_suitability_matches_risk_levels_with_acknowledgement_and_refusal() -> None:
    c3 = ClientFacts("C3", D(0), 0)
    assert suitability_refusal(Board.SSE_MAIN, c3, acknowledged=False) is None  # R3 <= C3
    needs = suitability_refusal(Board.STAR, c3, acknowledged=False)  # R4 > C3
    assert needs is not None and needs.code == "SUITABILITY_MISMATCH" and needs.field == "riskAcknowledged"
    assert suitability_refusal(Board.STAR, c3, acknowledged=True) is None
    # the highest products are refused outright above the client's level, acknowledged or not
    assert _code(suitability_refusal(Board.CFFEX_INDEX_FUTURE, c3, acknowledged=True)) == "SUITABILITY_MISMATCH"
    assert suitability_refusal(Board.CFFEX_INDEX_FUTURE, RICH, acknowledged=False) is None
    # the lowest category is never sold above its level
    c1 = ClientFacts("C1", D(0), 0)
    assert _code(suitability_refusal(Board.SSE_MAIN, c1, acknowledged=True)) == "SUITABILITY_MISMATCH"
    assert suitability_refusal(Board.ETF, ClientFacts("C2", D(0), 0), acknowledged=False) is None


def test_star_and_chinext_eligibility_from_assets_and_experience_or_a_grant() -> None:
    assert _code(board_refusal(Board.STAR, ClientFacts("C4", D(499_999), 60))) == "BOARD_NOT_ELIGIBLE"
    assert _code(board_refusal(Board.STAR, ClientFacts("C4", D(500_000), 23))) == "BOARD_NOT_ELIGIBLE"
    assert board_refusal(Board.STAR, ClientFacts("C4", D(500_000), 24)) is None
    assert board_refusal(Board.CHINEXT, ClientFacts("C4", D(100_000), 24)) is None
    assert _code(board_refusal(Board.CHINEXT, ClientFacts("C4", D(150_000), 6))) == "BOARD_NOT_ELIGIBLE"
    assert board_refusal(Board.CHINEXT, ClientFacts("C4", D(0), 0, frozenset({"CHINEXT"}))) is None
    assert _code(board_refusal(Board.HK, ClientFacts("C4", D(499_000), 99))) == "BOARD_NOT_ELIGIBLE"
    assert board_refusal(Board.HK, ClientFacts("C4", D(500_000), 0)) is None  # no experience rule
    assert board_refusal(Board.SSE_MAIN, ClientFacts("C4", D(0), 0)) is None


def test_the_sequence_never_blocks_selling_what_one_holds() -> None:
    poor = ClientFacts("C2", D(0), 0)
    args = dict(session_account_type="CASH", account_type=AccountType.CASH, symbol="688981", board=Board.STAR)
    assert _code(compliance_refusal(**args, side=Side.BUY, facts=poor, risk_acknowledged=True)) == "BOARD_NOT_ELIGIBLE"
    assert compliance_refusal(**args, side=Side.SELL, facts=poor, risk_acknowledged=False) is None
    # the session's type comes first, then the product table
    wrong = dict(args, session_account_type="MARGIN")
    refused = compliance_refusal(**wrong, side=Side.SELL, facts=RICH, risk_acknowledged=False)
    assert _code(refused) == "ACCOUNT_TYPE_NOT_IN_SESSION"


def test_hk_charges_both_sides_and_a_buy_frozen_in_cny_at_the_buy_rate_plus_buffer() -> None:
    notional = D("62000")  # 100 x 00700 at HKD 620
    fees = hk_connect_fees(notional, DEFAULT_SCHEDULE.commission_rate, DEFAULT_SCHEDULE.min_commission)
    # stamp duty 0.1% rounded up to a dollar; levies + trading fee 0.0085% = 5.27; commission 15.50
    assert (fees.stamp_duty, fees.transfer_fee, fees.commission) == (D("62"), D("5.27"), D("15.50"))
    basis = connect_basis()
    assert DEFAULT_SCHEDULE.fees(Side.SELL, notional, basis) == DEFAULT_SCHEDULE.fees(Side.BUY, notional, basis)
    frozen = estimate_buy_freeze(D("620"), 100, DEFAULT_SCHEDULE, basis)
    expected = (notional + fees.total) * DEMO_REFERENCE_RATES.buy * D("1.01")
    assert frozen == expected.quantize(D("0.01"), rounding="ROUND_CEILING")
    assert frozen < notional  # CNY, not HKD taken as CNY


def test_an_hk_fill_books_cny_at_the_reference_rate_and_sells_the_same_day() -> None:
    account = Account("acc", AccountType.CASH)
    account.deposit(D("100000"))
    basis = connect_basis()
    order = Order("o1", "acc", "00700", Side.BUY, OrderType.LIMIT, D("620"), 100, NOW, NOW)
    account.accept(order, ts=NOW, basis=basis)
    frozen = order.frozen_cash
    rate = settlement_rate(Board.HK, Side.BUY)
    fees = in_cny(account.fees_for_fill(order, D("620"), 100, basis), rate)
    fill = OrderFilled(
        order_id="o1", ts=NOW, fill_id="f1", price=D("620"), quantity=100, fees=fees, settlement_rate=rate
    )
    account.book_fill(order, fill, t_plus=DEMO_INSTRUMENTS["00700"].t_plus)
    paid = D("62000") * rate + fees.total
    assert account.funds.balance == D("100000") - paid and account.funds.frozen == 0 and paid <= frozen
    assert account.position("00700").sellable_quantity == 100  # T+0: sellable the same day


def test_stock_connect_orders_limit_only_in_the_vcm_band_and_odd_lots_only_sold() -> None:
    tencent = DEMO_INSTRUMENTS["00700"]
    kw = dict(phase=TradingPhase.CONTINUOUS, reference_price=D("620"))
    assert [e.code for e in validate_order(tencent, Side.BUY, OrderType.MARKET, None, 100, **kw)] == [
        "MARKET_ORDER_NOT_ALLOWED"
    ]
    assert [e.code for e in validate_order(tencent, Side.BUY, OrderType.LIMIT, D("690"), 100, **kw)] == ["VCM_BAND"]
    assert validate_order(tencent, Side.BUY, OrderType.LIMIT, D("680"), 100, **kw) == []
    assert [e.code for e in validate_order(tencent, Side.BUY, OrderType.LIMIT, D("620"), 150, **kw)] == ["LOT_SIZE"]
    assert validate_order(tencent, Side.SELL, OrderType.LIMIT, D("620"), 50, sellable_quantity=150, **kw) == []
    assert [e.code for e in validate_order(tencent, Side.BUY, OrderType.LIMIT, D("620.1"), 100, **kw)] == [
        "TICK_SIZE"  # the spread table: 0.5 between 500 and 1000
    ]


def test_hk_sale_proceeds_settle_t_plus_2() -> None:
    account = Account("acc", AccountType.CASH)
    account.deposit(D("100000"))
    basis, tencent = connect_basis(), DEMO_INSTRUMENTS["00700"]
    buy = Order("b1", "acc", "00700", Side.BUY, OrderType.LIMIT, D("620"), 100, NOW, NOW)
    account.accept(buy, ts=NOW, basis=basis)
    rate = settlement_rate(Board.HK, Side.BUY)
    fees = in_cny(account.fees_for_fill(buy, D("620"), 100, basis), rate)
    account.book_fill(
        buy, OrderFilled(order_id="b1", ts=NOW, fill_id="f1", price=D("620"), quantity=100, fees=fees,
                         settlement_rate=rate), t_plus=tencent.t_plus, cash_days=tencent.rules.cash_days,
    )  # fmt: skip
    sell = Order("s1", "acc", "00700", Side.SELL, OrderType.LIMIT, D("630"), 100, NOW, NOW)
    account.accept(sell, ts=NOW, basis=basis)  # T+0: sold the day it was bought
    rate = settlement_rate(Board.HK, Side.SELL)
    fees = in_cny(account.fees_for_fill(sell, D("630"), 100, basis), rate)
    account.book_fill(
        sell, OrderFilled(order_id="s1", ts=NOW, fill_id="f2", price=D("630"), quantity=100, fees=fees,
                          settlement_rate=rate), t_plus=tencent.t_plus, cash_days=tencent.rules.cash_days,
    )  # fmt: skip
    proceeds = D("63000") * rate - fees.total
    cash_before_sale = account.funds.available - proceeds
    assert account.funds.withdrawable == cash_before_sale  # T+0 ... T+1: the proceeds may not leave
    account.roll_day()
    assert account.funds.withdrawable == cash_before_sale
    account.roll_day()
    assert account.funds.withdrawable == account.funds.available  # T+2: settled


def test_a_parked_order_keeps_its_risk_acknowledgement_and_refuses_ambiguous_prices() -> None:
    from datetime import timedelta

    from brokerql.domain.trading.commands import PlaceOrder
    from brokerql.domain.trading.parked import ParkOrder, Trigger, TriggerKind, order_refusal
    from brokerql.store.parked import parked_row, parked_view

    order = PlaceOrder(account_id="acc", symbol="688981", side=Side.BUY, type=OrderType.LIMIT, quantity=200,
                       price=D("120.00"), risk_acknowledged=True)  # fmt: skip
    command = ParkOrder(order=order, trigger=Trigger(kind=TriggerKind.PRICE_ABOVE, level=D("200")))
    row = parked_row("pko1", "cli1", command, NOW + timedelta(days=1), NOW)
    assert parked_view(row).order.risk_acknowledged is True
    both = PlaceOrder(account_id="acc", symbol="600000", side=Side.BUY, type=OrderType.LIMIT, quantity=100,
                      price=D("13.00"), price_level=PriceLevel.ASK1)  # fmt: skip
    assert _code(order_refusal(both)) == "BAD_USER_INPUT"


def test_average_daily_assets_counts_missing_days_as_zero() -> None:
    from brokerql.domain.compliance.suitability import average_daily_assets

    assert average_daily_assets([D(600_000)] * 20) == D(600_000)
    assert average_daily_assets([D(600_000)] * 10) == D(300_000)  # half a window of history
    assert average_daily_assets([D(1)] * 30) == D(1)  # only the window counts
