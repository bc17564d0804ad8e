"""ETF creation and redemption arithmetic on the demo PCFs (C6), conservation of cash and securities,
and the arbitrage estimate."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerql.domain.market.instruments import DEMO_INSTRUMENTS, Substitution
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.etf import creation, estimate, realised_pnl, redemption
from brokerql.domain.trading.fees import A_SHARE, DEFAULT_SCHEDULE, FeeBasis
from brokerql.domain.trading.invariants import check_invariants
from brokerql.domain.trading.ledger import Funds, Position

ETF300 = DEMO_INSTRUMENTS["510300"]
PREV = {s: i.prev_close for s, i in DEMO_INSTRUMENTS.items()}
IN_KIND = [line for line in ETF300.pcf if line.substitution is not Substitution.MUST_CASH]
MUST_CASH = [line for line in ETF300.pcf if line.substitution is Substitution.MUST_CASH]


def holding_basket(units: int, cash: str = "20000000", short_of: dict[str, int] | None = None) -> Account:
    account = Account("c1", AccountType.CASH, Funds.of(Decimal(cash)))
    for line in IN_KIND:
        quantity = line.quantity * units - (short_of or {}).get(line.symbol, 0)
        if quantity:
            account.positions[line.symbol] = Position.settled(line.symbol, quantity, PREV[line.symbol] * quantity)
    return account


def test_pcfs_list_ten_constituents_or_more_with_their_flags() -> None:
    for symbol in ("510300", "510050"):
        assert len(DEMO_INSTRUMENTS[symbol].pcf) >= 10
    # the SSE cross-market model: SZSE and ChiNext constituents are always substituted by cash
    assert {line.symbol for line in MUST_CASH} == {"000001", "000858", "300750", "000333", "002594"}
    assert all(line.cash_amount == PREV[line.symbol] * line.quantity for line in MUST_CASH)


def test_creation_of_two_units_moves_constituents_cash_component_and_substitutions() -> None:
    account = holding_basket(2, short_of={"600519": 100})  # 100 Moutai short: cash for them with a 10% premium
    priced = creation(ETF300, 2, {s: p.quantity for s, p in account.positions.items()}, PREV)
    assert not hasattr(priced, "code")
    must_cash = sum((line.cash_amount for line in MUST_CASH), Decimal(0)) * 2
    moutai_cash = Decimal("1450.00") * 100 * Decimal("1.10")
    assert priced.substituted == must_cash + moutai_cash  # type: ignore[union-attr]
    assert priced.cash_component == Decimal("925200") * 2  # type: ignore[union-attr]
    assert priced.fee == Decimal("4.650") * 1_800_000 * Decimal("0.0005")  # type: ignore[union-attr]
    before = account.funds.balance
    paid = account.create_etf(priced)  # type: ignore[arg-type]
    assert paid == must_cash + moutai_cash + Decimal("1850400") + Decimal("4185.00")
    assert account.funds.balance == before - paid
    etf = account.positions["510300"]
    assert etf.quantity == etf.sellable_quantity == 1_800_000  # sellable the same day
    assert all(line.symbol not in account.positions for line in IN_KIND)  # every in-kind share delivered
    assert check_invariants(account) == []


def test_forbidden_line_short_refuses_and_bad_units_refuse() -> None:
    assert creation(ETF300, 0, {}, PREV).code == "BAD_UNITS"  # type: ignore[union-attr]
    assert creation(DEMO_INSTRUMENTS["600000"], 1, {}, PREV).code == "NOT_AN_ETF"  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(units=st.integers(1, 3), short=st.integers(0, 20_000))
def test_create_then_redeem_conserves_shares_and_costs_only_fees_and_substitution(units: int, short: int) -> None:
    """Shares: every in-kind constituent comes back (those substituted by cash too). Cash: the round trip
    costs two conversion fees plus the premium paid on cash-substituted shares, nothing else."""
    short = min(short, 20_000 * units)
    account = holding_basket(units, short_of={"600000": short})
    held = {s: p.quantity for s, p in account.positions.items()}
    balance = account.funds.balance
    created = creation(ETF300, units, held, PREV)
    account.create_etf(created)  # type: ignore[arg-type]
    redeemed = redemption(ETF300, units)
    account.redeem_etf(redeemed, PREV)  # type: ignore[arg-type]
    for line in IN_KIND:
        assert account.position(line.symbol).quantity == line.quantity * units
    assert "510300" not in account.positions
    substituted_600000 = (Decimal("13.52") * short * Decimal("1.10")).quantize(Decimal("0.01"))
    assert account.funds.balance == balance - created.fee - redeemed.fee - substituted_600000  # type: ignore[union-attr]
    assert check_invariants(account) == []
    # costs are conserved too: what the basket cost plus the cash paid is what it costs now
    total_cost = sum((p.cost for p in account.positions.values()), Decimal(0))
    assert total_cost + account.realised_pnl == sum((PREV[s] * q for s, q in held.items()), Decimal(0)) + (
        created.creation_cash - redeemed.redemption_cash  # type: ignore[union-attr]
    )


def test_estimate_and_realised_agree_when_fills_meet_the_estimate() -> None:
    bases = {s: FeeBasis(stamp_duty_exempt=s.startswith("51")) for s in DEMO_INSTRUMENTS}
    prices = dict(PREV)
    premium_price = Decimal("4.700")  # the ETF trades above its IOPV of 4.650
    est = estimate(ETF300, 1, "PREMIUM", premium_price, prices, DEFAULT_SCHEDULE, bases)
    basket = sum((prices[line.symbol] * line.quantity for line in IN_KIND), Decimal(0))
    assert est.basket_value == basket and est.substituted == sum((line.cash_amount for line in MUST_CASH), Decimal(0))
    assert est.etf_value == premium_price * 900_000
    # (4.700 - 4.650) x 900,000 = 45,000 before costs
    gross = est.etf_value - (basket + est.substituted + est.cash_component)
    assert gross == Decimal("45000") and est.pnl == gross - est.basket_fees - est.etf_fees - est.conversion_fee
    bought = basket + est.basket_fees
    sold = est.etf_value - est.etf_fees
    creation_cash = est.substituted + est.cash_component + est.conversion_fee
    assert realised_pnl("PREMIUM", bought, sold, creation_cash) == est.pnl
    assert A_SHARE.stamp_duty_exempt is False
