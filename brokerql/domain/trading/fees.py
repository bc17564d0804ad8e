"""Trading fees of A-share orders: commission, stamp duty and transfer fee, all in exact Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from brokerql.domain.common import Side, to_decimal
from brokerql.domain.rounding import MONEY

ZERO = Decimal("0")
CENT = MONEY
# Rounding of fee components can push a later cumulative shortfall up by at most one cent per
# rounded component (stamp duty and transfer fee); two cents cover it (see sell_fee_buffer).
_ROUNDING_SLACK = Decimal("0.02")


def _cents(amount: Decimal) -> Decimal:
    """Money is booked in cents, rounding half up as the clearing house does."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Fees:
    """The fees of one fill or one order, each component already rounded to cents."""

    commission: Decimal = ZERO
    stamp_duty: Decimal = ZERO
    transfer_fee: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Sum of the components (exact: each is in cents)."""
        return self.commission + self.stamp_duty + self.transfer_fee

    def __add__(self, other: Fees) -> Fees:
        return Fees(
            self.commission + other.commission,
            self.stamp_duty + other.stamp_duty,
            self.transfer_fee + other.transfer_fee,
        )

    def __sub__(self, other: Fees) -> Fees:
        return Fees(
            self.commission - other.commission,
            self.stamp_duty - other.stamp_duty,
            self.transfer_fee - other.transfer_fee,
        )


@dataclass(frozen=True, slots=True)
class FeeBasis:
    """What about the instrument decides its fees: the exchange and whether stamp duty applies.

    ETFs are exempt from stamp duty; the market package maps an instrument's board to this. For a
    product traded in another currency (Stock Connect: HKD) `fx_rate` is the CNY per unit a buy is
    frozen at (the buy reference rate) and `fx_buffer` the margin above it for the rate moving.
    """

    exchange: str = "SSE"
    stamp_duty_exempt: bool = False
    fx_rate: Decimal = Decimal(1)
    fx_buffer: Decimal = Decimal(0)

    @property
    def freeze_rate(self) -> Decimal:
        """CNY frozen per unit of the trade currency."""
        return self.fx_rate * (1 + self.fx_buffer)


def _in_cny(amount: Decimal, basis: FeeBasis) -> Decimal:
    """An amount in the trade currency as CNY to freeze (rounded up to the cent); CNY stays exact."""
    if basis.freeze_rate == 1:
        return amount
    return (amount * basis.freeze_rate).quantize(CENT, rounding=ROUND_CEILING)


# Stock Connect southbound charges, both sides (public schedules): HK stamp duty 0.1% rounded up to a
# whole dollar (Stamp Duty Ordinance, Cap. 117, rate since 17 November 2023), SFC transaction levy
# 0.0027%, AFRC transaction levy 0.00015%, HKEX trading fee 0.00565% (HKEX fee schedule).
HK_STAMP_DUTY = Decimal("0.001")
HK_LEVIES_AND_TRADING_FEE = Decimal("0.000027") + Decimal("0.0000015") + Decimal("0.0000565")
HKEX = "HKEX"


def hk_connect_fees(notional: Decimal, commission_rate: Decimal, min_commission: Decimal) -> Fees:
    """Charges of a southbound trade of `notional` HKD, in HKD: the same on both sides (unlike
    A-shares, where only sells pay stamp duty). The levies and trading fee travel as the transfer fee."""
    if notional <= 0:
        return Fees()
    stamp = (notional * HK_STAMP_DUTY).quantize(Decimal(1), rounding=ROUND_CEILING)
    commission = max(min_commission, _cents(notional * commission_rate))
    return Fees(commission, stamp, _cents(notional * HK_LEVIES_AND_TRADING_FEE))


A_SHARE = FeeBasis()


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fee rates of one account; brokers negotiate commission per client, so every field overrides.

    Defaults: commission 0.025% with a 5 CNY minimum per order, stamp duty 0.05% on sells only
    (since 2023-08-28), transfer fee 0.001% of notional on both sides on SSE and, since 2022, SZSE.
    """

    commission_rate: Decimal = Decimal("0.00025")
    min_commission: Decimal = Decimal("5")
    stamp_duty_rate: Decimal = Decimal("0.0005")
    transfer_fee_rate: Decimal = Decimal("0.00001")
    transfer_fee_exchanges: frozenset[str] = field(default=frozenset({"SSE", "SZSE"}))

    def fees(self, side: Side, notional: Decimal, basis: FeeBasis = A_SHARE) -> Fees:
        """Fees of an order that has traded `notional` in total (0 traded = no fees at all)."""
        notional = to_decimal(notional)
        if notional <= 0:
            return Fees()
        if basis.exchange == HKEX:
            return hk_connect_fees(notional, self.commission_rate, self.min_commission)
        commission = max(self.min_commission, _cents(notional * self.commission_rate))
        stamp = ZERO
        if side is Side.SELL and not basis.stamp_duty_exempt:
            stamp = _cents(notional * self.stamp_duty_rate)
        transfer = ZERO
        if basis.exchange in self.transfer_fee_exchanges:
            transfer = _cents(notional * self.transfer_fee_rate)
        return Fees(commission, stamp, transfer)

    def fill_fees(self, side: Side, traded_before: Decimal, fill_notional: Decimal, basis: FeeBasis = A_SHARE) -> Fees:
        """Fees of one fill: what the order owes after it minus what it owed before.

        Charging the difference of cumulative fees applies the minimum commission once per order
        (not once per fill) and makes the fills of an order add up exactly to the order's fees.
        """
        before = self.fees(side, traded_before, basis)
        return self.fees(side, traded_before + fill_notional, basis) - before


DEFAULT_SCHEDULE = FeeSchedule()


def estimate_buy_freeze(
    price: Decimal, quantity: int, schedule: FeeSchedule = DEFAULT_SCHEDULE, basis: FeeBasis = A_SHARE
) -> Decimal:
    """Cash to freeze for a buy: notional plus fees at `price` (the limit, or a protective price).

    Buys never fill above that price and fees grow with notional, so this is an upper bound.
    """
    notional = to_decimal(price) * quantity
    return _in_cny(notional + schedule.fees(Side.BUY, notional, basis).total, basis)


def sell_fee_buffer(
    lowest_price: Decimal, schedule: FeeSchedule = DEFAULT_SCHEDULE, basis: FeeBasis = A_SHARE
) -> Decimal:
    """Cash to freeze for a sell so that fees above the proceeds can never overdraw the account.

    An order's cumulative shortfall (fees minus proceeds) only falls as it trades more, so the worst
    case is a first fill of one share at the lowest price it may trade at; that is usually 0, but
    with a 5 CNY minimum commission a penny stock sell could owe more than it earns.
    """
    shortfall = schedule.fees(Side.SELL, lowest_price, basis).total - lowest_price
    return _in_cny(shortfall + _ROUNDING_SLACK, basis) if shortfall + _ROUNDING_SLACK > 0 else ZERO
