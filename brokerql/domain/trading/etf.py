"""ETF creation, redemption and premium/discount arbitrage (C6): pure, exact arithmetic on a PCF.

Settlement follows the SSE's rules for ETFs in a simplified form (the simplification is ours):

- Creation (申购) takes whole creation units: per PCF line the shares (FORBIDDEN and ALLOWED lines),
  or cash: a MUST_CASH line always pays its fixed `cash_amount`; an ALLOWED line short of shares pays
  the missing shares at prev close x (1 + premium_rate). Plus the cash component (may be negative)
  and the broker's creation fee. The investor gets units x creation_unit ETF shares, sellable the
  same day (SSE: ETF shares created today may be sold today, not redeemed). Constituents bought
  today may be delivered (SSE allows it), so delivery takes sellable shares first, then today's.
- Redemption (赎回) is the reverse: units x creation_unit ETF shares (sellable ones) give back the
  FORBIDDEN and ALLOWED lines' shares (sellable the same day), the MUST_CASH lines' cash amounts and
  the cash component, less the redemption fee.
- Simplification: the SSE settles substituted cash against the real cost of the missing shares a few
  days later (现金替代退补) and the cash component against the day's NAV (T+1 现金差额). Here the
  amounts are final when the creation or redemption is booked: no later true-up.
- Fee: the broker's creation/redemption commission, 0.05% of the units' value at the ETF's prev close
  (brokers may charge up to 0.5%).

Cash and securities are conserved: what leaves the account (shares at their cost, cash) becomes the
cost of what arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from brokerql.domain.common import Rejection, Side
from brokerql.domain.market.instruments import Instrument, PcfLine, Substitution
from brokerql.domain.trading.fees import FeeBasis, FeeSchedule

ZERO = Decimal(0)
CENT = Decimal("0.01")
CONVERSION_FEE_RATE = Decimal("0.0005")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class LineMove:
    """What one PCF line moves in a creation or redemption: shares in kind, and cash substituted."""

    symbol: str
    shares: int
    cash: Decimal


@dataclass(frozen=True, slots=True)
class Conversion:
    """A creation (shares + cash -> ETF) or a redemption (ETF -> shares + cash), priced and final."""

    etf: str
    units: int
    etf_shares: int
    lines: tuple[LineMove, ...]
    cash_component: Decimal  # units x the PCF's cash component (paid on creation, received on redemption)
    fee: Decimal

    @property
    def substituted(self) -> Decimal:
        return sum((line.cash for line in self.lines), ZERO)

    @property
    def creation_cash(self) -> Decimal:
        """Cash a creation pays: substitutions + cash component + fee."""
        return self.substituted + self.cash_component + self.fee

    @property
    def redemption_cash(self) -> Decimal:
        """Cash a redemption receives: substitutions + cash component - fee (may be negative: paid)."""
        return self.substituted + self.cash_component - self.fee


def conversion_fee(etf: Instrument, units: int) -> Decimal:
    assert etf.creation_unit is not None
    return cents(etf.prev_close * etf.creation_unit * units * CONVERSION_FEE_RATE)


def _check_units(etf: Instrument, units: int) -> Rejection | None:
    if not etf.pcf or etf.creation_unit is None or etf.cash_component is None:
        return Rejection("NOT_AN_ETF", f"{etf.symbol} has no PCF: it cannot be created or redeemed.", "symbol")
    if isinstance(units, bool) or units <= 0:
        return Rejection("BAD_UNITS", "Create or redeem a positive whole number of creation units.", "units")
    return None


def _allowed_cash(line: PcfLine, missing: int, prev_close: Decimal) -> Decimal:
    return cents(prev_close * missing * (1 + line.premium_rate))


def creation(
    etf: Instrument, units: int, held: Mapping[str, int], prev_closes: Mapping[str, Decimal]
) -> Conversion | Rejection:
    """Price a creation of `units` from the shares `held` (deliverable: sellable + bought today)."""
    refused = _check_units(etf, units)
    if refused is not None:
        return refused
    assert etf.creation_unit is not None and etf.cash_component is not None
    moves = []
    for line in etf.pcf:
        need = line.quantity * units
        if line.substitution is Substitution.MUST_CASH:
            moves.append(LineMove(line.symbol, 0, cents(line.cash_amount * units)))
            continue
        have = min(held.get(line.symbol, 0), need)
        if line.substitution is Substitution.FORBIDDEN and have < need:
            return Rejection(
                "INSUFFICIENT_POSITION", f"{line.symbol} may not be substituted by cash: needs {need}, has {have}."
            )
        cash = _allowed_cash(line, need - have, prev_closes[line.symbol]) if have < need else ZERO
        moves.append(LineMove(line.symbol, have, cash))
    fee = conversion_fee(etf, units)
    return Conversion(etf.symbol, units, etf.creation_unit * units, tuple(moves), etf.cash_component * units, fee)


def redemption(etf: Instrument, units: int) -> Conversion | Rejection:
    """Price a redemption of `units`: every FORBIDDEN/ALLOWED line's shares back, MUST_CASH lines in cash."""
    refused = _check_units(etf, units)
    if refused is not None:
        return refused
    assert etf.creation_unit is not None and etf.cash_component is not None
    moves = tuple(
        LineMove(line.symbol, 0, cents(line.cash_amount * units))
        if line.substitution is Substitution.MUST_CASH
        else LineMove(line.symbol, line.quantity * units, ZERO)
        for line in etf.pcf
    )
    return Conversion(
        etf.symbol, units, etf.creation_unit * units, moves, etf.cash_component * units, conversion_fee(etf, units)
    )


@dataclass(frozen=True, slots=True)
class ArbitrageEstimate:
    """A premium (or discount) arbitrage priced before it is sent.

    PREMIUM: buy the in-kind lines at `basket_prices`, create, sell the ETF at `etf_price`.
    DISCOUNT: buy the ETF at `etf_price`, redeem, sell the in-kind lines at `basket_prices`.
    """

    direction: str
    units: int
    basket_value: Decimal  # in-kind lines at their prices
    basket_fees: Decimal
    etf_value: Decimal
    etf_fees: Decimal
    substituted: Decimal  # MUST_CASH lines' cash
    cash_component: Decimal
    conversion_fee: Decimal

    @property
    def pnl(self) -> Decimal:
        if self.direction == "PREMIUM":
            spent = self.basket_value + self.basket_fees + self.substituted + self.cash_component
            return self.etf_value - self.etf_fees - spent - self.conversion_fee
        received = self.basket_value - self.basket_fees + self.substituted + self.cash_component
        return received - self.conversion_fee - self.etf_value - self.etf_fees


def estimate(
    etf: Instrument,
    units: int,
    direction: str,
    etf_price: Decimal,
    basket_prices: Mapping[str, Decimal],
    schedule: FeeSchedule,
    fees_of: Mapping[str, FeeBasis],
) -> ArbitrageEstimate:
    """The arbitrage's P&L before it is sent: trading fees per leg (each leg one order, so the minimum
    commission applies per leg), the cash substitutions, the cash component and the conversion fee.
    `fees_of` maps each symbol to its FeeBasis (stamp duty only on the stock sells of a discount)."""
    assert etf.creation_unit is not None and etf.cash_component is not None
    in_kind = [line for line in etf.pcf if line.substitution is not Substitution.MUST_CASH]
    leg_side = Side.BUY if direction == "PREMIUM" else Side.SELL
    basket_value = sum((basket_prices[line.symbol] * line.quantity * units for line in in_kind), ZERO)
    basket_fees = sum(
        (
            schedule.fees(leg_side, basket_prices[line.symbol] * line.quantity * units, fees_of[line.symbol]).total
            for line in in_kind
        ),
        ZERO,
    )
    etf_value = etf_price * etf.creation_unit * units
    etf_side = Side.SELL if direction == "PREMIUM" else Side.BUY
    etf_fees = schedule.fees(etf_side, etf_value, fees_of[etf.symbol]).total
    substituted = sum((cents(line.cash_amount * units) for line in etf.pcf if line not in in_kind), ZERO)
    return ArbitrageEstimate(
        direction, units, basket_value, basket_fees, etf_value, etf_fees, substituted, etf.cash_component * units,
        conversion_fee(etf, units),
    )  # fmt: skip


def realised_pnl(direction: str, bought: Decimal, sold: Decimal, conversion_cash: Decimal) -> Decimal:
    """What an arbitrage run made: proceeds of what it sold (after fees) less the cost of what it bought
    (fees included) less the creation's cash (PREMIUM) or plus the redemption's cash (DISCOUNT)."""
    if direction == "PREMIUM":
        return sold - bought - conversion_cash
    return sold + conversion_cash - bought


__all__ = [
    "ArbitrageEstimate",
    "Conversion",
    "LineMove",
    "creation",
    "estimate",
    "realised_pnl",
    "redemption",
]
