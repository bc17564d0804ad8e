"""Index futures arithmetic (C8): margin, CFFEX fees, mark-to-market over settlements, delivery at expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerql.domain.common import OrderType, Side
from brokerql.domain.trading import Fees, Order, OrderFilled
from brokerql.domain.trading.account import Account, AccountType
from brokerql.domain.trading.baskets import LotRule
from brokerql.domain.trading.fees import A_SHARE
from brokerql.domain.trading.futures import FuturesSpec, expiry_of, third_friday
from brokerql.domain.trading.invariants import check_invariants
from brokerql.domain.trading.ledger import Funds
from brokerql.domain.trading.wizard import max_quantity

TS = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a trading day before IF2612 expires
SPEC = FuturesSpec("IF2612")
CASH = Decimal("5000000")
_ids = iter(range(10**9))


def futures_account(cash: Decimal = CASH) -> Account:
    return Account("f1", AccountType.FUTURES, Funds.of(cash))


def trade(account: Account, side: Side, quantity: int, price: str, ts: datetime = TS) -> tuple[Order, Decimal]:
    """Place and fully fill one limit order; returns the order and the cash change of the fill."""
    n = next(_ids)
    order = Order(
        id=f"o{n}", account_id=account.id, symbol="IF2612", side=side, type=OrderType.LIMIT,
        price=Decimal(price), quantity=quantity, created_at=ts, updated_at=ts,
    )  # fmt: skip
    accepted = account.accept(order, ts=ts)
    assert accepted.kind.value == "ACCEPTED", accepted
    before = account.funds.balance
    fill = OrderFilled(order_id=order.id, ts=ts, fill_id=f"f{n}", price=Decimal(price), quantity=quantity, fees=Fees())
    account.book_fill(order, account.complete_fill(order, fill))
    assert check_invariants(account, [order]) == []
    return order, account.funds.balance - before


def test_expiry_is_the_third_friday() -> None:
    assert third_friday(2026, 12) == date(2026, 12, 18)
    assert expiry_of("IF2612") == date(2026, 12, 18) and expiry_of("IF2701") == date(2027, 1, 15)


def test_open_takes_margin_and_the_open_fee() -> None:
    account = futures_account()
    order, change = trade(account, Side.BUY, 2, "4620.0")
    notional = Decimal("4620.0") * 2 * 300  # 2,772,000
    fee = (notional * Decimal("0.000023")).quantize(Decimal("0.01"))  # 63.76
    assert order.fees_paid == fee and change == -fee
    assert account.funds.margin == notional * Decimal("0.12")  # 332,640.00
    assert account.funds.available == CASH - fee - account.funds.margin and account.funds.frozen == 0
    assert account.futures["IF2612"].td_quantity == 2


def test_two_settlements_then_close_yesterday_and_today() -> None:
    """Long 2 at 4620, settle 4650 (+18,000), settle 4600 (-30,000), close 1 at 4610 (+3,000)."""
    account = futures_account()
    _, opened = trade(account, Side.BUY, 2, "4620.0")
    first = account.settle_futures("IF2612", Decimal("4650.0"), final=False)
    assert first is not None and first.variation == Decimal("18000.00")
    assert account.funds.margin == Decimal("4650.0") * 600 * Decimal("0.12")
    second = account.settle_futures("IF2612", Decimal("4600.0"), final=False)
    assert second is not None and second.variation == Decimal("-30000.00")
    assert check_invariants(account) == []
    order, closed = trade(account, Side.SELL, 1, "4610.0")  # a yesterday lot: realised vs 4600, cheap fee
    fee = (Decimal("4610.0") * 300 * Decimal("0.000023")).quantize(Decimal("0.01"))
    assert order.fees_paid == fee and closed == Decimal("3000.00") - fee
    # balance = cash + all variation + realised - all fees; the other lot's margin stays held
    assert account.funds.balance == CASH + opened + Decimal("18000") - Decimal("30000") + closed
    assert account.funds.margin == Decimal("4600.0") * 300 * Decimal("0.12")
    # the same P&L as (4610 - 4620) x 300 on the closed lot plus (4600 - 4620) x 300 on the open one
    assert account.funds.balance - CASH == Decimal("-9000") + opened - fee


def test_close_today_pays_the_close_today_fee_and_short_gains_when_price_falls() -> None:
    account = futures_account()
    trade(account, Side.SELL, 1, "4620.0")  # opens a short
    order, change = trade(account, Side.BUY, 1, "4600.0")  # closes today's lot
    fee = (Decimal("4600.0") * 300 * Decimal("0.00023")).quantize(Decimal("0.01"))  # 317.40
    assert order.fees_paid == fee and change == Decimal("6000.00") - fee
    assert account.funds.margin == 0 and "IF2612" not in account.futures


def test_position_limit_opposite_opens_and_expired_contract_are_refused() -> None:
    account = futures_account()
    spec_limit = SPEC.position_limit
    big = Order(
        id="big", account_id="f1", symbol="IF2612", side=Side.BUY, type=OrderType.LIMIT, price=Decimal("1.0"),
        quantity=spec_limit + 1, created_at=TS, updated_at=TS,
    )  # fmt: skip
    assert account.accept(big, ts=TS).code == "POSITION_LIMIT"  # type: ignore[union-attr]
    trade(account, Side.BUY, 1, "4620.0")
    over = Order(
        id="over", account_id="f1", symbol="IF2612", side=Side.SELL, type=OrderType.LIMIT, price=Decimal("4620.0"),
        quantity=2, created_at=TS, updated_at=TS,
    )  # fmt: skip
    assert account.accept(over, ts=TS).code == "INSUFFICIENT_POSITION"  # type: ignore[union-attr]
    late = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)
    expired = Order(
        id="late", account_id="f1", symbol="IF2612", side=Side.BUY, type=OrderType.LIMIT, price=Decimal("4620.0"),
        quantity=1, created_at=late, updated_at=late,
    )  # fmt: skip
    assert account.accept(expired, ts=late).code == "CONTRACT_EXPIRED"  # type: ignore[union-attr]


def test_delivery_at_expiry_settles_in_cash_and_releases_the_margin() -> None:
    account = futures_account()
    _, opened = trade(account, Side.SELL, 3, "4620.0")
    account.settle_futures("IF2612", Decimal("4630.0"), final=False)  # -9,000 on a short
    delivered = account.settle_futures("IF2612", Decimal("4580.0"), final=True)  # +45,000
    assert delivered is not None and delivered.delivered == 3 and delivered.variation == Decimal("45000.00")
    fee = (Decimal("4580.0") * 900 * Decimal("0.0001")).quantize(Decimal("0.01"))
    assert delivered.fee == fee
    assert account.funds.margin == 0 and account.futures == {} and check_invariants(account) == []
    assert account.funds.balance == CASH + opened - Decimal("9000") + Decimal("45000") - fee
    assert account.funds.available == account.funds.balance


ticks = st.integers(min_value=20_000, max_value=25_000).map(lambda n: Decimal(n) * Decimal("0.2"))


@settings(max_examples=150, deadline=None)
@given(
    side=st.sampled_from([Side.BUY, Side.SELL]),
    quantity=st.integers(1, 5),
    opened=ticks,
    settle1=ticks,
    settle2=ticks,
    closed=ticks,
    close_qty=st.integers(0, 5),
)
def test_cash_over_two_settlements_is_the_price_move_less_fees(
    side: Side, quantity: int, opened: Decimal, settle1: Decimal, settle2: Decimal, closed: Decimal, close_qty: int
) -> None:
    """Whatever the prices: balance change = (exit - entry) x multiplier x signed quantity - fees, where the
    exit is the close price for closed lots and the last settlement price for the lots still held; and
    balance = available + frozen + margin throughout."""
    close_qty = min(close_qty, quantity)
    account = futures_account()
    order, _ = trade(account, side, quantity, str(opened))
    fees = order.fees_paid
    account.settle_futures("IF2612", settle1, final=False)
    account.settle_futures("IF2612", settle2, final=False)
    assert check_invariants(account) == []
    if close_qty:
        closing, _ = trade(account, Side.SELL if side is Side.BUY else Side.BUY, close_qty, str(closed))
        fees += closing.fees_paid
    sign = 1 if side is Side.BUY else -1
    moved = ((closed - opened) * close_qty + (settle2 - opened) * (quantity - close_qty)) * 300 * sign
    assert account.funds.balance - CASH == moved - fees
    assert account.funds.margin == (settle2 * (quantity - close_qty) * 300 * Decimal("0.12")).quantize(Decimal("0.01"))
    assert account.realised_pnl == account.funds.balance - CASH


def _order(side: Side, quantity: int, price: str) -> Order:
    n = next(_ids)
    return Order(
        id=f"w{n}", account_id="f1", symbol="IF2612", side=side, type=OrderType.LIMIT, price=Decimal(price),
        quantity=quantity, created_at=TS, updated_at=TS,
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(cash=st.integers(min_value=0, max_value=2 * 10**9))
def test_wizard_max_quantity_of_an_open_is_the_largest_order_the_account_accepts(cash: int) -> None:
    """The order wizard sizes a futures open by its margin and fee, not by a stock buy's cash arithmetic:
    the figure is accepted, one contract more is refused (funds, or the position limit)."""
    price = "4620.0"
    most = max_quantity(futures_account(Decimal(cash)), "IF2612", Side.BUY, Decimal(price), LotRule(1), A_SHARE, ts=TS)
    if most:
        assert futures_account(Decimal(cash)).accept(_order(Side.BUY, most, price), ts=TS).kind.value == "ACCEPTED"
    refused = futures_account(Decimal(cash)).accept(_order(Side.BUY, most + 1, price), ts=TS)
    assert refused.kind.value == "REJECTED"


def test_wizard_max_quantity_of_a_close_is_the_contracts_it_may_cover() -> None:
    account = futures_account()
    trade(account, Side.BUY, 3, "4620.0")
    assert max_quantity(account, "IF2612", Side.SELL, Decimal("4600.0"), LotRule(1), A_SHARE, ts=TS) == 3
