"""Board rules: lots, ticks, price limits, price cage, quantity/price sanity, phases."""

from decimal import Decimal as D

import pytest

from brokerql.domain.common import OrderType, Side
from brokerql.domain.market.boards import Board, Currency
from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, Instrument, validate_order
from brokerql.domain.market.quotes import iopv
from brokerql.domain.market.sessions import TradingPhase

CONT = TradingPhase.CONTINUOUS
PUFA = DEMO_INSTRUMENTS["600000"]  # prev_close 13.52
CATL = DEMO_INSTRUMENTS["300750"]  # ChiNext, 380.20
SMIC = DEMO_INSTRUMENTS["688981"]  # STAR, 118.60
TENCENT = DEMO_INSTRUMENTS["00700"]
IF = DEMO_INSTRUMENTS["IF2612"]
ETF300 = DEMO_INSTRUMENTS["510300"]


def codes(*args, **kwargs) -> list[str]:
    kwargs.setdefault("phase", CONT)
    return [r.code for r in validate_order(*args, **kwargs)]


def test_demo_universe_is_complete_and_consistent():
    wanted = {"600000", "600519", "601318", "000001", "000858", "300750", "688981", "510300", "510050"}
    assert wanted | {"00700", "09988"} <= DEMO_INSTRUMENTS.keys()
    assert any(s.startswith("IF") for s in DEMO_INSTRUMENTS)
    for inst in DEMO_INSTRUMENTS.values():
        assert isinstance(inst.prev_close, D) and inst.on_tick(inst.prev_close), inst.symbol
    assert TENCENT.currency is Currency.HKD and IF.multiplier == 300 and IF.lot_size == 1
    assert SMIC.board is Board.STAR and CATL.board is Board.CHINEXT


@pytest.mark.parametrize("symbol", ["510300", "510050"])
def test_etf_pcf_prices_to_prev_close(symbol):
    etf = DEMO_INSTRUMENTS[symbol]
    assert etf.pcf and all(line.symbol in DEMO_INSTRUMENTS for line in etf.pcf)
    prices = {s: i.prev_close for s, i in DEMO_INSTRUMENTS.items()}
    assert iopv(etf.pcf, prices, etf.cash_component, etf.creation_unit) == etf.prev_close


def test_price_limits_round_half_up_to_tick():
    assert (PUFA.limit_down, PUFA.limit_up) == (D("12.17"), D("14.87"))  # 12.168 / 14.872
    assert DEMO_INSTRUMENTS["000858"].limit_down == D("108.32")  # 108.315 rounds half up
    assert (CATL.limit_down, CATL.limit_up) == (D("304.16"), D("456.24"))  # 20%
    assert (ETF300.limit_down, ETF300.limit_up) == (D("4.185"), D("5.115"))
    assert (IF.limit_down, IF.limit_up) == (D("4158.0"), D("5082.0"))
    assert TENCENT.limit_up is None and TENCENT.limit_down is None


def test_st_stocks_get_five_percent_on_main_board_only():
    st = Instrument("600001", "ST测试", Board.SSE_MAIN, Currency.CNY, 100, D("0.01"), D("10.00"), is_st=True)
    assert (st.limit_down, st.limit_up) == (D("9.50"), D("10.50"))
    st_gem = Instrument("300001", "ST创", Board.CHINEXT, Currency.CNY, 100, D("0.01"), D("10.00"), is_st=True)
    assert st_gem.limit_up == D("12.00")


def test_t_plus_rules():
    assert PUFA.t_plus == 1 and ETF300.t_plus == 1 and TENCENT.t_plus == 0 and IF.t_plus == 0


def test_valid_orders_pass():
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), 300) == []
    assert codes(PUFA, Side.BUY, OrderType.MARKET, None, 100) == []
    assert codes(IF, Side.SELL, OrderType.LIMIT, D("4620.2"), 3) == []
    assert codes(ETF300, Side.BUY, OrderType.LIMIT, D("4.651"), 1000) == []


def test_lot_size_buys():
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), 150) == ["LOT_SIZE"]
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), 50) == ["LOT_SIZE"]
    assert validate_order(PUFA, Side.BUY, OrderType.LIMIT, D("13.5"), 150, phase=CONT)[0].field == "quantity"


def test_lot_size_star_board_min_200_then_steps_of_one():
    assert codes(SMIC, Side.BUY, OrderType.LIMIT, D("118.60"), 199) == ["LOT_SIZE"]
    assert codes(SMIC, Side.BUY, OrderType.LIMIT, D("118.60"), 200) == []
    assert codes(SMIC, Side.BUY, OrderType.LIMIT, D("118.60"), 201) == []
    assert codes(SMIC, Side.SELL, OrderType.LIMIT, D("118.60"), 150, sellable_quantity=150) == []
    assert codes(SMIC, Side.SELL, OrderType.LIMIT, D("118.60"), 150, sellable_quantity=300) == ["LOT_SIZE"]


def test_odd_lot_sells_only_with_the_whole_odd_remainder():
    sell = (PUFA, Side.SELL, OrderType.LIMIT, D("13.50"))
    assert codes(*sell, 50, sellable_quantity=50) == []
    assert codes(*sell, 250, sellable_quantity=350) == []  # two lots plus the whole odd 50
    assert codes(*sell, 30, sellable_quantity=350) == ["LOT_SIZE"]
    assert codes(*sell, 50) == ["LOT_SIZE"]  # unknown position: cannot prove it is the remainder
    assert codes(*sell, 200, sellable_quantity=50) == []  # lots are fine; funds/position is the service's job


def test_hk_board_lot_comes_from_instrument():
    assert codes(TENCENT, Side.BUY, OrderType.LIMIT, D("620.0"), 150) == ["LOT_SIZE"]
    assert codes(TENCENT, Side.BUY, OrderType.LIMIT, D("620.0"), 200) == []


def test_tick_size():
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.505"), 100) == ["TICK_SIZE"]
    assert codes(ETF300, Side.BUY, OrderType.LIMIT, D("4.6505"), 100) == ["TICK_SIZE"]
    assert codes(IF, Side.BUY, OrderType.LIMIT, D("4620.1"), 1) == ["TICK_SIZE"]
    # HK spread table: 0.5 above 500, 0.2 from 200 to 500, 0.1 from 100 to 200.
    assert codes(TENCENT, Side.BUY, OrderType.LIMIT, D("620.2"), 100) == ["TICK_SIZE"]
    assert codes(TENCENT, Side.BUY, OrderType.LIMIT, D("499.8"), 100) == []
    assert codes(DEMO_INSTRUMENTS["09988"], Side.BUY, OrderType.LIMIT, D("155.15"), 100) == ["TICK_SIZE"]


def test_hk_price_steps_follow_the_spread_table():
    assert TENCENT.price_up(D("500.0")) == D("500.5")
    assert TENCENT.price_down(D("500.0")) == D("499.8")
    assert TENCENT.price_down(D("500.5")) == D("500.0")


def test_price_limit():
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("14.88"), 100) == ["PRICE_LIMIT"]
    assert codes(PUFA, Side.SELL, OrderType.LIMIT, D("12.16"), 100) == ["PRICE_LIMIT"]
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("14.87"), 100) == []
    assert codes(TENCENT, Side.BUY, OrderType.LIMIT, D("900.0"), 100) == []


def test_price_cage_on_growth_boards_only():
    ref = D("380.00")
    assert codes(CATL, Side.BUY, OrderType.LIMIT, D("387.60"), 100, reference_price=ref) == []
    assert codes(CATL, Side.BUY, OrderType.LIMIT, D("387.61"), 100, reference_price=ref) == ["PRICE_CAGE"]
    assert codes(CATL, Side.SELL, OrderType.LIMIT, D("372.39"), 100, reference_price=ref) == ["PRICE_CAGE"]
    assert codes(CATL, Side.SELL, OrderType.LIMIT, D("372.40"), 100, reference_price=ref) == []
    assert codes(CATL, Side.BUY, OrderType.LIMIT, D("400.00"), 100) == []  # no reference known
    assert codes(SMIC, Side.BUY, OrderType.LIMIT, D("130.00"), 200, reference_price=D("118.60")) == ["PRICE_CAGE"]
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("14.50"), 100, reference_price=D("13.52")) == []


def test_bad_quantity_and_price():
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), 0) == ["BAD_QUANTITY"]
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), -100) == ["BAD_QUANTITY"]
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, None, 100) == ["BAD_PRICE"]
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("0"), 100) == ["BAD_PRICE"]
    assert codes(PUFA, Side.BUY, OrderType.MARKET, D("99.99"), 100) == []  # a market order's price is ignored
    errors = validate_order(PUFA, Side.BUY, OrderType.LIMIT, None, 0, phase=CONT)
    assert [(e.code, e.field) for e in errors] == [("BAD_QUANTITY", "quantity"), ("BAD_PRICE", "price")]


def test_market_closed_and_market_orders_in_auctions():
    for phase in (TradingPhase.CLOSED, TradingPhase.LUNCH_BREAK):
        errors = validate_order(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), 100, phase=phase)
        assert [(e.code, e.field) for e in errors] == [("MARKET_CLOSED", "symbol")]
    auction = TradingPhase.PRE_OPEN_CALL_AUCTION
    assert codes(PUFA, Side.BUY, OrderType.LIMIT, D("13.50"), 100, phase=auction) == []
    errors = validate_order(PUFA, Side.BUY, OrderType.MARKET, None, 100, phase=auction)
    assert [(e.code, e.field) for e in errors] == [("MARKET_ORDER_NOT_ALLOWED", "type")]
    # The cage applies to continuous trading only.
    closing = TradingPhase.CLOSING_CALL_AUCTION
    assert codes(CATL, Side.BUY, OrderType.LIMIT, D("400.00"), 100, phase=closing, reference_price=D("380")) == []
