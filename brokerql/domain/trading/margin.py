"""Margin trading (融资融券, C7): collateral, credit, debts, interest and the maintenance ratio. Pure, exact.

Rules follow the SSE/SZSE Margin Trading Implementation Rules (上海/深圳证券交易所融资融券交易实施细则,
2023 revision) and common broker practice; the simplifications are named where they are made.

- Eligible securities (标的证券): only listed symbols may be bought on financing or sold short; the
  exchanges publish the list (细则, chapter 3 on 标的证券). The demo's list is `ELIGIBLE`.
- Short-sell price (细则, 融券卖出申报价格): a short sale's limit price may not be below the latest
  trade price, or, before the first trade of the day, the previous close. Short sells are limit
  orders only (a market order has no price to check).
- Margin ratios (保证金比例): a financing buy needs collateral worth 100% of it, a short sale 50% of
  its value (the rules' minimums; 细则 on 融资/融券保证金比例).
- Collateral (可充抵保证金证券) counts at a conversion rate (折算率) per security: at most 70% for
  stocks, 90% for ETFs, 0 for ST stocks (细则 on 折算率); haircut = 1 - rate. Cash counts in full.
- Maintenance ratio (维持担保比例) = (cash + market value of every security held) / (financing debt +
  market value of the shares owed + interest owed). Since the 2019 revision the broker sets the
  lines; the demo's defaults are a warning line of 150% and a liquidation line of 130%.
- Interest accrues per calendar day at annual rate / 360 on financing principal and on the value
  of the short sale (its proceeds), as brokers charge it; repayments pay interest first.

Simplifications: margin available (保证金可用余额) leaves out the floating profit credit of the full
formula (it only counts collateral at its rates, minus what open debts tie up), and one debt line is
kept per kind and symbol (repayments in symbol order, no per-contract terms or 6-month roll-over).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from brokerql.domain.common import Rejection

ZERO = Decimal(0)
CENT = Decimal("0.01")
RATIO = Decimal("0.0001")


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class DebtKind(StrEnum):
    """What is owed: cash lent for a financing buy, or shares lent for a short sale."""

    FINANCING = "FINANCING"
    SHORT = "SHORT"


class Zone(StrEnum):
    """Where the maintenance ratio stands against the lines."""

    SAFE = "SAFE"  # above the warning line, or no debt at all
    WARNING = "WARNING"  # at or below the warning line: add collateral
    LIQUIDATION = "LIQUIDATION"  # at or below the liquidation line: forced selling; no new credit


# The demo's eligible list and conversion rates (折算率); symbols not listed count at 0 as collateral.
ELIGIBLE: frozenset[str] = frozenset({"600000", "600519", "601318", "000001", "000858", "300750", "688981", "510300"})
CONVERSION_RATES: Mapping[str, Decimal] = {
    "600000": Decimal("0.70"),
    "600519": Decimal("0.65"),
    "601318": Decimal("0.70"),
    "000001": Decimal("0.70"),
    "000858": Decimal("0.65"),
    "300750": Decimal("0.60"),
    "688981": Decimal("0.50"),
    "510300": Decimal("0.90"),
    "510050": Decimal("0.90"),
}
FINANCING_MARGIN_RATIO = Decimal("1.00")
SHORT_MARGIN_RATIO = Decimal("0.50")


@dataclass(frozen=True, slots=True)
class MarginTerms:
    """An account's credit terms: line, rates and the two maintenance lines (configurable per account)."""

    credit_line: Decimal = Decimal("1000000")
    warning_line: Decimal = Decimal("1.50")
    liquidation_line: Decimal = Decimal("1.30")
    financing_rate: Decimal = Decimal("0.0600")  # annual
    lending_rate: Decimal = Decimal("0.0800")  # annual, on the short sale's value
    day_basis: int = 360

    def zone(self, ratio: Decimal | None) -> Zone:
        if ratio is None or ratio > self.warning_line:
            return Zone.SAFE
        return Zone.LIQUIDATION if ratio <= self.liquidation_line else Zone.WARNING


@dataclass(frozen=True, slots=True)
class Debt:
    """One debt line. FINANCING: `principal` is the cash owed (cost of the shares bought, fees included),
    `quantity` the shares it bought. SHORT: `quantity` shares are owed; `principal` is what the short
    sale raised (its value, the basis of its interest) and `held` the proceeds kept as security.
    `pending_*` is reserved by working orders; `interest` is accrued and unpaid."""

    kind: DebtKind
    symbol: str
    quantity: int = 0
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    held: Decimal = ZERO
    pending_quantity: int = 0
    pending_amount: Decimal = ZERO

    @property
    def is_empty(self) -> bool:
        return not (self.quantity or self.principal or self.interest or self.held or self.pending_quantity)


DebtKey = tuple[DebtKind, str]


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the ratio is computed from: cash, securities held (symbol -> quantity) and last prices."""

    cash: Decimal
    positions: Mapping[str, int]
    prices: Mapping[str, Decimal]

    def value(self, symbol: str, quantity: int) -> Decimal:
        return self.prices.get(symbol, ZERO) * quantity


def liabilities(debts: Mapping[DebtKey, Debt], prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Liabilities by kind: financing principal, shares owed at market value, interest."""
    financing = sum((d.principal for d in debts.values() if d.kind is DebtKind.FINANCING), ZERO)
    shorts = sum((prices.get(d.symbol, ZERO) * d.quantity for d in debts.values() if d.kind is DebtKind.SHORT), ZERO)
    interest = sum((d.interest for d in debts.values()), ZERO)
    return {"financing": financing, "short": shorts, "interest": interest}


def maintenance_ratio(holdings: Holdings, debts: Mapping[DebtKey, Debt]) -> Decimal | None:
    """(cash + market value held) / (financing + shares owed at market + interest); None without debt."""
    owed = sum(liabilities(debts, holdings.prices).values(), ZERO)
    if owed <= 0:
        return None
    assets = holdings.cash + sum((holdings.value(s, q) for s, q in holdings.positions.items()), ZERO)
    return (assets / owed).quantize(RATIO, rounding=ROUND_HALF_UP)


def credit_used(debts: Mapping[DebtKey, Debt]) -> Decimal:
    """Credit in use: financing principal and the value the short sales raised, plus what working
    credit orders reserve."""
    return sum((d.principal + d.pending_amount for d in debts.values()), ZERO)


def margin_available(holdings: Holdings, debts: Mapping[DebtKey, Debt]) -> Decimal:
    """Collateral value at the conversion rates, less what open debts tie up at their margin ratios
    (保证金可用余额, simplified: see the module note)."""
    collateral = holdings.cash + sum(
        (holdings.value(s, q) * CONVERSION_RATES.get(s, ZERO) for s, q in holdings.positions.items()), ZERO
    )
    tied = ZERO
    for d in debts.values():
        if d.kind is DebtKind.FINANCING:
            tied += (d.principal + d.pending_amount) * FINANCING_MARGIN_RATIO
        else:
            tied += (holdings.prices.get(d.symbol, ZERO) * d.quantity + d.pending_amount) * SHORT_MARGIN_RATIO
        tied += d.interest
    return cents(collateral - tied)


def _refuse(code: str, message: str, field: str = "quantity") -> Rejection:
    return Rejection(code, message, field)


def check_new_credit(
    kind: DebtKind,
    symbol: str,
    amount: Decimal,
    terms: MarginTerms,
    holdings: Holdings,
    debts: Mapping[DebtKey, Debt],
) -> Rejection | None:
    """Whether a financing buy or a short sale of `amount` CNY may be accepted."""
    if symbol not in ELIGIBLE:
        return _refuse("NOT_MARGIN_ELIGIBLE", f"{symbol} is not on the margin-trading eligible list.", "symbol")
    zone = terms.zone(maintenance_ratio(holdings, debts))
    if zone is Zone.LIQUIDATION:
        return _refuse(
            "BELOW_LIQUIDATION_LINE",
            f"Your maintenance ratio is at or below {terms.liquidation_line:.0%}: no new credit until you "
            "add collateral or repay.",
        )
    if credit_used(debts) + amount > terms.credit_line:
        room = max(ZERO, terms.credit_line - credit_used(debts))
        return _refuse("CREDIT_LINE_EXCEEDED", f"Credit line {terms.credit_line}; {room} left.")
    ratio = FINANCING_MARGIN_RATIO if kind is DebtKind.FINANCING else SHORT_MARGIN_RATIO
    needed = cents(amount * ratio)
    available = margin_available(holdings, debts)
    if needed > available:
        return _refuse("INSUFFICIENT_MARGIN", f"Needs {needed} of margin available; {available} left.")
    return None


def check_short_price(price: Decimal | None, last: Decimal | None, prev_close: Decimal) -> Rejection | None:
    """SSE/SZSE rule on 融券卖出申报价格: not below the latest trade price (before the day's first trade:
    the previous close). Market orders cannot be checked, so short sales are limit orders only."""
    if price is None:
        return _refuse("SHORT_SELL_LIMIT_ONLY", "Short sales are limit orders (the price rule needs a price).", "type")
    floor = last if last is not None else prev_close
    if price < floor:
        return _refuse("SHORT_SELL_PRICE", f"A short sale may not be priced below the last price {floor}.", "price")
    return None


def reserve(debt: Debt | None, kind: DebtKind, symbol: str, quantity: int, amount: Decimal) -> Debt:
    """A working financing buy or short sale reserves credit (and, for shorts, the shares lent)."""
    debt = debt or Debt(kind, symbol)
    return replace(debt, pending_quantity=debt.pending_quantity + quantity, pending_amount=debt.pending_amount + amount)


def unreserve(debt: Debt, quantity: int, amount: Decimal) -> Debt:
    """A working credit order's remainder ended (or filled): give back its reservation."""
    if quantity > debt.pending_quantity or amount > debt.pending_amount:
        raise ValueError(
            f"unreserve {quantity}/{amount} of {debt.symbol}: {debt.pending_quantity}/{debt.pending_amount}"
        )
    return replace(debt, pending_quantity=debt.pending_quantity - quantity, pending_amount=debt.pending_amount - amount)


def financed(debt: Debt, quantity: int, cost: Decimal) -> Debt:
    """A financing buy filled: the shares' cost (fees included) is now owed."""
    return replace(debt, quantity=debt.quantity + quantity, principal=debt.principal + cost)


def shorted(debt: Debt, quantity: int, value: Decimal, proceeds: Decimal) -> Debt:
    """A short sale filled: `quantity` shares owed, `value` raised, `proceeds` (after fees) held."""
    return replace(debt, quantity=debt.quantity + quantity, principal=debt.principal + value, held=debt.held + proceeds)


@dataclass(frozen=True, slots=True)
class Repayment:
    """What a cash repayment paid: interest first, then principal, debt by debt."""

    debts: dict[DebtKey, Debt]
    interest: Decimal
    principal: Decimal

    @property
    def total(self) -> Decimal:
        return self.interest + self.principal


def repay_cash(debts: Mapping[DebtKey, Debt], amount: Decimal, symbol: str | None = None) -> Repayment:
    """Pay `amount` towards financing debts (all, or one symbol's): every interest first, then principal
    in symbol order. Pays at most what is owed; the caller takes exactly `total` from cash."""
    if amount <= 0:
        raise ValueError("a repayment must be positive")
    lines = sorted(
        (k for k, d in debts.items() if k[0] is DebtKind.FINANCING and (symbol is None or k[1] == symbol)),
        key=lambda k: k[1],
    )
    out = dict(debts)
    left, paid_interest, paid_principal = amount, ZERO, ZERO
    for key in lines:
        pay = min(left, out[key].interest)
        out[key] = replace(out[key], interest=out[key].interest - pay)
        left, paid_interest = left - pay, paid_interest + pay
    for key in lines:
        pay = min(left, out[key].principal)
        debt = out[key]
        quantity = 0 if pay == debt.principal else debt.quantity
        out[key] = replace(debt, principal=debt.principal - pay, quantity=quantity)
        left, paid_principal = left - pay, paid_principal + pay
    return Repayment({k: d for k, d in out.items() if not d.is_empty}, paid_interest, paid_principal)


@dataclass(frozen=True, slots=True)
class SharesReturned:
    """Shares given back against a short: the debt left, proceeds released to cash, interest paid."""

    debt: Debt | None
    released: Decimal
    interest: Decimal


def return_shares(debt: Debt, quantity: int) -> SharesReturned:
    """Give back `quantity` borrowed shares (bought, or held already): the short's held proceeds are
    released pro rata, and its interest is paid pro rata (all of it on the last share)."""
    if quantity <= 0 or quantity > debt.quantity:
        raise ValueError(f"return {quantity} of {debt.quantity} owed {debt.symbol}")
    if quantity == debt.quantity:
        released, interest, principal = debt.held, debt.interest, debt.principal
    else:
        released = cents(debt.held * quantity / debt.quantity)
        interest = cents(debt.interest * quantity / debt.quantity)
        principal = cents(debt.principal * quantity / debt.quantity)
    left = replace(
        debt,
        quantity=debt.quantity - quantity,
        held=debt.held - released,
        interest=debt.interest - interest,
        principal=debt.principal - principal,
    )
    return SharesReturned(None if left.is_empty else left, released, interest)


def accrue(debts: Mapping[DebtKey, Debt], terms: MarginTerms, since: date, until: date) -> dict[DebtKey, Debt]:
    """Interest for the calendar days in [since, until): each day amount x annual rate / 360, in cents
    per day (as brokers post it daily), on financing principal and on the short sale's value."""
    days = (until - since).days
    if days <= 0:
        return dict(debts)
    out: dict[DebtKey, Debt] = {}
    for key, d in debts.items():
        rate = terms.financing_rate if d.kind is DebtKind.FINANCING else terms.lending_rate
        daily = cents(d.principal * rate / terms.day_basis)
        out[key] = replace(d, interest=d.interest + daily * days)
    return out
