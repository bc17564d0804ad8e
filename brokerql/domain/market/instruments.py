"""Tradable instruments, the demo universe, and the board rules every order is checked against."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from brokerql.domain.common import OrderType, Rejection, Side, to_decimal
from brokerql.domain.market.boards import BOARD_RULES, Board, BoardRules, Currency, hk_tick
from brokerql.domain.market.sessions import TradingPhase, accepts_orders, allows_market_orders

__all__ = [
    "DEMO_INSTRUMENTS",
    "Board",
    "Currency",
    "Instrument",
    "PcfLine",
    "Substitution",
    "roll_day",
    "validate_order",
]


class Substitution(StrEnum):
    """A PCF line's cash substitution flag (现金替代标志), as the SSE publishes it."""

    FORBIDDEN = "FORBIDDEN"  # 禁止现金替代: the shares must be delivered
    ALLOWED = "ALLOWED"  # 允许现金替代: shares, or cash for what is missing at prev close x (1 + premium)
    MUST_CASH = "MUST_CASH"  # 必须现金替代: always a fixed cash amount (e.g. another exchange's stocks)


@dataclass(frozen=True, slots=True)
class PcfLine:
    """One constituent of an ETF creation unit: `quantity` shares of `symbol`, with its substitution flag;
    `cash_amount` is the fixed substitution amount of a MUST_CASH line."""

    symbol: str
    quantity: int
    substitution: Substitution = Substitution.ALLOWED
    premium_rate: Decimal = Decimal("0.10")  # 溢价比例 of an ALLOWED line's cash substitution
    cash_amount: Decimal = Decimal(0)


def round_to_tick(value: Decimal, tick: Decimal) -> Decimal:
    """Nearest multiple of `tick`, halves rounded up as SSE/SZSE do for price limits."""
    return ((value / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick).quantize(tick)


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static reference data of one instrument plus the derived rule values for today."""

    symbol: str
    name: str
    board: Board
    currency: Currency
    lot_size: int
    tick_size: Decimal  # fixed tick; on HK the tick at prev_close (use tick_at for any other price)
    prev_close: Decimal
    is_st: bool = False
    multiplier: int = 1
    pcf: tuple[PcfLine, ...] = ()
    cash_component: Decimal | None = None
    creation_unit: int | None = None

    @property
    def rules(self) -> BoardRules:
        """Rules of the instrument's board."""
        return BOARD_RULES[self.board]

    @property
    def buy_increment(self) -> int:
        """Step between valid buy quantities above the minimum (STAR: 1 share; elsewhere a lot)."""
        return self.rules.buy_increment or self.lot_size

    @property
    def t_plus(self) -> int:
        """Trading days before a purchase becomes sellable (0 = may sell the same day)."""
        return self.rules.t_plus

    @property
    def limit_pct(self) -> Decimal | None:
        """Daily price band as a fraction of prev_close, None where there is none."""
        return self.rules.st_limit_pct if self.is_st and self.rules.st_limit_pct else self.rules.limit_pct

    @property
    def limit_up(self) -> Decimal | None:
        """Highest price accepted today, None without a daily limit."""
        return self._band(1)

    @property
    def limit_down(self) -> Decimal | None:
        """Lowest price accepted today, None without a daily limit."""
        return self._band(-1)

    def _band(self, sign: int) -> Decimal | None:
        pct = self.limit_pct
        if pct is None:
            return None
        return round_to_tick(self.prev_close * (1 + sign * pct), self.tick_at(self.prev_close))

    def tick_at(self, price: Decimal) -> Decimal:
        """Tick size valid at `price` (constant except on the HK spread table)."""
        return hk_tick(price) if self.board is Board.HK else self.tick_size

    def price_up(self, price: Decimal, steps: int = 1) -> Decimal:
        """The price `steps` ticks above `price`."""
        for _ in range(steps):
            price += hk_tick(price, above=True) if self.board is Board.HK else self.tick_size
        return price

    def price_down(self, price: Decimal, steps: int = 1) -> Decimal:
        """The price `steps` ticks below `price` (may reach zero or below: callers clamp)."""
        for _ in range(steps):
            price -= self.tick_at(price)
        return price

    def on_tick(self, price: Decimal) -> bool:
        """Whether `price` is a whole number of ticks."""
        return price % self.tick_at(price) == 0


def roll_day(instrument: Instrument, close: Decimal | None) -> Instrument:
    """The instrument on its next trading day: yesterday's close becomes prev_close, so the limits move.

    `close` is the last trade of the day; a day without trades keeps the previous close. The ETF's PCF
    and cash component stay as they are (a real fund republishes them daily; the demo keeps them).
    """
    if close is None or close == instrument.prev_close:
        return instrument
    tick = hk_tick(close) if instrument.board is Board.HK else instrument.tick_size
    return replace(instrument, prev_close=close, tick_size=tick)


def _pcf_line(symbol: str, quantity: int) -> PcfLine:
    # An SSE-listed ETF takes SSE stocks in kind (cash allowed for a shortfall); the other exchange's
    # stocks are always substituted by cash at yesterday's close (the SSE cross-market ETF model).
    stock = _STOCKS[symbol]
    if stock.board in (Board.SZSE_MAIN, Board.CHINEXT):
        return PcfLine(symbol, quantity, Substitution.MUST_CASH, cash_amount=stock.prev_close * quantity)
    return PcfLine(symbol, quantity)


def _etf(symbol: str, name: str, prev_close: str, unit: int, lines: dict[str, int]) -> Instrument:
    # The cash component is chosen so that IOPV at yesterday's closes equals the ETF's prev_close:
    # it stands for the index constituents not in the demo universe.
    pcf = tuple(_pcf_line(sym, qty) for sym, qty in lines.items())
    basket = sum((_STOCKS[line.symbol].prev_close * line.quantity for line in pcf), Decimal(0))
    close = Decimal(prev_close)
    return Instrument(
        symbol, name, Board.ETF, Currency.CNY, 100, Decimal("0.001"), close,
        pcf=pcf, cash_component=close * unit - basket, creation_unit=unit,
    )  # fmt: skip


def _stock(symbol: str, name: str, board: Board, prev_close: str, lot: int | None = None) -> Instrument:
    rules = BOARD_RULES[board]
    lot = lot or rules.lot_size
    close = Decimal(prev_close)
    tick = hk_tick(close) if board is Board.HK else rules.tick_size
    return Instrument(symbol, name, board, rules.currency, lot, tick, close)


_STOCKS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _stock("600000", "浦发银行", Board.SSE_MAIN, "13.52"),
        _stock("600519", "贵州茅台", Board.SSE_MAIN, "1450.00"),
        _stock("601318", "中国平安", Board.SSE_MAIN, "56.80"),
        _stock("000001", "平安银行", Board.SZSE_MAIN, "11.48"),
        _stock("000858", "五粮液", Board.SZSE_MAIN, "120.35"),
        _stock("300750", "宁德时代", Board.CHINEXT, "380.20"),
        _stock("688981", "中芯国际", Board.STAR, "118.60"),
        # more index constituents, so that each demo ETF's PCF lists at least ten stocks
        _stock("600036", "招商银行", Board.SSE_MAIN, "35.20"),
        _stock("601398", "工商银行", Board.SSE_MAIN, "5.80"),
        _stock("600900", "长江电力", Board.SSE_MAIN, "28.50"),
        _stock("601166", "兴业银行", Board.SSE_MAIN, "17.50"),
        _stock("600030", "中信证券", Board.SSE_MAIN, "26.80"),
        _stock("601288", "农业银行", Board.SSE_MAIN, "5.10"),
        _stock("600276", "恒瑞医药", Board.SSE_MAIN, "48.60"),
        _stock("000333", "美的集团", Board.SZSE_MAIN, "72.30"),
        _stock("002594", "比亚迪", Board.SZSE_MAIN, "280.00"),
        _stock("00700", "腾讯控股", Board.HK, "620.0"),
        _stock("09988", "阿里巴巴-W", Board.HK, "155.1"),
    )
}

DEMO_INSTRUMENTS: dict[str, Instrument] = {
    **_STOCKS,
    "510300": _etf(
        "510300", "沪深300ETF", "4.650", 900_000,
        {"600519": 300, "601318": 5_000, "600000": 20_000, "000001": 20_000, "000858": 2_000,
         "300750": 1_000, "688981": 1_000, "600036": 5_000, "601398": 30_000, "600900": 5_000,
         "601166": 8_000, "600030": 5_000, "601288": 30_000, "600276": 2_000, "000333": 2_000,
         "002594": 500},
    ),
    "510050": _etf(
        "510050", "上证50ETF", "3.100", 900_000,
        {"600519": 200, "601318": 6_000, "600000": 20_000, "600036": 6_000, "601398": 40_000,
         "600900": 5_000, "601166": 10_000, "600030": 6_000, "601288": 40_000, "600276": 3_000},
    ),
    "IF2612": Instrument(
        "IF2612", "沪深300股指期货2612", Board.CFFEX_INDEX_FUTURE, Currency.CNY, 1, Decimal("0.2"),
        Decimal("4620.0"), multiplier=300,
    ),
}  # fmt: skip


def _check_quantity(instrument: Instrument, side: Side, quantity: int, sellable: int | None) -> Rejection | None:
    lot, step = instrument.lot_size, instrument.buy_increment
    if quantity >= lot and (quantity - lot) % step == 0:
        return None
    # Odd lots may only be sold together with, or as, the whole odd remainder of the position.
    if (
        side is Side.SELL
        and sellable is not None
        and quantity <= sellable
        and (quantity == sellable or (step == lot and quantity % lot == sellable % lot))
    ):
        return None
    verb = "buy" if side is Side.BUY else "sell"
    need = f"at least {lot} then steps of {step}" if step != lot else f"a multiple of the {lot}-unit lot"
    return Rejection("LOT_SIZE", f"{verb} quantity must be {need}, or the whole odd remainder", "quantity")


def _check_price(
    instrument: Instrument, side: Side, price: Decimal, phase: TradingPhase, reference: Decimal | None
) -> list[Rejection]:
    errors: list[Rejection] = []
    if not instrument.on_tick(price):
        tick = instrument.tick_at(price)
        errors.append(Rejection("TICK_SIZE", f"price must be a multiple of {tick}", "price"))
    low, high = instrument.limit_down, instrument.limit_up
    if low is not None and high is not None and not low <= price <= high:
        errors.append(Rejection("PRICE_LIMIT", f"price must be within {low}..{high} today", "price"))
    # The 2% cage bounds continuous-trading limit orders on STAR/ChiNext around the latest reference.
    if instrument.rules.price_cage and reference is not None and phase is TradingPhase.CONTINUOUS:
        reference = to_decimal(reference)
        if side is Side.BUY and price > reference * Decimal("1.02"):
            errors.append(Rejection("PRICE_CAGE", f"buy price above 102% of reference {reference}", "price"))
        elif side is Side.SELL and price < reference * Decimal("0.98"):
            errors.append(Rejection("PRICE_CAGE", f"sell price below 98% of reference {reference}", "price"))
    return errors


def validate_order(
    instrument: Instrument,
    side: Side,
    order_type: OrderType,
    price: Decimal | None,
    quantity: int,
    *,
    phase: TradingPhase,
    reference_price: Decimal | None = None,
    sellable_quantity: int | None = None,
) -> list[Rejection]:
    """Board-rule rejections of an order, empty when it may go to the exchange.

    Funds, sellable position and entitlements are the calling service's business; `sellable_quantity`
    only lets odd-lot sells of a whole remainder through.
    """
    if not accepts_orders(phase):
        return [Rejection("MARKET_CLOSED", f"{instrument.symbol} does not accept orders ({phase})", "symbol")]
    errors: list[Rejection] = []
    if order_type is OrderType.MARKET and not allows_market_orders(phase):
        errors.append(Rejection("MARKET_ORDER_NOT_ALLOWED", f"no market orders during {phase}", "type"))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        errors.append(Rejection("BAD_QUANTITY", "quantity must be a positive whole number", "quantity"))
    elif (lot_error := _check_quantity(instrument, side, quantity, sellable_quantity)) is not None:
        errors.append(lot_error)
    if order_type is OrderType.LIMIT:
        if price is None or to_decimal(price) <= 0:
            errors.append(Rejection("BAD_PRICE", "a limit order needs a positive price", "price"))
        else:
            errors.extend(_check_price(instrument, side, to_decimal(price), phase, reference_price))
    # Imported here: Stock Connect's rules use the trading fees, whose package imports the instruments.
    from brokerql.domain.market.stock_connect import connect_refusal

    continuous = phase is TradingPhase.CONTINUOUS
    connect = connect_refusal(instrument.board, order_type, price, reference_price, continuous=continuous)
    if connect is not None:  # Stock Connect: limit orders only, inside the VCM band
        errors.append(connect)
    return errors
