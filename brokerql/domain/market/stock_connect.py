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
from decimal import ROUND_HALF_UP, Decimal

from brokerql.domain.common import OrderType, Rejection, Side
from brokerql.domain.market.boards import Board
from brokerql.domain.trading.fees import HKEX, FeeBasis, Fees

VCM_BAND = Decimal("0.10")  # +/- 10% for the demo's stocks (both are Hang Seng Index constituents)
FREEZE_BUFFER = Decimal("0.01")  # 1% above the buy reference rate, for the rate moving before T+2


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


def connect_basis(rates: ReferenceRates = DEMO_REFERENCE_RATES) -> FeeBasis:
    """The fee basis of a southbound trade: HK charges, frozen at the buy reference rate plus the buffer."""
    return FeeBasis(exchange=HKEX, fx_rate=rates.buy, fx_buffer=FREEZE_BUFFER)


def settlement_rate(board: Board, side: Side, rates: ReferenceRates = DEMO_REFERENCE_RATES) -> Decimal:
    """CNY per unit at which a fill is booked: buys at the buy reference rate, sells at the sell rate
    (the T+2 true-up to ChinaClear's settlement rate is not modelled); 1 for CNY products."""
    if board is not Board.HK:
        return Decimal(1)
    return rates.buy if side is Side.BUY else rates.sell


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


def in_cny(fees: Fees, rate: Decimal) -> Fees:
    """Fees charged in HKD as the CNY the account pays, each component to the cent (rate 1: as they are)."""
    if rate == 1:
        return fees
    return Fees(
        *(
            (part * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            for part in (fees.commission, fees.stamp_duty, fees.transfer_fee)
        )
    )
