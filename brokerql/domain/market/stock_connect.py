"""Stock Connect southbound (港股通): HK shares bought from a CNY account, settled in CNY.

Rule sources (public):
- SSE, Implementation Measures for the Shanghai-Hong Kong Stock Connect (《上海证券交易所沪港通业务实施
  办法》) and SZSE's Shenzhen-Hong Kong counterpart: southbound investors may enter only enhanced limit
  (and at-auction limit) orders, trade in board lots and may only *sell* odd lots; HK shares bought
  may be sold the same day (T+0); cash settles T+2 (ChinaClear, southbound settlement rules).
- ChinaClear / the exchanges publish each trading day a buy and a sell reference exchange rate
  (参考汇率), a band around the mid rate; brokers freeze CNY for a buy at the buy reference rate, with
  a buffer for the rate moving before settlement, which happens at the day's settlement rate.
- HKEX spread table (Part A) for the tick (see `boards.HK_SPREAD_TABLE`), and no daily price limits:
  the Volatility Control Mechanism (VCM, HKEX Rules, Chapter 5A) bounds trading of index constituents
  to +/-10% of the reference price (the last trade five minutes earlier) in a cooling-off period;
  this broker refuses limit prices outside that band during continuous trading.
- Charges on both sides: stamp duty 0.1% of the value rounded up to a whole HKD (Stamp Duty Ordinance,
  rate since 17 November 2023), SFC transaction levy 0.0027%, AFRC levy 0.00015%, HKEX trading fee
  0.00565%, and the broker's commission.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.market.boards import Board
from brokerql.domain.trading.fees import Fees

CENT = Decimal("0.01")
VCM_BAND = Decimal("0.10")  # +/- 10% for the demo's stocks (both are Hang Seng Index constituents)
FREEZE_BUFFER = Decimal("0.01")  # 1% above the buy reference rate, for the rate moving before T+2
HK_STAMP_DUTY = Decimal("0.001")
HK_SFC_LEVY = Decimal("0.000027")
HK_AFRC_LEVY = Decimal("0.0000015")
HK_TRADING_FEE = Decimal("0.0000565")


@dataclass(frozen=True, slots=True)
class ReferenceRates:
    """One trading day's HKD->CNY reference rates: buys freeze at `buy`, sells are valued at `sell`."""

    buy: Decimal
    sell: Decimal

    def __post_init__(self) -> None:
        if not (0 < self.sell <= self.buy):
            raise ValueError("reference rates need 0 < sell <= buy")


# The demo's reference rates: a mid of 0.9200 CNY per HKD with the published band (about 3% each side).
DEMO_REFERENCE_RATES = ReferenceRates(buy=Decimal("0.9476"), sell=Decimal("0.8924"))


def _cents_up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_CEILING)


def hk_connect_fees(side: Side, notional_hkd: Decimal, commission_rate: Decimal, min_commission: Decimal) -> Fees:
    """The charges of a southbound trade of `notional_hkd`, in HKD (both sides pay all of them).

    Mapped onto the fee components: stamp duty; the exchange's and regulators' charges (trading fee,
    SFC and AFRC levies) as the transfer fee; the broker's commission.
    """
    if notional_hkd <= 0:
        return Fees()
    stamp = notional_hkd * HK_STAMP_DUTY
    stamp = stamp.quantize(Decimal(1), rounding=ROUND_CEILING)  # rounded up to the whole dollar
    levies = notional_hkd * (HK_SFC_LEVY + HK_AFRC_LEVY + HK_TRADING_FEE)
    commission = max(min_commission, (notional_hkd * commission_rate).quantize(CENT, rounding=ROUND_HALF_UP))
    del side  # the same schedule on both sides, unlike A-shares where only sells pay stamp duty
    return Fees(commission=commission, stamp_duty=stamp, transfer_fee=levies.quantize(CENT, rounding=ROUND_HALF_UP))


def buy_freeze_cny(
    price_hkd: Decimal,
    quantity: int,
    rates: ReferenceRates,
    commission_rate: Decimal,
    min_commission: Decimal,
) -> Decimal:
    """CNY to freeze for a southbound buy: (notional + fees) in HKD at the buy reference rate, plus
    the buffer, rounded up to the cent."""
    notional = price_hkd * quantity
    fees = hk_connect_fees(Side.BUY, notional, commission_rate, min_commission)
    return _cents_up((notional + fees.total) * rates.buy * (1 + FREEZE_BUFFER))


def vcm_band(reference: Decimal) -> tuple[Decimal, Decimal]:
    """The VCM band around the reference price: (lowest, highest) price allowed."""
    return reference * (1 - VCM_BAND), reference * (1 + VCM_BAND)


def connect_refusal(
    board: Board, order_type: OrderType, price: Decimal | None, reference: Decimal | None, *, continuous: bool
) -> Rejection | None:
    """Southbound order rules not covered by the board checks: limit orders only, inside the VCM band."""
    if board is not Board.HK:
        return None
    if order_type is not OrderType.LIMIT:
        return Rejection(
            "MARKET_ORDER_NOT_ALLOWED", "Stock Connect takes limit orders only (enhanced limit orders).", "type"
        )
    if price is not None and reference is not None and continuous:
        low, high = vcm_band(reference)
        if not low <= price <= high:
            return Rejection(
                "VCM_BAND",
                f"Price outside the volatility control band {low:.3f}..{high:.3f} HKD (+/-10% of {reference}).",
                "price",
            )
    return None
